"""A fitted media-mix model as plain arrays: what every figure and forecast is computed from.

``MediaPosterior`` holds the posterior draws of the model's parameters (thinned), the
scales the model was fitted on, and the calendar of its weeks. Its functions are plain
numpy over draws, so the API can serve forecasts and response curves from a stored run
without PyMC, and a test holds them to PyMC-Marketing's own graph
(``tests/marketing/test_mmm.py``).

The model (``marketing.mmm``), in the scaled units it is fitted in (outcome / max weekly
outcome; spend / max weekly spend of its channel), for week t and channel c::

    media_ct = beta_c * L(A(x_c)_t; lam_c)          A: adstock over l_max weeks,
                                                     L: logistic saturation
    base_t   = intercept + sum_k gamma_k z_kt        z: trend, yearly Fourier terms
    y_t      ~ StudentT(nu, base_t + sum_c media_ct, sigma)

``L(x; lam) = (1 - exp(-lam x)) / (1 + exp(-lam x))`` (PyMC-Marketing's logistic
saturation) and ``A(x)_t = sum_{l < l_max} w_l x_{t-l}`` with weights summing to one:

- ``gamma_lag`` (the default: a lead takes weeks to become an opportunity, so spend's
  effect can peak weeks later): ``w_l ~ ((l + 0.5) / s) ** (k - 1) * exp(-(l + 0.5) / s)``
  (``marketing.lag_adstock``);
- ``geometric``: ``w_l = alpha^l``, normalised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

DAYS_IN_YEAR = 365.25


def adstock_weights(kind: str, params: dict[str, np.ndarray], l_max: int) -> np.ndarray:
    """Normalised carry-over weights (draws, l_max, channels) of an adstock ``kind``."""
    if kind == "geometric":
        alpha = np.asarray(params["alpha"], dtype=float)
        w = alpha[:, None, :] ** np.arange(l_max)[None, :, None]
    elif kind == "gamma_lag":
        k = np.asarray(params["k"], dtype=float)[:, None, :]
        s = np.asarray(params["s"], dtype=float)[:, None, :]
        u = (np.arange(l_max) + 0.5)[None, :, None] / s
        w = np.exp((k - 1) * np.log(u) - u)
    else:
        raise ValueError(f"unknown adstock {kind!r}")
    return w / w.sum(axis=1, keepdims=True)


def adstock(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Carry-over over the week axis. ``x``: (weeks, channels); ``w``: (draws, l_max,
    channels) normalised weights. Weeks before the first carry nothing in."""
    x = np.asarray(x, dtype=float)
    l_max = w.shape[1]
    out = np.zeros((w.shape[0], *x.shape))
    weeks = x.shape[-2]
    for lag in range(min(l_max, weeks)):
        out[:, lag:, :] += w[:, lag : lag + 1, :] * x[None, : weeks - lag, :]
    return out


def logistic_saturation(x: np.ndarray, lam: np.ndarray) -> np.ndarray:
    e = np.exp(-np.asarray(lam)[..., None, :] * x)
    return (1 - e) / (1 + e)


def controls(weeks: list[date], origin: date, trend_weeks: int, fourier_order: int) -> np.ndarray:
    """The baseline's regressors for ``weeks``: a linear trend (0 at ``origin``, 1 after
    ``trend_weeks`` weeks) and yearly Fourier terms by the day of the year."""
    t = np.array([(w - origin).days / 7.0 for w in weeks]) / max(trend_weeks, 1)
    doy = np.array([w.timetuple().tm_yday for w in weeks], dtype=float)
    cols = [t]
    for k in range(1, fourier_order + 1):
        cols.append(np.sin(2 * np.pi * k * doy / DAYS_IN_YEAR))
        cols.append(np.cos(2 * np.pi * k * doy / DAYS_IN_YEAR))
    return np.column_stack(cols)


def control_names(fourier_order: int) -> list[str]:
    names = ["trend"]
    for k in range(1, fourier_order + 1):
        names += [f"sin_{k}", f"cos_{k}"]
    return names


@dataclass
class MediaPosterior:
    """Posterior draws of a fitted model (see module docstring), on its own calendar.

    ``params``: name -> array with draws first: ``intercept`` (d,), ``sigma`` (d,),
    ``gamma`` (d, k), the adstock's (``k``, ``s``; or ``alpha``), ``lam``, ``beta``,
    ``recall``, ``organic`` (d, c).
    ``spend``: the weekly spend the model saw (weeks x channels), whose last weeks carry
    over into a forecast.
    """

    channels: list[str]
    weeks: list[date]  # Mondays of the fitted weeks
    spend: np.ndarray  # (weeks, channels), original units
    outcome: np.ndarray  # (weeks,), original units
    channel_scale: np.ndarray  # (channels,)
    target_scale: float
    adstock: str  # gamma_lag | geometric
    l_max: int
    fourier_order: int
    params: dict[str, np.ndarray] = field(repr=False)
    noise_nu: float | None = None

    @property
    def draws(self) -> int:
        return int(self.params["intercept"].shape[0])

    # ------------------------------------------------------------ media
    def media(self, spend: np.ndarray) -> np.ndarray:
        """Each channel's contribution per week, original units: (draws, weeks, channels)
        for a spend matrix (weeks, channels) in original units, from its first week."""
        x = np.asarray(spend, dtype=float) / self.channel_scale
        p = self.params
        w = adstock_weights(self.adstock, p, self.l_max)
        sat = logistic_saturation(adstock(x, w), p["lam"])
        return p["beta"][:, None, :] * sat * self.target_scale

    def media_fitted(self) -> np.ndarray:
        return self.media(self.spend)

    def media_after(self, future_spend: np.ndarray) -> np.ndarray:
        """Contributions in the weeks after the fitted ones, for planned spend (future
        weeks x channels): the fitted weeks' spend carries over into them."""
        full = np.vstack([self.spend, np.asarray(future_spend, dtype=float)])
        return self.media(full)[:, len(self.weeks) :, :]

    def media_after_paths(self, future_spend: np.ndarray, factors: np.ndarray) -> np.ndarray:
        """``media_after`` with the planned spend scaled per path: ``factors`` (draws,
        paths, channels) multiply each channel's planned spend; the result is (draws,
        paths, future weeks, channels). Adstock is linear, so the carry-over of the fitted
        weeks and of the plan are computed once and combined before the saturation."""
        plan = np.asarray(future_spend, dtype=float)
        n = len(self.weeks)
        hist = np.vstack([self.spend, np.zeros_like(plan)]) / self.channel_scale
        ahead = np.vstack([np.zeros_like(self.spend), plan]) / self.channel_scale
        p = self.params
        w = adstock_weights(self.adstock, p, self.l_max)
        a_hist, a_plan = adstock(hist, w)[:, n:, :], adstock(ahead, w)[:, n:, :]
        a = a_hist[:, None] + np.asarray(factors, dtype=float)[:, :, None, :] * a_plan[:, None]
        sat = logistic_saturation(a, p["lam"][:, None, :])  # lam per draw, for every path
        return p["beta"][:, None, None, :] * sat * self.target_scale

    # ------------------------------------------------------------ baseline
    def baseline(self, weeks: list[date]) -> np.ndarray:
        """The outcome no spend explains, per draw and week (original units)."""
        z = controls(weeks, self.weeks[0], len(self.weeks), self.fourier_order)
        p = self.params
        return (p["intercept"][:, None] + p["gamma"] @ z.T) * self.target_scale

    def future_weeks(self, n: int) -> list[date]:
        last = self.weeks[-1]
        return [last + timedelta(weeks=k + 1) for k in range(n)]

    def noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Observation noise draws (original units), one sigma per posterior draw:
        Student-t with ``noise_nu`` degrees of freedom (normal when it is None)."""
        sigma = self.params["sigma"] * self.target_scale
        size = (self.draws, *shape)
        z = rng.standard_normal(size) if self.noise_nu is None else rng.standard_t(self.noise_nu, size)
        return z * sigma.reshape((-1,) + (1,) * len(shape))

    # ------------------------------------------------------------ storage
    def to_dict(self) -> dict[str, Any]:
        return {
            "channels": self.channels,
            "weeks": [w.isoformat() for w in self.weeks],
            "spend": np.asarray(self.spend, dtype=float).tolist(),
            "outcome": np.asarray(self.outcome, dtype=float).tolist(),
            "channel_scale": self.channel_scale.tolist(),
            "target_scale": self.target_scale,
            "adstock": self.adstock,
            "l_max": self.l_max,
            "fourier_order": self.fourier_order,
            "noise_nu": self.noise_nu,
            "params": {k: np.asarray(v).tolist() for k, v in self.params.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaPosterior:
        return cls(
            channels=list(data["channels"]),
            weeks=[date.fromisoformat(w) for w in data["weeks"]],
            spend=np.asarray(data["spend"], dtype=float).reshape(len(data["weeks"]), -1),
            outcome=np.asarray(data["outcome"], dtype=float),
            channel_scale=np.asarray(data["channel_scale"], dtype=float),
            target_scale=float(data["target_scale"]),
            adstock=str(data.get("adstock", "geometric")),
            l_max=int(data["l_max"]),
            fourier_order=int(data["fourier_order"]),
            noise_nu=data.get("noise_nu"),
            params={k: np.asarray(v, dtype=float) for k, v in data["params"].items()},
        )
