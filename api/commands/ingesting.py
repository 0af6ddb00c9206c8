"""`undertow ingest KIND PATH... [--mapping NAME_OR_YAML] [--source NAME] [--json]`."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from api.cli_support import emit, handle_errors, json_option, progress, state


def _estimate_rows(paths: tuple[str, ...]) -> int | None:
    """Line count of the files (a progress-bar total; quoted newlines make it an upper bound).
    None when a path is no regular file (never read: the ingest names the problem) or is
    compressed."""
    total = 0
    for p in paths:
        if not Path(p).is_file() or Path(p).suffix.lower() == ".gz":
            return None
        try:
            with Path(p).open("rb") as fh:
                while block := fh.read(1 << 20):
                    total += block.count(b"\n")
        except OSError:
            return None
    return max(total - len(paths), 1)


@contextmanager
def _sigterm_interrupts() -> Iterator[list[int]]:
    """SIGTERM raises KeyboardInterrupt in the ingest (which marks its run 'interrupted');
    yields the list the signal number lands in."""
    got: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return

    def stop(signum: int, frame: object) -> None:
        got.append(signum)
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield got
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.command("ingest")
@click.argument("kind")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--mapping",
    "mapping",
    default=None,
    help="Vendor column mapping: a shipped name (zendesk, g2, typeform, qualtrics, hubspot, "
    "salesforce) or a YAML file of canonical_name: vendor_column.",
)
@click.option("--source", "source", default=None, help="documents.source for rows that name none.")
@json_option
@handle_errors
def ingest_cmd(
    kind: str, paths: tuple[str, ...], mapping: str | None, source: str | None, as_json: bool
) -> None:
    """Validate, resolve, deduplicate and store files of one KIND (accounts, reviews,
    tickets, surveys, attribution, opportunities, spend, leads, experiments): CSV, JSON
    Lines or JSON."""
    from ingest.pipeline import ingest_paths
    from ingest.records import spec_for

    spec_for(kind)  # an unknown kind fails before the store is opened
    st = state()
    estimate = _estimate_rows(paths)
    with _sigterm_interrupts() as signals, progress(f"ingest {kind}", estimate) as advance:
        try:
            summary = ingest_paths(
                st.engine(),
                kind,
                paths,
                settings=st.settings,
                mapping=mapping,
                source=source,
                on_progress=advance,
            )
        except KeyboardInterrupt:
            click.echo(
                "error: interrupted; the run is marked 'interrupted' and what was committed "
                "stays: ingest the same file again to complete it",
                err=True,
            )
            sys.exit(128 + (signals[0] if signals else signal.SIGINT))
        if estimate and estimate > summary.read:  # quoted newlines: lines outnumber rows
            advance(estimate - summary.read)
    payload = summary.as_dict()
    line = (
        f"{kind}: read {summary.read}, inserted {summary.inserted}, duplicates {summary.duplicates}, "
        f"rejected {summary.rejected} (quarantined), unresolved {summary.unresolved}"
    )
    if summary.updated:
        line += f" ({summary.updated} of the duplicates corrected a stored record)"
    if summary.reresolved:
        line += f"; {summary.reresolved} stored records now resolve to an account"
    emit(payload, as_json, line + f" in {summary.seconds:.1f}s")


COMMANDS: list[click.Command] = [ingest_cmd]
