"""`undertow fit`, `undertow export churn-risk` and `undertow scenario`: the risk area's CLI.

Thin shells over ``risk.fit``, ``risk.feeds`` and ``risk.scenarios``: each converts
arguments, calls the library, prints a summary on stderr and (with --json) one object on
stdout. Errors become exit codes in ``api.cli_support.handle_errors``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from api.cli_support import emit, handle_errors, json_option, progress, state
from api.commands.groups import export_group


def _fmt(v: Any, spec: str = ".3f") -> str:
    return "n/a" if v is None else format(v, spec)


@click.command("fit")
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Fit with what was known at this date (default: the latest event date in the store).")  # fmt: skip
@json_option
@handle_errors
def fit_command(as_of: str | None, as_json: bool) -> None:
    """Build account trajectories, fit the survival model, store a risk snapshot and its back-test."""
    from risk.fit import FIT_STEPS, fit_and_store
    from risk.inputs import to_timestamp

    st = state()
    when = to_timestamp(as_of) if as_of else None
    with progress("fitting churn risk", total=FIT_STEPS) as advance:
        result = fit_and_store(st.engine(), st.settings, as_of=when, on_progress=advance)
    bt = result.get("backtest") or {}
    lines = [
        f"risk snapshot {result['run_id']} as of {result['as_of']}: {result['accounts']} active accounts, "
        f"model {result['model_version']}",
        f"back-test ({result.get('backtest_horizon_days')} days, origins {', '.join(result.get('backtest_origins') or [])}):",
    ]
    for name, m in bt.items():
        h = result.get("backtest_horizon_days")
        lines.append(
            f"  {name:9s} C-index {_fmt(m.get('c_index'))}  AUC {_fmt(m.get(f'auc_{h}d'))}  "
            f"IBS {_fmt(m.get('integrated_brier'), '.4f')}  ICI {_fmt(m.get('ici'), '.4f')}  "
            f"expected {_fmt(m.get('expected'), '.1f')} / observed {m.get('observed')}  "
            f"lead time {_fmt(m.get('lead_time_days'), '.0f')} days"
        )
    choice = result.get("model_choice") or {}
    if choice:
        lines.append(f"model choice: {choice.get('why')}")
    for kind, c in (result.get("candidates") or {}).items():
        if c.get("status") != "ok":
            lines.append(f"  candidate {kind}: {c.get('status')}")
    rr = result.get("revenue_risk", {}).get("180")
    if rr:
        lines.append(
            f"expected churned ARR in 180 days: {rr['expected_churned_arr']:,.0f} "
            f"(90% interval {rr['low']:,.0f} - {rr['high']:,.0f}) of {rr['arr']:,.0f}"
        )
    emit(result, as_json, "\n".join(lines))


@export_group.command("churn-risk")
@click.option(
    "--horizon-days", type=click.Choice(["90", "180", "365"]), default="90", show_default=True
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "parquet"]),
    default="csv",
    show_default=True,
)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: stdout).")  # fmt: skip
@handle_errors
def export_churn_risk(horizon_days: str, fmt: str, out: Path | None) -> None:
    """Write the finance feed of the latest risk snapshot (same columns as GET /v1/churn-risk).

    Text cells that start with =, +, -, @ are prefixed with a quote so a spreadsheet never
    runs them as formulas; numbers stay numbers."""
    from api.feed_formats import neutralize, to_csv, to_parquet
    from risk.feeds import CHURN_COLUMNS, churn_risk_frame

    frame = churn_risk_frame(state().engine(), int(horizon_days))
    rows = [
        {k: (None if _is_nan(v) else v) for k, v in r.items()} for r in frame.to_dict("records")
    ]
    if fmt == "csv":
        data = to_csv(rows, CHURN_COLUMNS)
    elif fmt == "parquet":
        data = to_parquet(
            [{c: neutralize(r.get(c)) for c in CHURN_COLUMNS} for r in rows], CHURN_COLUMNS
        )
    else:
        safe = [{c: neutralize(r.get(c)) for c in CHURN_COLUMNS} for r in rows]
        data = (json.dumps(safe, default=str, allow_nan=False) + "\n").encode("utf-8")
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out.write_bytes(data)
    where = str(out) if out else "stdout"
    emit(
        {},
        False,
        f"churn-risk feed ({horizon_days} days, {len(rows)} accounts) written to {where} as {fmt}",
    )


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and v != v


COMMANDS: list[click.Command] = [fit_command]
