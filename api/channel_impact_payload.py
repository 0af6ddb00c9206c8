"""One shape of the channel-impact figures for the CLI (`undertow measure --json`) and
the route (`GET /v1/channel-impact`): a stored measurement run plus the figures of a
period (``marketing.channel_impact``)."""

from __future__ import annotations

from typing import Any

DIAGNOSTIC_KEYS = ("r_hat_max", "divergences", "fit_mape", "ess_bulk_min", "converged",
                   "problems", "sampler", "draws", "chains")  # fmt: skip


def impact_payload(run: dict[str, Any], figures: dict[str, Any]) -> dict[str, Any]:
    diagnostics = {k: run["diagnostics"].get(k) for k in DIAGNOSTIC_KEYS}
    warnings = []
    if not diagnostics.get("converged"):
        warnings.append(
            "the media-mix model did not converge (" + "; ".join(diagnostics.get("problems") or [])
            + "): its figures are not reliable"
        )
    return {
        "run_id": run["run_id"],
        "as_of": str(run["as_of"]),
        "outcome": run["outcome"],
        "model_version": run["model_version"],
        "status": run["status"],
        "definitions_version": (run.get("inputs") or {}).get("definitions_version"),
        **{k: figures.get(k) for k in ("from", "to", "weeks", "outcome_total")},
        "channels": figures["channels"],
        **{k: figures.get(k) for k in (
            "baseline", "baseline_low", "baseline_high", "dark_pipeline", "dark_pipeline_low",
            "dark_pipeline_high", "paid_contribution", "paid_contribution_low",
            "paid_contribution_high")},  # fmt: skip
        "diagnostics": diagnostics,
        "disagreements": figures.get("disagreements") or [],
        "unused_experiments": figures.get("unused_experiments") or [],
        "warnings": warnings,
    }
