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

from api.cli_support import (
    compute_engine,
    emit,
    engine_options,
    handle_errors,
    json_option,
    progress,
    state,
)
from api.commands.groups import eval_group, export_group
from ingest.errors import InputError


def _fmt(v: Any, spec: str = ".3f") -> str:
    return "n/a" if v is None else format(v, spec)


@click.command("fit")
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Fit with what was known at this date (default: the latest event date in the store).")  # fmt: skip
@engine_options
@json_option
@handle_errors
def fit_command(
    as_of: str | None,
    engine_kind: str,
    ray_address: str | None,
    ray_workers: int | None,
    as_json: bool,
) -> None:
    """Build account trajectories, fit the survival model, store a risk snapshot and its
    back-test (back-test origins, candidates and forecast chunks in parallel with --engine ray)."""
    from risk.fit import FIT_STEPS, RAY_PRELOAD, fit_and_store
    from risk.inputs import to_timestamp

    st = state()
    when = to_timestamp(as_of) if as_of else None
    with (
        compute_engine(engine_kind, ray_address, ray_workers, RAY_PRELOAD) as compute,
        progress("fitting churn risk", total=FIT_STEPS) as advance,
    ):
        result = fit_and_store(
            st.engine(), st.settings, as_of=when, on_progress=advance, compute=compute
        )
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
    if result.get("calibration_factor") is not None:
        lines.append(
            f"calibration in the large: baseline hazard x{result['calibration_factor']:.3f} "
            "(back-test observed vs expected churns)"
        )
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
        try:
            out.write_bytes(data)
        except OSError as exc:
            raise InputError(
                f"cannot write {out}: {exc.strerror or exc}; pass --out a writable file path"
            ) from exc
    where = str(out) if out else "stdout"
    emit(
        {},
        False,
        f"churn-risk feed ({horizon_days} days, {len(rows)} accounts) written to {where} as {fmt}",
    )


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and v != v


@eval_group.command("churn")
@click.option("--truth", "truth_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="truth.csv of a demo world (account_id, churned_at_true).")  # fmt: skip
@click.option("--horizon-days", type=click.Choice(["90", "180", "365"]), default="180",
              show_default=True)  # fmt: skip
@click.option("--run-id", default=None, help="Risk run to judge (default: the latest).")
@click.option("--no-variants", is_flag=True, help="Skip refitting the no-text and CRM-only models.")
@json_option
@handle_errors
def eval_churn(
    truth_path: Path, horizon_days: str, run_id: str | None, no_variants: bool, as_json: bool
) -> None:
    """Judge the latest risk snapshot against a demo world's true churn dates."""
    from risk.truth_check import judge_against_truth, read_truth

    st = state()
    res = judge_against_truth(
        st.engine(),
        st.settings,
        read_truth(truth_path),
        int(horizon_days),
        run_id=run_id,
        variants=not no_variants,
    )
    h = res["horizon_days"]

    def line(label: str, m: dict[str, Any]) -> str:
        err = "" if m["expected_error_pct"] is None else f" ({m['expected_error_pct']:+.1f}%)"
        return (
            f"  {label:9s} AUC {_fmt(m['auc'])}  expected {m['expected']:.1f} / observed "
            f"{m['observed']}{err}  Brier {_fmt(m['brier'], '.4f')}"
        )

    lines = [
        f"run {res['run_id']} (as of {res['as_of']}, model {res['model_version']}) vs truth: "
        f"{res['accounts']} active accounts, churn within {h} days",
        line("snapshot", res),
        *(line(k, v) for k, v in (res.get("variants") or {}).items()),
    ]
    if res.get("text_lift_auc") is not None:
        lines.append(f"  text features add {res['text_lift_auc']:+.3f} AUC over the no-text model")
    if not res["truth_covers_horizon"]:
        lines.append("note: the truth's latest churn date is before as_of + horizon")
    emit(res, as_json, "\n".join(lines))


@click.group("scenario")
def scenario_group() -> None:
    """Revenue risk under explicit, stored assumptions, beside the base case."""


def _money(v: float) -> str:
    if abs(v) >= 1e6:
        return f"{v / 1e6:.2f}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.0f}k"
    return f"{v:,.0f}"


def _band(block: dict[str, Any]) -> str:
    return (
        f"{_money(block['expected_churned_arr'])} ({_money(block['low'])}-{_money(block['high'])})"
    )


def _row(label: str, cmp: dict[str, Any]) -> str:
    pct = "" if cmp.get("delta_pct") is None else f" ({cmp['delta_pct']:+.1f}%)"
    sign = "+" if cmp["delta"] >= 0 else "-"
    return (
        f"  {label:15s} {_band(cmp['base']):20s} {_band(cmp['scenario']):20s} "
        f"{sign}{_money(abs(cmp['delta']))}{pct}"
    )


@scenario_group.command("run")
@click.option("--name", required=True, help="A name to find the scenario by later.")
@click.option("--assumption", "assumptions", multiple=True, metavar="ASSUMPTION",
              help="e.g. 'segment=smb:sentiment-=0.2', 'tickets+=30%', 'cohort=2024:nps-=1' "
                   "(repeatable; see risk.scenarios for the syntax).")  # fmt: skip
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A YAML file with a list of assumptions (added after --assumption).")  # fmt: skip
@click.option("--run-id", default=None, help="Risk run to use (default: the latest).")
@click.option("--horizon-days", type=click.Choice(["90", "180", "365"]), default="180",
              show_default=True, help="Horizon of the by-segment table.")  # fmt: skip
@json_option
@handle_errors
def scenario_run(
    name: str,
    assumptions: tuple[str, ...],
    path: Path | None,
    run_id: str | None,
    horizon_days: str,
    as_json: bool,
) -> None:
    """Re-predict the latest run's model on shifted features; store and print the result."""
    from risk.scenarios import load_assumption_file, run_scenario

    st = state()
    items = list(assumptions) + (load_assumption_file(path) if path else [])
    res = run_scenario(st.engine(), st.settings, name, items, run_id=run_id)
    lines = [
        f"scenario #{res['id']} '{res['name']}' on run {res['run_id']} (as of {res['as_of']}, "
        f"model {res['model_version']}): {res['affected_accounts']} of {res['accounts']} "
        "active accounts affected",
        *(
            f"  assumption: {a['text']}  ({a['accounts']} accounts; alone "
            f"{b['delta_pct'][horizon_days]:+.1f}% at {horizon_days} days)"
            if b["delta_pct"].get(horizon_days) is not None
            else f"  assumption: {a['text']}  ({a['accounts']} accounts)"
            for a, b in zip(res["assumptions"], res["by_assumption"], strict=True)
        ),
        "expected churned ARR (90% interval)",
        f"  {'':15s} {'base':20s} {'scenario':20s} change",
        *(_row(f"{h} days total", v["total"]) for h, v in res["horizons"].items()),
        *(
            _row(f"{horizon_days}d {seg['segment']}"[:15], seg)
            for seg in res["horizons"][horizon_days]["segments"]
        ),
    ]
    if not res["base_reproduces_snapshot"]:
        lines.append("note: the base case differs from the stored snapshot (the store changed "
                     "before its as-of date since the fit); refit for a current base")  # fmt: skip
    emit(res, as_json, "\n".join(lines))


@scenario_group.command("list")
@click.option("--limit", type=int, default=50, show_default=True)
@json_option
@handle_errors
def scenario_list(limit: int, as_json: bool) -> None:
    """Stored scenarios, newest first, with their assumptions and 180-day effect."""
    from risk.scenarios import list_scenarios

    items = list_scenarios(state().engine(), limit)
    lines = [f"{len(items)} scenario(s)"]
    for it in items:
        h = it["expected_churned_arr"].get("180") or {}
        lines.append(
            f"  #{it['id']} {it['name']} ({it['created_at'][:16]}, run {it['run_id'][:8]}): "
            f"180-day expected churned ARR {_money(h.get('base', 0))} -> "
            f"{_money(h.get('scenario', 0))}\n      assumptions: {'; '.join(it['assumptions'])}"
        )
    emit({"scenarios": items}, as_json, "\n".join(lines))


COMMANDS: list[click.Command] = [fit_command, scenario_group]
