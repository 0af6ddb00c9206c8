"""Carry-over that can peak weeks after the spend: the B2B adstock of the media-mix model.

A lead takes weeks to become an opportunity, so a week's spend shows up in pipeline
later and spread out. Geometric adstock peaks in the week of the spend and cannot say
that; PyMC-Marketing's Weibull PDF adstock can but has no gradient in 0.19 (its kernel
is rescaled by its minimum and maximum). This component weights lag ``l`` (weeks, 0 ..
l_max - 1) by a gamma kernel, normalised to sum to one::

    w_l  proportional to  ((l + 0.5) / scale) ** (shape - 1) * exp(-(l + 0.5) / scale)

``shape`` 1 is a geometric decay (``alpha = exp(-1 / scale)``); above 1 the effect peaks
``(shape - 1) * scale`` weeks after the spend. Priors: shape mean 2, scale mean 2.5 weeks.
"""

from __future__ import annotations

from typing import Any

import pytensor.tensor as pt
import pytensor.xtensor as ptx
from pymc_extras.prior import Prior
from pymc_marketing.mmm.components.adstock import AdstockTransformation
from pymc_marketing.mmm.transformers import batched_convolution
from pytensor.xtensor import as_xtensor

LAG_OFFSET = 0.5


class GammaLagAdstock(AdstockTransformation):
    """See module docstring."""

    lookup_name = "gamma_lag"

    def function(self, x: Any, shape: Any, scale: Any, *, dim: str) -> Any:
        kernel_dim = f"{dim}_kernel"
        x = as_xtensor(x)
        lags = ptx.as_xtensor(pt.arange(self.l_max, dtype=x.dtype) + LAG_OFFSET, dims=(kernel_dim,))
        u = lags / scale
        w = ptx.math.exp((shape - 1) * ptx.math.log(u) - u)
        w = w / w.sum(dim=kernel_dim)
        return batched_convolution(x, w, dim=dim, kernel_dim=kernel_dim, mode=self.mode)

    default_priors = {
        "shape": Prior("Gamma", alpha=4, beta=2),
        "scale": Prior("Gamma", alpha=2.78, beta=1.11),
    }
