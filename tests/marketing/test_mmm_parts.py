"""The media-mix model's parts without sampling: answers' post-stratified evidence counted
by hand, lift tests turned into observations, the numpy forward pass held to
PyMC-Marketing's own transformations, and the convergence verdict."""

from __future__ import annotations

from datetime import date, timedelta

import arviz as az
import numpy as np
import pandas as pd
import pytest

from marketing.answer_evidence import answer_evidence
from marketing.errors import MarketingInputError, NotEnoughWeeksError
from marketing.lift_tests import DEFAULT_RELATIVE_SE, Z90, lift_observations
from marketing.media_posterior import MediaPosterior, adstock, adstock_weights, controls
from marketing.mmm import MediaMixConfig, MediaMixData, _diagnostics, check_data, served_attempt

MONDAY = date(2025, 1, 6)
WEEKS = [MONDAY + timedelta(weeks=k) for k in range(8)]


def test_answers_are_post_stratified_by_tracked_source() -> None:
    # stratum paid_ads (tracked paid_search): 300 of pipeline, 100 of it answered, naming
    # paid_ads; stratum other (direct): 200, of which the 100 answered name peer_referral
    # and search half each; one paid_search opportunity names two channels
    opps = pd.DataFrame({
        "opportunity_id": [1, 2, 3, 4, 5],
        "created_at": pd.to_datetime(["2025-01-06", "2025-01-07", "2025-01-13", "2025-01-14", "2025-01-20"]),
        "amount": [100.0, 200.0, 100.0, 100.0, 0.0],
        "tracked_source": ["paid_search", "paid_search", "direct", "direct", None],
    })  # fmt: skip
    credits = pd.DataFrame({
        "opportunity_id": [1, 3, 3],
        "channel": ["paid_ads", "peer_referral", "search"],
        "weight": [1.0, 0.5, 0.5],
    })  # fmt: skip
    ev = answer_evidence(opps, credits)
    shares = ev.shares.set_index("channel")["share"]
    # paid_search stratum: 300 / 100 answered -> weight 3; direct: 200 / 100 -> 2
    assert shares["paid_ads"] == pytest.approx(3 * 100 / 500)
    assert shares["peer_referral"] == pytest.approx(2 * 50 / 500)
    assert shares["search"] == pytest.approx(2 * 50 / 500)
    assert ev.answered == 2 and ev.opportunities == 5
    assert ev.dark_share == pytest.approx(0.2)
    tracked = ev.tracked_shares.set_index("channel")["share"]
    assert tracked["paid_ads"] == pytest.approx(0.6) and tracked["other"] == pytest.approx(0.4)
    agree = ev.agreement.set_index("channel")
    assert agree.loc["paid_ads", "tracked_answered"] == 1 and agree.loc["paid_ads", "naming_it"] == 1
    other = ev.other_credit  # what the buyers of a tracked channel name instead of it
    assert other.loc["other", "peer_referral"] == 0.5 and other.loc["other", "search"] == 0.5
    assert other.loc["paid_ads"].sum() == 0
    beside = ev.beside_credit  # and what those who name it credit, itself included
    assert beside.loc["paid_ads", "paid_ads"] == 1 and beside.loc["paid_ads"].sum() == 1
    assert beside.loc["other"].sum() == 0
    blocks, kappa = ev.blocks(WEEKS, ["paid_ads", "event"], block_weeks=2)
    assert blocks[:, 0].tolist() == [300.0, 0.0, 0.0, 0.0]  # week 1 of block 0
    assert blocks[:, 1].tolist() == [0.0] * 4 and kappa[1] == 0.0
    assert kappa[0] == pytest.approx(300.0)


def _experiments(**over: object) -> pd.DataFrame:
    row = {"experiment_id": "E1", "channel": "paid_ads", "start": "2025-01-08",
           "end": "2025-01-21", "spend_delta": -1400.0, "outcome": "pipeline", "lift": -700.0,
           "lift_low": -1000.0, "lift_high": -400.0}  # fmt: skip
    return pd.DataFrame([{**row, **over}])


def test_lift_tests_spread_spend_over_their_days_and_weeks() -> None:
    tests = lift_observations(_experiments(), WEEKS, ["paid_ads"], "pipeline")
    (obs,) = tests.used
    # 14 days from a Wednesday: 5 days in week 0, 7 in week 1, 2 in week 2
    assert obs.delta[:3].tolist() == pytest.approx([-500.0, -700.0, -200.0])
    assert obs.window[:3].tolist() == pytest.approx([5 / 7, 1.0, 2 / 7])
    assert obs.delta[3:].sum() == 0
    assert obs.se == pytest.approx(600 / (2 * Z90))
    bare = lift_observations(_experiments(lift_low=None, lift_high=None), WEEKS, ["paid_ads"], "pipeline")
    assert bare.used[0].se == pytest.approx(700 * DEFAULT_RELATIVE_SE)


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"outcome": "leads"}, "measures leads"),
        ({"channel": "event"}, "no spend on event"),
        ({"end": "2025-03-31"}, "not all inside the modelled weeks"),
    ],
)
def test_lift_tests_that_cannot_inform_the_model_say_why(over: dict[str, object], reason: str) -> None:
    tests = lift_observations(_experiments(**over), WEEKS, ["paid_ads"], "pipeline")
    assert tests.used == []
    assert reason in tests.unused[0]["reason"]


@pytest.mark.parametrize("kind", ["geometric", "gamma_lag"])
def test_numpy_carry_over_equals_pymc_marketings(kind: str) -> None:
    from pymc_marketing.mmm import GeometricAdstock
    from pytensor.xtensor import as_xtensor

    from marketing.lag_adstock import GammaLagAdstock

    rng = np.random.default_rng(3)
    x = rng.gamma(2.0, 1.0, size=(30, 2))
    if kind == "geometric":
        params = {"alpha": np.array([[0.3, 0.7]])}
        component, kw = GeometricAdstock(l_max=13), {"alpha": as_xtensor(params["alpha"][0], dims=("channel",))}
    else:
        params = {"k": np.array([[1.0, 2.5]]), "s": np.array([[1.5, 3.0]])}
        component = GammaLagAdstock(l_max=13)
        kw = {"shape": as_xtensor(params["k"][0], dims=("channel",)),
              "scale": as_xtensor(params["s"][0], dims=("channel",))}  # fmt: skip
    theirs = component.function(as_xtensor(x, dims=("date", "channel")), **kw, dim="date")
    theirs = theirs.transpose("date", "channel").values.eval()
    ours = adstock(x, adstock_weights(kind, params, 13))[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_a_posterior_survives_storage_and_extends_into_the_future() -> None:
    rng = np.random.default_rng(0)
    d, c = 5, 2
    post = MediaPosterior(
        channels=["paid_ads", "event"], weeks=WEEKS, spend=rng.uniform(0, 10, (8, c)),
        outcome=rng.uniform(50, 100, 8), channel_scale=np.array([10.0, 10.0]),
        target_scale=100.0, adstock="gamma_lag", l_max=4, fourier_order=1,
        params={"intercept": rng.uniform(0.2, 0.4, d), "sigma": np.full(d, 0.1),
                "gamma": rng.normal(0, 0.1, (d, 3)), "k": np.full((d, c), 2.0),
                "s": np.full((d, c), 1.5), "lam": np.full((d, c), 2.0),
                "beta": np.full((d, c), 0.3), "recall": np.full((d, c), 0.7),
                "organic": np.zeros((d, c))},
    )  # fmt: skip
    back = MediaPosterior.from_dict(post.to_dict())
    np.testing.assert_allclose(back.media_fitted(), post.media_fitted())
    # spend before the future carries over: zero planned spend still has an effect
    after = post.media_after(np.zeros((3, c)))
    assert after.shape == (d, 3, c) and (after[:, 0, :] > 0).all()
    assert post.baseline(post.future_weeks(2)).shape == (d, 2)
    z = controls(WEEKS, WEEKS[0], 8, 1)
    assert z[0, 0] == 0 and z[-1, 0] == pytest.approx(7 / 8)


def test_the_model_refuses_too_little_history_and_bad_settings() -> None:
    weeks = WEEKS[:5]
    data = MediaMixData(weeks=weeks, outcome=np.ones(5), spend=pd.DataFrame({"paid_ads": np.ones(5)}))
    with pytest.raises(NotEnoughWeeksError, match="at least 26 weeks"):
        check_data(data, MediaMixConfig())
    with pytest.raises(MarketingInputError, match="sampler"):
        MediaMixConfig(sampler="gibbs").check()
    zero = MediaMixData(weeks=weeks, outcome=np.zeros(5), spend=pd.DataFrame({"paid_ads": np.ones(5)}))
    with pytest.raises(MarketingInputError, match="zero in every week"):
        check_data(zero, MediaMixConfig(min_weeks=5))


def test_the_clis_sampling_defaults_are_the_models() -> None:
    from api.commands.measuring import SAMPLING_DEFAULTS

    default = MediaMixConfig()
    assert SAMPLING_DEFAULTS == {"draws": default.draws, "tune": default.tune, "chains": default.chains}
    default.check()


def test_chains_that_disagree_are_not_called_converged() -> None:
    rng = np.random.default_rng(1)
    far_apart = np.stack([rng.normal(0, 1, 200), rng.normal(5, 1, 200)])
    idata = az.from_dict(
        posterior={"saturation_beta": far_apart},
        sample_stats={"diverging": np.zeros((2, 200), dtype=bool)},
    )
    verdict = _diagnostics(idata, MediaMixConfig(draws=200, chains=2))
    assert not verdict["converged"] and verdict["r_hat_max"] > 1.05
    assert any("R-hat" in p for p in verdict["problems"])
    fine = az.from_dict(
        posterior={"saturation_beta": rng.normal(0, 1, (2, 400))},
        sample_stats={"diverging": np.zeros((2, 400), dtype=bool)},
    )
    assert _diagnostics(fine, MediaMixConfig(draws=400, chains=2))["converged"]


def test_a_fit_serves_the_attempt_whose_chains_agree_best() -> None:
    def verdict(converged: bool, r_hat: float | None) -> dict[str, object]:
        return {"converged": converged, "r_hat_max": r_hat}

    assert served_attempt([verdict(False, 1.4), verdict(True, 1.01)]) == 1
    # measured: a world with months of carry-over mixed slowly at first (R-hat 1.03, bulk ESS
    # 50), and its retry split its chains (R-hat 1.67, paid total +51% against -1%)
    assert served_attempt([verdict(False, 1.03), verdict(False, 1.67)]) == 0
    assert served_attempt([verdict(False, None), verdict(False, 1.2)]) == 1
    assert served_attempt([verdict(False, 1.2), verdict(False, 1.2)]) == 1  # a tie: the later
    assert served_attempt([verdict(True, 1.01)]) == 0


def test_dark_pipeline_is_read_among_the_baselines_own_buyers() -> None:
    """Paid-sourced buyers answer half as often as the rest, inside one tracked stratum
    (the post-stratification cannot see it). Outcome 100: event's spend bought 40 (its
    buyers recall it 80% of the time; who forgets names a dark channel or search, half
    each), the baseline 60: 30 dark, 30 search. The answered credit: event 16, dark 30 + 2,
    search 30 + 2, of 80 answers. The dark share of all answers (0.40) says 40 less the
    forgotten 4 = 36; among the baseline's buyers it is 30. Then everyone answering,
    paid buyers naming a second, dark, channel beside theirs, and existing accounts'
    expansions in the outcome, which no buyer answered for."""
    from types import SimpleNamespace

    from marketing.channel_impact import Interval, _dark_pipeline
    from nlp.channels.taxonomy import CHANNELS

    n = 4000
    posterior = SimpleNamespace(
        channels=["event"], params={"recall": np.full((n, 1), 0.8), "organic": np.zeros((n, 1))}
    )
    other = pd.DataFrame(0.0, index=list(CHANNELS), columns=list(CHANNELS))
    other.loc["event", "peer_referral"] = other.loc["event", "search"] = 40.0  # q ~ 0.5
    beside = pd.DataFrame(0.0, index=list(CHANNELS), columns=list(CHANNELS))
    beside.loc["event", "event"] = 16.0  # who names event names nothing beside it
    answers = SimpleNamespace(
        answered=80,
        pipeline=100.0,  # the new business's pipeline the answers speak for
        shares=pd.DataFrame(
            {"channel": ["event"], "share": [0.2], "share_low": [0.2], "share_high": [0.2]}
        ),
        dark_share=0.4,
        dark_share_se=0.0,
        other_credit=other,
        beside_credit=beside,
    )
    def dark_pipeline(outcome: float = 100.0) -> Interval | None:
        return _dark_pipeline(
            posterior,  # type: ignore[arg-type]
            answers,  # type: ignore[arg-type]
            np.full((n, 1), 40.0),
            outcome,
            np.random.default_rng(0),
        )

    dark = dark_pipeline()
    assert dark is not None
    assert dark.mean == pytest.approx(30.0, abs=0.3)
    assert dark.low < 30.0 < dark.high  # q's uncertainty is carried
    # everyone answering alike (paid at the full rate): shares 32/100, 36/100, 32/100
    answers.shares["share"] = answers.shares["share_low"] = answers.shares["share_high"] = 0.32
    answers.dark_share = 0.34
    same = dark_pipeline()
    assert same is not None and same.mean == pytest.approx(30.0, abs=0.3)
    # a quarter of the buyers who name event name a peer beside it (half credit each):
    # event 24 + 4 = 28, dark 30 + 4 forgotten + 4 beside = 38, search 34; the credit
    # recall is 28 / 40. q would put half of the beside credit on dark; all of it is.
    posterior.params["recall"] = np.full((n, 1), 0.7)
    answers.shares["share"] = answers.shares["share_low"] = answers.shares["share_high"] = 0.28
    answers.dark_share = 0.38
    beside.loc["event", "event"], beside.loc["event", "peer_referral"] = 28.0, 4.0
    second = dark_pipeline()
    assert second is not None and second.mean == pytest.approx(30.0, abs=0.3)
    # expansions of 20 join the outcome (120; the baseline 80): buyers credit none of it,
    # so the dark pipeline stays 30, not the fraction of the whole baseline (40)
    expanded = dark_pipeline(outcome=120.0)
    assert expanded is not None and expanded.mean == pytest.approx(30.0, abs=0.3)


def test_a_negative_baseline_is_penalised_in_every_week_it_is_negative() -> None:
    # a mode with pipeline below zero had no spend bought it split the chains of a world with
    # months of carry-over (benchmarks/channel_impact.py --style long, seed 11)
    from marketing.mmm import MediaMixModel

    weeks = [MONDAY + timedelta(weeks=k) for k in range(30)]
    rng = np.random.default_rng(3)
    spend = rng.uniform(50, 150, (30, 1))
    data = MediaMixData(weeks=weeks, outcome=200 + spend[:, 0], spend=pd.DataFrame({"paid_ads": spend[:, 0]}))
    cfg = MediaMixConfig(use_answers=False, use_lift_tests=False)
    mmm, _ = MediaMixModel(cfg)._build(data, ["paid_ads"], spend, data.outcome)
    model = mmm.model
    k = len(model.coords["control"])

    def value(intercept: float, trend: float) -> float:
        gamma = np.zeros(k)
        gamma[0] = trend  # the trend runs from 0 in the first week to 1 after the last
        given = {model["intercept_contribution"]: np.asarray(intercept), model["gamma_control"]: gamma}
        return float(model["baseline_not_negative"].eval(given))

    assert value(0.3, 0.0) == 0.0 and value(0.3, -0.25) == 0.0
    # 0.05 below zero in all 30 weeks: (0.05 / 0.01)^2 / 2 each
    assert value(-0.05, 0.0) == pytest.approx(-30 * 12.5)
    # a falling trend that crosses zero in week 10: only the weeks below it count
    below = np.minimum(0.1 - 0.3 * np.arange(30) / 30, 0.0)
    assert (below < 0).sum() == 19
    assert value(0.1, -0.3) == pytest.approx(-0.5 * ((below / 0.01) ** 2).sum())
    # with the season too, the weeks below zero of the model's own baseline are the ones
    gamma = np.array([-0.3, 0.05, -0.02, 0.01, 0.03])[:k]
    given = {model["intercept_contribution"]: np.asarray(0.1), model["gamma_control"]: gamma}
    own = (model["intercept_contribution"].values + model["control_contribution"].values.sum(axis=1)).eval(given)
    assert (own < 0).any() and (own > 0).any()
    expected = -0.5 * ((np.minimum(own, 0.0) / 0.01) ** 2).sum()
    assert float(model["baseline_not_negative"].eval(given)) == pytest.approx(expected)
    off = MediaMixModel(MediaMixConfig(use_answers=False, use_lift_tests=False, baseline_floor=0.0))
    assert "baseline_not_negative" not in off._build(data, ["paid_ads"], spend, data.outcome)[0].model
