"""`undertow measure` and `undertow forecast`: the marketing-measurement area's CLI.

Thin shells over ``marketing.measure`` and ``marketing.forecast_ledger``: it converts arguments, runs the measurement,
prints a per-channel table on stderr and (with --json) one object on stdout, the same
object ``GET /v1/channel-impact`` returns for the measured weeks.
"""

from __future__ import annotations

from typing import Any

import click

from api.channel_impact_payload import impact_payload
from api.cli_support import console, emit, handle_errors, json_option, state
from ingest.errors import InputError


def _money(v: Any) -> str:
    return "n/a" if v is None else f"{v:,.0f}"


def _ratio(v: Any) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def _summary(payload: dict[str, Any]) -> str:
    d = payload["diagnostics"]
    lines = [
        f"measurement {payload['run_id']} as of {payload['as_of']}: {payload['outcome']} over "
        f"{payload['weeks']} weeks, model {payload['model_version']} ({payload['status']})",
        f"{'channel':13s} {'spend':>12s} {'contribution (90%)':>34s} {'ROI (90%)':>20s} "
        f"{'marginal':>8s} {'said':>6s} {'tracked':>7s}",
    ]
    for c in payload["channels"]:
        lines.append(
            f"{c['channel']:13s} {_money(c['spend']):>12s} "
            f"{_money(c['contribution']):>12s} ({_money(c['contribution_low'])}-{_money(c['contribution_high'])})"
            f" {_ratio(c['roi']):>6s} ({_ratio(c['roi_low'])}-{_ratio(c['roi_high'])})"
            f" {_ratio(c['marginal_roi']):>8s} {_ratio(c['self_reported_share']):>6s}"
            f" {_ratio(c['tracked_share']):>7s}"
        )
    lines.append(
        f"baseline {_money(payload['baseline'])} ({_money(payload['baseline_low'])}-"
        f"{_money(payload['baseline_high'])}); dark pipeline {_money(payload['dark_pipeline'])} "
        f"({_money(payload['dark_pipeline_low'])}-{_money(payload['dark_pipeline_high'])})"
    )
    lines.append(
        f"diagnostics: R-hat max {d.get('r_hat_max')}, divergences {d.get('divergences')}, "
        f"bulk ESS min {d.get('ess_bulk_min')}, fit MAPE {d.get('fit_mape')}"
    )
    if not d.get("converged"):
        lines.append("WARNING: the sampler did not converge (" + "; ".join(d.get("problems") or [])
                     + "): treat these figures as unreliable; rerun with more --draws")  # fmt: skip
    for item in payload.get("disagreements") or []:
        lines.append(f"disagreement ({item['channel']}, {item['method']}): {item['detail']}")
    return "\n".join(lines)


# the media-mix model's sampling defaults (``marketing.mmm.MediaMixConfig``; a test keeps
# them equal), written out so that ``undertow --help`` does not import the model
SAMPLING_DEFAULTS = {"draws": 250, "tune": 700, "chains": 4}


def sampling_options(command: Any) -> Any:
    """``--draws``, ``--tune`` and ``--chains`` of a command that fits the media-mix model."""
    for option in reversed((
        click.option("--draws", type=click.IntRange(1, 20_000), default=SAMPLING_DEFAULTS["draws"],
                     show_default=True, help="Posterior draws per chain."),
        click.option("--tune", type=click.IntRange(0, 20_000), default=SAMPLING_DEFAULTS["tune"],
                     show_default=True, help="Tuning steps per chain before the draws."),
        click.option("--chains", type=click.IntRange(1, 8), default=SAMPLING_DEFAULTS["chains"],
                     show_default=True, help="Chains, sampled two at a time; R-hat compares them."),
    )):  # fmt: skip
        command = option(command)
    return command


@click.command("measure")
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Measure with what was known at this date (default: the latest spend or opportunity date).")  # fmt: skip
@click.option("--outcome", type=click.Choice(["pipeline", "opportunities", "leads"]),
              default="pipeline", show_default=True)  # fmt: skip
@sampling_options
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option("--sampler", type=click.Choice(["nutpie", "pymc"]), default="nutpie",
              show_default=True, help="nutpie (default, faster here) or PyMC's own NUTS.")  # fmt: skip
@json_option
@handle_errors
def measure_command(
    as_of: str | None, outcome: str, draws: int, tune: int, chains: int, seed: int,
    sampler: str, as_json: bool,
) -> None:
    """Fit the media-mix model (calibrated by lift tests and buyers' answers) and store a run."""
    from marketing.measure import measure_and_store
    from marketing.mmm import MediaMixConfig

    when = _date(as_of) if as_of else None
    config = MediaMixConfig(draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler)
    with console().status("measuring") as status:
        run = measure_and_store(state().engine(), as_of=when, outcome=outcome, config=config,
                                on_step=lambda msg: status.update(msg))  # fmt: skip
    payload = impact_payload(run, dict(run["result"]))
    emit(payload, as_json, _summary(payload))


def _date(text: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError as exc:
        raise InputError(f"--as-of must be a date YYYY-MM-DD, got {text!r}") from exc



def _forecast_summary(out: dict[str, Any]) -> str:
    t = out["total"]
    lines = [
        f"forecast {out['forecast_id'][:12]} of {out['outcome']} for {len(out['weeks'])} weeks "
        f"({out['first_week']} to {out['last_week']}) from measurement as of {out['as_of']}",
        f"total: P50 {_money(t['p50'])} (P10 {_money(t['p10'])} - P90 {_money(t['p90'])})",
    ]
    if out.get("measurement_status") == "not_converged":
        lines.append("WARNING: the measurement behind it did not converge")
    for a in out["assumptions"]:
        lines.append(f"assumption: {a['text']}")
    if "change" in out:
        c, b = out["change"], out["base"]["total"]
        lines.append(
            f"base plan: P50 {_money(b['p50'])}; change {_money(c['p50'])} "
            f"(P10 {_money(c['p10'])} to P90 {_money(c['p90'])})"
        )
    for w in out["weeks"]:
        lines.append(f"  {w['week']}  {_money(w['p10']):>12s} {_money(w['p50']):>12s} {_money(w['p90']):>12s}")
    return "\n".join(lines)


@click.group("forecast", invoke_without_command=True)
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Forecast from the latest measurement as of this date (default: the latest).")  # fmt: skip
@click.option("--weeks", type=int, default=13, show_default=True)
@click.option("--assumption", "assumptions", multiple=True, metavar="TEXT",
              help="A spend assumption, e.g. 'channel=paid_ads:spend*=1.2' (repeatable).")  # fmt: skip
@click.option("--name", default=None, help="A name for the stored forecast.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@json_option
@click.pass_context
@handle_errors
def forecast_command(
    ctx: click.Context, as_of: str | None, weeks: int, assumptions: tuple[str, ...],
    name: str | None, seed: int, as_json: bool,
) -> None:  # fmt: skip
    """Weekly outcome forecast after the measured weeks, P10/P50/P90, under spend assumptions."""
    if ctx.invoked_subcommand is not None:
        return
    from marketing.forecast_ledger import run_forecast

    out = run_forecast(state().engine(), weeks=weeks, assumptions=list(assumptions),
                       as_of=_date(as_of) if as_of else None, name=name, seed=seed)  # fmt: skip
    emit(out, as_json, _forecast_summary(out))


@forecast_command.command("list")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@json_option
@handle_errors
def forecast_list(limit: int, as_json: bool) -> None:
    """Recorded forecasts with their assumptions and how they turned out (the ledger)."""
    from marketing.forecast_ledger import ledger

    rows = ledger(state().engine(), limit)
    lines = [f"{len(rows)} recorded forecasts"]
    for r in rows:
        judged = (f"{r['weeks_judged']} weeks judged, {r['weekly_coverage_p10_p90']:.0%} inside P10-P90"
                  if r["weeks_judged"] else "not judged yet")  # fmt: skip
        label = r["name"] or ", ".join(a["text"] for a in r["assumptions"]) or "base plan"
        lines.append(f"  {r['created_at'][:16]}  {r['forecast_id'][:12]}  as of {r['as_of']}  {label}: {judged}")
    emit({"forecasts": rows}, as_json, "\n".join(lines))


@forecast_command.command("backtest")
@click.option("--origins", type=click.IntRange(1, 12), default=4, show_default=True,
              help="How many origins, the latest first, each --weeks apart.")  # fmt: skip
@click.option("--weeks", type=click.IntRange(1, 52), default=13, show_default=True,
              help="The forecast horizon whose total is judged.")  # fmt: skip
@sampling_options
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@json_option
@handle_errors
def forecast_backtest(
    origins: int, weeks: int, draws: int, tune: int, chains: int, seed: int, as_json: bool
) -> None:
    """Rolling-origin back-test of the forecast's total beside naive and seasonal naive
    forecasts: the model is fitted on what the store knew at each origin (a minute each)."""
    from marketing.forecast_backtest import backtest
    from marketing.mmm import MediaMixConfig

    config = MediaMixConfig(draws=draws, tune=tune, chains=chains, seed=seed)
    with console().status("back-testing") as status:
        out = backtest(state().engine(), origins=origins, horizon=weeks, step=weeks, config=config,
                       on_origin=lambda d: status.update(f"fitting the model as of {d}"))  # fmt: skip
    emit(out, as_json, _backtest_summary(out))


def _backtest_summary(out: dict[str, Any]) -> str:
    def band(q: dict[str, Any] | None) -> str:
        if not q:
            return "n/a"
        if q.get("p10") is None:
            return f"{_money(q['p50'])} (no band)"
        return f"{_money(q['p50'])} ({_money(q['p10'])}-{_money(q['p90'])})"

    h = out["horizon_weeks"]
    lines = [f"back-test of the {h}-week total, {len(out['origins'])} origins"]
    if out.get("note"):
        lines.append(out["note"])
    for r in out["origins"]:
        flag = "" if r["converged"] else "  (model not converged)"
        lines.append(f"  as of {r['origin']}: actual {_money(r['actual'])}; model {band(r['model'])}; "
                     f"naive {band(r['naive'])}; seasonal naive {band(r['seasonal_naive'])}{flag}")  # fmt: skip
    lines.append(f"{'method':16s} {'origins':>7s} {'inside P10-P90':>15s} {'median |P50 error|':>19s}")
    for method, m in out["summary"].items():
        cov = "n/a" if m["coverage_p10_p90"] is None else f"{m['coverage_p10_p90']:.0%}"
        err = "n/a" if m["median_abs_p50_error"] is None else f"{m['median_abs_p50_error']:.1%}"
        lines.append(f"{method:16s} {m['origins']:>7d} {cov:>15s} {err:>19s}")
    return "\n".join(lines)


COMMANDS = [measure_command, forecast_command]
