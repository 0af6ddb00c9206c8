"""What buyers say, as evidence on each channel's share of the outcome.

Input: the opportunities of the period (``opportunity_id``, ``created_at``, ``amount``,
``tracked_source``) and the channel credits of the answers linked to them
(``opportunity_id``, ``channel``, ``weight``; an answer naming two channels gives each
half). Not every buyer answers, and who answers is not random: the **non-response
correction** post-stratifies by the tracked source, which is known for every
opportunity. Within each stratum (the tracked source on the taxonomy) the answering
buyers stand for all of the stratum's pipeline::

    weight(stratum) = pipeline(stratum) / pipeline of its answered opportunities
    reported_c      = sum over answered opportunities i of weight(i) * amount_i * credit_ic

``reported_c / total pipeline`` is channel c's self-reported share. Its 90% interval comes
from a Poisson bootstrap over opportunities (``BOOTSTRAP`` replicates, fixed seed).

For the media-mix model the reported pipeline is also cut into blocks of weeks
(``blocks``): per block and channel, with ``kappa_c``, the channel's variance per unit of
reported pipeline (sum of squared terms over their sum), so that a block's sampling
variance is ``kappa_c * mean``.

Buyers still under-report channels they do not remember (recall bias); that is the
model's business (``marketing.mmm``), not this module's. What this module gives it for
that is ``agreement``: of the answering buyers whose tracked source is a channel, how
many name that channel themselves; ``other_credit``: where the others put their
credit (what buyers who forgot a channel name instead); and ``beside_credit``: what
those who do name it credit beside it (a second channel in the same answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from nlp.channels.taxonomy import CHANNELS, DARK_CHANNELS, map_tracked_source

BOOTSTRAP = 200
Z90 = 1.6448536269514722


@dataclass(frozen=True)
class AnswerEvidence:
    """Post-stratified self-reported shares of one period (see module docstring)."""

    opportunities: int
    answered: int
    pipeline: float
    shares: pd.DataFrame  # channel, share, share_low, share_high, responses
    tracked_shares: pd.DataFrame  # channel, share (of pipeline, by tracked source)
    dark_share: float
    dark_share_se: float
    # per channel: answered opportunities tracked to it, and how many of them name it
    agreement: pd.DataFrame  # channel, tracked_answered, naming_it
    # per tracked channel (rows): the credit of its answering buyers who do not name it
    other_credit: pd.DataFrame
    # ... and of those who do: the channel itself and what they name beside it
    beside_credit: pd.DataFrame
    # per answered opportunity: week index (Monday), weighted amount per channel
    _terms: pd.DataFrame

    @property
    def response_rate(self) -> float:
        return self.answered / self.opportunities if self.opportunities else 0.0

    def share_of(self, channel: str) -> float:
        row = self.shares[self.shares["channel"] == channel]
        return float(row["share"].iloc[0]) if len(row) else 0.0

    def blocks(
        self, weeks: list[date], channels: list[str], block_weeks: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(reported pipeline per block x channel, kappa per channel) over ``weeks``."""
        n_blocks = -(-len(weeks) // block_weeks)
        index = {w: k for k, w in enumerate(weeks)}
        terms = self._terms[self._terms["week"].isin(index)]
        block = terms["week"].map(index).to_numpy(dtype=int) // block_weeks
        out = np.zeros((n_blocks, len(channels)))
        kappa = np.zeros(len(channels))
        for j, c in enumerate(channels):
            v = terms[c].to_numpy(dtype=float) if c in terms else np.zeros(len(terms))
            out[:, j] = np.bincount(block, weights=v, minlength=n_blocks)
            kappa[j] = float((v**2).sum() / v.sum()) if v.sum() > 0 else 0.0
        return out, kappa


def _monday(ts: pd.Series) -> pd.Series:
    day = pd.to_datetime(ts).dt.normalize()
    return (day - pd.to_timedelta(day.dt.weekday, unit="D")).dt.date


def _weighted_shares(
    amount: np.ndarray, stratum: np.ndarray, credit: np.ndarray, answered: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Post-stratified shares (channels,) for opportunity weights ``w`` (a bootstrap draw)."""
    n_strata = int(stratum.max()) + 1 if len(stratum) else 0
    pipe = np.bincount(stratum, weights=w * amount, minlength=n_strata)
    ans = np.bincount(stratum, weights=w * amount * answered, minlength=n_strata)
    factor = np.divide(pipe, ans, out=np.zeros_like(pipe), where=ans > 0)
    total = pipe[ans > 0].sum()  # strata without any answer cannot speak for themselves
    if total <= 0:
        return np.zeros(credit.shape[1])
    per_opp = (w * amount * factor[stratum] * answered)[:, None] * credit
    return per_opp.sum(axis=0) / total


def _credit_by_tracked(
    tracked: np.ndarray, answered: np.ndarray, cmat: np.ndarray, naming: bool
) -> pd.DataFrame:
    """Per tracked channel (rows), the answers' credit per channel of the buyers whom
    tracking saw come through it and who name it (``naming``) or do not."""
    rows = {}
    for k, c in enumerate(CHANNELS):
        mine = (tracked == c) & (answered > 0) & ((cmat[:, k] > 0) == naming)
        rows[c] = cmat[mine].sum(axis=0)
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(CHANNELS))


def answer_evidence(opps: pd.DataFrame, credits: pd.DataFrame) -> AnswerEvidence:
    """Evidence of the opportunities ``opps`` from the answers' ``credits``."""
    opps = opps.drop_duplicates("opportunity_id").reset_index(drop=True)
    amount = opps["amount"].to_numpy(dtype=float)
    tracked = opps["tracked_source"].map(
        lambda v: map_tracked_source(v) if isinstance(v, str) and v.strip() else "other"
    )
    strata = {s: k for k, s in enumerate(sorted(set(tracked)))}
    stratum = tracked.map(strata).to_numpy(dtype=int)
    credit = (
        credits[credits["channel"].isin(CHANNELS)]
        .groupby(["opportunity_id", "channel"])["weight"].sum()
        .unstack(fill_value=0.0)
        .reindex(columns=list(CHANNELS), fill_value=0.0)
    )
    credit = credit.div(credit.sum(axis=1).where(lambda s: s > 0, 1.0), axis=0)
    cmat = credit.reindex(opps["opportunity_id"]).fillna(0.0).to_numpy()
    answered = (cmat.sum(axis=1) > 0).astype(float)

    ones = np.ones(len(opps))
    shares = _weighted_shares(amount, stratum, cmat, answered, ones)
    rng = np.random.default_rng(20261205)
    boots = np.array([
        _weighted_shares(amount, stratum, cmat, answered, rng.poisson(1.0, len(opps)).astype(float))
        for _ in range(BOOTSTRAP)
    ]) if len(opps) else np.zeros((0, len(CHANNELS)))  # fmt: skip
    dark_idx = [k for k, c in enumerate(CHANNELS) if c in DARK_CHANNELS]
    responses = (cmat > 0).sum(axis=0)
    lo, hi = (np.quantile(boots, [0.05, 0.95], axis=0) if len(boots) else (shares, shares))
    share_frame = pd.DataFrame({
        "channel": list(CHANNELS), "share": shares, "share_low": lo, "share_high": hi,
        "responses": responses.astype(int),
    })  # fmt: skip
    pipeline = float(amount.sum())
    by_tracked = pd.Series(amount).groupby(tracked.to_numpy()).sum()
    tracked_frame = pd.DataFrame({
        "channel": list(CHANNELS),
        "share": [float(by_tracked.get(c, 0.0)) / pipeline if pipeline > 0 else 0.0 for c in CHANNELS],
    })  # fmt: skip

    # the model's terms: each answered opportunity's weighted amount per channel, by week
    pipe = np.bincount(stratum, weights=amount, minlength=len(strata))
    ans = np.bincount(stratum, weights=amount * answered, minlength=len(strata))
    factor = np.divide(pipe, ans, out=np.zeros_like(pipe), where=ans > 0)
    weighted = (amount * factor[stratum] * answered)[:, None] * cmat
    terms = pd.DataFrame(weighted, columns=list(CHANNELS))
    terms["week"] = _monday(opps["created_at"]).to_numpy()
    terms = terms[answered > 0].reset_index(drop=True)
    tracked_arr = tracked.to_numpy()
    agreement = pd.DataFrame({
        "channel": list(CHANNELS),
        "tracked_answered": [int(((tracked_arr == c) & (answered > 0)).sum()) for c in CHANNELS],
        "naming_it": [float(cmat[(tracked_arr == c) & (answered > 0), k].sum())
                      for k, c in enumerate(CHANNELS)],
    })  # fmt: skip
    return AnswerEvidence(
        opportunities=len(opps),
        answered=int(answered.sum()),
        pipeline=pipeline,
        shares=share_frame,
        tracked_shares=tracked_frame,
        dark_share=float(shares[dark_idx].sum()),
        dark_share_se=float(boots[:, dark_idx].sum(axis=1).std()) if len(boots) else 0.0,
        agreement=agreement,
        other_credit=_credit_by_tracked(tracked_arr, answered, cmat, naming=False),
        beside_credit=_credit_by_tracked(tracked_arr, answered, cmat, naming=True),
        _terms=terms,
    )
