"""`undertow demo`: write a realistic demo world (one CSV per source kind + truth.csv)."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli_support import emit, handle_errors, json_option, progress
from ingest.demo.timeline import FIRST_END, LAST_END  # the dates `undertow fit` accepts
from ingest.errors import InputError


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the files into (created if needed).",
)
@click.option("--accounts", default=400, show_default=True, type=int, help="Number of accounts.")
@click.option(
    "--months",
    default=24,
    show_default=True,
    type=int,
    help="Months of data, ending at the current month.",
)
@click.option(
    "--seed", default=7, show_default=True, type=click.IntRange(min=0), help="Random seed."
)
@click.option(
    "--corpus",
    type=click.Path(path_type=Path),
    default=None,
    help="Labeled CSV (text + label/sentiment) to draw texts from instead of the "
    "built-in phrase bank.",
)
@click.option(
    "--end",
    default=None,
    help=f"Last day of the data (YYYY-MM-DD or YYYY-MM, {FIRST_END.year}-{LAST_END.year}); "
    "default today.",
)
@json_option
@handle_errors
def demo(out_dir: Path, accounts: int, months: int, seed: int, corpus: Path | None,
         end: str | None, as_json: bool) -> None:  # fmt: skip
    """Write a demo world: accounts, reviews, tickets, surveys, attribution answers,
    opportunities and truth.csv (the latent health and churn behind them)."""
    from ingest.demo import build_world, write_world
    from ingest.demo.timeline import parse_end

    if end is not None and not FIRST_END <= parse_end(end) <= LAST_END:
        raise InputError(
            f"--end must be a day from {FIRST_END} to {LAST_END} (or a month in them), got {end!r}"
        )

    with progress("Simulating the demo world", total=2) as advance:
        world = build_world(accounts=accounts, months=months, seed=seed, corpus=corpus, end=end)
        advance(1)
        files = write_world(world, out_dir)
        advance(1)
    payload = {
        "files": {kind: str(path) for kind, path in files.items()},
        "accounts": world.accounts,
        "documents": world.documents,
        "seed": seed,
        "months": months,
        "end": world.end.isoformat(),
        "rows": {kind: len(frame) for kind, frame in world.frames.items()},
    }
    summary = (
        f"Demo world (seed {seed}, {months} months to {world.end}): {world.accounts} accounts, "
        f"{world.documents} documents -> {out_dir}"
    )
    emit(payload, as_json, summary)


COMMANDS: list[click.Command] = [demo]
