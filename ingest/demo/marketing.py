"""The demo world's marketing side: spend, prospects' leads and opportunities, lift tests.

What a B2B marketing team's data looks like, with a known truth to judge measurement by:

* **Spend** on five paid channels (``PAID``), each with its own pattern: always-on paid
  ads with budget changes, bursty events, steady content and review-site sponsorship with
  step changes, partner fees. Rows are daily (ads) or weekly totals dated on a random day
  of their week, split over campaigns.
* **Media response**: each channel's weekly spend carries over (geometric adstock) and
  saturates (Hill curve); the result is a stream of new *demand* (pipeline dollars)
  that turns into opportunities after a lead-to-opportunity lag of a few weeks.
* **Baseline demand** that no spend buys: peer referrals, communities, podcasts, AI
  assistants, organic social (the dark channels), organic search and other, with a trend
  and a yearly season.
* **Prospects**: every opportunity comes from a lead (a new company, ``P-…`` ids unknown
  to ``accounts``) that went lead -> MQL -> SQL -> opportunity; most leads stop earlier.
  Won and lost outcomes close some weeks after creation.
* **Buyers' answers** to "How did you hear about us?": a share of buyers answer
  (non-response differs by channel and segment); buyers sourced by a paid channel often
  forget it and name search, a peer or social instead (recall bias).
* **Tracking**: each lead's first touch as a tracking stack records it (dark channels land
  on direct / organic search / referral).
* **Lift tests**: one to three experiments (a geo holdout or a budget pulse) whose
  measured lift is the true incremental outcome within the test window plus noise.

Every random choice comes from the generator it is given, and the structural constants
of a world (carry-over, saturation, effect sizes, recall) are themselves drawn from it, so
seeds differ in more than noise. ``MarketingWorld.truth`` holds what measurement should
recover: per paid channel its spend, true contribution (expected pipeline minus expected
pipeline without the channel's spend, over the data window), ROI and marginal ROI; the
baseline; the dark pipeline; and the realized pipeline of the weeks after the data's end
(for judging forecasts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ingest.demo import attribution as attr
from ingest.taxonomy import DARK_CHANNELS

PAID = ("paid_ads", "event", "content", "review_site", "partner")
# demand no spend buys; content and review sites also have an organic part (a blog post
# found by search, an unpaid review), so buyers name them without any spend behind it
BASE_CHANNELS = ("peer_referral", "community", "podcast", "ai_assistant", "social", "search",
                 "other", "content", "review_site")  # fmt: skip
SEGMENTS = ("smb", "mid_market", "enterprise")
SEGMENT_MIX = (0.5, 0.35, 0.15)
DEAL_MEAN = {"smb": 4_000.0, "mid_market": 14_000.0, "enterprise": 50_000.0}  # ~30 deals a week
DEAL_SIGMA = 0.6  # log-scale spread of deal amounts
LAG_WEEKS = 13  # longest lead-to-opportunity lag modelled
FUTURE_WEEKS = 26  # weeks simulated after the data's end (truth only)
RUN_RATE_WEEKS = 13  # the trailing weeks of a run-rate plan (as marketing.forecast's)
FUNNEL = {"mql": 0.55, "sql": 0.5, "opp": 0.6}  # stage-to-stage conversion of a lead
WIN_RATE = 0.27
QUESTION = attr.QUESTION

# (typical weekly spend, carry-over range, ROI at typical spend range)
CHANNEL_SHAPE = {
    "paid_ads": (30_000.0, (0.2, 0.5), (1.8, 4.0)),
    "event": (20_000.0, (0.4, 0.7), (2.0, 5.0)),
    "content": (10_000.0, (0.5, 0.8), (2.5, 6.0)),
    "review_site": (7_000.0, (0.3, 0.6), (2.0, 5.5)),
    "partner": (9_000.0, (0.4, 0.7), (2.0, 5.0)),
}
# response propensity of buyers by true channel group (times the segment's rate)
RESPONSE_BY_GROUP = {"paid": 0.75, "dark": 1.0, "other": 0.9}
# what a buyer sourced by a paid channel names when they forget it
MISREMEMBER = (("search", 0.4), ("peer_referral", 0.2), ("social", 0.15), ("other", 0.25))


@dataclass(frozen=True)
class MarketingStyle:
    """Structural choices of a marketing world. The demo uses the defaults;
    ``benchmarks/channel_impact.py --style alt|long|lean`` also builds worlds unlike it
    (``STYLES``), to check that the measurement is not tuned to one generator."""

    lag_weeks: tuple[float, float] = (2.0, 5.0)  # range of the mean lead-to-opportunity lag
    recall: tuple[float, float] = (0.65, 0.85)  # share of paid-sourced buyers who name it
    organic: float = 0.5  # Dirichlet weight of organic content / review demand in the baseline
    hill_shape: tuple[float, float] = (1.0, 2.0)
    misremember: tuple[tuple[str, float], ...] = MISREMEMBER
    response_paid: float = RESPONSE_BY_GROUP["paid"]
    carry_over: tuple[float, float] | None = None  # every channel's; None: each its own
    roi_scale: float = 1.0  # the channels' ROI ranges (CHANNEL_SHAPE) times this
    baseline_share: tuple[float, float] = (0.45, 0.6)  # of the pipeline, what no spend buys


ALT = MarketingStyle(
    lag_weeks=(0.5, 1.5), recall=(0.74, 0.80), organic=0.0, hill_shape=(0.7, 1.2),
    misremember=(("search", 0.3), ("peer_referral", 0.4), ("other", 0.3)), response_paid=0.9,
)  # fmt: skip
# long B2B cycles: spend carries over for months and leads take one to two months
LONG = MarketingStyle(lag_weeks=(4.0, 8.0), carry_over=(0.6, 0.85))
# lean returns: paid channels near break-even, most pipeline bought by no spend
LEAN = MarketingStyle(roi_scale=0.4, baseline_share=(0.6, 0.75))
STYLES = {"demo": MarketingStyle(), "alt": ALT, "long": LONG, "lean": LEAN}


@dataclass(frozen=True)
class _Experiment:
    channel: str
    w0: int  # first week of the test
    w1: int  # last week (inclusive)
    design: str
    weekly_delta: np.ndarray  # spend added per week of the test


@dataclass
class MarketingWorld:
    frames: dict[str, pd.DataFrame]  # spend, leads, experiments, opportunities, attribution
    truth: pd.DataFrame  # one row per figure (see module docstring)
    weekly_truth: pd.DataFrame  # week, expected and realized pipeline, in and after the data


@dataclass(frozen=True)
class _Channel:
    name: str
    level: float  # typical weekly spend
    alpha: float  # geometric carry-over per week
    half: float  # Hill half-saturation (in adstocked weekly spend)
    shape: float  # Hill exponent
    beta: float  # weekly pipeline at full saturation


def _hill(x: np.ndarray, half: float, shape: float) -> np.ndarray:
    return x**shape / (x**shape + half**shape)


def _adstock(x: np.ndarray, alpha: float) -> np.ndarray:
    out = np.empty_like(x)
    acc = 0.0
    for t, v in enumerate(x):
        acc = v + alpha * acc
        out[t] = acc
    return out * (1 - alpha)  # normalised: a steady spend s adstocks to s


def _channels(rng: np.random.Generator, style: MarketingStyle) -> dict[str, _Channel]:
    out = {}
    for name, (level, (a_lo, a_hi), (r_lo, r_hi)) in CHANNEL_SHAPE.items():
        level *= float(rng.uniform(0.7, 1.4))
        alpha = float(rng.uniform(*(style.carry_over or (a_lo, a_hi))))
        half = level * float(rng.uniform(0.8, 2.2))
        shape = float(rng.uniform(*style.hill_shape))
        roi = float(rng.uniform(r_lo, r_hi)) * style.roi_scale  # average ROI at the typical level
        beta = roi * level / float(_hill(np.array([level]), half, shape)[0])
        out[name] = _Channel(name, level, alpha, half, shape, beta)
    return out


def _spend_path(rng: np.random.Generator, ch: _Channel, weeks: int) -> np.ndarray:
    """Weekly spend of one channel: its own pattern of flights, steps and noise."""
    t = np.arange(weeks)
    season = 1 + 0.15 * np.sin(2 * np.pi * (t / 52.0 + rng.uniform()))
    if ch.name == "event":  # a few big events a quarter, little in between
        x = np.full(weeks, 0.15)
        for start in np.flatnonzero(rng.random(weeks) < 0.12):
            x[start : start + int(rng.integers(1, 3))] += rng.uniform(2.0, 5.0)
        x *= ch.level / x.mean()
        return x * rng.lognormal(0, 0.1, weeks)
    steps = np.ones(weeks)
    for k in np.flatnonzero(rng.random(weeks) < 0.04):  # budget changes
        steps[k:] *= rng.uniform(0.6, 1.6)
    steps = np.clip(steps / steps.mean(), 0.35, 2.5)
    x = ch.level * steps * season * rng.lognormal(0, 0.15 if ch.name == "paid_ads" else 0.08, weeks)
    if ch.name in ("paid_ads", "content"):  # dark periods: campaigns paused
        for k in np.flatnonzero(rng.random(weeks) < 0.025):
            x[k : k + int(rng.integers(2, 6))] *= 0.1
    return x


def _lag_pmf(rng: np.random.Generator, style: MarketingStyle) -> np.ndarray:
    mean_weeks = float(rng.uniform(*style.lag_weeks))
    k = np.arange(LAG_WEEKS)
    pmf = (k + 0.5) ** 1.5 * np.exp(-(k + 0.5) / (mean_weeks / 2.5))
    return pmf / pmf.sum()


def _expected(demand: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """Expected pipeline created each week from weekly demand, after the lead lag."""
    return np.convolve(demand, lag)[: len(demand)]


def _media(ch: _Channel, x: np.ndarray) -> np.ndarray:
    return ch.beta * _hill(_adstock(x, ch.alpha), ch.half, ch.shape)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def marketing_start(end: date, weeks: int) -> date:
    """The Monday the marketing data of ``weeks`` complete weeks up to ``end`` starts on."""
    last_sunday = end - timedelta(days=(end.weekday() + 1) % 7)
    return last_sunday - timedelta(days=7 * weeks - 1)


def build_marketing(
    rng: np.random.Generator,
    end: date,
    weeks: int,
    first_lead: int = 1,
    first_opp: int = 1,
    style: MarketingStyle | None = None,
) -> MarketingWorld:
    """``weeks`` complete weeks (Monday to Sunday) of marketing data ending on the last
    Sunday on or before ``end``; records up to ``end`` itself are written too."""
    monday = marketing_start(end, weeks)
    total = weeks + FUTURE_WEEKS
    style = style or MarketingStyle()
    channels = _channels(rng, style)
    lag = _lag_pmf(rng, style)
    spend = {c: _spend_path(rng, ch, total) for c, ch in channels.items()}
    experiments = _experiments(rng, channels, spend, weeks)
    for exp in experiments:  # the test's spend change is part of the actual spend
        spend[exp.channel][exp.w0 : exp.w1 + 1] += exp.weekly_delta
    media = {c: _expected(_media(channels[c], spend[c]), lag) for c in PAID}
    base = _baseline(rng, total, sum(float(m[:weeks].mean()) for m in media.values()), style)
    mix = rng.dirichlet(np.array([8, 4, 2, 3, 3, 9, 4, style.organic, style.organic], dtype=float) * 3 + 1e-9)
    expected_by = {**media, **{f"organic:{c}" if c in PAID else c: base * s
                               for c, s in zip(BASE_CHANNELS, mix, strict=True)}}

    opps, leads = _prospects(rng, expected_by, monday, total, first_lead, first_opp)
    weekly = pd.DataFrame({"week": [monday + timedelta(weeks=k) for k in range(total)]})
    weekly["expected"] = sum(expected_by.values())
    created = pd.to_datetime(opps["created_at"]).dt.date
    week_of = np.array([(d - monday).days // 7 for d in created])
    weekly["realized"] = np.bincount(week_of, weights=opps["amount"], minlength=total)[:total]
    weekly["in_data"] = np.arange(total) < weeks
    for c in PAID:  # the spend that was executed, the weeks after the data included
        weekly[f"spend_{c}"] = spend[c]
    # what a perfect model forecasts under a run-rate plan (each channel's spend after the
    # data held at its mean of the data's last RUN_RATE_WEEKS): a forecast that does not
    # know the spend to come cannot beat it on average
    held = {c: np.where(np.arange(total) < weeks, spend[c], spend[c][weeks - RUN_RATE_WEEKS : weeks].mean())
            for c in PAID}  # fmt: skip
    weekly["expected_at_run_rate"] = weekly["expected"] + sum(
        _expected(_media(channels[c], held[c]), lag) - media[c] for c in PAID
    )

    answers = _answers(rng, opps, leads, style)
    data_end = monday + timedelta(weeks=weeks)  # exclusive: the complete weeks end here
    known = created <= end
    lead_known = pd.to_datetime(leads["created_at"]).dt.date <= end
    frames = {
        "spend": _spend_rows(rng, spend, monday, weeks + 1, end),
        "experiments": _experiment_rows(rng, experiments, monday, channels, spend, lag, end),
        "leads": _censor_leads(leads[lead_known], end),
        "opportunities": _censor_opps(opps[known], end),
        "attribution": answers[pd.to_datetime(answers["submitted_at"]).dt.date <= end]
        .reset_index(drop=True),
    }
    truth = _truth(channels, spend, lag, expected_by, weeks, opps[created < data_end])
    return MarketingWorld(frames=frames, truth=truth, weekly_truth=weekly)


def _baseline(
    rng: np.random.Generator, total: int, media_mean: float, style: MarketingStyle
) -> np.ndarray:
    """Weekly expected pipeline no spend buys: trend x yearly season, sized to the media."""
    share = float(rng.uniform(*style.baseline_share))  # baseline share of all pipeline
    level = media_mean * share / (1 - share)
    t = np.arange(total)
    trend = 1 + float(rng.uniform(-0.1, 0.35)) * t / 52.0 / 2.5
    phase = rng.uniform()
    season = 1 + 0.12 * np.sin(2 * np.pi * (t / 52.0 + phase)) + 0.05 * np.cos(4 * np.pi * t / 52.0)
    return level * trend * season


def _experiments(
    rng: np.random.Generator, channels: dict[str, _Channel], spend: dict[str, np.ndarray], weeks: int
) -> list[_Experiment]:
    """One to three lift tests in the data's last 18 months, on distinct channels."""
    n = int(rng.integers(1, 4))
    chosen = rng.choice([c for c in PAID if c != "event"], size=n, replace=False)
    out = []
    for c in chosen:
        length = int(rng.integers(4, 9))
        w0 = int(rng.integers(max(weeks - 78, 10), weeks - length - 2))
        w1 = w0 + length - 1
        design = str(rng.choice(["holdout", "pulse", "geo"]))
        # a holdout pauses the channel, a geo test pauses it in half the market, a pulse
        # adds half to all of its spend again
        factor = {"holdout": -1.0, "geo": -0.5}.get(design, float(rng.uniform(0.5, 1.0)))
        out.append(_Experiment(str(c), w0, w1, design, spend[c][w0 : w1 + 1] * factor))
    return out


def _experiment_rows(
    rng: np.random.Generator,
    experiments: list[_Experiment],
    monday: date,
    channels: dict[str, _Channel],
    spend: dict[str, np.ndarray],
    lag: np.ndarray,
    end: date,
) -> pd.DataFrame:
    rows = []
    for k, exp in enumerate(experiments):
        c, w0, w1, delta = exp.channel, exp.w0, exp.w1, exp.weekly_delta
        without = spend[c].copy()
        without[w0 : w1 + 1] -= delta
        lift_all = _expected(_media(channels[c], spend[c]), lag) - _expected(
            _media(channels[c], without), lag
        )
        true_lift = float(lift_all[w0 : w1 + 1].sum())
        se = abs(true_lift) * float(rng.uniform(0.15, 0.3))
        measured = true_lift + float(rng.normal(0, se))
        rows.append({
            "experiment_id": f"EXP-{k + 1:03d}", "channel": c,
            "start": (monday + timedelta(weeks=w0)).isoformat(),
            "end": (monday + timedelta(weeks=w1, days=6)).isoformat(),
            "spend_delta": round(float(delta.sum()), 2), "outcome": "pipeline",
            "lift": round(measured, 2), "lift_low": round(measured - 1.645 * se, 2),
            "lift_high": round(measured + 1.645 * se, 2), "design": exp.design,
            "_true_lift": round(true_lift, 2),
        })  # fmt: skip
    frame = pd.DataFrame(rows)
    return frame[pd.to_datetime(frame["end"]).dt.date <= end].reset_index(drop=True)


def _prospects(
    rng: np.random.Generator,
    expected_by: dict[str, np.ndarray],
    monday: date,
    total: int,
    first_lead: int,
    first_opp: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Opportunities drawn from each channel's expected weekly pipeline, and their leads
    (plus the leads that never became one)."""
    seg_p = np.array(SEGMENT_MIX)
    mean_deal = float(sum(p * DEAL_MEAN[s] for p, s in zip(seg_p, SEGMENTS, strict=True)))
    opp_rows, lead_rows = [], []
    for key, pipe in expected_by.items():
        channel, paid = key.split(":")[-1], key in PAID
        counts = rng.poisson(np.maximum(pipe, 0) / mean_deal)
        for week, n in enumerate(counts):
            for _ in range(int(n)):
                seg = SEGMENTS[int(rng.choice(3, p=seg_p))]
                amount = DEAL_MEAN[seg] * rng.lognormal(-DEAL_SIGMA**2 / 2, DEAL_SIGMA)
                created = datetime.combine(monday + timedelta(weeks=week, days=int(rng.integers(0, 7))),
                                           datetime.min.time()) + timedelta(minutes=int(rng.integers(480, 1140)))  # fmt: skip
                opp_rows.append({"channel": channel, "paid": paid, "segment": seg, "amount": round(float(amount), 2),
                                 "created": created})  # fmt: skip
    opps = pd.DataFrame(opp_rows).sort_values("created", kind="stable").reset_index(drop=True)
    n = len(opps)
    opps["opportunity_id"] = [f"OPP-P{first_opp + k:06d}" for k in range(n)]
    opps["account_id"] = [f"P-{first_lead + k:06d}" for k in range(n)]
    opps["created_at"] = opps["created"].map(_iso)
    won = rng.random(n) < WIN_RATE
    close_days = rng.gamma(3.0, 18.0, n)
    opps["closed_at"] = [_iso(c + timedelta(days=float(d))) for c, d in zip(opps["created"], close_days, strict=True)]
    opps["is_won"] = np.where(won, "true", "false")
    opps["stage"] = np.where(won, "Closed Won", "Closed Lost")
    opps["tracked_source"] = [attr.tracked_source(rng, c) for c in opps["channel"]]
    # the lead behind each opportunity: created weeks before it, MQL and SQL in between
    gap = rng.gamma(2.0, 9.0, n) + 3
    lead_created = [c - timedelta(days=float(g)) for c, g in zip(opps["created"], gap, strict=True)]
    for k in range(n):
        lc = lead_created[k]
        span = (opps.at[k, "created"] - lc).total_seconds()
        lead_rows.append(_lead(k, opps.at[k, "account_id"], lc, lc + timedelta(seconds=span * 0.3),
                               lc + timedelta(seconds=span * 0.7), opps.at[k, "opportunity_id"],
                               opps.at[k, "tracked_source"], opps.at[k, "segment"], opps.at[k, "channel"]))  # fmt: skip
    # leads that stopped at lead, MQL or SQL: as many as the stage conversions imply
    p_opp = FUNNEL["mql"] * FUNNEL["sql"] * FUNNEL["opp"]
    extra = rng.poisson(n * (1 / p_opp - 1))
    src = rng.integers(0, max(n, 1), extra)
    for j, k in enumerate(src):
        lc = lead_created[k] + timedelta(days=float(rng.normal(0, 10)))
        stage = rng.random()
        mql = lc + timedelta(days=float(rng.gamma(2, 4))) if stage < _share_reaching("mql") else None
        sql = mql + timedelta(days=float(rng.gamma(2, 6))) if mql and stage < _share_reaching("sql") else None
        lead_rows.append(_lead(n + j, f"P-{first_lead + n + j:06d}", lc, mql, sql, None,
                               opps.at[k, "tracked_source"], opps.at[k, "segment"], opps.at[k, "channel"]))  # fmt: skip
    leads = pd.DataFrame(lead_rows).sort_values("created", kind="stable").reset_index(drop=True)
    leads["lead_id"] = [f"L-{first_lead + k:07d}" for k in range(len(leads))]
    return opps, leads


def _share_reaching(stage: str) -> float:
    """Of leads that do not become opportunities, the share that reached ``stage``."""
    m, s, o = FUNNEL["mql"], FUNNEL["sql"], FUNNEL["opp"]
    rest = 1 - m * s * o
    return (m - m * s * o) / rest if stage == "mql" else (m * s - m * s * o) / rest


def _lead(k: int, company: str, created: datetime, mql: datetime | None, sql: datetime | None,
          opp: str | None, tracked: str, segment: str, channel: str) -> dict[str, object]:  # fmt: skip
    return {"created": created, "account_id": "", "email": f"buyer{k}@{company.lower()}.example",
            "created_at": _iso(created), "mql_at": _iso(mql) if mql else "",
            "sql_at": _iso(sql) if sql else "", "opportunity_id": opp or "",
            "tracked_source": tracked, "segment": segment, "_channel": channel}  # fmt: skip


def _answers(
    rng: np.random.Generator, opps: pd.DataFrame, leads: pd.DataFrame, style: MarketingStyle
) -> pd.DataFrame:
    """Buyers of opportunities answer "How did you hear about us?" at opportunity creation."""
    email_of = dict(zip(leads["opportunity_id"], leads["email"], strict=False))
    recall = {c: float(rng.uniform(*style.recall)) for c in PAID}
    rate = {**RESPONSE_BY_GROUP, "paid": style.response_paid}
    rows = []
    for k in range(len(opps)):
        channel, seg = opps.at[k, "channel"], opps.at[k, "segment"]
        paid = bool(opps.at[k, "paid"])
        group = "paid" if paid else ("dark" if channel in DARK_CHANNELS else "other")
        if rng.random() >= attr.RESPONSE_RATE[seg] * rate[group]:
            continue
        if paid and rng.random() > recall[channel]:
            names, probs = zip(*style.misremember, strict=True)
            named_one = str(rng.choice(names, p=np.array(probs)))
            named = [] if named_one == "other" else [named_one]
        else:
            named = attr.reported(rng, channel, seg)
        when = opps.at[k, "created"] + timedelta(days=float(rng.uniform(0, 3)))
        rows.append({"response_id": f"HDYHAU-P{k + 1:06d}", "account_id": "",
                     "respondent_email": email_of[opps.at[k, "opportunity_id"]],
                     "submitted_at": _iso(when), "answer": attr.write_answer(rng, named),
                     "question": QUESTION, "_named": "|".join(named) or "other",
                     "_channel": channel})  # fmt: skip
    return pd.DataFrame(rows)


def _spend_rows(
    rng: np.random.Generator, spend: dict[str, np.ndarray], monday: date, weeks: int, end: date
) -> pd.DataFrame:
    """Spend as an export would list it: daily rows for ads, weekly totals for the rest."""
    rows = []
    for c, x in spend.items():
        campaigns = {"paid_ads": ("search-brand", "search-generic", "linkedin"),
                     "event": ("field-events",), "content": ("content-syndication", "newsletter"),
                     "review_site": ("g2-sponsored",), "partner": ("partner-mdf",)}[c]  # fmt: skip
        split = rng.dirichlet(np.full(len(campaigns), 4.0))
        for w in range(weeks):
            week_start = monday + timedelta(weeks=w)
            if c == "paid_ads":
                days = rng.dirichlet(np.full(7, 20.0))
                for d in range(7):
                    day = week_start + timedelta(days=d)
                    if day > end:
                        break
                    for name, s in zip(campaigns, split, strict=True):
                        rows.append((day.isoformat(), c, round(float(x[w] * days[d] * s), 2), name))
            else:
                day = week_start + timedelta(days=int(rng.integers(0, 7)))
                if day > end:
                    continue
                for name, s in zip(campaigns, split, strict=True):
                    rows.append((day.isoformat(), c, round(float(x[w] * s), 2), name))
    frame = pd.DataFrame(rows, columns=["date", "channel", "spend", "campaign"])
    frame["currency"] = "USD"
    return frame.sort_values(["date", "channel", "campaign"], kind="stable").reset_index(drop=True)


def _censor_leads(leads: pd.DataFrame, end: date) -> pd.DataFrame:
    """Stages after the data's end are not known yet."""
    out = leads.copy()
    limit = _iso(datetime.combine(end, datetime.max.time()))
    for col in ("mql_at", "sql_at"):
        out.loc[out[col] > limit, col] = ""
    opp_after = out["opportunity_id"].ne("") & (out["created_at"] > limit)
    out.loc[opp_after, "opportunity_id"] = ""
    return out.reset_index(drop=True)


def _censor_opps(opps: pd.DataFrame, end: date) -> pd.DataFrame:
    out = opps.copy()
    open_ = out["closed_at"] > _iso(datetime.combine(end, datetime.max.time()))
    out.loc[open_, ["closed_at", "is_won"]] = ""
    out.loc[open_, "stage"] = "Open"
    return out.reset_index(drop=True)


def _truth(
    channels: dict[str, _Channel],
    spend: dict[str, np.ndarray],
    lag: np.ndarray,
    expected_by: dict[str, np.ndarray],
    weeks: int,
    opps_in_data: pd.DataFrame,
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for c in PAID:
        ch, x = channels[c], spend[c]
        contribution = float(_expected(_media(ch, x), lag)[:weeks].sum())
        eps = 0.01
        bumped = x.copy()
        bumped[:weeks] *= 1 + eps
        more = float(_expected(_media(ch, bumped), lag)[:weeks].sum())
        s = float(x[:weeks].sum())
        rows.append({"figure": "channel", "channel": c, "spend": s, "contribution": contribution,
                     "roi": contribution / s, "marginal_roi": (more - contribution) / (eps * s),
                     "alpha": ch.alpha, "half_saturation": ch.half, "hill_shape": ch.shape})  # fmt: skip
    base = float(sum(v[:weeks].sum() for c, v in expected_by.items() if c not in PAID))
    dark = float(sum(v[:weeks].sum() for c, v in expected_by.items() if c in DARK_CHANNELS))
    rows.append({"figure": "baseline", "contribution": base})
    rows.append({"figure": "dark_pipeline", "contribution": dark})
    rows.append({"figure": "paid_total", "contribution": sum(r["contribution"] for r in rows[:len(PAID)])})
    rows.append({"figure": "realized_pipeline", "contribution": float(opps_in_data["amount"].sum())})
    dark_opps = opps_in_data["channel"].isin(DARK_CHANNELS)
    rows.append({"figure": "realized_dark_pipeline", "contribution": float(opps_in_data.loc[dark_opps, "amount"].sum())})
    return pd.DataFrame(rows)
