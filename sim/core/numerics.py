"""Scalar helpers for the monthly loop, where numpy and scipy calls on one number cost more than the math."""

from __future__ import annotations

import math

_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


def clip01(x: float) -> float:
    """``float(np.clip(x, 0.0, 1.0))`` without numpy (NaN stays NaN, -0.0 stays -0.0, as there)."""
    if x < 0.0:
        return 0.0
    return 1.0 if x > 1.0 else x


def norm_cdf(z: float) -> float:
    """Standard normal distribution function."""
    return 0.5 * math.erfc(-z / _SQRT2)


def norm_pdf(z: float) -> float:
    """Standard normal density."""
    return math.exp(-0.5 * z * z) / _SQRT2PI


def sale_factor(hazard: float, discount: float, months: float) -> float:
    """Scalar form of :func:`sim.core.bargaining.sale_factor`."""
    if hazard <= 0.0:
        return 0.0
    h = min(hazard, 1.0)
    q = discount * (1.0 - h)
    return h * discount * (1.0 - q ** max(months, 0.0)) / max(1.0 - q, 1e-12)
