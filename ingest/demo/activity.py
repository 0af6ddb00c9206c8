"""What customers do and write each month, given their latent health.

* Tickets: volume rises as product fit falls (and in an outage month); each ticket's tone
  follows the account's whole health (fit + mood), so the frustration of the relationship
  shows only in what people write. CSAT on some solved tickets follows fit.
* Reviews: rare; star rating and text follow health. Some name only the reviewer's
  domain or company, a few cannot be resolved at all.
* NPS: sparse (an account is surveyed in some quarters only), scores follow mostly fit
  and are noisy; about half carry a comment whose tone follows health.
* Opportunities: the initial deal, and the expansion deals whose months the dynamics
  draw (``dynamics._expansions``: health-, size- and tenure-driven). An expansion is won
  more often the healthier the account; a won deal adds its amount to the ARR. Deals
  draw from a stream of their own, so changing them never changes a text.

Only moments up to the data's end are written; churned accounts fall silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from ingest.demo import dynamics as dyn
from ingest.demo.firms import Firm
from ingest.demo.texts import TextSource
from ingest.demo.timeline import Timeline

TICKETS_PER_MONTH = {"smb": 1.0, "mid_market": 2.0, "enterprise": 3.2}
TICKET_FIT_SLOPE = 0.7  # log-rate change per unit of product fit lost
TICKET_TONE_OFFSET = -0.45  # people write to support when something is wrong
TEXT_NOISE = 0.5  # per-text spread of tone around the account's health
REVIEWS_PER_MONTH = 0.035
NPS_SURVEY_RATE = 0.35  # share of accounts surveyed in a given quarter
NPS_RESPONDENTS = {"smb": 0.3, "mid_market": 0.6, "enterprise": 1.1}  # extra, Poisson
NPS_COMMENT_RATE = 0.55
CSAT_RATE = 0.35

ASPECT_WEIGHTS = np.array([0.09, 0.12, 0.13, 0.12, 0.14, 0.07, 0.09, 0.11, 0.06, 0.07])
EVENT_ASPECTS = {
    dyn.OUTAGE: ("reliability", "performance", "integrations"),
    dyn.PRICE_RISE: ("pricing", "billing"),
    dyn.CHAMPION_LEFT: ("onboarding", "usability", "support"),
}
REVIEW_SITES = ("g2", "capterra", "trustradius")
ANONYMOUS = ("Verified User in Computer Software", "Anonymous", "Verified Reviewer",
             "Small-Business user", "Administrator in Marketing and Advertising")  # fmt: skip


@dataclass
class Records:
    tickets: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    surveys: list[dict[str, Any]] = field(default_factory=list)
    opportunities: list[dict[str, Any]] = field(default_factory=list)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _aspect(rng: np.random.Generator, event: int, aspects: tuple[str, ...]) -> str:
    if event in EVENT_ASPECTS and rng.random() < 0.7:
        options = EVENT_ASPECTS[event]
        return options[int(rng.integers(0, len(options)))]
    return aspects[int(rng.choice(len(aspects), p=ASPECT_WEIGHTS / ASPECT_WEIGHTS.sum()))]


def _company_as_written(rng: np.random.Generator, name: str) -> str:
    """How a reviewer writes their employer: as is, upper/lower case, without the suffix."""
    variant = int(rng.integers(0, 3))
    if variant == 1:
        return name.lower()
    if variant == 2:
        for suffix in (" Inc", " LLC", " Ltd", " Group", " Co"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
    return name


def _last_month(firm_churn: int, panel: dyn.Panel) -> int:
    return panel.months - 1 if firm_churn < 0 else min(firm_churn, panel.months - 1)


def simulate_activity(
    rng: np.random.Generator,
    firms: list[Firm],
    panel: dyn.Panel,
    timeline: Timeline,
    texts: TextSource,
    aspects: tuple[str, ...],
) -> tuple[Records, np.ndarray]:
    """All records of the data window, and each account's ARR at the data's end."""
    out = Records()
    deals = rng.spawn(1)[0]  # opportunities: their own stream (module docstring)
    arr_end = np.array([f.arr for f in firms])
    phase = rng.integers(0, 3, size=len(firms))  # month of the quarter an account is surveyed
    for i, firm in enumerate(firms):
        first = max(firm.start_month, 0)
        churn_t = int(panel.churn_month[i])
        churn_day = timeline.day(churn_t, int(panel.churn_day[i])) if churn_t >= 0 else None
        signed = timeline.day(firm.start_month, firm.start_day)
        last = _last_month(churn_t, panel)
        _initial_deal(rng, firm, timeline, out)
        for t in range(first, last + 1):
            if not panel.alive[i, t]:
                break

            def keep(m: datetime, signed: date = signed, churn: date | None = churn_day) -> bool:
                if not timeline.in_data(m) or m.date() < signed:
                    return False
                return churn is None or m.date() < churn

            fit, health, event = panel.fit[i, t], panel.health[i, t], int(panel.event[i, t])
            _tickets(rng, firm, t, fit, health, event, timeline, texts, aspects, keep, out)
            _reviews(rng, firm, t, health, event, timeline, texts, aspects, keep, out)
            if t % 3 == phase[i]:
                _nps(rng, firm, t, panel.fit[i, t], panel.mood[i, t], event, timeline, texts,
                     aspects, keep, out)  # fmt: skip
            _first_round_deal_draws(rng, t, health, timeline, keep)
            if panel.expansion[i, t]:
                when = timeline.day(t, int(panel.expansion_day[i, t]))
                arr_end[i] += _expansion(deals, firm, when, health, arr_end[i], timeline, keep, out)
    return out, arr_end


def _tickets(rng, firm, t, fit, health, event, timeline, texts, aspects, keep, out) -> None:  # type: ignore[no-untyped-def]
    rate = TICKETS_PER_MONTH[firm.segment] * np.exp(-TICKET_FIT_SLOPE * (fit - dyn.LEVEL_MEAN))
    if event == dyn.OUTAGE:
        rate *= 2.0
    for _ in range(int(rng.poisson(min(rate, 25.0)))):
        moment = timeline.moment(rng, t)
        valence = health + TICKET_TONE_OFFSET + TEXT_NOISE * rng.standard_normal()
        aspect = _aspect(rng, event, aspects)
        subject, body = texts.ticket(rng, valence, aspect)
        if not keep(moment):
            continue
        age = (timeline.end - moment.date()).days
        status = "open" if age < 5 else "pending" if age < 12 and rng.random() < 0.5 else (
            "solved" if rng.random() < 0.7 else "closed")  # fmt: skip
        priority = ("urgent" if valence < -1.9 else "high" if valence < -0.9
                    else "low" if valence > 0.6 and rng.random() < 0.5 else "normal")  # fmt: skip
        csat = None
        if status in ("solved", "closed") and rng.random() < CSAT_RATE:
            csat = int(np.clip(round(3.7 + 0.8 * fit + 0.9 * rng.standard_normal()), 1, 5))
        out.tickets.append({
            "ticket_id": f"TCK-{len(out.tickets) + 100001}",
            "account_id": firm.account_id if rng.random() < 0.65 else "",
            "requester_email": firm.contacts[int(rng.integers(0, len(firm.contacts)))],
            "created_at": _iso(moment),
            "subject": subject,
            "body": body,
            "status": status,
            "priority": priority,
            "csat": csat,
            "_valence": valence,
        })  # fmt: skip


def _reviews(rng, firm, t, health, event, timeline, texts, aspects, keep, out) -> None:  # type: ignore[no-untyped-def]
    if rng.random() >= REVIEWS_PER_MONTH:
        return
    moment = timeline.moment(rng, t)
    valence = health + TEXT_NOISE * rng.standard_normal()
    title, body = texts.review(rng, valence, _aspect(rng, event, aspects))
    rating = int(np.clip(round(3.4 + 0.85 * valence + 0.45 * rng.standard_normal()), 1, 5))
    if not keep(moment):
        return
    row = {"review_id": f"REV-{len(out.reviews) + 50001}",
           "source": REVIEW_SITES[int(rng.choice(3, p=[0.5, 0.3, 0.2]))],
           "account_id": "", "reviewer_domain": "", "reviewer_company": "",
           "published_at": _iso(moment), "rating": rating, "title": title, "body": body,
           "_valence": valence}  # fmt: skip
    who = rng.random()
    if who < 0.35:
        row["account_id"] = firm.account_id
    elif who < 0.65:
        row["reviewer_domain"] = firm.domain
    elif who < 0.92:
        row["reviewer_company"] = _company_as_written(rng, firm.name)
    else:
        row["reviewer_company"] = ANONYMOUS[int(rng.integers(0, len(ANONYMOUS)))]
    out.reviews.append(row)


def _nps(rng, firm, t, fit, mood, event, timeline, texts, aspects, keep, out) -> None:  # type: ignore[no-untyped-def]
    if rng.random() >= NPS_SURVEY_RATE:
        return
    for _ in range(1 + int(rng.poisson(NPS_RESPONDENTS[firm.segment]))):
        moment = timeline.moment(rng, t)
        score = int(np.clip(round(7.0 + 1.5 * fit + 0.5 * mood + 1.7 * rng.standard_normal()),
                            0, 10))  # fmt: skip
        comment, valence = "", float("nan")
        if rng.random() < NPS_COMMENT_RATE:
            valence = fit + mood + TEXT_NOISE * rng.standard_normal()
            comment = texts.comment(rng, valence, _aspect(rng, event, aspects))
        if not keep(moment):
            continue
        email = firm.contacts[int(rng.integers(0, len(firm.contacts)))]
        out.surveys.append({
            "response_id": f"NPS-{len(out.surveys) + 200001}",
            "account_id": firm.account_id if rng.random() < 0.5 else "",
            "respondent_email": email,
            "submitted_at": _iso(moment),
            "survey_type": "nps",
            "score": score,
            "comment": comment,
            "_valence": valence,
        })  # fmt: skip


def _initial_deal(rng: np.random.Generator, firm: Firm, timeline: Timeline, out: Records) -> None:
    closed = datetime.combine(timeline.day(firm.start_month, firm.start_day), datetime.min.time())
    created = closed - timedelta(days=int(rng.integers(20, 120)))
    out.opportunities.append({
        "opportunity_id": f"OPP-{len(out.opportunities) + 300001}",
        "account_id": firm.account_id,
        "created_at": _iso(created + timedelta(hours=10)),
        "amount": firm.arr,
        "stage": "closed_won",
        "closed_at": _iso(closed + timedelta(hours=12)),
        "is_won": "true",
    })  # fmt: skip


def _first_round_deal_draws(rng, t, health, timeline, keep) -> None:  # type: ignore[no-untyped-def]
    """Take, and drop, the draws the first round's expansion deals took from the activity
    stream: every seed's texts, tickets and surveys stay those of the first round's world,
    so figures measured on demo worlds (churn AUC in the README) stay comparable. Deals
    now draw from a stream of their own."""
    if health < 0.3 or rng.random() >= 0.035 * min(health, 2.0):
        return
    created = timeline.moment(rng, t)
    if not keep(created):
        return
    rng.uniform(0.1, 0.45)
    closed = created + timedelta(days=int(rng.integers(20, 100)))
    if timeline.in_data(closed):
        rng.random()
    else:
        rng.integers(0, 3)


def _expansion(rng, firm, day, health, arr, timeline, keep, out) -> float:  # type: ignore[no-untyped-def]
    """Write the expansion deal opened on ``day``; returns the ARR it won by the data's end."""
    created = datetime.combine(day, datetime.min.time()) + timedelta(
        minutes=int(rng.integers(8 * 60, 19 * 60))
    )
    amount = round(arr * float(rng.uniform(0.1, 0.45)) / 100.0) * 100.0
    closed = created + timedelta(days=int(rng.integers(20, 100)))
    is_won = rng.random() < 1.0 / (1.0 + np.exp(-(health - 0.3)))
    stage = ("discovery", "proposal", "negotiation")[int(rng.integers(0, 3))]
    if not keep(created):
        return 0.0
    row = {"opportunity_id": f"OPP-{len(out.opportunities) + 300001}",
           "account_id": firm.account_id, "created_at": _iso(created), "amount": amount,
           "stage": stage, "closed_at": "", "is_won": ""}  # fmt: skip
    if not timeline.in_data(closed):
        out.opportunities.append(row)
        return 0.0
    row.update(stage="closed_won" if is_won else "closed_lost", closed_at=_iso(closed),
               is_won="true" if is_won else "false")  # fmt: skip
    out.opportunities.append(row)
    return amount if is_won else 0.0
