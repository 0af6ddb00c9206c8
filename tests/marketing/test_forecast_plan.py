"""The forecast's spend plan: the run-rate, stated assumptions, and how far spend strays
from its run-rate (``marketing.forecast``), on a small posterior built by hand."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from marketing.forecast import (
    DRIFT_MIN_WINDOWS,
    TRAILING_WEEKS,
    forecast,
    parse_spend_assumption,
    plan_drift,
    predictive_draws,
    spend_drift,
)
from marketing.media_posterior import MediaPosterior

CHANNELS = ["paid_ads", "event"]


def _posterior(spend: np.ndarray, draws: int = 40) -> MediaPosterior:
    rng = np.random.default_rng(0)
    n, c = spend.shape
    weeks = [date(2024, 1, 1) + timedelta(weeks=k) for k in range(n)]
    return MediaPosterior(
        channels=CHANNELS, weeks=weeks, spend=spend, outcome=rng.uniform(50, 100, n),
        channel_scale=spend.max(axis=0), target_scale=100.0, adstock="gamma_lag", l_max=6,
        fourier_order=1,
        params={"intercept": rng.uniform(0.34, 0.36, draws), "sigma": np.full(draws, 0.01),
                "gamma": rng.normal(0, 0.002, (draws, 3)), "k": np.full((draws, c), 2.0),
                "s": np.full((draws, c), 1.5), "lam": np.full((draws, c), 0.5),
                "beta": np.full((draws, c), 0.4), "recall": np.full((draws, c), 0.7),
                "organic": np.zeros((draws, c))},
        noise_nu=5.0,
    )  # fmt: skip


def _wandering(n: int = 80) -> np.ndarray:
    """Spend whose budget moves quarter to quarter, as budgets do."""
    rng = np.random.default_rng(4)
    level = np.repeat(rng.uniform(0.4, 2.0, (n // 13 + 1, 1)), 13, axis=0)[:n]
    return 1000.0 * level * rng.uniform(0.8, 1.2, (n, 2))


def test_paths_scaled_by_one_are_the_plan_and_by_two_are_twice_the_plan() -> None:
    post = _posterior(_wandering())
    plan = np.tile([900.0, 400.0], (13, 1))
    ones = np.ones((post.draws, 3, 2))
    paths = post.media_after_paths(plan, ones)
    assert paths.shape == (post.draws, 3, 13, 2)
    np.testing.assert_allclose(paths[:, 1], post.media_after(plan), rtol=1e-12)
    twice = post.media_after_paths(plan, 2 * ones)[:, 0]
    np.testing.assert_allclose(twice, post.media_after(2 * plan), rtol=1e-12)
    # one channel scaled, the other not
    mixed = post.media_after_paths(plan, np.broadcast_to([2.0, 1.0], (post.draws, 1, 2)))[:, 0]
    np.testing.assert_allclose(mixed, post.media_after(plan * [2.0, 1.0]), rtol=1e-12)


def test_steady_spend_does_not_stray_and_wandering_spend_does() -> None:
    steady = spend_drift(_posterior(np.full((80, 2), 500.0)), 13)
    assert steady is not None and np.allclose(steady, 1.0)
    wandering = spend_drift(_posterior(_wandering()), 13)
    assert wandering is not None and wandering.shape == (80 - 13 - TRAILING_WEEKS + 1, 2)
    assert np.allclose(wandering.mean(axis=0), 1.0)  # the run-rate stays the expected spend
    assert wandering.min() < 0.8 and wandering.max() > 1.25
    # a channel launched mid-history: the windows before it ran say nothing of it (its
    # launch is not a 10x budget move waiting to happen again)
    launched = _wandering()
    launched[:40, 1] = 0.0
    late = spend_drift(_posterior(launched), 13)
    assert late is not None and late[:, 1].max() < 2.5
    before_launch = 40  # windows from week 13 to week 52: not a whole run-rate behind them
    assert np.ptp(late[:before_launch, 1]) == 0  # all 1 before the mean's division
    assert np.ptp(late[before_launch:, 1]) > 0.2  # after it, the channel strays as budgets do
    # too short a history for enough windows: the plan is taken as exact, and said so
    short = _posterior(_wandering(TRAILING_WEEKS + 13 + DRIFT_MIN_WINDOWS - 2))
    assert spend_drift(short, 13) is None
    out = forecast(short, 13, [])
    assert out["plan_uncertainty"]["channels"] == []
    assert "fewer than" in out["plan_uncertainty"]["note"]


def test_the_run_rate_plan_carries_the_stray_and_a_stated_plan_does_not() -> None:
    post = _posterior(_wandering())
    base = forecast(post, 13, [])
    assert base["plan_uncertainty"]["channels"] == CHANNELS
    assert base["plan_uncertainty"]["windows"] == 80 - 13 - TRAILING_WEEKS + 1
    stated = forecast(post, 13, ["spend*=1"])  # every channel's plan stated: as planned
    assert stated["plan_uncertainty"]["channels"] == []
    width = {k: f["total"]["p90"] - f["total"]["p10"] for k, f in (("base", base), ("stated", stated))}
    assert width["base"] > 1.2 * width["stated"]
    assert stated["total"]["p50"] == pytest.approx(base["total"]["p50"], rel=0.05)
    # the scenario's base is the run-rate forecast itself, drawn with the same numbers
    assert stated["base"]["total"] == base["total"]


def test_a_channel_an_assumption_names_is_taken_as_stated() -> None:
    post = _posterior(_wandering())
    named = [parse_spend_assumption("channel=event:spend*=0.5", CHANNELS)]
    drift, note = plan_drift(post, 13, named)
    assert note["channels"] == ["paid_ads"]
    assert drift is not None and np.all(drift[:, 1] == 1.0) and drift[:, 0].std() > 0.05
    out = forecast(post, 13, ["channel=event:spend*=0.5"])
    assert out["plan_uncertainty"]["channels"] == ["paid_ads"]
    assert out["change"]["p50"] < 0  # half the events: less pipeline


def test_a_baseline_that_trends_below_zero_is_held_at_zero_and_so_is_every_week() -> None:
    post = _posterior(_wandering(), draws=400)
    # a level that falls by almost itself over the history: it crosses zero soon after
    post.params["intercept"] = np.full(post.draws, 0.30)
    post.params["gamma"] = np.zeros((post.draws, 3))
    post.params["gamma"][:, 0] = -0.28
    post.params["sigma"] = np.full(post.draws, 0.05)
    future = post.future_weeks(26)
    assert (post.baseline(future)[:, -1] < -0.05 * post.target_scale).all()  # a sigma below
    no_spend = np.zeros((26, 2))  # the carry-over of the history is gone by the last week
    draws = predictive_draws(post, no_spend, seed=1)
    assert (draws >= 0).all()
    # the last week: a baseline held at zero plus symmetric noise, so half the paths are
    # zero; the baseline of the trend alone (below zero) would leave nearly 90% at zero
    assert np.mean(draws[:, -1] == 0) == pytest.approx(0.5, abs=0.04)
