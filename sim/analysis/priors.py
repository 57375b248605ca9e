"""Prior distributions of calibrated parameters, for pyabc and for the identifiability diagnostics.

A :class:`Prior` is one parameter's prior: its dotted name (as in :func:`sim.core.params.describe`), a kind
(:data:`PRIOR_KINDS`), a support ``[low, high]`` in the parameter's own unit, and whether the model takes
it as an integer. The bounds are the caller's (read from the schema's plausible range or from the
calibration config); this module holds no parameter's default or range.

Integer parameters are sampled on a continuous latent scale over ``[low - 0.5, high + 0.5]`` and rounded
when the model is run (:meth:`Prior.model_value`), so every integer in ``[low, high]`` has the same prior
mass (for ``uniform``) and pyabc's continuous perturbation kernels still apply. The posterior table keeps
the latent value; the diagnostics work on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyabc
from scipy import stats

PRIOR_KINDS = ("uniform", "loguniform", "normal_truncated")


@dataclass(frozen=True)
class Prior:
    """One parameter's prior.

    Attributes:
        name: dotted parameter name (e.g. ``regime.arrests_ref``), the key the simulator receives.
        kind: ``uniform`` on [low, high]; ``loguniform`` (uniform in log, needs ``low > 0``);
            ``normal_truncated``: a normal with ``mean`` and ``sd`` cut to [low, high].
        low, high: the support, in the parameter's unit.
        integer: the model takes the value rounded to an integer (see the module notes).
        mean, sd: for ``normal_truncated`` only, in the parameter's unit; default the support's midpoint and a
            quarter of its width (so the support spans +-2 sd: an assumption, state a better one in config).
    """

    name: str
    kind: str = "uniform"
    low: float = 0.0
    high: float = 1.0
    integer: bool = False
    mean: float | None = None
    sd: float | None = None

    def __post_init__(self):
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"prior name: a non-empty dotted parameter name, got {self.name!r}")
        if self.kind not in PRIOR_KINDS:
            raise ValueError(
                f"prior {self.name}: kind must be one of {', '.join(PRIOR_KINDS)}, got {self.kind!r}"
            )
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"prior {self.name}: low and high must be finite with low < high")
        if self.kind == "loguniform" and self.low <= 0:
            raise ValueError(f"prior {self.name}: loguniform needs low > 0, got {self.low}")
        if self.kind == "loguniform" and self.integer:
            raise ValueError(f"prior {self.name}: integer parameters take uniform or normal_truncated priors")
        if self.sd is not None and not self.sd > 0:
            raise ValueError(f"prior {self.name}: sd must be > 0, got {self.sd}")

    @property
    def support(self) -> tuple[float, float]:
        """The latent support: [low, high], widened by 0.5 on each side for an integer parameter."""
        if self.integer:
            return self.low - 0.5, self.high + 0.5
        return self.low, self.high

    def _normal(self) -> tuple[float, float]:
        lo, hi = self.support
        mean = (lo + hi) / 2 if self.mean is None else self.mean
        sd = (hi - lo) / 4 if self.sd is None else self.sd
        return mean, sd

    def _args(self) -> tuple[str, tuple[float, ...]]:
        """scipy.stats name and positional arguments of the latent distribution."""
        lo, hi = self.support
        if self.kind == "uniform":
            return "uniform", (lo, hi - lo)
        if self.kind == "loguniform":
            return "loguniform", (lo, hi)
        mean, sd = self._normal()
        return "truncnorm", ((lo - mean) / sd, (hi - mean) / sd, mean, sd)

    def frozen(self):
        """The latent prior as a frozen scipy.stats distribution."""
        name, args = self._args()
        return getattr(stats, name)(*args)

    def rv(self) -> pyabc.RV:
        """The latent prior as a pyabc random variable."""
        name, args = self._args()
        return pyabc.RV(name, *args)

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        """Central prior interval holding ``level`` of the prior mass (latent scale)."""
        lo, hi = self.frozen().interval(level)
        return float(lo), float(hi)

    def model_value(self, x: float) -> float | int:
        """The value the model receives for latent ``x``: cut to [low, high], rounded if an integer."""
        x = float(np.clip(x, self.low, self.high))
        return int(round(x)) if self.integer else x


def pyabc_distribution(priors: list[Prior]) -> pyabc.Distribution:
    """The joint prior (independent parameters) as a pyabc Distribution keyed by dotted name."""
    names = [p.name for p in priors]
    if len(set(names)) != len(names):
        raise ValueError(f"priors: each parameter once, got {names}")
    return pyabc.Distribution(**{p.name: p.rv() for p in priors})
