"""Dark-funnel commands: `undertow eval channels`, `undertow train channels`,
`undertow classify-channels`, `undertow report dark-funnel`.

Thin shells over ``nlp.channels`` and ``marketing.dark_funnel``: each reads its options,
calls the library, prints a summary (and a table) on stderr and, with --json, one JSON
object on stdout.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from api.cli_support import (
    FiniteFloatRange,
    console,
    emit,
    handle_errors,
    json_option,
    progress,
    state,
)
from api.commands.groups import eval_group, report_group, train_group


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _money(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


@eval_group.command("channels")
@click.argument("csv", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--split",
    type=click.Choice(["test", "dev", "all"]),
    default=None,
    help="Rows of the CSV's `split` column (default: test for the project's set, all otherwise).",
)
@click.option("--show-errors", is_flag=True, help="List the misclassified answers.")
@json_option
@handle_errors
def eval_channels(csv: Path | None, split: str | None, show_errors: bool, as_json: bool) -> None:
    """Accuracy (primary channel among the gold channels) and per-channel confusion on a
    labeled CSV (columns answer, channels[, split]); default: the project's labeled set."""
    from nlp.channels.evaluate import evaluate, read_labeled
    from nlp.channels.head import LABELED_PATH

    path = csv or LABELED_PATH
    split = split or ("test" if csv is None else "all")
    result = evaluate(read_labeled(path, split))
    result.update({"file": str(path), "split": split})
    out = console()
    table = Table(title=f"channels on {path.name} ({split}, n={result['n']})")
    for col in ("channel", "support", "precision", "recall", "f1", "confused with"):
        table.add_column(col, justify="left" if col in ("channel", "confused with") else "right")
    for ch, m in result["per_channel"].items():
        row = result["confusion"].get(ch, {})
        confused = ", ".join(
            f"{p} {k}" for p, k in sorted(row.items(), key=lambda x: -x[1]) if p != ch
        )
        table.add_row(
            ch,
            str(m["support"]),
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"{m['f1']:.3f}",
            confused,
        )
    out.print(table)
    if show_errors:
        for e in result["errors"]:
            out.print(
                f"  [red]x[/red] {e['answer']!r}: gold {e['gold']}, predicted {e['predicted']}"
            )
    summary = (
        f"accuracy {result['accuracy']:.4f} (exact set {result['exact_set_accuracy']:.4f}, "
        f"jaccard {result['jaccard']:.4f}) on {result['n']} answers; decided by {result['decided_by']}"
        if result["n"]
        else "no labeled rows"
    )
    emit(result, as_json, summary)


@train_group.command("channels")
@click.option("--csv", "csv", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--c", "c", type=FiniteFloatRange(0, 1e6, min_open=True), default=8.0,
              show_default=True, help="Inverse L2 strength (> 0).")  # fmt: skip
@json_option
@handle_errors
def train_channels(csv: Path | None, c: float, as_json: bool) -> None:
    """Rebuild the channel head (nlp/channels/data/channel_head.json) from the dev split."""
    from nlp.channels.head import HEAD_PATH, LABELED_PATH, train_head
    from nlp.encoder import Encoder

    card = train_head(Encoder(), csv or LABELED_PATH, HEAD_PATH, c=c)
    emit(card, as_json, f"channel head {card['version']} written to {HEAD_PATH}")


@click.command("classify-channels")
@json_option
@handle_errors
def classify_channels(as_json: bool) -> None:
    """Label every stored attribution answer the current classifier has not labeled."""
    from nlp.channels import classify_store

    st = state()
    with progress("classifying answers") as advance:
        result = classify_store(st.engine(), st.settings, advance)
    emit(
        result,
        as_json,
        f"classified {result['classified']} answers ({result['cached']} already), "
        f"model {result['model_version']}",
    )


def _date(value: str | None, name: str) -> Any:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}", param_hint=name) from exc


@report_group.command("dark-funnel")
@click.option("--from", "date_from", default=None, help="First day (YYYY-MM-DD).")
@click.option("--to", "date_to", default=None, help="Last day (YYYY-MM-DD).")
@json_option
@handle_errors
def report_dark_funnel(date_from: str | None, date_to: str | None, as_json: bool) -> None:
    """Self-reported vs tracked channel shares (the GET /v1/dark-funnel figures)."""
    from ingest.errors import InputError
    from marketing.dark_funnel import measure
    from nlp.channels import classify_store

    d_from, d_to = _date(date_from, "--from"), _date(date_to, "--to")
    if d_from and d_to and d_from > d_to:
        raise InputError(f"--from ({d_from}) must not be after --to ({d_to})")
    st = state()
    engine = st.engine()
    with progress("classifying answers") as advance:
        classify_store(engine, st.settings, advance)
    result = measure(engine, d_from, d_to)
    table = Table(
        title=f"dark funnel, {result['n']} answers ({date_from or 'start'} .. {date_to or 'end'})"
    )
    for col in (
        "channel",
        "dark",
        "responses",
        "self-reported",
        "95% interval",
        "tracked",
        "influenced ARR",
        "pipeline",
    ):
        table.add_column(col, justify="left" if col in ("channel", "dark") else "right")
    for ch in result["channels"]:
        table.add_row(
            ch["channel"],
            "dark" if ch["dark"] else "",
            f"{ch['responses']:.1f}",
            _pct(ch["self_reported_share"]),
            f"{_pct(ch['self_reported_share_low'])} - {_pct(ch['self_reported_share_high'])}",
            _pct(ch["tracked_share"]),
            _money(ch["influenced_arr"]),
            _money(ch["pipeline"]),
        )
    console().print(table)
    und = result["undercount_points"]
    summary = (
        f"dark share {_pct(result['dark_share'])} ({_pct(result['dark_share_low'])} - "
        f"{_pct(result['dark_share_high'])}), tracked dark {_pct(result['tracked_dark_share'])}, "
        f"undercount {'-' if und is None else f'{100 * und:.1f} points'}, misattributed "
        f"{_pct(result['misattributed_share'])}, response rate {_pct(result['response_rate'])}, "
        f"non-response corrected {_pct(result['dark_share_corrected'])}"
    )
    emit(result, as_json, summary)


COMMANDS: list[click.Command] = [classify_channels]
