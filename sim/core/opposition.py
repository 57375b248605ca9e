"""The opposition as a Mesa agent: individuals with thresholds, the exile community, centres of legitimacy.

Mobilisation can tip. Each represented individual ``i`` joins when the participation they perceive reaches
their threshold ``theta_i`` (Granovetter 1978): a core of committed activists (threshold 0) and the rest drawn
from a normal distribution. The perceived participation is last month's share active, raised by grievance at
arrests and by the hope that releases bring, lowered by deterrence (arrests) and by the loss of leaders
expelled abroad (Epstein 2002 for the grievance/risk form):

    x_t = M_{t-1} + (g - d) A_t / 100 + h R_t / 100 - l S_t,      M_t = share of i with theta_i <= x_t.

Because the threshold distribution is not uniform, the map has several fixed points: small shocks die out,
large ones tip mobilisation to a high state.

Exiles lobby the EU and the US: their pressure grows with the exile community's size and unity,
``L = lobbying (1 - F) E / (E + E_half)``, F the fragmentation (one minus the Herfindahl index of the centres'
weights). Released symbols may found new centres of legitimacy, which fragments the opposition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from .model import RepressionBargaining


class Opposition(mesa.Agent):
    """The opposition.

    Attributes:
        thresholds: sorted thresholds of the represented individuals (share active needed to join).
        mobilisation: share active (0-1).
        perceived: the participation perceived this month (``x_t``).
        exiles: the exile community (persons).
        centres: weights of the centres of legitimacy (the first is the leadership in exile).
    """

    def __init__(self, model: RepressionBargaining) -> None:
        super().__init__(model)
        op = model.params.opposition
        self.op = op
        n = op.individuals
        core = int(round(op.core_share * n))
        rest = np.clip(model.rng.normal(op.threshold_mean, op.threshold_sd, n - core), 1e-9, 1.0)
        self.thresholds = np.sort(np.concatenate([np.zeros(core), rest]))
        self.mobilisation = float(op.initial_mobilisation)
        self.perceived = self.mobilisation
        self.exiles = float(op.exiles_initial)
        self.centres = [1.0] + [op.new_centre_weight] * (op.initial_centres - 1)
        self._update_fragmentation()

    def fragmentation(self) -> float:
        """1 - Herfindahl index of the centres' weights: 0 with one centre, towards 1 with many equal ones."""
        return self._fragmentation

    def _update_fragmentation(self) -> None:
        total = sum(self.centres)
        self._fragmentation = 1.0 - sum((c / total) ** 2 for c in self.centres)

    def lobbying(self) -> float:
        """The exiles' lobbying pressure (0-1): ``lobbying x (1 - F) x E / (E + E_half)``."""
        op = self.op
        return op.lobbying * (1.0 - self._fragmentation) * self.exiles / (self.exiles + op.exiles_half)

    def absorb_releases(self, symbols_released: int, expelled: int) -> None:
        """Released symbols may found new centres; the expelled join the exile community."""
        op = self.op
        if symbols_released:
            founders = int(self.model.rng.binomial(symbols_released, op.new_centre_probability))
            if founders:
                self.centres.extend([op.new_centre_weight] * founders)
                self._update_fragmentation()
        self.exiles += expelled

    def mobilise(self, arrests: int, released: int, symbols_expelled: int) -> float:
        """The month's mobilisation from the perceived participation and the thresholds; returns it."""
        op = self.op
        x = (
            self.mobilisation
            + (op.grievance - op.deterrence) * arrests / 100.0
            + op.hope * released / 100.0
            - op.loss * symbols_expelled
        )
        self.perceived = float(x)
        self.mobilisation = float(np.searchsorted(self.thresholds, x, side="right")) / len(self.thresholds)
        return self.mobilisation
