"""Latent account health, month by month, and the churn it drives.

Health is the sum of two parts:

* ``fit`` (product fit / adoption): a slow AR(1) around the account's own level. It shows
  in the numbers a CRM sees: NPS scores, ticket volume, CSAT.
* ``mood`` (the relationship): a faster AR(1) hit by shocks (an outage, a price rise, a
  champion leaving; now and then a good event). It shows mostly in what customers
  *write*, so text carries information the numeric signals do not.

The monthly churn hazard is ``sigmoid(base[segment] - SLOPE * intent)``, where ``intent``
is an exponentially weighted mean of recent health (the decision to leave builds up over
months: notice periods, budget cycles). It rises steeply as health falls and is lower for
enterprise accounts. The panel runs ``months`` data
months plus ``FUTURE_MONTHS`` more that are never exported: churn there appears only in
``truth.csv``, so a fit at the data's end can be judged against the future.

Expansion opportunities (an existing customer opens a deal to buy more) follow a monthly
hazard of their own, ``sigmoid(EXPANSION_BASE[segment] + EXPANSION_FIT * fit +
EXPANSION_MOOD * mood + EXPANSION_SIZE * log(arr / segment median) + growth)``, where
``growth`` is each firm's own pace of growth (hiring, new teams: unseen by any record
but the deals it buys). Adoption drives it most, the relationship less; a new customer
ramps up over its first ``EXPANSION_RAMP_MONTHS`` months, and an account with a deal
opened in the last ``EXPANSION_COOLDOWN_MONTHS`` months rarely opens another. These
draws come after every churn draw, so they never change who churns when.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.demo.firms import ARR_MEDIAN, SEGMENTS, Firm

FUTURE_MONTHS = 12
FIT_PHI, FIT_SD = 0.97, 0.20
MOOD_PHI, MOOD_SD = 0.93, 0.30
SHOCK_RATE = 0.03  # per account-month, bad events
GOOD_RATE = 0.012  # per account-month, good events
SLOPE = 3.2
LEVEL_MEAN, LEVEL_SD = 0.35, 0.55  # long-run product fit across accounts
INTENT_RATE = 0.15  # weight of this month's health in the churn intent (an EWMA)
BASE_LOGIT = {"smb": -4.2, "mid_market": -4.7, "enterprise": -5.3}

# expansion opportunities (module docstring): monthly logit terms
EXPANSION_BASE = {"smb": -5.2, "mid_market": -4.8, "enterprise": -4.5}
EXPANSION_FIT, EXPANSION_MOOD = 1.1, 0.45
EXPANSION_SIZE = 0.3  # per log-unit of ARR above the segment's median
EXPANSION_GROWTH_SD = 0.6
EXPANSION_RAMP_MONTHS = 4
EXPANSION_COOLDOWN_MONTHS, EXPANSION_COOLDOWN = 3, 1.5

# shock codes in Panel.event
NO_EVENT, OUTAGE, PRICE_RISE, CHAMPION_LEFT, GOOD_NEWS = 0, 1, 2, 3, 4
EVENT_NAMES = {OUTAGE: "outage", PRICE_RISE: "price_rise", CHAMPION_LEFT: "champion_left",
               GOOD_NEWS: "good_news"}  # fmt: skip
_SHOCK_SIZE = {OUTAGE: 1.1, PRICE_RISE: 0.9, CHAMPION_LEFT: 1.3}


@dataclass
class Panel:
    """Account x month arrays; NaN (or 0) where the account is not a customer."""

    fit: np.ndarray  # (n, T)
    mood: np.ndarray
    health: np.ndarray
    hazard: np.ndarray  # monthly churn probability
    alive: np.ndarray  # bool: customer during (part of) this month
    event: np.ndarray  # int codes, see EVENT_NAMES
    churn_month: np.ndarray  # (n,) month index of churn, -1 if none within the horizon
    churn_day: np.ndarray  # (n,) day of month (1..28)
    months: int  # data months; columns >= months are the unexported future
    expansion: np.ndarray  # (n, T) bool: an expansion opportunity opens this month
    expansion_day: np.ndarray  # (n, T) its day of the month (1..28)

    @property
    def horizon(self) -> int:
        return self.fit.shape[1]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def simulate(rng: np.random.Generator, firms: list[Firm], months: int) -> Panel:
    """Run every account from its first month in the window to the end of the future."""
    n, horizon = len(firms), months + FUTURE_MONTHS
    seg = np.array([SEGMENTS.index(f.segment) for f in firms])
    start = np.array([max(f.start_month, 0) for f in firms])
    base = np.array([BASE_LOGIT[s] for s in SEGMENTS])[seg]
    level = rng.normal(LEVEL_MEAN, LEVEL_SD, size=n)  # each account's long-run product fit

    fit = np.full((n, horizon), np.nan)
    mood = np.full((n, horizon), np.nan)
    hazard = np.full((n, horizon), np.nan)
    alive = np.zeros((n, horizon), dtype=bool)
    event = np.zeros((n, horizon), dtype=np.int8)
    churn_month = np.full(n, -1, dtype=int)

    fit_sd0 = FIT_SD / np.sqrt(1 - FIT_PHI**2)
    mood_sd0 = MOOD_SD / np.sqrt(1 - MOOD_PHI**2)
    # new customers begin near their level with a slightly fragile onboarding mood
    cur_fit = level + fit_sd0 * rng.standard_normal(n)
    cur_mood = mood_sd0 * rng.standard_normal(n) - 0.15 * (start > 0)
    active = np.ones(n, dtype=bool)
    intent = cur_fit + cur_mood

    for t in range(horizon):
        draws = rng.random((4, n))
        noise_f = rng.standard_normal(n)
        noise_m = rng.standard_normal(n)
        kinds = rng.integers(1, 4, size=n)
        started = t >= start
        evolving = started & (t > start)
        cur_fit = np.where(
            evolving, level + FIT_PHI * (cur_fit - level) + FIT_SD * noise_f, cur_fit
        )
        cur_mood = np.where(evolving, MOOD_PHI * cur_mood + MOOD_SD * noise_m, cur_mood)
        bad = started & active & (draws[0] < SHOCK_RATE)
        good = started & active & ~bad & (draws[1] < GOOD_RATE)
        size = np.vectorize(_SHOCK_SIZE.get)(kinds) * (0.7 + 0.6 * draws[2])
        cur_mood = cur_mood - np.where(bad, size, 0.0) + np.where(good, 0.8, 0.0)
        # an outage also dents adoption a little; a champion leaving more so
        cur_fit = cur_fit - np.where(bad & (kinds == CHAMPION_LEFT), 0.25, 0.0)
        event[:, t] = np.where(bad, kinds, np.where(good, GOOD_NEWS, NO_EVENT))

        here = started & active
        alive[:, t] = here
        fit[here, t] = cur_fit[here]
        mood[here, t] = cur_mood[here]
        h = cur_fit + cur_mood
        # the decision to leave builds up over months (notice periods, budget cycles)
        intent = np.where(evolving, (1 - INTENT_RATE) * intent + INTENT_RATE * h, h)
        p = _sigmoid(base - SLOPE * intent)
        hazard[here, t] = p[here]
        churns = here & (draws[3] < p)
        churn_month[churns] = t
        active = active & ~churns

    churn_day = rng.integers(1, 29, size=n)
    expansion = _expansions(rng, firms, fit, mood, alive, churn_month)
    return Panel(
        fit=fit,
        mood=mood,
        health=fit + mood,
        hazard=hazard,
        alive=alive,
        event=event,
        churn_month=churn_month,
        churn_day=churn_day,
        months=months,
        expansion=expansion,
        expansion_day=rng.integers(1, 29, size=expansion.shape),
    )


def _expansions(
    rng: np.random.Generator,
    firms: list[Firm],
    fit: np.ndarray,
    mood: np.ndarray,
    alive: np.ndarray,
    churn_month: np.ndarray,
) -> np.ndarray:
    """Which months each account opens an expansion opportunity in (module docstring).

    A new customer's first month (its signing) opens none, nor does the month an account
    churns in."""
    n, horizon = fit.shape
    seg = [f.segment for f in firms]
    base = np.array([EXPANSION_BASE[s] for s in seg])
    median = np.array([ARR_MEDIAN[s] for s in seg])
    size = EXPANSION_SIZE * np.log(np.array([f.arr for f in firms]) / median)
    growth = EXPANSION_GROWTH_SD * rng.standard_normal(n)
    signed = np.array([f.start_month for f in firms])
    opened = np.zeros((n, horizon), dtype=bool)
    last_open = np.full(n, -(10**6))
    for t in range(horizon):
        u = rng.random(n)
        here = alive[:, t] & (t > signed) & (churn_month != t)
        ramp = np.clip((t - signed) / EXPANSION_RAMP_MONTHS, 0.0, 1.0)
        cooling = (t - last_open) <= EXPANSION_COOLDOWN_MONTHS
        with np.errstate(invalid="ignore"):
            logit = (
                base
                + EXPANSION_FIT * np.nan_to_num(fit[:, t])
                + EXPANSION_MOOD * np.nan_to_num(mood[:, t])
                + size
                + growth
                + np.log(np.maximum(ramp, 1e-3))
                - EXPANSION_COOLDOWN * cooling
            )
        opens = here & (u < _sigmoid(logit))
        opened[:, t] = opens
        last_open = np.where(opens, t, last_open)
    return opened
