"""What each channel is worth over a period: every method side by side, and the reconciled
figure (CONTRACT.md section 5, ``GET /v1/channel-impact``).

From a fitted ``MediaPosterior`` (the media-mix model calibrated by lift tests and
answers, ``marketing.mmm``) and the period's ``AnswerEvidence``:

- ``contribution`` of a channel over the period's weeks: its modelled contribution in
  those weeks (expected outcome minus expected outcome had its spend been zero; spend
  before the period carries into it), posterior mean and 90% interval. ``roi`` =
  contribution / spend of the period.
- ``marginal_roi``: the expected outcome of one more unit of spend, spread over the
  period's weeks in proportion to their spend, counting its carry-over into the weeks
  after the period (``l_max`` weeks): the derivative at the period's level, by a 1% bump.
- ``baseline``: the period's observed outcome minus every channel's contribution, so the
  figures add up to the outcome.
- ``dark_pipeline``: the part of the baseline (the pipeline no spend bought) that its
  buyers credit to the dark channels: ``dark = (baseline - expansions) x D / B`` (the
  answers speak for new business only: existing accounts' expansions, the outcome
  beyond ``AnswerEvidence.pipeline``, are baseline no buyer credits), a dark share read
  among the baseline's own buyers, because buyers sourced by paid channels answer at
  their own rate (post-stratifying by tracked source cannot see that within a stratum,
  and the dark share of all answers moves with it). In shares of the answers
  (post-stratified): a paid channel's credit less its organic part is what its own
  buyers said (``S_c``); the rest of their credit, ``F_c = S_c (1 - recall_c) /
  recall_c`` (recall is a share of credit), went elsewhere: to a second channel named
  beside c (``A_c``, in the proportions of ``beside_credit``, its dark part ``A_c^dark``)
  and, from those who forgot c, the remainder, a share ``q`` of it dark. So the
  baseline's buyers said ``B = 1 - sum S_c - sum F_c`` of the answers, of which ``D =
  dark_share - sum A_c^dark - q sum (F_c - A_c)`` dark. ``q`` is read off the buyers
  whom tracking saw come through a modelled channel and who named something else
  (``misnamed_dark_share``). The 90% interval carries the answers'
  sampling error (bootstrap), the model's posterior (baseline, recall, organic parts) and
  ``q``.
- Side by side per channel: ``self_reported_share`` (answers, non-response corrected),
  ``tracked_share`` (tracked source), ``experiment_lift`` (the latest stored lift test
  of the channel, as given) and the model's own lift for that test. ``disagreements``
  lists where a method's interval excludes the reconciled figure's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from marketing.answer_evidence import Z90, AnswerEvidence
from marketing.lift_tests import LiftObservation, LiftTests
from marketing.media_posterior import MediaPosterior
from nlp.channels.taxonomy import DARK_CHANNELS

Q = (5.0, 95.0)
BUMP = 0.01


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, draws: np.ndarray) -> Interval:
        d = np.asarray(draws, dtype=float)
        lo, hi = np.percentile(d, Q)
        return cls(float(d.mean()), float(lo), float(hi))

    def excludes(self, low: float | None, high: float | None) -> bool:
        return low is not None and high is not None and (high < self.low or low > self.high)


def _r(v: float | None, nd: int = 2) -> float | None:
    return round(float(v), nd) if v is not None and math.isfinite(float(v)) else None


def period_weeks(posterior: MediaPosterior, date_from: date | None, date_to: date | None) -> np.ndarray:
    """Mask of the fitted weeks that belong to [from, to] (a week belongs to the period of
    its first day)."""
    return np.array([
        (date_from is None or w >= date_from) and (date_to is None or w <= date_to)
        for w in posterior.weeks
    ])  # fmt: skip


def channel_impact(
    posterior: MediaPosterior,
    answers: AnswerEvidence | None,
    lifts: LiftTests,
    lift_draws: dict[str, np.ndarray],
    date_from: date | None = None,
    date_to: date | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """The figures of the period (module docstring) as plain JSON-ready values."""
    mask = period_weeks(posterior, date_from, date_to)
    media = posterior.media_fitted()  # (draws, weeks, channels)
    contrib = media[:, mask, :].sum(axis=1)  # (draws, channels)
    spend = posterior.spend[mask].sum(axis=0)
    outcome = float(posterior.outcome[mask].sum())
    marginal = _marginal(posterior, mask)
    rng = np.random.default_rng(seed)

    latest: dict[str, LiftObservation] = {}
    for used in lifts.used:
        if used.channel not in latest or used.end >= latest[used.channel].end:
            latest[used.channel] = used
    rows, disagreements = [], []
    for j, c in enumerate(posterior.channels):
        ci = Interval.of(contrib[:, j])
        roi = Interval.of(contrib[:, j] / spend[j]) if spend[j] > 0 else None
        share = answers.shares.set_index("channel").loc[c] if answers is not None else None
        tracked = (
            float(answers.tracked_shares.set_index("channel").loc[c, "share"]) if answers else None
        )
        obs = latest.get(c)
        model_lift = Interval.of(lift_draws[obs.experiment_id]) if obs and obs.experiment_id in lift_draws else None
        row = {
            "channel": c,
            "dark": c in DARK_CHANNELS,
            "spend": _r(spend[j]),
            "contribution": _r(ci.mean), "contribution_low": _r(ci.low), "contribution_high": _r(ci.high),
            "roi": _r(roi.mean, 4) if roi else None,
            "roi_low": _r(roi.low, 4) if roi else None,
            "roi_high": _r(roi.high, 4) if roi else None,
            "marginal_roi": _r(float(marginal[j]), 4) if spend[j] > 0 else None,
            "self_reported_share": _r(share["share"], 4) if share is not None else None,
            "self_reported_share_low": _r(share["share_low"], 4) if share is not None else None,
            "self_reported_share_high": _r(share["share_high"], 4) if share is not None else None,
            "tracked_share": _r(tracked, 4) if tracked is not None else None,
            "experiment_lift": _r(obs.lift) if obs else None,
            "experiment_lift_low": _r(obs.lift_low) if obs else None,
            "experiment_lift_high": _r(obs.lift_high) if obs else None,
            "experiment_id": obs.experiment_id if obs else None,
            "model_lift": _r(model_lift.mean) if model_lift else None,
            "model_lift_low": _r(model_lift.low) if model_lift else None,
            "model_lift_high": _r(model_lift.high) if model_lift else None,
            "recall": _r(float(posterior.params["recall"][:, j].mean()), 3),
            "organic_share": _r(float(posterior.params["organic"][:, j].mean()), 4),
        }  # fmt: skip
        if obs and model_lift and model_lift.excludes(obs.lift_low, obs.lift_high):
            disagreements.append({
                "channel": c, "method": "lift_test",
                "detail": f"test {obs.experiment_id} measured {obs.lift:,.0f} "
                          f"({obs.lift_low:,.0f} to {obs.lift_high:,.0f}); the reconciled model "
                          f"gives {model_lift.mean:,.0f} ({model_lift.low:,.0f} to {model_lift.high:,.0f})",
            })  # fmt: skip
        if share is not None and outcome > 0:
            said = Interval(float(share["share"]) * outcome, float(share["share_low"]) * outcome,
                            float(share["share_high"]) * outcome)  # fmt: skip
            if said.low > ci.high:
                disagreements.append({
                    "channel": c, "method": "self_reported",
                    "detail": f"buyers credit {said.mean:,.0f} ({said.low:,.0f} to {said.high:,.0f}), "
                              f"more than the model's {ci.mean:,.0f} ({ci.low:,.0f} to {ci.high:,.0f})",
                })  # fmt: skip
        rows.append(row)

    paid = contrib.sum(axis=1)
    baseline = Interval.of(outcome - paid)
    dark = _dark_pipeline(posterior, answers, contrib, outcome, rng)
    weeks = [w for w, m in zip(posterior.weeks, mask, strict=True) if m]
    return {
        "from": weeks[0].isoformat() if weeks else None,
        "to": (weeks[-1] + timedelta(days=6)).isoformat() if weeks else None,
        "weeks": len(weeks),
        "outcome_total": _r(outcome),
        "channels": rows,
        **_flat("paid_contribution", Interval.of(paid)),
        **_flat("baseline", baseline),
        **_flat("dark_pipeline", dark),
        "disagreements": disagreements,
        "unused_experiments": lifts.unused,
    }


def _flat(name: str, i: Interval | None) -> dict[str, float | None]:
    if i is None:
        return {name: None, f"{name}_low": None, f"{name}_high": None}
    return {name: _r(i.mean), f"{name}_low": _r(i.low), f"{name}_high": _r(i.high)}


def _marginal(posterior: MediaPosterior, mask: np.ndarray) -> np.ndarray:
    """Posterior-mean marginal ROI per channel (module docstring)."""
    idx = np.flatnonzero(mask)
    n_ch = len(posterior.channels)
    if not len(idx):
        return np.zeros(n_ch)
    stop = idx[-1] + 1 + posterior.l_max  # the period and the carry-over after it
    tail = np.zeros((max(stop - len(posterior.weeks), 0), n_ch))
    bumped = posterior.spend.copy()
    bumped[idx] *= 1 + BUMP
    before = posterior.media(np.vstack([posterior.spend, tail]))[:, idx[0] : stop, :].sum(axis=1)
    after = posterior.media(np.vstack([bumped, tail]))[:, idx[0] : stop, :].sum(axis=1)
    extra = posterior.spend[idx].sum(axis=0) * BUMP
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(extra > 0, (after - before).mean(axis=0) / extra, 0.0)


def _dark_pipeline(
    posterior: MediaPosterior,
    answers: AnswerEvidence | None,
    contrib: np.ndarray,
    outcome: float,
    rng: np.random.Generator,
) -> Interval | None:
    if answers is None or not answers.answered or outcome <= 0:
        return None
    n = contrib.shape[0]
    recall = posterior.params["recall"].clip(min=0.05)
    organic = posterior.params["organic"]
    shares = answers.shares.set_index("channel")
    beside = answers.beside_credit
    dark_cols = [c for c in beside.columns if c in DARK_CHANNELS]
    sourced, forgotten, beside_dark, elsewhere = (np.zeros(n) for _ in range(4))
    for j, c in enumerate(posterior.channels):
        if c not in shares.index:
            continue
        row = shares.loc[c]
        sd = max(float(row["share_high"] - row["share_low"]) / (2 * Z90), 0.0)
        said_c = np.clip(rng.normal(float(row["share"]), sd, n), 0, None)
        own = said_c * (1 - organic[:, j])  # S_c
        sourced += own
        not_c = own * (1 - recall[:, j]) / recall[:, j]  # F_c: credit of c's buyers elsewhere
        mine = beside.loc[c] if c in beside.index else pd.Series(0.0, index=beside.columns)
        named = float(mine.get(c, 0.0))
        if named > 0:  # named beside c in the same answer: its own dark part, not q's
            also = own * (float(mine.sum()) - named) / named
            beside_dark += own * float(mine[dark_cols].sum()) / named
            not_c = not_c - np.minimum(also, not_c)
            forgotten += also
        elsewhere += not_c
        forgotten += not_c
    dark_said = np.clip(rng.normal(answers.dark_share, answers.dark_share_se, n), 0, None)
    q = misnamed_dark_share(posterior, answers, rng, n)
    by_baseline = (1 - sourced - forgotten).clip(min=1e-6)  # B
    fraction = ((dark_said - q * elsewhere - beside_dark) / by_baseline).clip(0, 1)  # D / B
    # what no buyer answered for (existing accounts' expansions) is baseline that buyers
    # credit to no channel: the fraction speaks for the new business's baseline alone
    unanswered = min(max(outcome - answers.pipeline, 0.0), outcome)
    baseline = (outcome - unanswered - contrib.sum(axis=1)).clip(min=0)
    return Interval.of(baseline * fraction)


def misnamed_dark_share(
    posterior: MediaPosterior, answers: AnswerEvidence, rng: np.random.Generator, n: int
) -> np.ndarray:
    """Draws of ``q``, the share of a forgotten paid channel's credit that lands on dark
    channels: from the buyers whom tracking saw come through a modelled channel and who
    named something else (Beta around their dark share, by how many credits it rests
    on). Without such answers, uniform between 0 and the baseline's own dark share."""
    other = answers.other_credit.reindex(posterior.channels).fillna(0.0)
    total = float(other.to_numpy().sum())
    dark = float(other[[c for c in other.columns if c in DARK_CHANNELS]].to_numpy().sum())
    if total >= 5:
        return rng.beta(dark + 1, total - dark + 1, n)
    paid_share = sum(answers.share_of(c) for c in posterior.channels)
    d = answers.dark_share / max(1 - paid_share, 1e-9)
    return rng.uniform(0, min(d, 1.0), n)

CURVE_MULTIPLIERS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)


def response_curves(
    posterior: MediaPosterior, weeks: int = 13, multipliers: tuple[float, ...] = CURVE_MULTIPLIERS
) -> list[dict[str, Any]]:
    """Each channel's response curve at today's level: the expected outcome its spend in
    the last ``weeks`` measured weeks buys (in those weeks and, carried over, the weeks
    after) when that spend is scaled by each multiplier, posterior mean and 90%
    interval; 0 at multiplier 0 (what earlier spend carries in is left out), and
    ``multiplier`` 1 is today's spend (the point to mark)."""
    n = len(posterior.weeks)
    idx = np.arange(max(n - weeks, 0), n)
    tail = np.zeros((posterior.l_max, len(posterior.channels)))
    out = []
    for j, c in enumerate(posterior.channels):

        def bought(m: float, j: int = j) -> np.ndarray:
            spend = posterior.spend.copy()
            spend[idx, j] *= m
            return posterior.media(np.vstack([spend, tail]))[:, idx[0] :, j].sum(axis=1)

        none = bought(0.0)
        points = []
        for m in multipliers:
            spend_m = posterior.spend[idx, j].sum() * m
            i = Interval.of(bought(m) - none)
            points.append({"multiplier": m, "spend": _r(float(spend_m)),
                           "outcome": _r(i.mean), "outcome_low": _r(i.low), "outcome_high": _r(i.high)})  # fmt: skip
        out.append({"channel": c, "weeks": len(idx), "today_spend": _r(float(posterior.spend[idx, j].sum())),
                    "points": points})  # fmt: skip
    return out
