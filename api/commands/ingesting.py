"""`undertow ingest KIND PATH... [--mapping NAME_OR_YAML] [--source NAME] [--json]`."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli_support import emit, handle_errors, json_option, progress, state


def _estimate_rows(paths: tuple[str, ...]) -> int | None:
    """Line count of the files (a progress-bar total; quoted newlines make it an upper bound)."""
    total = 0
    for p in paths:
        try:
            with Path(p).open("rb") as fh:
                while block := fh.read(1 << 20):
                    total += block.count(b"\n")
        except OSError:
            return None
    return max(total - len(paths), 1)


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
    with progress(f"ingest {kind}", estimate) as advance:
        summary = ingest_paths(
            st.engine(),
            kind,
            paths,
            settings=st.settings,
            mapping=mapping,
            source=source,
            on_progress=advance,
        )
        if estimate and estimate > summary.read:  # quoted newlines: lines outnumber rows
            advance(estimate - summary.read)
    payload = summary.as_dict()
    line = (
        f"{kind}: read {summary.read}, inserted {summary.inserted}, duplicates {summary.duplicates}, "
        f"rejected {summary.rejected} (quarantined), unresolved {summary.unresolved}"
    )
    if summary.updated:
        line += f", updated {summary.updated}"
    if summary.reresolved:
        line += f"; {summary.reresolved} stored records now resolve to an account"
    emit(payload, as_json, line + f" in {summary.seconds:.1f}s")


COMMANDS: list[click.Command] = [ingest_cmd]
