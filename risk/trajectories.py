"""The monthly account panel, built as of a date, each period strictly from data before it.

Periods are calendar months from the first month with data (at most ``max_months``
back) up to ``as_of``; the last period ends at the end of ``as_of`` (a partial month
counts with its exposure). The features of a period are computed from texts and surveys
dated strictly before the period starts, so a model trained on period rows never sees
the month it predicts. The features at the final boundary (the end of ``as_of``) are the
ones the forecast uses.

Left truncation: an account whose contract began before the data enters the panel at the
data's first month with its true tenure; accounts that churned before that never enter.
Accounts without texts are still scored: every text feature is shrunk toward a neutral
prior by ``prior_weight`` pseudo-texts, so no texts means "neutral, nothing known".

Sentiment weighting (documented, per the contract): each scored text has weight 1 and is
centred on its kind's mean sentiment (tickets read more negative than reviews by nature,
so an account is not penalised for the mix of its texts); the level is an exponentially
weighted mean by month with a ``ewm_halflife_months`` half-life. The display values kept
on the snapshot (``sentiment``, ``sentiment_trend``) are the same exponentially weighted
mean on the raw scale (P(pos) - P(neg)) and its change over the last 90 days: the mean
sentiment of the texts of the 90 days up to ``as_of`` minus that of the 90 days before,
shrunk by the evidence behind it (``shrunk_trend``). A change measured on one or two
texts is mostly noise, so empirical Bayes pulls it toward "no change"; ``trend_weight``
(0..1) says how much of the measured change was kept, ``texts_90d`` how many scored
texts the last 90 days hold.

Feature groups: ``text`` (from sentiment and aspect scores), ``activity`` (ticket volume,
NPS, CSAT of tickets and surveys, review stars: no text content), ``crm`` (tenure, ARR, segment). The back-test's
no-text model drops ``text``; the CRM-only model keeps ``crm``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from risk.inputs import RiskInputs

DAYS_PER_MONTH = 30.4375
TREND_DAYS = 90  # the window of ``sentiment_trend`` and of ``texts_90d``


ASPECT_PREFIX = "aspect_negative_"  # + aspect: the share of texts complaining about it


@dataclass(frozen=True)
class TrajectoryConfig:
    """Settings of the panel; the defaults are the product's."""

    max_months: int = 36
    warmup_months: int = 3
    ewm_halflife_months: float = 2.0
    prior_weight: float = 2.0
    negative_p: float = 0.5
    min_aspect_mentions: int = 20
    max_aspects: int = 5
    # exactly these aspects (a model fitted on another panel needs its own columns);
    # None: the ``max_aspects`` most complained about, each with ``min_aspect_mentions``
    aspects: tuple[str, ...] | None = None
    nps_prior: float = 7.0
    rating_prior: float = 4.0
    csat_prior: float = 4.0


# the columns of ``Panel.monthly``
MONTHLY = ["account_id", "month", "sentiment", "n_texts", "tickets", "sentiment_level", "nps_level"]


@dataclass
class Panel:
    """Training rows (one per account-period at risk), current features, monthly trajectory."""

    as_of: pd.Timestamp
    rows: pd.DataFrame
    current: pd.DataFrame
    monthly: pd.DataFrame
    groups: dict[str, list[str]] = field(default_factory=dict)
    boundaries: pd.DatetimeIndex | None = None

    def features(self, *groups: str) -> list[str]:
        return [f for g in groups for f in self.groups.get(g, [])]


def _accumulate(
    a_idx: np.ndarray, b_idx: np.ndarray, values: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    out = np.zeros(shape)
    np.add.at(out, (a_idx, b_idx), values)
    return out


def _cum(bins: np.ndarray) -> np.ndarray:
    """C[:, j] = sum of bins before boundary j (shape A x (K+1))."""
    c = np.zeros((bins.shape[0], bins.shape[1] + 1))
    np.cumsum(bins, axis=1, out=c[:, 1:])
    return c


def _window(c: np.ndarray, w: int) -> np.ndarray:
    """Sum of the ``w`` bins before each boundary."""
    lag = np.zeros_like(c)
    lag[:, w:] = c[:, :-w]
    return c - lag


def _lagged(x: np.ndarray, k: int) -> np.ndarray:
    out = np.empty_like(x)
    out[:, k:] = x[:, :-k]
    out[:, :k] = x[:, :1]
    return out


def _ewm(bins: np.ndarray, halflife: float) -> np.ndarray:
    """Exponentially weighted sum of the bins before each boundary (A x (K+1))."""
    decay = 0.5 ** (1.0 / halflife)
    out = np.zeros((bins.shape[0], bins.shape[1] + 1))
    for j in range(bins.shape[1]):
        out[:, j + 1] = decay * out[:, j] + bins[:, j]
    return out


def _within_variance(cell: np.ndarray, s: np.ndarray) -> float:
    """Pooled variance of one text's sentiment around the mean of its cell (an account's
    window: the noise of a window's mean, without the account's drift between windows)."""
    if not len(s):
        return 0.25
    _, inv, n = np.unique(cell, return_inverse=True, return_counts=True)
    mean = np.bincount(inv, weights=s) / n
    dof = float(np.sum(n - 1))
    if dof < 1:
        return 0.25
    return max(float(np.sum((s - mean[inv]) ** 2)) / dof, 1e-4)


def shrunk_trend(
    inputs: RiskInputs, ids: pd.Index
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per account of ``ids``: (trend, weight, texts in the last 90 days, texts in the 90
    before), the trend being the change of mean text sentiment between those windows,
    shrunk by the evidence behind it (empirical Bayes).

    The measured change ``m`` of an account with ``n1`` and ``n0`` scored texts has
    sampling variance ``v = s2 * (1/n1 + 1/n0)`` (``s2``: pooled variance of a text
    around its account-window's mean). True changes are taken to spread as N(0, tau2), ``tau2``
    estimated across accounts by the method of moments (mean of m**2 - v). The shown
    trend is ``m * tau2 / (tau2 + v)``: near ``m`` with many texts, near 0 (no change)
    with one or two; 0 with weight 0 when either window has no scored text."""
    tx = inputs.texts
    a = ids.get_indexer(tx["account_id"])
    s = tx["sentiment"].to_numpy(dtype=float)
    keep = (a >= 0) & np.isfinite(s)
    a, s, when = a[keep], s[keep], tx["created_at"].to_numpy()[keep]
    n_a = len(ids)
    split = np.datetime64(inputs.cutoff - pd.Timedelta(days=TREND_DAYS))
    first = np.datetime64(inputs.cutoff - pd.Timedelta(days=2 * TREND_DAYS))
    recent, before = when >= split, (when >= first) & (when < split)
    n1 = np.bincount(a[recent], minlength=n_a).astype(float)
    n0 = np.bincount(a[before], minlength=n_a).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = (
            np.bincount(a[recent], weights=s[recent], minlength=n_a) / n1
            - np.bincount(a[before], weights=s[before], minlength=n_a) / n0
        )
        window = recent | before
        cell = a[window] * 2 + recent[window]
        v = _within_variance(cell, s[window]) * (1 / n1 + 1 / n0)
    known = (n1 > 0) & (n0 > 0)
    tau2 = max(float(np.mean(m[known] ** 2 - v[known])), 0.0) if known.sum() >= 2 else 0.0
    weight = np.zeros(n_a)
    weight[known] = tau2 / (tau2 + v[known]) if tau2 > 0 else 0.0
    trend = np.where(known, weight * np.nan_to_num(m), 0.0)
    return trend, weight, n1, n0


def period_boundaries(inputs: RiskInputs, config: TrajectoryConfig) -> pd.DatetimeIndex:
    """Month starts from the first month with data to ``as_of``, then the end of ``as_of``."""
    cutoff = inputs.cutoff
    firsts = [inputs.texts["created_at"].min(), inputs.surveys["submitted_at"].min()]
    firsts = [f for f in firsts if pd.notna(f)]
    first = min(firsts) if firsts else cutoff - pd.DateOffset(months=12)
    earliest = inputs.as_of.to_period("M").to_timestamp() - pd.DateOffset(
        months=config.max_months - 1
    )
    start = max(pd.Timestamp(first).to_period("M").to_timestamp(), earliest)
    months = pd.date_range(start, cutoff, freq="MS")
    months = months[months < cutoff]
    return pd.DatetimeIndex(list(months) + [cutoff])


def _at_risk(
    acc: pd.DataFrame, b_ns: np.ndarray, cutoff: pd.Timestamp, warmup_months: int
) -> tuple[np.ndarray, ...]:
    """Per account (rows) and period (columns): start, churn, has_churn, exit, period
    start within the contract, exposure in days, event, and at risk."""
    start = acc["contract_start"].values.astype("datetime64[ns]")
    churn = acc["churned_at"].values.astype("datetime64[ns]")
    has_churn = ~np.isnat(churn)
    exit_ = np.where(has_churn, churn, np.datetime64(cutoff.to_datetime64()))
    lo = np.maximum(b_ns[:-1][None, :], start[:, None])
    hi = np.minimum(b_ns[1:][None, :], exit_[:, None])
    exposure = (hi - lo) / np.timedelta64(1, "D")
    event = (
        has_churn[:, None]
        & (churn[:, None] >= b_ns[:-1][None, :])
        & (churn[:, None] < b_ns[1:][None, :])
    )
    at_risk = (exposure > 0) | event
    at_risk[:, : min(warmup_months, len(b_ns) - 1)] = False
    return start, churn, has_churn, exit_, lo, exposure, event, at_risk


def panel_size(inputs: RiskInputs, config: TrajectoryConfig | None = None) -> int:
    """``len(build_panel(inputs, config).rows)`` without building the features (a fit
    decides which models it can afford before the panel exists)."""
    cfg = config or TrajectoryConfig()
    b_ns = period_boundaries(inputs, cfg).values.astype("datetime64[ns]")
    at_risk = _at_risk(
        inputs.accounts.reset_index(drop=True), b_ns, inputs.cutoff, cfg.warmup_months
    )[-1]
    return int(at_risk.sum())


def build_panel(
    inputs: RiskInputs, config: TrajectoryConfig | None = None, monthly: bool = True
) -> Panel:
    """The account panel of ``inputs`` (see the module docstring for every definition).
    ``monthly=False`` leaves the display trajectory (``Panel.monthly``) empty: a
    back-test's origin panels are only fitted and judged."""
    cfg = config or TrajectoryConfig()
    acc = inputs.accounts.reset_index(drop=True)
    ids = pd.Index(acc["account_id"])
    b = period_boundaries(inputs, cfg)
    n_a, n_k = len(acc), len(b) - 1
    shape = (n_a, n_k)
    b_ns = b.values.astype("datetime64[ns]")

    def locate(frame: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = ids.get_indexer(frame["account_id"])
        j = np.searchsorted(b_ns, frame[col].values.astype("datetime64[ns]"), side="right") - 1
        ok = (a >= 0) & (j >= 0) & (j < n_k)
        return a[ok], j[ok], ok

    # ---- texts
    tx = inputs.texts
    a, j, ok = locate(tx, "created_at")
    kind = tx["kind"].to_numpy()[ok]
    s_raw = tx["sentiment"].to_numpy(dtype=float)[ok]
    scored = ~np.isnan(s_raw)
    kind_mean = pd.Series(s_raw[scored]).groupby(kind[scored]).mean()
    s_c = s_raw - pd.Series(kind).map(kind_mean).fillna(0.0).to_numpy()
    s_c = np.where(scored, s_c, 0.0)
    pneg = tx["p_negative"].to_numpy(dtype=float)[ok]
    neg = np.where(scored, np.nan_to_num(pneg, nan=0.0) >= cfg.negative_p, False)
    w = scored.astype(float)
    n_sc = _accumulate(a, j, w, shape)
    sum_s = _accumulate(a, j, s_c, shape)
    sum_s2 = _accumulate(a, j, s_c**2, shape)
    sum_raw = _accumulate(a, j, np.where(scored, s_raw, 0.0), shape)
    n_neg = _accumulate(a, j, neg.astype(float), shape)
    n_all = _accumulate(a, j, np.ones_like(w), shape)
    is_ticket = kind == "ticket"
    n_tk = _accumulate(a, j, is_ticket.astype(float), shape)
    rating = tx["rating"].to_numpy(dtype=float)[ok]
    has_rating = (kind == "review") & ~np.isnan(rating)
    n_rt = _accumulate(a, j, has_rating.astype(float), shape)
    sum_rt = _accumulate(a, j, np.where(has_rating, rating, 0.0), shape)

    has_csat = is_ticket & ~np.isnan(rating)
    n_cs = _accumulate(a, j, has_csat.astype(float), shape)
    sum_cs = _accumulate(a, j, np.where(has_csat, rating, 0.0), shape)

    g_s = float(np.mean(s_c[scored] ** 2)) if scored.any() else 0.1
    g_neg = float(neg[scored].mean()) if scored.any() else 0.2
    # per-text arrays are done with: free them (a panel of 100k accounts peaked at 1.4 GB)
    del a, j, ok, kind, s_raw, scored, s_c, pneg, neg, w, is_ticket, rating, has_rating, has_csat

    # ---- surveys (NPS 0-10)
    sv = inputs.surveys[inputs.surveys["survey_type"].astype(str).str.lower() == "nps"]
    a2, j2, ok2 = locate(sv, "submitted_at")
    nps = sv["score"].to_numpy(dtype=float)[ok2]
    n_nps = _accumulate(a2, j2, np.ones_like(nps), shape)
    sum_nps = _accumulate(a2, j2, nps, shape)

    cs = inputs.surveys[inputs.surveys["survey_type"].astype(str).str.lower() == "csat"]
    a4, j4, ok4 = locate(cs, "submitted_at")
    n_cs = n_cs + _accumulate(a4, j4, np.ones(len(a4)), shape)
    sum_cs = sum_cs + _accumulate(a4, j4, cs["score"].to_numpy(dtype=float)[ok4], shape)

    hl, k0 = cfg.ewm_halflife_months, cfg.prior_weight
    feats: dict[str, np.ndarray] = {}
    groups: dict[str, list[str]] = {"text": [], "activity": [], "crm": []}

    def add(group: str, name: str, value: np.ndarray) -> None:
        feats[name] = value
        groups[group].append(name)

    e_num, e_den = _ewm(sum_s, hl), _ewm(n_sc, hl)
    level = e_num / (e_den + k0)
    add("text", "sentiment_level", level)
    add("text", "sentiment_change", level - _lagged(level, 3))
    c_n6, c_s6, c_s26 = (_window(_cum(x), 6) for x in (n_sc, sum_s, sum_s2))
    mean6 = c_s6 / np.maximum(c_n6, 1)
    var6 = (c_s26 - c_n6 * mean6**2 + k0 * g_s) / (np.maximum(c_n6 - 1, 0) + k0)
    add("text", "sentiment_volatility", np.sqrt(np.maximum(var6, 0)))
    add("text", "negative_share", (_window(_cum(n_neg), 6) + k0 * g_neg) / (c_n6 + k0))
    del e_num, e_den, c_n6, c_s6, c_s26, mean6, var6, sum_s, sum_s2, n_neg

    asp = inputs.aspects
    if len(asp) or cfg.aspects:
        a3, j3, ok3 = locate(asp, "created_at")
        names = asp["aspect"].astype(str).to_numpy()[ok3]
        asent = asp["sentiment"].to_numpy(dtype=float)[ok3]
        aneg = ~np.isnan(asent) & (asent < -0.2)
        if cfg.aspects is not None:
            keep = list(cfg.aspects)
        else:
            counts = pd.Series(names[aneg]).value_counts()
            keep = [x for x in counts.index if counts[x] >= cfg.min_aspect_mentions]
            keep = keep[: cfg.max_aspects]
        c_all6 = _window(_cum(n_all), 6)
        for name in sorted(keep):
            m = aneg & (names == name)
            cnt = _window(_cum(_accumulate(a3[m], j3[m], np.ones(m.sum()), shape)), 6)
            add("text", f"{ASPECT_PREFIX}{name}", cnt / (c_all6 + k0))

    c_tk = _cum(n_tk)
    tk3 = np.log1p(_window(c_tk, 3))
    add("activity", "ticket_volume", tk3)
    add("activity", "ticket_trend", tk3 - _lagged(tk3, 3))
    n_e, s_e = _ewm(n_nps, 3.0), _ewm(sum_nps, 3.0)
    nps_level = (s_e + k0 * cfg.nps_prior) / (n_e + k0)
    add("activity", "nps_level", nps_level)
    add("activity", "nps_trend", nps_level - _lagged(nps_level, 3))
    add(
        "activity", "csat_level", (_ewm(sum_cs, 3.0) + k0 * cfg.csat_prior) / (_ewm(n_cs, 3.0) + k0)
    )
    c_nrt, c_srt = _window(_cum(n_rt), 12), _window(_cum(sum_rt), 12)
    add("activity", "review_rating", (c_srt + k0 * cfg.rating_prior) / (c_nrt + k0))
    del c_tk, tk3, n_e, s_e, c_nrt, c_srt, n_rt, sum_rt, n_cs, sum_cs, n_nps, sum_nps

    # ---- periods at risk
    start, churn, has_churn, exit_, lo, exposure, event, at_risk = _at_risk(
        acc, b_ns, inputs.cutoff, cfg.warmup_months
    )
    day = np.timedelta64(1, "D")
    exposure = np.maximum(exposure, 0.5) / DAYS_PER_MONTH
    tenure = np.maximum((lo - start[:, None]) / day, 0) / DAYS_PER_MONTH

    # today's features first, so each feature's matrix can go once its rows are taken
    active = ~has_churn
    cur_idx = np.flatnonzero(active)
    today = {name: v[cur_idx, n_k] for name, v in feats.items()}

    ai, ji = np.nonzero(at_risk)
    rows = pd.DataFrame(
        {
            "account_id": acc["account_id"].to_numpy()[ai],
            "period_start": b[:-1][ji],
            "period": ji,
            "exposure": exposure[ai, ji],
            "event": event[ai, ji].astype(np.int8),
            "tenure": tenure[ai, ji],
        }
    )
    for name in list(feats):
        rows[name] = feats.pop(name)[ai, ji]
    crm_cols = _crm_features(acc, rows, ai, groups)
    del lo, exposure, event, at_risk, tenure, ai, ji

    # ---- current state at as_of (boundary K) for active accounts
    as_of_ns = np.datetime64(inputs.as_of.to_datetime64())
    current = pd.DataFrame(
        {
            "account_id": acc["account_id"].to_numpy()[cur_idx],
            "name": acc["name"].to_numpy()[cur_idx],
            "segment": acc["segment"].to_numpy()[cur_idx],
            "arr": acc["arr"].to_numpy(dtype=float)[cur_idx],
            "tenure": np.maximum((as_of_ns - start[cur_idx]) / day, 0) / DAYS_PER_MONTH,
        }
    )
    for name, v in today.items():
        current[name] = v
    _crm_features(acc, current, cur_idx, None, crm_cols)
    raw_num, raw_den = _ewm(sum_raw, hl), _ewm(n_sc, hl)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw_level = np.where(raw_den > 1e-9, raw_num / raw_den, np.nan)
    current["sentiment"] = raw_level[cur_idx, n_k]
    trend, weight, n_recent, _ = shrunk_trend(inputs, ids)
    current["sentiment_trend"] = trend[cur_idx]
    current["trend_weight"] = weight[cur_idx]
    current["texts_90d"] = n_recent[cur_idx].astype(int)
    del raw_num, raw_den, raw_level

    # ---- monthly trajectory (display): raw mean sentiment of each month's texts
    if not monthly:
        return Panel(inputs.as_of, rows, current, pd.DataFrame(columns=MONTHLY), groups, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        month_mean = np.where(n_sc > 0, sum_raw / np.maximum(n_sc, 1), np.nan)
    alive_bins = (b_ns[:-1][None, :] < exit_[:, None]) & (b_ns[1:][None, :] > start[:, None])
    mi, mj = np.nonzero(alive_bins)
    trajectory = pd.DataFrame(
        {
            "account_id": acc["account_id"].to_numpy()[mi],
            "month": b[:-1][mj],
            "sentiment": month_mean[mi, mj],
            "n_texts": n_all[mi, mj].astype(int),
            "tickets": n_tk[mi, mj].astype(int),
            "sentiment_level": level[mi, mj + 1],
            "nps_level": nps_level[mi, mj + 1],
        }
    )
    return Panel(inputs.as_of, rows, current, trajectory, groups, b)


def _crm_features(
    acc: pd.DataFrame,
    frame: pd.DataFrame,
    idx: np.ndarray,
    groups: dict[str, list[str]] | None,
    segments: list[str] | None = None,
) -> list[str]:
    """Tenure, ARR and segment indicators (the most common segment is the reference)."""
    frame["log_tenure"] = np.log1p(frame["tenure"].to_numpy(dtype=float) / 12.0)
    frame["log_arr"] = np.log1p(acc["arr"].to_numpy(dtype=float)[idx])
    seg = acc["segment"].astype(str).to_numpy()[idx]
    if segments is None:
        counts = acc["segment"].astype(str).value_counts()
        segments = sorted(counts.index[1:]) if len(counts) > 1 else []
    for s in segments:
        frame[f"segment_{s}"] = (seg == s).astype(float)
    if groups is not None:
        groups["crm"] = ["log_tenure", "log_arr"] + [f"segment_{s}" for s in segments]
    return segments
