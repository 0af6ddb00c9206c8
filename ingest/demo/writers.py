"""Write a demo world to disk: one canonical-column CSV per source kind, plus truth.csv.

CSV cells with commas, quotes or newlines (ticket bodies) are quoted; empty cells mean
"no value". Files are UTF-8 with ``\\n`` line ends.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ingest.demo.world import COLUMNS, World

FILE_NAMES = {kind: f"{kind}.csv" for kind in COLUMNS}


def write_world(world: World, out_dir: str | Path) -> dict[str, Path]:
    """Write every file of ``world`` into ``out_dir`` (created if needed); kind -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for kind, name in FILE_NAMES.items():
        path = out / name
        frame = world.frames[kind].reindex(columns=COLUMNS[kind])
        frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n",
                     encoding="utf-8")  # fmt: skip
        paths[kind] = path
    return paths
