"""`undertow fit`, `undertow export churn-risk` and `undertow scenario`: the risk area's CLI.

Thin shells over ``risk.fit``, ``risk.feeds`` and ``risk.scenarios``: each converts
arguments, calls the library, prints a summary on stderr and (with --json) one object on
stdout. Errors become exit codes in ``api.cli_support.handle_errors``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from api.cli_support import (
    compute_engine,
    emit,
    engine_options,
    handle_errors,
    json_option,
    progress,
    state,
    write_output,
)
from api.commands.groups import eval_group, export_group
from risk.forecast import HORIZONS

if TYPE_CHECKING:
    from risk.fit import StoredFit

HORIZON_CHOICES = [str(h) for h in HORIZONS]


def _fmt(v: Any, spec: str = ".3f") -> str:
    return "n/a" if v is None else format(v, spec)


def fit_summary(stored: StoredFit) -> dict[str, Any]:
    """The `undertow fit --json` object of a stored fit (JSON-safe: NaN and inf -> null)."""
    from api.json_safe import json_safe

    result, m = stored.result, stored.metrics
    bt = result.backtest or {}
    h = bt.get("horizon_days")
    compare = {
        name: {k: v for k, v in res.items() if k != "calibration"}
        for name, res in bt.get("models", {}).items()
    }
    keys = ("c_index", "integrated_brier", f"auc_{h}d", "ici", "expected", "observed")
    candidates = {
        kind: {
            "status": c["status"],
            "chosen": c["chosen"],
            **({"reason": c["reason"]} if c.get("reason") else {}),
            **{
                name: {k: c[name].get(k) for k in keys}
                for name in ("full", "no_text", "crm_only")
                if name in c
            },
        }
        for kind, c in m["candidates"].items()
    }
    return json_safe(  # type: ignore[no-any-return]
        {
            "as_of": result.inputs.as_of.date().isoformat(),
            "as_of_note": result.inputs.note,
            "accounts": int(len(result.forecast.predictions)),
            "model_version": result.model_version,
            "c_index": m["c_index"],
            "integrated_brier": m["integrated_brier"],
            "auc_180d": m["auc_180d"],
            "auc_90d": m["auc_90d"],
            "ici": m["ici"],
            "lead_time_days": m["lead_time_days"],
            "run_id": stored.run_id,
            "sentiment_model_version": result.inputs.sentiment_model_version,
            "backtest_horizon_days": h,
            "backtest_origins": bt.get("origins"),
            "backtest": compare,
            "expected_churns": m["expected_churns"],
            "revenue_risk": {k: v["total"] for k, v in m["revenue_risk"].items()},
            "model_choice": {k: v for k, v in m["model_choice"].items() if k != "rule"},
            "calibration_factor": m["calibration_in_the_large"]["factor"],
            "candidates": candidates,
            "ledger": stored.ledger,
            "expansion": result.signals.summary() if result.signals else None,
        }
    )


def _backtest_lines(result: dict[str, Any]) -> list[str]:
    bt = result.get("backtest") or {}
    h = result.get("backtest_horizon_days")
    if not bt or h is None:
        reasons = {c.get("reason") for c in (result.get("candidates") or {}).values()}
        why = "; ".join(sorted(r for r in reasons if r)) or "no back-test origin could be used"
        return [f"back-test skipped: {why}"]
    lines = [f"back-test ({h} days, origins {', '.join(result.get('backtest_origins') or [])}):"]
    for name, m in bt.items():
        lines.append(
            f"  {name:9s} C-index {_fmt(m.get('c_index'))}  AUC {_fmt(m.get(f'auc_{h}d'))}  "
            f"IBS {_fmt(m.get('integrated_brier'), '.4f')}  ICI {_fmt(m.get('ici'), '.4f')}  "
            f"expected {_fmt(m.get('expected'), '.1f')} / observed {m.get('observed')}  "
            f"lead time {_fmt(m.get('lead_time_days'), '.0f')} days"
        )
    return lines


def fit_lines(result: dict[str, Any]) -> list[str]:
    """The human summary of ``fit_summary``; a missing figure prints as n/a."""
    lines = [
        f"risk snapshot {result['run_id']} as of {result['as_of']}: {result['accounts']} active "
        f"accounts, model {result['model_version']}",
    ]
    if result.get("as_of_note"):
        lines.append(f"note: {result['as_of_note']}")
    lines += _backtest_lines(result)
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
    exp = result.get("expansion") or {}
    if exp.get("status") == "ok":
        lines.append(
            f"expansion model {exp.get('model_version')}: back-test AUC "
            f"{_fmt(exp.get('backtest_auc'))} (sentiment trend {_fmt(exp.get('backtest_auc_trend'))}, "
            f"CRM + history {_fmt(exp.get('backtest_auc_crm_history'))}), ICI "
            f"{_fmt(exp.get('backtest_ici'), '.4f')}, expected {_fmt(exp.get('backtest_expected'), '.1f')}"
            f" / observed {exp.get('backtest_observed')} accounts expanding within 180 days"
        )
    elif exp:
        lines.append(f"expansion model: not fitted ({exp.get('reason')})")
    rr = result.get("revenue_risk", {}).get("180") or {}
    if rr:
        lines.append(
            f"expected churned ARR in 180 days: {_fmt(rr.get('expected_churned_arr'), ',.0f')} "
            f"(90% interval {_fmt(rr.get('low'), ',.0f')} - {_fmt(rr.get('high'), ',.0f')}) "
            f"of {_fmt(rr.get('arr'), ',.0f')}"
        )
    return lines


@click.command("fit")
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Fit with what was known at this date (default: the latest event date in the store, never after today).")  # fmt: skip
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
        stored = fit_and_store(
            st.engine(), st.settings, as_of=when, on_progress=advance, compute=compute
        )
    result = fit_summary(stored)
    emit(result, as_json, "\n".join(fit_lines(result)))


@export_group.command("churn-risk")
@click.option("--horizon-days", type=click.Choice(HORIZON_CHOICES), default="90", show_default=True)
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
    from api.feed_formats import render_feed
    from risk.feeds import churn_risk_page

    _, rows = churn_risk_page(state().engine(), int(horizon_days), limit=None)
    write_output(render_feed(rows, fmt), out)
    where = str(out) if out else "stdout"
    emit(
        {},
        False,
        f"churn-risk feed ({horizon_days} days, {len(rows)} accounts) written to {where} as {fmt}",
    )


@eval_group.command("churn")
@click.option("--truth", "truth_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="truth.csv of a demo world (account_id, churned_at_true).")  # fmt: skip
@click.option("--horizon-days", type=click.Choice(HORIZON_CHOICES), default="180",
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


@eval_group.command("signals")
@click.option("--truth", "truth_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="truth.csv of a demo world (account_id, churned_at_true, expanded_at_true).")  # fmt: skip
@click.option("--horizon-days", type=click.IntRange(1, 3650), default=180, show_default=True)
@click.option("--run-id", default=None, help="Risk run to judge (default: the latest).")
@json_option
@handle_errors
def eval_signals(truth_path: Path, horizon_days: int, run_id: str | None, as_json: bool) -> None:
    """Judge the sales lists (the top 25/50/100 of each ranking) against a world's truth."""
    from risk.signal_eval import judge_lists
    from risk.truth_check import read_truth

    truth = read_truth(truth_path, optional=("expanded_at_true",))
    res = judge_lists(state().engine(), truth, horizon_days, run_id=run_id)
    h = res["horizon_days"]
    lines = [
        f"run {res['run_id']} (as of {res['as_of']}, model {res['model_version']}) vs truth: "
        f"{res['accounts']} active accounts, outcomes within {h} days"
    ]
    for kind, verb in (("risk", "churned"), ("expansion", "expanded")):
        block = res.get(kind) or {}
        if block.get("status") == "skipped":
            lines.append(f"{kind} list: not judged ({block.get('reason')})")
            continue
        lines.append(
            f"{kind} list: share {verb} among the top N (base rate {_fmt(block['base_rate'])}, "
            f"{block['events']} of {block['accounts']})"
        )
        lines.append(f"  {'ranking':16s} {'top 25':>7s} {'top 50':>7s} {'top 100':>7s}  AUC")
        for name, r in block["rankings"].items():
            cells = " ".join(f"{_fmt(r['top'][n]['rate']):>7s}" for n in ("25", "50", "100"))
            lines.append(f"  {name:16s} {cells}  {_fmt(r['auc'])}")
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
@click.option("--horizon-days", type=click.Choice(HORIZON_CHOICES), default="180",
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
