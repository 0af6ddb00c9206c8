"""``build_world``: a deterministic demo world in the contract's canonical columns.

The world is built in five independent random streams spawned from the seed (accounts,
dynamics, texts and activity, attribution, marketing), so swapping the text source (phrase
bank or ``--corpus``) changes the words but not who churns when. The marketing side
(``ingest.demo.marketing``: spend, prospects' leads and opportunities, their answers and
lift tests) adds its records to the customers' own and writes its truth to
``marketing_truth`` (per channel) and ``pipeline_truth`` (per week, past and future).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.demo import attribution as attr
from ingest.demo.activity import Records, simulate_activity
from ingest.demo.corpus import load_corpus
from ingest.demo.dynamics import Panel, simulate
from ingest.demo.firms import Firm, draw_firms
from ingest.demo.marketing import (
    PAID,
    MarketingStyle,
    MarketingWorld,
    build_marketing,
    marketing_start,
)
from ingest.demo.phrasebank import ASPECTS
from ingest.demo.texts import CorpusTexts, PhraseBankTexts, TextSource
from ingest.demo.timeline import FIRST_END, LAST_END, Timeline, parse_end
from ingest.errors import InputError
from ingest.taxonomy import DARK_CHANNELS

MAX_ACCOUNTS = 200_000
MAX_MONTHS = 120

COLUMNS = {
    "accounts": ["account_id", "name", "domain", "segment", "arr", "currency",
                 "contract_start", "churned_at", "tracked_source"],
    "reviews": ["review_id", "source", "account_id", "reviewer_domain", "reviewer_company",
                "published_at", "rating", "title", "body"],
    "tickets": ["ticket_id", "account_id", "requester_email", "created_at", "subject", "body",
                "status", "priority", "csat"],
    "surveys": ["response_id", "account_id", "respondent_email", "submitted_at", "survey_type",
                "score", "comment"],
    "attribution": ["response_id", "account_id", "respondent_email", "submitted_at", "answer",
                    "question"],
    "opportunities": ["opportunity_id", "account_id", "created_at", "amount", "stage",
                      "closed_at", "is_won", "tracked_source"],
    "spend": ["date", "channel", "spend", "currency", "campaign", "segment", "impressions",
              "clicks"],
    "leads": ["lead_id", "account_id", "email", "created_at", "mql_at", "sql_at",
              "opportunity_id", "tracked_source", "segment"],
    "experiments": ["experiment_id", "channel", "start", "end", "spend_delta", "outcome", "lift",
                    "lift_low", "lift_high", "design"],
    "marketing_truth": ["figure", "channel", "spend", "contribution", "roi", "marginal_roi",
                        "alpha", "half_saturation", "hill_shape"],
    # the spend each paid channel got each week, the weeks after the data included
    "pipeline_truth": ["week", "expected", "expected_at_run_rate", "realized", "in_data",
                       *(f"spend_{c}" for c in PAID)],  # fmt: skip
    "truth": ["account_id", "segment", "arr", "contract_start", "churned_at_true",
              "expanded_at_true", "health_end", "health_mean_3m", "fit_end", "mood_end", "hazard_end",
              "answered", "reported_channels", "true_channel", "tracked_source"],
}  # fmt: skip
KINDS = ("accounts", "reviews", "tickets", "surveys", "attribution", "opportunities", "spend",
         "leads", "experiments")  # fmt: skip
TRUTHS = ("truth", "marketing_truth", "pipeline_truth")  # written, never ingested
DAYS_PER_WEEK = 7


@dataclass
class World:
    """The files of a demo world as DataFrames (canonical columns), plus its truth.

    Reviews, tickets and surveys also carry ``_valence``, the tone each text was written
    with (never written to disk): a check of how much the words can tell.
    """

    frames: dict[str, pd.DataFrame]
    seed: int
    end: date
    months: int
    panel: Panel = field(repr=False)

    @property
    def documents(self) -> int:
        """Texts the store will hold: tickets, reviews, survey comments, answers."""
        f = self.frames
        comments = int((f["surveys"]["comment"].fillna("").str.strip() != "").sum())
        return len(f["tickets"]) + len(f["reviews"]) + comments + len(f["attribution"])

    @property
    def accounts(self) -> int:
        return len(self.frames["accounts"])

    def __getitem__(self, kind: str) -> pd.DataFrame:
        return self.frames[kind]


def _iso_day(d: date | None) -> str:
    return d.isoformat() if d else ""


def _attribution(
    rng: np.random.Generator, firms: list[Firm], timeline: Timeline, paid_from: date
) -> pd.DataFrame:
    """Each customer's first touch, tracked source and answer. Customers who signed once
    the marketing side's spend had started (``paid_from``) were brought by its prospects'
    channels there, so here their first touch is one no spend buys (the spend-driven
    pipeline of those weeks is all the marketing side's, as its truth says)."""
    rows = []
    for firm in firms:
        channel = attr.first_touch(rng, firm.segment)
        signed = timeline.day(firm.start_month, firm.start_day)
        if signed >= paid_from and channel in PAID:
            channel = attr.first_touch_without(rng, firm.segment, PAID)
        tracked = attr.tracked_source(rng, channel)
        when = signed + timedelta(days=int(rng.integers(0, 31)))
        answered = bool(rng.random() < attr.RESPONSE_RATE[firm.segment]) and when <= timeline.end
        named = attr.reported(rng, channel, firm.segment) if answered else []
        answer = attr.write_answer(rng, named) if answered else ""
        by_email = rng.random() < 0.5
        rows.append({
            "account_id": firm.account_id, "true_channel": channel, "tracked_source": tracked,
            "answered": answered, "reported_channels": "|".join(named or ["other"]) if answered else "",
            "answer": answer, "submitted_at": f"{when.isoformat()}T{int(rng.integers(8, 19)):02d}:15:00Z",
            "respondent_email": firm.contacts[0], "by_email": by_email,
        })  # fmt: skip
    return pd.DataFrame(rows)


def _first_expansion_after_end(panel: Panel, timeline: Timeline, i: int) -> date | None:
    """The day account ``i`` first opens an expansion opportunity after the data's end."""
    for t in np.flatnonzero(panel.expansion[i, panel.months - 1 :]) + panel.months - 1:
        day = timeline.day(int(t), int(panel.expansion_day[i, t]))
        if day > timeline.end:
            return day
    return None


def _check(accounts: int, months: int, seed: int, end: date) -> None:
    if seed < 0:
        raise InputError(f"--seed must be 0 or more, got {seed}")
    if not FIRST_END <= end <= LAST_END:
        raise InputError(f"--end must be a day from {FIRST_END} to {LAST_END}, got {end}")
    if not 1 <= accounts <= MAX_ACCOUNTS:
        raise InputError(f"--accounts must be between 1 and {MAX_ACCOUNTS}, got {accounts}")
    if not 1 <= months <= MAX_MONTHS:
        raise InputError(f"--months must be between 1 and {MAX_MONTHS}, got {months}")


def build_world(
    accounts: int = 400,
    months: int = 24,
    seed: int = 7,
    corpus: str | Path | None = None,
    end: date | str | None = None,
    marketing_style: MarketingStyle | None = None,
) -> World:
    """A demo world of ``accounts`` customers over ``months`` months ending at ``end``
    (default: today), texts from the phrase bank or from a labeled ``corpus`` CSV; the
    marketing side built in ``marketing_style`` (default: the demo's)."""
    last_day = parse_end(end)
    _check(accounts, months, seed, last_day)
    texts: TextSource = CorpusTexts(load_corpus(corpus)) if corpus else PhraseBankTexts()
    timeline = Timeline(last_day, months)
    r_firms, r_dyn, r_act, r_attr = (np.random.default_rng(s)
                                     for s in np.random.SeedSequence(seed).spawn(4))  # fmt: skip
    r_mkt = np.random.default_rng(np.random.SeedSequence(seed).spawn(5)[4])
    firms = draw_firms(r_firms, accounts, months)
    panel = simulate(r_dyn, firms, months)
    records, arr_end = simulate_activity(r_act, firms, panel, timeline, texts, ASPECTS)
    weeks = (timeline.end - timeline.month_start(0)).days // DAYS_PER_WEEK
    answers = _attribution(r_attr, firms, timeline, marketing_start(timeline.end, weeks))
    frames = _frames(firms, panel, timeline, records, arr_end, answers)
    _add_marketing(frames, build_marketing(r_mkt, timeline.end, weeks, style=marketing_style))
    return World(frames=frames, seed=seed, end=timeline.end, months=months, panel=panel)


def _frames(
    firms: list[Firm],
    panel: Panel,
    timeline: Timeline,
    records: Records,
    arr_end: np.ndarray,
    answers: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    last = panel.months - 1
    acc_rows, truth_rows = [], []
    for i, firm in enumerate(firms):
        t_churn = int(panel.churn_month[i])
        churn = timeline.day(t_churn, int(panel.churn_day[i])) if t_churn >= 0 else None
        seen = np.flatnonzero(panel.alive[i, : last + 1])
        t_end = int(seen[-1]) if len(seen) else last
        tracked = answers.at[i, "tracked_source"]
        acc_rows.append({
            "account_id": firm.account_id, "name": firm.name, "domain": firm.domain,
            "segment": firm.segment, "arr": float(arr_end[i]), "currency": "USD",
            "contract_start": _iso_day(timeline.day(firm.start_month, firm.start_day)),
            "churned_at": _iso_day(churn if churn and churn <= timeline.end else None),
            "tracked_source": tracked,
        })  # fmt: skip
        recent = panel.health[i, max(t_end - 2, 0) : t_end + 1]
        truth_rows.append({
            "account_id": firm.account_id, "segment": firm.segment, "arr": float(arr_end[i]),
            "contract_start": acc_rows[-1]["contract_start"], "churned_at_true": _iso_day(churn),
            "expanded_at_true": _iso_day(_first_expansion_after_end(panel, timeline, i)),
            "health_end": round(float(panel.health[i, t_end]), 4),
            "health_mean_3m": round(float(np.nanmean(recent)), 4) if np.isfinite(recent).any() else None,
            "fit_end": round(float(panel.fit[i, t_end]), 4),
            "mood_end": round(float(panel.mood[i, t_end]), 4),
            "hazard_end": round(float(panel.hazard[i, t_end]), 5),
            "answered": "true" if answers.at[i, "answered"] else "false",
            "reported_channels": answers.at[i, "reported_channels"],
            "true_channel": answers.at[i, "true_channel"], "tracked_source": tracked,
        })  # fmt: skip
    accounts = pd.DataFrame(acc_rows, columns=COLUMNS["accounts"])
    source_of = dict(zip(accounts["account_id"], accounts["tracked_source"], strict=True))
    opps = pd.DataFrame(records.opportunities)
    opps["tracked_source"] = opps["account_id"].map(source_of)
    given = answers[answers["answered"]].reset_index(drop=True)
    attribution = pd.DataFrame({
        "response_id": [f"HDYHAU-{k + 400001}" for k in range(len(given))],
        "account_id": np.where(given["by_email"], "", given["account_id"]),
        "respondent_email": given["respondent_email"],
        "submitted_at": given["submitted_at"],
        "answer": given["answer"],
        "question": attr.QUESTION,
    })  # fmt: skip
    frames = {
        "accounts": accounts,
        "reviews": pd.DataFrame(records.reviews, columns=COLUMNS["reviews"] + ["_valence"]),
        "tickets": pd.DataFrame(records.tickets, columns=COLUMNS["tickets"] + ["_valence"]),
        "surveys": pd.DataFrame(records.surveys, columns=COLUMNS["surveys"] + ["_valence"]),
        "attribution": attribution.reindex(columns=COLUMNS["attribution"]),
        "opportunities": opps.reindex(columns=COLUMNS["opportunities"]),
        "truth": pd.DataFrame(truth_rows, columns=COLUMNS["truth"]),
    }
    for kind, (date_col, prefix, first) in _CHRONOLOGICAL.items():
        frame = frames[kind].sort_values(date_col, kind="stable").reset_index(drop=True)
        frame[COLUMNS[kind][0]] = [f"{prefix}-{first + k}" for k in range(len(frame))]
        frames[kind] = frame
    return frames


# exports list records in time order, ids rising with time
_CHRONOLOGICAL = {
    "reviews": ("published_at", "REV", 50001),
    "tickets": ("created_at", "TCK", 100001),
    "surveys": ("submitted_at", "NPS", 200001),
    "attribution": ("submitted_at", "HDYHAU", 400001),
}


def _add_marketing(frames: dict[str, pd.DataFrame], mw: MarketingWorld) -> None:
    """The marketing side's records join the customers' own (prospects' opportunities and
    answers), its new kinds and truths are frames of their own."""
    for kind in ("opportunities", "attribution"):
        frames[kind] = pd.concat(
            [frames[kind], mw.frames[kind].reindex(columns=COLUMNS[kind])], ignore_index=True
        )
    for kind in ("spend", "leads", "experiments"):
        frames[kind] = mw.frames[kind].reindex(columns=COLUMNS[kind])
    truth = mw.truth.set_index("figure")
    # the customers' own opportunities of the measured weeks: baseline (no spend bought
    # them); those that began a customer relationship with a dark first touch are pipeline
    # buyers credit to dark channels
    weekly = mw.weekly_truth.copy()
    first, end = weekly["week"].iloc[0], weekly.loc[weekly["in_data"], "week"].iloc[-1] + timedelta(days=7)
    own = frames["opportunities"][~frames["opportunities"]["account_id"].str.startswith("P-")].copy()
    own["day"] = pd.to_datetime(own["created_at"]).dt.tz_localize(None).dt.date
    inside = own[(own["day"] >= first) & (own["day"] < end)]
    firsts = own.sort_values("day", kind="stable").drop_duplicates("account_id")
    initial = firsts[(firsts["day"] >= first) & (firsts["day"] < end)]
    channel_of = dict(zip(frames["truth"]["account_id"], frames["truth"]["true_channel"], strict=True))
    dark = initial[initial["account_id"].map(channel_of).isin(DARK_CHANNELS)]
    truth.loc["baseline", "contribution"] += float(inside["amount"].sum())
    truth.loc["dark_pipeline", "contribution"] += float(dark["amount"].sum())
    truth.loc["realized_dark_pipeline", "contribution"] += float(dark["amount"].sum())
    truth.loc["realized_pipeline", "contribution"] += float(inside["amount"].sum())
    frames["marketing_truth"] = truth.reset_index().reindex(columns=COLUMNS["marketing_truth"])
    week_of = inside["day"].map(lambda d: (d - first).days // DAYS_PER_WEEK)
    extra = np.bincount(week_of, weights=inside["amount"], minlength=len(weekly))[: len(weekly)]
    weekly["realized"] = weekly["realized"] + extra
    weekly["week"] = weekly["week"].map(date.isoformat)
    frames["pipeline_truth"] = weekly.reindex(columns=COLUMNS["pipeline_truth"])
