"""`undertow measure`: the marketing-measurement area's CLI.

A thin shell over ``marketing.measure``: it converts arguments, runs the measurement,
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


@click.command("measure")
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Measure with what was known at this date (default: the latest spend or opportunity date).")  # fmt: skip
@click.option("--outcome", type=click.Choice(["pipeline", "opportunities", "leads"]),
              default="pipeline", show_default=True)  # fmt: skip
@click.option("--draws", type=click.IntRange(1, 20_000), default=500, show_default=True,
              help="Posterior draws per chain (after as many tuning steps plus 200).")  # fmt: skip
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option("--sampler", type=click.Choice(["nutpie", "pymc"]), default="nutpie",
              show_default=True, help="nutpie (default, faster here) or PyMC's own NUTS.")  # fmt: skip
@json_option
@handle_errors
def measure_command(
    as_of: str | None, outcome: str, draws: int, seed: int, sampler: str, as_json: bool
) -> None:
    """Fit the media-mix model (calibrated by lift tests and buyers' answers) and store a run."""
    from marketing.measure import measure_and_store
    from marketing.mmm import MediaMixConfig

    when = _date(as_of) if as_of else None
    config = MediaMixConfig(draws=draws, tune=draws + 200, seed=seed, sampler=sampler)
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


COMMANDS = [measure_command]
