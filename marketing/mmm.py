"""The media-mix model, calibrated by lift tests and buyers' answers (PyMC-Marketing).

Weekly pipeline is too noisy for a media-mix model to tell channels apart on its own (a
few dozen deals a week, each worth anything from a few thousand to a hundred thousand),
and buyers' answers under-report the channels they no longer remember. One PyMC model
weighs all the evidence at once:

1. **The media-mix model** is PyMC-Marketing's ``MMM`` (``pymc_marketing.mmm.
   multidimensional``) over weekly spend per paid channel: geometric adstock with
   ``l_max`` weeks of carry-over (B2B cycles are long), logistic saturation, an intercept,
   a linear trend and yearly Fourier terms as controls. Priors are stated on the scaled
   data (outcome / its largest week, spend / its channel's largest week) and are weak.
   The baseline (intercept, trend and season: the pipeline no spend bought) is held at
   or above zero in every week by a potential, ``-0.5 (min(baseline_t, 0) /
   baseline_floor)^2`` summed over the weeks. Without it a world with months of
   carry-over (``benchmarks/channel_impact.py --style long``, seed 11) split its chains:
   one found a baseline falling below zero within the history, which let the paid
   channels explain twice the pipeline (paid total +42%).
2. **Lift tests** (``marketing.lift_tests``): each stored experiment is an observation of
   the change of its channel's contribution within the test's days, as the model computes
   it through the same adstock and saturation.
3. **Buyers' answers** (``marketing.answer_evidence``): the post-stratified pipeline that
   answering buyers credit to each paid channel, per block of ``block_weeks`` weeks, is
   an observation of ``recall_c * contribution_c + organic_c * baseline`` with sampling
   variance ``kappa_c * mean``. ``recall_c`` (how much of a channel's pipeline buyers
   still credit to it) is partially pooled across channels around a prior median of
   ``recall_median``, and informed by how many buyers whose tracked source is the channel
   name it themselves (tracking's purity has a Beta prior near 0.9); ``organic_c`` is the
   share of what buyers credit to a paid channel that its spend did not buy (organic
   demand such as an unpaid review, or a channel named beside the one that sourced the
   deal), spread over the weeks like the baseline. Answers alone fix how
   pipeline splits between channels; lift tests and the weekly series fix how much of it
   buyers forget.

``MediaMixModel(config).fit(data)`` samples the posterior (nutpie by default; PyMC's own
NUTS with ``sampler="pymc"``), checks convergence (``diagnostics_``: R-hat at most 1.05,
bulk ESS, divergent transitions), samples once more with twice the tuning if it did not
converge (``retries``), serves the attempt whose chains agree best
(``served_attempt``), and keeps a thinned posterior as a ``MediaPosterior``
(``posterior_``), from which every figure is computed. A fit that still did not converge
says so (``diagnostics_["converged"]`` false, with the problems).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from marketing.answer_evidence import AnswerEvidence
from marketing.errors import (
    MarketingError,
    MarketingInputError,
    NotEnoughWeeksError,
    NotFittedError,
)
from marketing.lift_tests import LiftTests
from marketing.media_posterior import MediaPosterior, control_names, controls

MODEL_VERSION = "mmm-calibrated-v1"
R_HAT_LIMIT = 1.05
ESS_MIN = 100
DIVERGENCE_SHARE_LIMIT = 0.005
NO_LIFT_TEST_HINT = (
    "no lift test calibrates the model: without one, how much of a channel's pipeline its "
    "buyers forget and how much pipeline paid channels drove trade off against each other; "
    "a lift test on any paid channel pins them down"
)


@dataclass(frozen=True)
class MediaMixConfig:
    adstock: str = "gamma_lag"  # or "geometric"
    l_max: int = 13  # weeks of carry-over (a quarter)
    fourier_order: int = 2
    season_scale: float = 0.15  # prior sd of a yearly Fourier term, in mean weeks
    noise_nu: float = 5.0  # degrees of freedom of the weekly noise (Student-t)
    block_weeks: int = 4  # answers are compared with the model in blocks of weeks
    # four chains of 250 draws: the same 1,000 draws as two of 500, in the same wall time
    # here (demo seeds 7/11/23: 38-58 s a measure, figures within a point or two); split
    # modes show in R-hat more surely with four
    draws: int = 250
    tune: int = 700
    chains: int = 4
    sampler: str = "nutpie"  # or "pymc"
    target_accept: float = 0.9
    recall_median: float = 0.7  # prior median of the share of a paid channel's pipeline buyers credit to it
    recall_logit_sd: float = 1.0
    recall_spread: float = 0.5  # prior scale of channels' differences in recall (logit)
    purity_prior: tuple[float, float] = (9.0, 1.0)  # Beta prior: tracked-as-c buyers brought by c
    organic_prior: tuple[float, float] = (1.0, 9.0)  # Beta prior: share of a channel's credit its spend did not buy
    use_answers: bool = True
    use_lift_tests: bool = True
    min_weeks: int = 26
    baseline_floor: float = 0.01  # scale of the penalty on a negative weekly baseline; 0: none
    min_active_weeks: int = 4  # weeks with spend a channel needs to be modelled
    keep_draws: int = 400
    seed: int = 0
    retries: int = 1  # a fit that did not converge is sampled again, tuned longer

    def check(self) -> None:
        if self.adstock not in ("gamma_lag", "geometric"):
            raise MarketingInputError(f"adstock must be gamma_lag or geometric, got {self.adstock!r}")
        if self.sampler not in ("nutpie", "pymc"):
            raise MarketingInputError(f"sampler must be nutpie or pymc, got {self.sampler!r}")
        if not 1 <= self.draws <= 20_000 or not 0 <= self.tune <= 20_000:
            raise MarketingInputError(
                f"draws must be 1..20000 and tune 0..20000, got {self.draws} and {self.tune}"
            )
        if not 1 <= self.chains <= 8:
            raise MarketingInputError(f"chains must be 1..8, got {self.chains}")


@dataclass
class MediaMixData:
    """The weekly series of one measurement: ``spend`` has one row per week of ``weeks``
    (Mondays, contiguous) and one column per channel, in original units."""

    weeks: list[date]
    outcome: np.ndarray
    spend: pd.DataFrame
    answers: AnswerEvidence | None = None
    lifts: LiftTests = field(default_factory=LiftTests)


def modelled_channels(spend: pd.DataFrame, min_active_weeks: int) -> tuple[list[str], dict[str, str]]:
    """Channels with spend in enough weeks to be modelled, and why the others are not."""
    keep, skipped = [], {}
    for c in spend.columns:
        active = int((spend[c].fillna(0) > 0).sum())
        if active >= min_active_weeks:
            keep.append(str(c))
        else:
            skipped[str(c)] = f"spend in {active} weeks (at least {min_active_weeks} needed)"
    return keep, skipped


def check_data(data: MediaMixData, config: MediaMixConfig) -> None:
    n = len(data.weeks)
    if n < config.min_weeks:
        raise NotEnoughWeeksError(
            f"the media-mix model needs at least {config.min_weeks} weeks of outcome and "
            f"spend, the store has {n}: ingest more history"
        )
    y = np.asarray(data.outcome, dtype=float)
    if len(y) != n or len(data.spend) != n:
        raise MarketingInputError("outcome and spend must have one row per week")
    if not np.isfinite(y).all() or (y < 0).any():
        raise MarketingInputError("the weekly outcome must be finite and not negative")
    if y.sum() <= 0:
        raise MarketingInputError("the outcome is zero in every week: nothing to explain")
    if data.spend.empty or data.spend.shape[1] == 0:
        raise MarketingInputError("no spend in the modelled weeks: ingest spend first")


class MediaMixModel:
    """See module docstring. ``fit`` returns ``self``; results end in ``_``."""

    def __init__(self, config: MediaMixConfig | None = None) -> None:
        self.config = config or MediaMixConfig()
        self._compiled: tuple[Any, Any] | None = None  # (PyMC model, nutpie's compiled model)

    # ------------------------------------------------------------------ fit
    def fit(self, data: MediaMixData, progressbar: bool = False) -> MediaMixModel:
        cfg = self.config
        cfg.check()
        check_data(data, cfg)
        channels, skipped = modelled_channels(data.spend, cfg.min_active_weeks)
        if not channels:
            raise MarketingInputError(
                "no channel has spend in enough weeks to be modelled: "
                + "; ".join(f"{c}: {why}" for c, why in skipped.items())
            )
        self.channels_, self.skipped_channels_ = channels, skipped
        spend = data.spend[channels].fillna(0.0).to_numpy(dtype=float)
        y = np.asarray(data.outcome, dtype=float)
        mmm, extras = self._build(data, channels, spend, y)
        idata = self._sample(mmm.model, progressbar, cfg)
        attempts = [(idata, _diagnostics(idata, cfg))]
        for k in range(cfg.retries):
            if attempts[-1][1]["converged"]:
                break
            # chains that disagree usually found different modes before adapting: tune
            # twice as long, step more carefully, start elsewhere
            longer = replace(cfg, tune=2 * cfg.tune, target_accept=max(cfg.target_accept, 0.95),
                             seed=cfg.seed + 1000 * (k + 1))  # fmt: skip
            idata = self._sample(mmm.model, progressbar, longer)
            attempts.append((idata, _diagnostics(idata, longer)))
        served = served_attempt([d for _, d in attempts])
        idata, diagnostics = attempts[served][0], dict(attempts[served][1])
        diagnostics["problems"] = list(diagnostics["problems"])
        if served < len(attempts) - 1:
            later = attempts[-1][1]
            diagnostics["problems"].append(
                f"attempt {len(attempts)} (tuned longer) did worse (R-hat {later['r_hat_max']}): "
                f"the draws of attempt {served + 1} are served"
            )
        if not diagnostics["converged"] and not (cfg.use_lift_tests and data.lifts.used):
            # measured on the demo worlds at 78 weeks without a lift test, before the
            # baseline floor: the chains split on how much buyers forget against how much
            # pipeline paid channels drove (with the floor those three fits converged)
            diagnostics["problems"].append(NO_LIFT_TEST_HINT)
        diagnostics["attempts"] = len(attempts)
        if len(attempts) > 1:
            diagnostics["served_attempt"] = served + 1
            diagnostics["earlier_attempts"] = [d for i, (_, d) in enumerate(attempts) if i != served]
        self.idata_, self.mmm_ = idata, mmm
        self.diagnostics_ = diagnostics
        self.posterior_ = self._posterior(idata, mmm, data.weeks, channels, spend, y)
        self.lift_draws_ = {
            name: _thin(_flat(idata.posterior[var]), cfg.keep_draws)
            for name, var in extras["lift_vars"].items()
        }
        self.diagnostics_["fit_mape"] = _fit_mape(self.posterior_)
        self.lifts_ = data.lifts
        return self

    def _build(
        self, data: MediaMixData, channels: list[str], spend: np.ndarray, y: np.ndarray
    ) -> tuple[Any, dict[str, Any]]:
        import pymc as pm
        import pytensor.tensor as pt
        from pymc_extras.prior import Prior
        from pymc_marketing.mmm import GeometricAdstock, LogisticSaturation
        from pymc_marketing.mmm.multidimensional import MMM
        from pytensor.xtensor import as_xtensor

        from marketing.lag_adstock import GammaLagAdstock

        cfg = self.config
        weeks = data.weeks
        names = control_names(cfg.fourier_order)
        z = controls(weeks, weeks[0], len(weeks), cfg.fourier_order)
        frame = pd.DataFrame(spend, columns=channels)
        frame.insert(0, "date", pd.to_datetime(weeks))
        for k, name in enumerate(names):
            frame[name] = z[:, k]
        ybar = float(y.mean() / y.max())
        model_config = {
            "intercept": Prior("Normal", mu=0.5 * ybar, sigma=ybar),
            "adstock_alpha": Prior("Beta", alpha=2, beta=2, dims="channel"),
            # carry-over with a delay (marketing.lag_adstock): shape mean 2, scale 2.5 weeks
            "adstock_shape": Prior("Gamma", alpha=4, beta=2, dims="channel"),
            "adstock_scale": Prior("Gamma", alpha=2.78, beta=1.11, dims="channel"),
            "saturation_lam": Prior("Gamma", alpha=3, beta=1, dims="channel"),
            "saturation_beta": Prior("HalfNormal", sigma=ybar, dims="channel"),
            # the trend may move the level by half over the history; each yearly Fourier
            # term by at most a few tenths of the mean week (a season, not the noise)
            "gamma_control": Prior("Normal", mu=0, sigma=np.array(
                [0.5 * ybar] + [cfg.season_scale * ybar] * (len(names) - 1)), dims="control"),
            # weekly pipeline has heavy tails (one large deal makes a week): Student-t
            # noise keeps such weeks from bending the trend
            "likelihood": Prior("StudentT", nu=cfg.noise_nu, sigma=Prior("HalfNormal", sigma=ybar)),
        }
        mmm = MMM(
            date_column="date",
            channel_columns=channels,
            control_columns=names,
            adstock=(GammaLagAdstock(l_max=cfg.l_max) if cfg.adstock == "gamma_lag"
                     else GeometricAdstock(l_max=cfg.l_max)),  # fmt: skip
            saturation=LogisticSaturation(),
            model_config=model_config,
        )
        mmm.build_model(frame.drop(columns=[]), pd.Series(y, name="y"))
        model = mmm.model
        lift_vars: dict[str, str] = {}
        with model:
            ts = model["target_scale"].values
            cs = model["channel_scale"].values
            x_scaled = as_xtensor(spend, dims=("date", "channel")) / model["channel_scale"]

            def forward(x: Any) -> Any:
                a_kw = {p: model[v] for p, v in mmm.adstock.variable_mapping.items()}
                s_kw = {p: model[v] for p, v in mmm.saturation.variable_mapping.items()}
                ad = mmm.adstock.function(x, **a_kw, dim="date")
                return mmm.saturation.function(ad, **s_kw, dim="date").transpose("date", "channel").values

            media = model["channel_contribution"].values  # (date, channel), scaled
            base = model["intercept_contribution"].values + model["control_contribution"].values.sum(axis=1)
            if cfg.baseline_floor:
                # the baseline is the pipeline no spend bought: never below zero in a week
                # (built from the free variables: a potential's graph is not lowered from
                # xtensor, whose products have no gradient)
                floor = model["intercept_contribution"].values + pt.dot(z, model["gamma_control"].values)
                below = pt.minimum(floor, 0.0) / cfg.baseline_floor
                pm.Potential("baseline_not_negative", -0.5 * pt.sum(below**2))
            if cfg.use_lift_tests and data.lifts.used:
                base_fp = forward(x_scaled)
                for k, obs in enumerate(data.lifts.used):
                    j = channels.index(obs.channel)
                    delta = np.zeros_like(spend)
                    delta[:, j] = obs.delta
                    moved = forward(x_scaled + as_xtensor(delta, dims=("date", "channel")) / model["channel_scale"])
                    lift = ((moved - base_fp)[:, j] * obs.window).sum() * ts
                    name = f"lift_model_{k}"
                    pm.Deterministic(name, lift)
                    pm.Normal(f"lift_obs_{k}", mu=lift, sigma=obs.se, observed=obs.lift)
                    lift_vars[obs.experiment_id] = name
            if cfg.use_answers and data.answers is not None and data.answers.answered:
                reported, kappa = data.answers.blocks(weeks, channels, cfg.block_weeks)
                scale = float(np.asarray(mmm.scalers._target))
                reported, kappa = reported / scale, kappa / scale
                pooled = float(np.median(kappa[kappa > 0])) if (kappa > 0).any() else 1.0
                kappa = np.where(kappa > 0, kappa, pooled)
                n_blocks = reported.shape[0]
                blk = np.zeros((n_blocks, len(weeks)))
                blk[np.arange(len(weeks)) // cfg.block_weeks, np.arange(len(weeks))] = 1.0
                media_b = pt.dot(blk, media)  # scaled units
                base_b = pt.dot(blk, pt.ones(len(weeks)) * base)
                logit = math.log(cfg.recall_median / (1 - cfg.recall_median))
                mu_l = pm.Normal("recall_logit_mu", logit, cfg.recall_logit_sd)
                tau = pm.HalfNormal("recall_logit_tau", cfg.recall_spread)
                z_c = pm.Normal("recall_logit_z", 0.0, 1.0, dims="channel")
                recall = pm.Deterministic("recall", pm.math.sigmoid(mu_l + tau * z_c), dims="channel")
                agree = data.answers.agreement.set_index("channel").reindex(channels).fillna(0)
                trials = agree["tracked_answered"].to_numpy(dtype=int)
                if trials.sum() > 0:
                    purity = pm.Beta("tracking_purity", *cfg.purity_prior, dims="channel")
                    hits = np.minimum(np.round(agree["naming_it"].to_numpy()), trials).astype(int)
                    pm.Binomial("agreement_obs", n=trials, p=purity * recall, observed=hits)
                # the share of what buyers credit to a channel that its spend did not buy:
                # organic demand (an unpaid review, a blog post found by search) and
                # mentions of a channel that touched but did not source the deal; spread
                # over the blocks like the baseline
                organic = pm.Beta("organic_share", *cfg.organic_prior, dims="channel")
                said = reported.sum(axis=0)
                base_share = base_b / pt.sum(base_b)
                mu = recall[None, :] * media_b + (organic * said)[None, :] * base_share[:, None]
                sd = pt.sqrt(kappa[None, :] * pt.maximum(mu, kappa[None, :] * 0.5))
                pm.Normal("answers_obs", mu=mu, sigma=sd, observed=reported)
            del cs
        return mmm, {"lift_vars": lift_vars}

    def _sample(self, model: Any, progressbar: bool, cfg: MediaMixConfig) -> Any:
        import pymc as pm

        try:
            if cfg.sampler == "nutpie":
                return self._sample_nutpie(model, progressbar, cfg)
            with model:
                return pm.sample(
                    draws=cfg.draws, tune=cfg.tune, chains=cfg.chains, cores=min(cfg.chains, 2),
                    random_seed=cfg.seed, progressbar=progressbar,
                    target_accept=cfg.target_accept, compute_convergence_checks=False,
                )  # fmt: skip
        except (ValueError, RuntimeError, FloatingPointError) as exc:  # pragma: no cover
            raise MarketingError(f"sampling the media-mix model failed: {exc}") from exc

    def _sample_nutpie(self, model: Any, progressbar: bool, cfg: MediaMixConfig) -> Any:
        """nutpie on the model compiled once: ``pm.sample(nuts_sampler="nutpie")``
        compiles the model with numba on every call, which took about two thirds of a
        130-week fit (38 of 57 s, profiled), and a second attempt paid it again. The
        draws are those ``pm.sample`` gives for the same seed (nutpie's seed is the
        integer seed, as PyMC passes it)."""
        import nutpie

        if self._compiled is None or self._compiled[0] is not model:
            self._compiled = (model, nutpie.compile_pymc_model(model))
        return nutpie.sample(
            self._compiled[1], draws=cfg.draws, tune=cfg.tune, chains=cfg.chains,
            target_accept=cfg.target_accept, seed=cfg.seed, progress_bar=progressbar,
        )  # fmt: skip

    def _posterior(
        self,
        idata: Any,
        mmm: Any,
        weeks: list[date],
        channels: list[str],
        spend: np.ndarray,
        y: np.ndarray,
    ) -> MediaPosterior:
        keep = self.config.keep_draws
        post = idata.posterior

        def get(name: str, default_shape: tuple[int, ...] | None = None) -> np.ndarray:
            if name in post:
                return _thin(_flat(post[name]), keep)
            assert default_shape is not None
            n = _thin(_flat(post["intercept_contribution"]), keep).shape[0]
            return np.ones((n, *default_shape)) if name == "recall" else np.zeros((n, *default_shape))

        params = {
            "intercept": get("intercept_contribution"),
            "gamma": get("gamma_control"),
            **({"k": get("adstock_shape"), "s": get("adstock_scale")} if self.config.adstock == "gamma_lag"
               else {"alpha": get("adstock_alpha")}),  # fmt: skip
            "lam": get("saturation_lam"),
            "beta": get("saturation_beta"),
            "sigma": get("y_sigma"),
            "recall": get("recall", (len(channels),)),
            "organic": get("organic_share", (len(channels),)),
        }
        return MediaPosterior(
            channels=channels,
            weeks=list(weeks),
            spend=spend,
            outcome=y,
            channel_scale=np.asarray(mmm.scalers._channel, dtype=float).reshape(-1),
            target_scale=float(np.asarray(mmm.scalers._target)),
            adstock=self.config.adstock,
            l_max=self.config.l_max,
            fourier_order=self.config.fourier_order,
            params=params,
            noise_nu=self.config.noise_nu,
        )

    # ------------------------------------------------------------------ results
    def _check_fitted(self) -> None:
        if not hasattr(self, "posterior_"):
            raise NotFittedError("fit the media-mix model before asking for its results")

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.config)


def _flat(var: Any) -> np.ndarray:
    """Draws first: (chain, draw, ...) -> (chain * draw, ...)."""
    arr = np.asarray(var)
    return arr.reshape((-1, *arr.shape[2:]))


def _thin(arr: np.ndarray, keep: int) -> np.ndarray:
    if arr.shape[0] <= keep:
        return arr
    idx = np.linspace(0, arr.shape[0] - 1, keep).round().astype(int)
    return arr[idx]


def _diagnostics(idata: Any, cfg: MediaMixConfig) -> dict[str, Any]:
    import arviz as az

    free = [v for v in idata.posterior.data_vars if not _derived(v)]
    rhat = az.rhat(idata, var_names=free)
    ess = az.ess(idata, var_names=free, method="bulk")
    r_hat_max = float(max(float(np.nanmax(rhat[v].values)) for v in rhat.data_vars))
    ess_min = float(min(float(np.nanmin(ess[v].values)) for v in ess.data_vars))
    divergences = int(np.asarray(idata.sample_stats["diverging"]).sum())
    total = cfg.draws * cfg.chains
    converged = (
        r_hat_max <= R_HAT_LIMIT
        and ess_min >= min(ESS_MIN, total / 4)
        and divergences <= DIVERGENCE_SHARE_LIMIT * total
    )
    problems = []
    if r_hat_max > R_HAT_LIMIT:
        problems.append(f"R-hat {r_hat_max:.3f} > {R_HAT_LIMIT}")
    if ess_min < min(ESS_MIN, total / 4):
        problems.append(f"bulk ESS {ess_min:.0f} < {min(ESS_MIN, total / 4):.0f}")
    if divergences > DIVERGENCE_SHARE_LIMIT * total:
        problems.append(f"{divergences} divergent transitions")
    return {
        "r_hat_max": round(r_hat_max, 4) if math.isfinite(r_hat_max) else None,
        "ess_bulk_min": round(ess_min, 1) if math.isfinite(ess_min) else None,
        "divergences": divergences,
        "draws": cfg.draws,
        "chains": cfg.chains,
        "sampler": cfg.sampler,
        "converged": bool(converged),
        "problems": problems,
    }


def served_attempt(verdicts: list[dict[str, Any]]) -> int:
    """Which attempt's draws a fit serves: one that converged, else the one whose chains
    agree best (the smallest R-hat). A second attempt, tuned longer from another seed,
    can split its chains where the first only mixed slowly."""
    def worse(i: int) -> tuple[bool, float, int]:
        r = verdicts[i]["r_hat_max"]
        return (not verdicts[i]["converged"], math.inf if r is None else r, -i)

    return min(range(len(verdicts)), key=worse)


def _derived(name: str) -> bool:
    """Deterministics and contributions, left out of convergence checks (they follow
    from the free parameters)."""
    return (
        name.endswith("_contribution")
        or name.startswith("lift_model_")
        or name in {"recall", "total_media_contribution_original_scale", "channel_contribution"}
    )


def _fit_mape(posterior: MediaPosterior) -> float | None:
    """In-sample mean absolute percentage error of the posterior-mean fit, over the weeks
    with a positive outcome."""
    fitted = posterior.media_fitted().sum(axis=2) + posterior.baseline(posterior.weeks)
    mean = fitted.mean(axis=0)
    y = posterior.outcome
    ok = y > 0
    if not ok.any():
        return None
    return round(float(np.mean(np.abs(mean[ok] - y[ok]) / y[ok])), 4)


ProgressFn = Callable[[str], None]
