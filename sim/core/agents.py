"""The strategic actors as Mesa agents: Regime, UnitedStates, EuropeanUnion, Opposition.

Each agent holds its own state and acts through :mod:`sim.core.bargaining` (pure rules) and the model's
prisoner registry. Randomness comes only from ``self.model.rng``. The model calls the agents' methods in
the explicit order documented in :meth:`sim.core.model.RepressionBargaining.step`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import mesa
import numpy as np

from . import bargaining as bg
from .params import SECTORS
from .prisoners import (
    N_CLASSES,
    TIE_LT,
    TIE_PL,
    TIE_US,
    Profile,
    Status,
    class_table,
    draw_profiles_and_ties,
    draw_sentences,
)

if TYPE_CHECKING:
    from .model import RepressionBargaining

POTASH = SECTORS.index("potash")
_PROF, _TIES = class_table()


class USPolicy(StrEnum):
    """The US policies (levers)."""

    TRANSACTIONAL = "transactional"
    CONDITIONAL = "conditional"
    SNAPBACK = "snapback"
    MAXIMUM_PRESSURE = "maximum_pressure"
    GRAND_BARGAIN = "grand_bargain"


class Regime(mesa.Agent):
    """The regime: arrests, pardons, valuation of the prisoners it holds, learning the price, economic need.

    Attributes:
        price: learned relief per ordinary-prisoner equivalent from past deals (RU/equivalent).
        need: economic need; relief is worth ``1 + need`` times its nominal value.
        restraint: share by which arrests are held down under a conditional deal's clause (0-1).
        restraint_until: last month index of the clause's verification window.
        arrest_rate: expected arrests this month (persons/month).
    """

    def __init__(self, model: RepressionBargaining) -> None:
        super().__init__(model)
        rp = model.params.regime
        self.price = rp.initial_price
        self.need = rp.need_initial
        self.restraint = 0.0
        self.restraint_until = -1
        self.arrest_rate = rp.arrests_ref

    # ---------------------------------------------------------------- valuation
    def relief_multiplier(self) -> float:
        """How much a unit of nominal relief is worth to the regime now (need raises it)."""
        return max(0.1, 1.0 + self.need)

    def holding_values(self, worth: np.ndarray) -> np.ndarray:
        """Value of holding one prisoner of each class: control value plus option value (RU).

        Args:
            worth: ordinary-prisoner equivalents of each class in the US's eyes.
        """
        rp = self.model.params.regime
        control = np.array([rp.control_ordinary, rp.control_notable, rp.control_symbol])[_PROF]
        control = control * (1.0 - rp.expulsion_discount * rp.expel_share)
        reserve = np.where((_TIES & (TIE_LT | TIE_PL)) != 0, rp.reserve_premium, 0.0)
        return control + rp.option_weight * self.price * (worth + reserve)

    # ---------------------------------------------------------------- monthly actions
    def update_need(self) -> None:
        """Need grows as wartime demand cools and with sanctions pressure relative to the start."""
        m, rp = self.model, self.model.params.regime
        self.need = (
            rp.need_initial
            + rp.need_growth * (m.t - m.t0)
            + rp.need_sanctions * (m.sanctions_pressure() - m.pressure0)
        )

    def pardon(self) -> np.ndarray:
        """With some probability, pardon a small batch of the lowest-value prisoners (who stay)."""
        m, rp = self.model, self.model.params.regime
        if m.rng.random() >= rp.pardon_probability:
            return np.zeros(0, dtype=np.int64)
        k = int(m.rng.poisson(rp.pardon_batch))
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        idx = m.registry.pick(m.rng, cls=0, k=k)  # class 0: ordinary, no LT/PL/US ties
        m.registry.remove(idx, Status.PARDON, m.t, dest=0)
        return idx

    def expected_arrests(self) -> float:
        """Mean arrests this month: ``lambda = A_ref (1 + b_M (M - M_ref)) (1 + b_p (p/p_ref - 1)) (1 -
        c)``."""
        m, rp = self.model, self.model.params.regime
        op = m.params.opposition
        mob = max(
            0.0,
            1.0 + rp.arrest_elasticity_mobilisation * (m.opposition.mobilisation - op.reference_mobilisation),
        )
        trade = max(0.0, 1.0 + rp.arrest_elasticity_price * (self.price / max(rp.initial_price, 1e-9) - 1.0))
        restraint = self.restraint if m.t <= self.restraint_until else 0.0
        self.arrest_rate = rp.arrests_ref * mob * trade * (1.0 - restraint)
        return self.arrest_rate

    def arrest(self) -> int:
        """Draw this month's arrests (negative binomial) and register the new prisoners."""
        m, rp, pop = self.model, self.model.params.regime, self.model.params.population
        lam = self.expected_arrests()
        if lam <= 0:
            return 0
        r = rp.arrest_dispersion
        k = int(m.rng.negative_binomial(r, r / (r + lam)))
        if k:
            profile, ties = draw_profiles_and_ties(
                m.rng, k, pop, rp.arrest_share_symbol, rp.arrest_share_notable
            )
            sentence = draw_sentences(m.rng, profile, pop)
            m.registry.add(np.full(k, m.t, dtype=np.int32), sentence, profile, ties, np.zeros(k, dtype=bool))
        return k

    def learn(self, relief_value: float, equivalents: float) -> None:
        """Update the learned price after a deal (DESIGN.md "Learning")."""
        self.price = bg.update_price(
            self.price, relief_value, equivalents, self.model.params.regime.learning_rate
        )

    def forget(self) -> None:
        """A month without a deal: the going price fades."""
        self.price = bg.decay_price(self.price, self.model.params.regime.price_half_life)


class UnitedStates(mesa.Agent):
    """The US: sector-by-sector sanctions and a bargaining policy.

    Attributes:
        policy: the :class:`USPolicy`.
        level: share of each sector's sanctions in force (order of :data:`sim.core.params.SECTORS`).
        budget: US cost of the relief remaining at the start; one round may lift ``relief_per_round`` of it.
        watch: deals under snapback watch: (deal row, month, lifted levels, arrests before).
    """

    def __init__(self, model: RepressionBargaining) -> None:
        super().__init__(model)
        up = model.params.us
        self.policy = USPolicy(up.policy)
        sectors = up.sectors()
        self.level = np.array([s.level for s in sectors], dtype=float)
        self.value = np.array([s.value for s in sectors], dtype=float)
        self.cost = np.array([s.cost for s in sectors], dtype=float)
        self.budget = float(np.dot(self.level, self.cost))
        self._value_total = float(self.value.sum())
        self.watch: list[tuple[int, int, np.ndarray, float]] = []
        self._engagement_from = model.month_of(up.engagement_from) if up.engagement_from else -1
        worth = np.array([1.0, up.worth_notable, up.worth_symbol])[_PROF]
        self.worth = worth + np.where((_TIES & TIE_US) != 0, up.citizen_bonus, 0.0)

    def pressure(self) -> float:
        """US sanctions in force as a share of full sanctions, weighted by each sector's value (0-1)."""
        total = self._value_total
        return float(self.level @ self.value) / total if total > 0 else 0.0

    def round_hazard(self) -> float:
        """Monthly probability of a bargaining round (0 under maximum pressure)."""
        up = self.model.params.us
        if self.policy is USPolicy.MAXIMUM_PRESSURE or self.model.t < self._engagement_from:
            return 0.0
        if self.policy is USPolicy.CONDITIONAL and self.model.t <= self.model.regime.restraint_until:
            return 0.0  # the next step waits until the last one is verified
        return up.round_hazard_envoy if up.envoy else up.round_hazard

    def check_snapback(self) -> None:
        """Re-impose a deal's relief when arrests after it exceed the threshold (``snapback`` policy)."""
        m, up = self.model, self.model.params.us
        keep = []
        for row, month, lifted, before in self.watch:
            if m.t - month <= up.snapback_window:  # the window's months are not all recorded yet
                keep.append((row, month, lifted, before))
                continue
            after = float(
                np.mean(m.arrests_history[month + 1 - m.t0 : month + 1 + up.snapback_window - m.t0])
            )
            if after > up.snapback_threshold * max(before, 1e-9):
                self.level = np.minimum(self.level + lifted, 1.0)
                m.deals[row]["snapped_back"] = True
                m.snapbacks_this_month += 1
                m.regime.price *= 1.0 - m.params.regime.learning_rate  # relief proved revocable
        self.watch = keep

    def frontier(self, share: float) -> bg.Frontier:
        """The relief the US may grant this round, valued by the regime (transit and need)."""
        m = self.model
        value = self.value * m.regime.relief_multiplier()
        value[POTASH] *= m.eu.transit_factor()
        remaining = float(np.dot(self.level, self.cost))
        return bg.relief_frontier(self.level, value, self.cost, min(share * self.budget, remaining))

    def bargain(self) -> tuple[bg.Deal, bg.Frontier] | None:
        """Hold a round with the regime; return the deal (per class) and the frontier, or ``None``."""
        m, up, rp = self.model, self.model.params.us, self.model.params.regime
        if m.rng.random() >= self.round_hazard():
            return None
        counts = m.registry.class_counts
        if not self.level.any():  # nothing left to lift: a round, but nothing to trade
            return bg.no_deal(len(counts)), self.frontier(0.0)
        w = up.price_per_prisoner * self.worth
        v = m.regime.holding_values(self.worth)
        if self.policy is USPolicy.GRAND_BARGAIN:
            remaining = float(np.dot(self.level, self.cost))
            fr = self.frontier(up.grand_share * remaining / self.budget if self.budget > 0 else 0.0)
            return bg.take_it_or_leave_it(w, v, counts, fr), fr
        fr = self.frontier(up.relief_per_round)
        if fr.z_max <= 1e-9:
            return bg.no_deal(len(counts)), fr
        # symbols: each further one in the same deal costs the regime more control at home
        step = rp.symbol_escalation * rp.control_symbol * (1.0 - rp.expulsion_discount * rp.expel_share)
        w2, v2, m2, parent = bg.expand_escalation(
            w, v, counts, _PROF == Profile.SYMBOL, np.full(len(w), step)
        )
        fixed = up.restraint_cost if self.policy is USPolicy.CONDITIONAL else 0.0
        deal = bg.nash_release(w2, v2, m2, fr, rp.bargaining_power, fixed)
        taken = np.bincount(parent, weights=deal.taken, minlength=len(counts)).astype(np.int64)
        return bg.Deal(
            taken=taken,
            released=deal.released,
            relief_cost=deal.relief_cost,
            relief_value=deal.relief_value,
            gain_regime=deal.gain_regime,
            gain_us=deal.gain_us,
            lifted=deal.lifted,
        ), fr

    def apply(self, deal: bg.Deal, frontier: bg.Frontier) -> np.ndarray:
        """Lift the sectors a deal grants; returns the levels lifted per sector."""
        lifted = np.zeros(len(self.level))
        lifted[frontier.order] = deal.lifted[: len(frontier.order)] * self.level[frontier.order]
        self.level = np.clip(self.level - lifted, 0.0, 1.0)
        return lifted


class EuropeanUnion(mesa.Agent):
    """The EU: systemic sanctions renewed on a calendar, and control of Baltic transit for potash.

    Attributes:
        level: EU sanctions in force (0-1).
        transit_open: whether Lithuanian and Polish ports take Belarusian potash.
    """

    def __init__(self, model: RepressionBargaining) -> None:
        super().__init__(model)
        ep = model.params.eu
        self.level = ep.initial_level
        self.transit_open = ep.transit == "open"
        self._reopen = None if ep.transit_reopen_month is None else model.month_of(ep.transit_reopen_month)

    def transit_factor(self) -> float:
        """Share of potash relief's value that reaches the regime (1 with transit open)."""
        return 1.0 if self.transit_open else self.model.params.eu.transit_factor_closed

    def decide(self) -> None:
        """Reopen transit when scheduled; at the renewal month, relax or hold sanctions by stance."""
        m, ep = self.model, self.model.params.eu
        if self._reopen is not None and m.t >= self._reopen:
            self.transit_open = True
        if m.t % 12 + 1 != ep.renewal_month or m.t == m.t0:
            return
        hold = m.params.opposition.lobbying * (
            1.0 - m.opposition.fragmentation()
        )  # a united opposition lobbies
        if ep.stance == "firm":
            recent = m.arrests_history[max(0, m.t - m.t0 - ep.firm_quiet_months) : m.t - m.t0]
            quiet = len(recent) >= ep.firm_quiet_months and bool(np.all(recent <= ep.firm_quiet_arrests))
            if quiet and m.registry.held <= ep.firm_stock_threshold * (1.0 - hold):
                self.level = max(0.0, self.level - ep.relax_step)
        else:
            gap = max(0.0, self.level - m.us.pressure())
            self.level = max(0.0, self.level - ep.follow_share * gap * (1.0 - hold))


class Opposition(mesa.Agent):
    """The opposition: mobilisation at home, the exile community, and centres of legitimacy.

    Attributes:
        mobilisation: capacity and willingness to protest at home (0-1).
        exiles: released political prisoners expelled abroad so far (persons).
        centres: weights of the centres of legitimacy (the first is the leadership in exile).
    """

    def __init__(self, model: RepressionBargaining) -> None:
        super().__init__(model)
        self.mobilisation = model.params.opposition.initial_mobilisation
        op = model.params.opposition
        self.exiles = 0
        self.centres = [1.0] + [op.new_centre_weight] * (op.initial_centres - 1)
        self._update_fragmentation()

    def fragmentation(self) -> float:
        """1 - Herfindahl index of the centres' weights: 0 with one centre, towards 1 with many equal ones."""
        return self._fragmentation

    def _update_fragmentation(self) -> None:
        total = sum(self.centres)
        self._fragmentation = 1.0 - sum((c / total) ** 2 for c in self.centres)

    def absorb_releases(self, symbols_released: int, expelled: int, symbols_expelled: int) -> None:
        """Released symbols may found new centres; the expelled join the exile community."""
        op = self.model.params.opposition
        founders = (
            int(self.model.rng.binomial(symbols_released, op.new_centre_probability))
            if symbols_released
            else 0
        )
        if founders:
            self.centres.extend([op.new_centre_weight] * founders)
            self._update_fragmentation()
        self.exiles += expelled
        self.mobilisation = max(0.0, self.mobilisation - op.leadership_drain * symbols_expelled)

    def mobilise(self, arrests: int) -> None:
        """Grievance raises mobilisation, deterrence lowers it, and it recovers towards its baseline."""
        op = self.model.params.opposition
        a = arrests / 100.0
        mob = self.mobilisation
        mob += (
            op.grievance * a * (1.0 - mob)
            - op.deterrence * a * mob
            + op.recovery * (op.baseline_mobilisation - mob)
        )
        self.mobilisation = float(min(1.0, max(0.0, mob)))


__all__ = ["Regime", "UnitedStates", "EuropeanUnion", "Opposition", "USPolicy", "N_CLASSES"]
