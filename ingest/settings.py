"""Runtime settings, read from the environment at the composition roots (CLI, app factory).

Nothing builds a Settings object at import time; callers pass it down as an argument.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_DATABASE_FILE = "undertow.db"
DEFAULT_MAX_TEXT_CHARS = 20_000


@dataclass(frozen=True)
class Settings:
    """Where Undertow keeps its data and the limits it applies.

    database_url: any SQLAlchemy URL; default an SQLite file in the working directory.
    data_dir: caches that are rebuilt locally (exported/quantized models, ...).
    max_text_chars: texts longer than this are cut at ingest, and the cut is recorded.
    ingest_workers: processes preparing the chunks of a big file (None: one per core;
        0: none, all in the ingesting process).
    """

    database_url: str = field(default_factory=lambda: f"sqlite:///{DEFAULT_DATABASE_FILE}")
    data_dir: Path = field(default_factory=lambda: Path(".undertow"))
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    ingest_workers: int | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        s = cls()
        if env.get("UNDERTOW_DATABASE_URL"):
            s = replace(s, database_url=env["UNDERTOW_DATABASE_URL"])
        if env.get("UNDERTOW_DATA_DIR"):
            s = replace(s, data_dir=Path(env["UNDERTOW_DATA_DIR"]))
        if env.get("UNDERTOW_MAX_TEXT_CHARS"):
            s = replace(s, max_text_chars=int(env["UNDERTOW_MAX_TEXT_CHARS"]))
        if env.get("UNDERTOW_INGEST_WORKERS"):
            workers = int(env["UNDERTOW_INGEST_WORKERS"])
            if not 0 <= workers <= 64:
                raise ValueError(f"UNDERTOW_INGEST_WORKERS must be 0 to 64, got {workers}")
            s = replace(s, ingest_workers=workers)
        return s
