"""Counterparts: anyone who trades releases for something it controls, behind one interface.

A :class:`Counterpart` holds relief *instruments* (sanctions sectors, licences, listings, transit, border
crossings, recognition), values the release of each class of prisoner in its own eyes, decides each month
whether to talk, and bargains with the regime by the Nash bargaining rule (:mod:`sim.core.bargaining`). Each
kind adds its own decisions:

* :class:`UnitedStates`: a policy (transactional, conditional, snapback, maximum pressure, grand bargain);
  pauses after an arrest spike; adds designations when arrests rise; verifies a restraint clause and revokes
  the relief if cheating is detected; snaps relief back after a significant rise in arrests.
* :class:`EuropeanUnion`: renews its systemic sanctions each year, tightening or relaxing by an index of
  arrests, releases, the exiles' lobbying and member states' security incidents; trades only when relaxed.
* :class:`Neighbour` (Lithuania, Poland): opens or closes transit and border crossings (its own revenue
  against security and alignment with the EU), suffers security incidents, and values prisoners tied to it.
* :class:`Mediator` (e.g. the Holy See): releases for recognition, nothing material.

A new counterpart is one class here, its parameters in :mod:`sim.core.params`, and a block in a case file.
Every decision is recorded through ``model.decide`` with the quantities it compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
from scipy import stats

from . import bargaining as bg
from .calendar import month_index
from .numerics import norm_cdf, norm_pdf
from .params import CounterpartParams, EUParams, MediatorParams, NeighbourParams, USParams
from .prisoners import N_BINS, Profile

if TYPE_CHECKING:
    from .model import RepressionBargaining


class Counterpart(mesa.Agent):
    """What every counterpart has: instruments, its valuation of releases, talks, and the bargaining round.

    Attributes:
        name: the counterpart's name in the case (``us``, ``eu``, ``lithuania`` ...).
        inst: instrument names; level, value, cost: their share in force, value to the regime, cost to it.
        worth: its value of releasing one prisoner of each class, in ordinary-prisoner equivalents.
        engaged: whether talks are open (a timeline event can open or close them).
        deal_values: relief value to the regime of each of its past deals (RU).
    """

    def __init__(self, model: RepressionBargaining, name: str, params: CounterpartParams) -> None:
        super().__init__(model)
        self.name, self.p = name, params
        self.inst = list(params.instruments)
        ins = [params.instruments[i] for i in self.inst]
        self.level = np.array([i.level for i in ins], dtype=float)
        self.level0 = self.level.copy()  # the levels at the start of the run
        self.gained = np.zeros(len(ins))  # how far each level is below its start (relief gained)
        self.gained_any = False
        self.value0 = np.array([i.value for i in ins], dtype=float)
        self.cost = np.array([i.cost for i in ins], dtype=float)
        self.complement = [
            (i.complement.split(".") if i.complement else None, i.complement_share) for i in ins
        ]
        self.revoked = np.zeros(len(ins))
        self.recovery = np.array([i.recovery_months for i in ins], dtype=float)
        self._recovers = bool(self.recovery.any())
        cls = model.registry.classes
        base = np.array([params.worth_ordinary, params.worth_notable, params.worth_symbol])[cls.profile]
        tie_bit = model.tie_bit(params.tie)
        tied = (cls.ties & tie_bit) != 0 if tie_bit else np.zeros(cls.n, dtype=bool)
        self.tied_classes = tied
        self.worth = (base + np.where(tied, params.tie_worth, 0.0)) * (1.0 + params.health_bonus * cls.poor)
        self.engaged = bool(params.engaged)
        self._from = month_index(params.engagement_from) if params.engagement_from else -(10**9)
        self.suspended_until = -1
        self.deal_values: list[float] = []
        self.reference = (
            0.0  # arrests a month before engagement (set by the model, updated until the first deal)
        )
        self.dealt = False
        self.paid: list[tuple[float, float]] = []  # (relief cost, equivalents) of its past deals
        self._rv_key = -1
        self._eq_key, self._eq = -1, 0.0
        self._rv = np.zeros(len(ins))
        self._value_total = float(self.value0.sum())

    # ---------------------------------------------------------------- interface
    def trades(self) -> bool:
        """Whether it buys releases at all."""
        return True

    def talks_open(self) -> bool:
        """Talks are open: engaged and past the month engagement can start."""
        return self.engaged and self.model.t >= self._from

    def hazard(self) -> float:
        """Monthly probability of a contact while talks are open."""
        return self.p.contact_hazard

    def announced_revocation(self) -> float:
        """The share of relief its announced policy says will be revoked (0 unless a snapback policy)."""
        return 0.0

    def arrest_penalty(self) -> float:
        """The regime's expected cost of one more arrest from this counterpart's reactions (RU)."""
        return 0.0

    def act(self) -> dict | None:
        """This month's decisions; returns the row of a deal carried out, or None."""
        return self.round()

    # ---------------------------------------------------------------- relief
    def relief_values(self) -> np.ndarray:
        """Value to the regime of lifting each instrument fully, now (RU): nominal value x the regime's relief
        multiplier x the complement factor (e.g. closed transit), discounted by the believed revocation risk,
        once more for each time the instrument was already re-imposed."""
        m = self.model
        if self._rv_key == m.epoch:
            return self._rv
        v = self.value0 * m.regime.relief_multiplier()
        if self._complements is None:  # (instrument, the counterpart and instrument it complements, share)
            self._complements = [
                (j, m.counterparts[comp[0]], m.counterparts[comp[0]].inst.index(comp[1]), share)
                for j, (comp, share) in enumerate(self.complement)
                if comp is not None
            ]
        for j, other, i, share in self._complements:
            v[j] *= share + (1.0 - share) * (1.0 - other.level[i])
        keep = 1.0 - m.regime.revocation_risk(self.name)
        key = (keep, self.revoked.tobytes())  # the discount changes only with beliefs and revocations
        if key != self._keep_key:
            self._keep_key, self._keep = key, keep ** (1.0 + self.revoked)
        self._rv_key, self._rv = m.epoch, v * self._keep
        self._remaining = float(self.level @ self._rv) if len(self.level) else 0.0
        return self._rv

    def remaining_relief(self) -> float:
        """Value to the regime of everything it still holds in force (RU)."""
        if self._rv_key != self.model.epoch:
            self.relief_values()
        return self._remaining

    def leverage_left(self) -> float:
        """Cost to it of everything it still holds in force (RU)."""
        return float(self.level @ self.cost) if len(self.level) else 0.0

    def pressure(self) -> float:
        """Share of its instruments in force, weighted by value (0-1); 0 with none."""
        if self._pressure_key != self.model.epoch:
            total = self._value_total
            self._pressure_key = self.model.epoch
            self._pressure = float(self.level @ self.value0) / total if total > 0 else 0.0
        return self._pressure

    _pressure_key, _pressure = -1, 0.0
    _complements: list | None = None
    _keep_key: tuple = ()

    def held_equivalents(self) -> float:
        """Prisoners held, in ordinary-prisoner equivalents in its eyes."""
        reg = self.model.registry
        if self._eq_key != reg.version:
            self._eq_key, self._eq = reg.version, float(reg.class_counts @ self.worth)
        return self._eq

    def exhaustion(self, price: float) -> float:
        """Share of the stock the relief it still holds can buy at ``price`` (RU/equivalent), at most 1."""
        need = price * self.held_equivalents()
        return 1.0 if need <= 0 else min(1.0, self.remaining_relief() / need)

    def cost_per_equivalent(self) -> float:
        """What it believes a release costs it (RU of its cost per equivalent): its past deals' average, or,
        before any, the regime's opening price converted at its instruments' cost-to-value ratio."""
        if self.paid:
            cost, eq = map(sum, zip(*self.paid))
            if eq > 0:
                return max(cost / eq, 1e-6)
        ratio = float(self.cost.sum() / self.value0.sum()) if self.value0.sum() > 0 else 1.0
        return max(self.model.regime.rp.initial_price * ratio, 1e-6)

    def leverage_shadow(self) -> float:
        """What one RU of its relief is worth kept for a later round, beyond its cost:
        ``mu = leverage_value x w / k``, the releases that RU would buy later at its believed cost ``k`` per
        equivalent, worth ``w`` each, discounted by ``leverage_value`` (the chance and delay of using it)."""
        return self.p.leverage_value * self.p.value_per_prisoner / self.cost_per_equivalent()

    def mean_deal_value(self) -> float:
        """Mean relief value to the regime of its past deals, or a fifth of what it holds before any (RU)."""
        return float(np.mean(self.deal_values)) if self.deal_values else 0.2 * self.remaining_relief()

    def recent_arrest_ratio(self, window: int) -> float:
        """Mean arrests over the last ``window`` months relative to the level before engagement."""
        m = self.model
        total, n = m.window("arrests", window)
        if n == 0 or self.reference <= 0:
            return 1.0
        return total / n / self.reference

    # ---------------------------------------------------------------- bargaining
    def solve(self, fixed_cost: float = 0.0, grand_share: float | None = None) -> tuple[bg.Deal, dict]:
        """A round now: the Nash bargaining solution over every class and remaining-sentence bin of the
        prisoners and the relief it holds, with its cost of relief raised by the value of keeping it as
        leverage (:meth:`leverage_shadow`): how much relief it puts on the table is the relief of that
        solution. A grand bargain offers ``grand_share`` of everything it holds, take it or leave it.

        Returns:
            The deal over the non-empty cells, and what the round needs to be carried out (cells, frontier).
        """
        m = self.model
        reg, rg = m.registry, m.regime
        mu = self.leverage_shadow()
        on = self.level > 1e-9
        info = {
            "cells": np.zeros(0, dtype=np.int64),
            "frontier": None,
            "mu": mu,
            "table": ",".join(i for i, o in zip(self.inst, on) if o),
        }
        if not len(self.level) or not on.any() or reg.held == 0:
            return bg.no_deal(0), info  # nothing to offer, or nobody to release
        counts, left = reg.counts_by_bin(m.t)
        flat = counts.ravel()
        cells = (flat > 0).nonzero()[0]
        info["cells"] = cells
        cls_of = cells // N_BINS
        months = left.ravel()[cells]
        ann = bg.annuity(rg.rp.discount, months)  # the control a prisoner gives a month, over its months left
        v = rg.cell_values(cls_of, months, self.p.expel_share, annuity=ann)
        w = self.p.value_per_prisoner * self.worth[cls_of]
        cost = self.cost * (1.0 + mu)
        if grand_share is not None:
            fr = bg.relief_frontier(
                self.level, self.relief_values(), cost, float(self.level @ cost) * grand_share
            )
            info["frontier"] = fr
            return bg.take_it_or_leave_it(w, v, flat[cells], fr, fixed_cost), info
        fr = bg.relief_frontier(self.level, self.relief_values(), cost, float(self.level @ cost))
        info["frontier"] = fr
        rp = rg.rp
        symbol = reg.classes.profile[cls_of] == Profile.SYMBOL
        step = (
            rp.symbol_escalation
            * rp.control_symbol
            * rg.threat()
            * (1.0 - rp.expulsion_discount * self.p.expel_share)
            * ann
        )
        w2, v2, n2, parent = bg.expand_escalation(w, v, flat[cells], symbol, step)
        w3, v3, n3, parent3 = bg.escalate_in_order(w2, v2, n2, rp.release_escalation / max(reg.held, 1))
        deal = bg.nash_release(w3, v3, n3, fr, rp.bargaining_power, fixed_cost)
        taken2 = np.bincount(parent3, weights=deal.taken, minlength=len(w2))
        taken = np.bincount(parent, weights=taken2, minlength=cells.size).astype(np.int64)
        return (
            bg.Deal(
                taken=taken,
                released=deal.released,
                relief_cost=deal.relief_cost / (1.0 + mu),
                relief_value=deal.relief_value,
                gain_regime=deal.gain_regime,
                gain_us=deal.gain_us,
                lifted=deal.lifted,
            ),
            info,
        )

    def round_cost(self) -> float:
        """Political cost of holding a round (RU)."""
        return self.p.round_cost

    def round(
        self,
        fixed_cost: float = 0.0,
        grand_share: float | None = None,
        clause: bool = False,
        contact: bool | None = None,
    ) -> dict | None:
        """A contact (drawn here unless the caller drew it), and if the bargaining solution is worth more to
        it
        than the round costs, a deal."""
        m = self.model
        if not self.talks_open() or m.replaying("deal") or not self.trades():
            return None
        if contact is None:
            contact = m.rng.random() < self.hazard()
        if not contact:
            return None
        if m.t <= self.suspended_until:
            m.decide(
                self.name,
                "round",
                "suspended",
                0,
                "month",
                m.t,
                "suspended_until",
                self.suspended_until,
                "rounds suspended after a revoked deal",
            )
            return None
        deal, info = self.solve(fixed_cost, grand_share)
        if not deal.happened:
            m.decide(
                self.name,
                "round",
                "no_deal",
                0,
                "gain_regime",
                deal.gain_regime,
                "gain_counterpart",
                deal.gain_us,
                "no release set and relief leaves both sides better off",
            )
            return None
        cost = self.round_cost()
        value = deal.gain_us
        if value <= cost:
            m.decide(
                self.name,
                "round",
                "decline",
                deal.relief_cost,
                "gain",
                value,
                "round_cost",
                cost,
                f"{deal.released} releases are not worth the round",
            )
            return None
        m.decide(
            self.name,
            "round",
            "hold",
            deal.relief_cost,
            "gain",
            value,
            "round_cost",
            cost,
            f"offers relief costing it {deal.relief_cost:.1f} RU (keeping it is worth "
            f"+{100 * info['mu']:.0f} %) for {deal.released} releases",
        )
        return m.carry_out(self, deal, info, clause=clause)

    def recover(self) -> None:
        """Concessions that can be given again return towards the case file's level: ``level += (level0 -
        level) / recovery_months`` a month (only instruments with ``recovery_months`` > 0)."""
        if not self._recovers:
            return
        gap = (self.level0 - self.level) * (self.recovery > 0)
        if (gap > 1e-12).any():
            step = np.divide(gap, self.recovery, out=np.zeros_like(gap), where=self.recovery > 0)
            self.set_levels(self.level + np.clip(step, 0.0, None))

    def set_levels(self, levels: np.ndarray) -> None:
        """Set the levels of all its instruments (every change goes through here: cached values refresh)."""
        self.level = np.asarray(levels, dtype=float).copy()
        self.gained = np.maximum(self.level0 - self.level, 0.0)
        self.gained_any = bool(self.gained.any())
        self.model.epoch += 1

    def set_one(self, j: int, level: float) -> None:
        """Set one instrument's level."""
        levels = self.level.copy()
        levels[j] = level
        self.set_levels(levels)

    def lift(self, deal: bg.Deal, frontier: bg.Frontier) -> np.ndarray:
        """Lift the instruments a deal grants; returns the levels lifted per instrument."""
        lifted = np.zeros(len(self.level))
        lifted[frontier.order] = deal.lifted[: len(frontier.order)] * self.level[frontier.order]
        lifted[frontier.free] = self.level[frontier.free]  # free relief (recognition) is given whole
        self.set_levels(np.clip(self.level - lifted, 0.0, 1.0))
        return lifted

    def reimpose(self, lifted: np.ndarray) -> None:
        """Re-impose levels lifted earlier (a snapback or a revoked licence); the regime remembers."""
        self.set_levels(np.minimum(self.level + lifted, 1.0))
        self.revoked += lifted > 1e-9
        self.model.regime.learn_revocation(self.name, True)

    def set_level(self, instrument: str, level: float) -> None:
        """Set an instrument's level (a timeline fact); raising a lifted one counts as a revocation."""
        j = self.inst.index(instrument)
        if level > self.level[j] + 1e-9 and self.dealt:
            self.revoked[j] += 1
            self.model.regime.learn_revocation(self.name, True)
        self.set_one(j, level)


class UnitedStates(Counterpart):
    """The United States: sector sanctions, an envoy, a policy, and the decisions that go with it.

    Attributes:
        policy: the bargaining policy.
        watch: deals under snapback watch: (month, levels lifted, expected arrests in the window, critical
        count).
        next_designation: first month the next designation decision can be taken.
    """

    p: USParams

    def __init__(self, model: RepressionBargaining, name: str, params: USParams) -> None:
        super().__init__(model, name, params)
        self.policy = params.policy
        self.watch: list[tuple[int, np.ndarray, float, int]] = []
        self.next_designation = model.t0
        self._designation = (
            self.inst.index(params.designation_instrument) if params.designation_instrument else -1
        )

    def trades(self) -> bool:
        return self.policy != "maximum_pressure"

    def hazard(self) -> float:
        return self.p.contact_hazard_envoy if self.p.envoy else self.p.contact_hazard

    def announced_revocation(self) -> float:
        return self.p.snapback_alpha if self.policy == "snapback" else 0.0

    def round_cost(self) -> float:
        """Political cost of a round, raised by the revolving door: ``c (1 + credibility max(0, A/R - 1))``
        with A and R the arrests and releases of the past year."""
        m = self.model
        arrests, _ = m.window("arrests", 12)
        releases, _ = m.window("releases", 12)
        door = arrests / releases if releases > 0 else 1.0
        return self.p.round_cost * (1.0 + self.p.credibility * max(0.0, door - 1.0))

    def arrest_penalty(self) -> float:
        """Designations and snapbacks the regime expects per arrest (RU): the value ``V`` of each reaction to
        the regime times how much one more arrest raises its probability.

        Designation: ``P = Phi((r - r*) / s)`` with ``r`` the arrest ratio over the window, so one arrest adds
        ``phi((r - r*) / s) / (s n A0)`` (``n`` months, ``A0`` the reference rate). Snapback: one more arrest
        tips the window's count over the critical count with the probability that the count is one short.
        """
        p, m = self.p, self.model
        total = 0.0
        if self._designation >= 0 and self.reference > 0 and m.t >= self.next_designation:
            step = min(p.designation_step, 1.0 - self.level[self._designation])
            v = step * self.relief_values()[self._designation]
            ratio = self.recent_arrest_ratio(p.pause_window)
            z = (ratio - p.designation_threshold) / p.designation_noise
            total += v * norm_pdf(z) / (p.designation_noise * p.pause_window * self.reference)
        for month, lifted, expected, critical in self.watch:
            if m.t <= month:
                continue  # the deal's own month is not in the window the test counts
            seen = m.arrests_between(month + 1, m.t - 1)
            left = max(p.snapback_window - (m.t - month - 1), 1)
            mean = expected / p.snapback_window * (left - 1)
            r = m.params.regime.arrest_dispersion * max(left - 1, 1)
            short = (
                critical - 1 - seen
            )  # one arrest now tips the count over if the rest of the window adds this
            prob = float(stats.nbinom.pmf(short, r, r / (r + max(mean, 1e-9)))) if short >= 0 else 0.0
            total += float(lifted @ self.relief_values()) * prob
        return total

    def act(self) -> dict | None:
        m = self.model
        if self.policy == "snapback":
            self.check_snapback()
        if not m.replaying("instrument"):
            self.designate_after_spike()
        if not self.talks_open() or not self.trades() or m.replaying("deal"):
            return None
        if m.rng.random() >= self.hazard():
            return None  # no contact this month
        ratio = self.recent_arrest_ratio(self.p.pause_window)
        threshold = getattr(self.p.pause, self.policy)
        if ratio > threshold:
            m.decide(
                "us",
                "round",
                "pause",
                0,
                "arrest_ratio",
                ratio,
                "pause_threshold",
                threshold,
                f"arrests at {ratio:.2f}x their level before engagement",
            )
            return None
        if self.policy == "conditional":
            clause = m.regime.clause
            if clause is not None and m.t <= clause["until"]:
                return None  # the next step waits until the last one is verified
        if not m.replaying("instrument"):
            self.rebuild_leverage()
        if self.policy == "conditional":
            fixed = m.regime.expected_clause_cost(self.p.verification_months)
            return self.round(fixed_cost=fixed, clause=True, contact=True)
        if self.policy == "grand_bargain":
            return self.round(grand_share=self.p.grand_share, contact=True)
        return self.round(contact=True)

    def _designate(self, step: float, why: tuple) -> None:
        j = self._designation
        before = self.level[j]
        self.set_one(j, before + step)
        self.model.month_designations += 1
        self.model.decide(
            "us",
            "designation",
            "designate",
            step,
            why[0],
            why[1],
            why[2],
            why[3],
            f"{self.inst[j]} raised to {self.level[j]:.2f} ({why[4]})",
        )

    def designate_after_spike(self) -> None:
        """Add designations after an arrest spike (at most once per ``designation_cooldown``): with
        probability
        ``Phi((r - designation_threshold) / designation_noise)``, ``r`` the arrest ratio over the window (a
        punishment that also rebuilds leverage)."""
        p, m = self.p, self.model
        if self._designation < 0 or m.t == m.t0 or m.t < self.next_designation:
            return
        step = min(p.designation_step, 1.0 - self.level[self._designation])
        if step <= 1e-9:
            return
        ratio = self.recent_arrest_ratio(p.pause_window)
        chance = norm_cdf((ratio - p.designation_threshold) / p.designation_noise)
        if m.rng.random() < chance:
            self.next_designation = m.t + p.designation_cooldown
            self._designate(
                step,
                (
                    "arrest_ratio",
                    ratio,
                    "designation_threshold",
                    p.designation_threshold,
                    f"chance {chance:.2f}",
                ),
            )

    def rebuild_leverage(self) -> None:
        """At a contact, when the relief it still holds is worth less to the regime than one of its average
        deals, designate to have something to trade, if a designation step buys releases worth more to it
        than it costs: ``w x (step x V) / p > (1 + mu) x step x C + designation_cost`` (``V``, ``C`` the
        designation instrument's value to the regime and cost to the US, ``p`` the going price); the more it
        is worth, the larger the step: ``step x benefit / cost``, up to the whole instrument."""
        p, m = self.p, self.model
        j = self._designation
        if j < 0 or not self.deal_values or self.remaining_relief() >= self.mean_deal_value():
            return
        step = min(p.designation_step, 1.0 - self.level[j])
        if step <= 1e-9:
            return
        price = max(m.regime.price.get(self.name, 0.0), 1e-9)
        buys = p.value_per_prisoner * step * self.relief_values()[j] / price
        costs = (1.0 + self.leverage_shadow()) * step * self.cost[j] + p.designation_cost
        if buys > costs:
            self._designate(
                min(1.0 - self.level[j], step * buys / costs),
                ("releases_it_buys", buys, "its_cost", costs, "rebuilding leverage to trade"),
            )

    def start_watch(self, lifted: np.ndarray) -> None:
        """After a deal under snapback: watch the next ``snapback_window`` months of arrests."""
        m, p = self.model, self.p
        total, n = m.window("arrests", 6)
        rate = total / n if n else m.regime.arrest_rate
        expected = max(rate, 1e-6) * p.snapback_window
        r = m.params.regime.arrest_dispersion * p.snapback_window
        critical = int(stats.nbinom.isf(p.snapback_alpha, r, r / (r + expected))) + 1
        self.watch.append((m.t, lifted, expected, critical))

    def check_snapback(self) -> None:
        """Re-impose a deal's relief when arrests over the window after it are significantly above the rate
        before it: a one-sided negative-binomial test at level ``snapback_alpha``."""
        m, p = self.model, self.p
        keep = []
        for month, lifted, expected, critical in self.watch:
            if m.t - month <= p.snapback_window:
                keep.append((month, lifted, expected, critical))
                continue
            seen = m.arrests_between(month + 1, month + p.snapback_window)
            if seen >= critical:
                self.reimpose(lifted)
                m.snapback_deal(self.name, month)
                m.decide(
                    "us",
                    "snapback",
                    "reimpose",
                    float(lifted.sum()),
                    "arrests_after",
                    seen,
                    "critical_count",
                    critical,
                    f"expected {expected:.0f} over {p.snapback_window} months",
                )
            else:
                m.regime.learn_revocation(self.name, False)
                m.decide(
                    "us",
                    "snapback",
                    "keep",
                    0,
                    "arrests_after",
                    seen,
                    "critical_count",
                    critical,
                    f"expected {expected:.0f} over {p.snapback_window} months",
                )
        self.watch = keep

    def detect(self) -> None:
        """A month of cheating on the restraint clause: detected with probability ``detection``; then the
        conditional deal's relief is revoked and rounds are suspended."""
        m, p = self.model, self.p
        clause = m.regime.clause
        if clause is None or not m.regime.cheating:
            return
        if m.rng.random() < p.detection:
            self.reimpose(clause["lifted"])
            self.suspended_until = m.t + p.suspension_months
            m.snapback_deal(self.name, clause["month"])
            m.regime.clause = None
            m.decide(
                "us",
                "verification",
                "revoke",
                float(clause["lifted"].sum()),
                "detection",
                p.detection,
                "suspension_months",
                p.suspension_months,
                "cheating on the restraint clause detected",
            )


class EuropeanUnion(Counterpart):
    """The EU: systemic sanctions renewed each year by its own rules; it trades only when relaxed."""

    p: EUParams

    def __init__(self, model: RepressionBargaining, name: str, params: EUParams) -> None:
        super().__init__(model, name, params)
        self.stock0 = model.registry.held

    _step_key, _step_value = -1, 0.0

    def trades(self) -> bool:
        return self.p.stance == "relaxed"

    def arrest_penalty(self) -> float:
        """The regime's expected cost of one more arrest at the next renewal (RU): a tightening step worth
        ``V`` to it, times the rise of its probability ``Phi((I - I*) / s)`` as one arrest raises the index
        by ``w_a / (12 A0)``."""
        p = self.p
        if not len(self.level) or self.reference <= 0:
            return 0.0
        if self._step_key != self.model.epoch:
            values = self.relief_values()
            self._step_key = self.model.epoch
            self._step_value = min(p.step, float(1.0 - self.level.max())) * float(values.max())
        v = self._step_value
        idx, _ = self.index()
        dens = norm_pdf((idx - p.tighten_above) / p.index_noise) / p.index_noise
        m = self.model
        _, n = m.window("arrests", 12)
        until = (p.renewal_month - 1 - m.t % 12) % 12  # months from this one to the next renewal
        months = min(n + until + 1, 12)  # the months the renewal's average will cover, this one included
        return v * dens * p.weight_arrests / (months * self.reference)

    def index(self) -> tuple[float, dict]:
        """The renewal index: ``w_a (A/A0 - 1) - w_r R/H + w_l L + w_i I`` over the past year."""
        m, p = self.model, self.p
        arrests, n = m.window("arrests", 12)
        rate = arrests / n if n else m.regime.arrest_rate
        releases, _ = m.window("releases", 12)
        incidents, _ = m.window("incidents", 12)
        parts = {
            "arrests": p.weight_arrests * (rate / self.reference - 1.0) if self.reference > 0 else 0.0,
            "releases": -p.weight_releases * releases / max(m.registry.held, 1),
            "lobbying": p.weight_lobbying * m.opposition.lobbying(),
            "incidents": p.weight_incidents * incidents,
        }
        return float(sum(parts.values())), parts

    def act(self) -> dict | None:
        m, p = self.model, self.p
        if (
            m.t % 12 + 1 == p.renewal_month
            and m.t != m.t0
            and len(self.level)
            and not m.replaying("instrument")
        ):
            self.renew()
        return self.round() if self.trades() else None

    def renew(self) -> None:
        """Tighten with probability ``Phi((I - tighten_above) / s)``; else relax with probability
        ``Phi((relax_below - I) / s)`` (a firm EU only once the stock has fallen to ``firm_stock_share`` of
        its
        level at the start); else hold."""
        m, p = self.model, self.p
        idx, parts = self.index()
        before = self.level.copy()
        us = m.counterparts.get("us")
        u = m.rng.random()
        tighten = norm_cdf((idx - p.tighten_above) / p.index_noise)
        relax = norm_cdf((p.relax_below - idx) / p.index_noise)
        if u < tighten:
            self.set_levels(np.minimum(1.0, self.level + p.step))
            choice, against = "tighten", p.tighten_above
        elif u > 1.0 - relax and (
            p.stance == "relaxed" or m.registry.held <= p.firm_stock_share * self.stock0
        ):
            if p.stance == "relaxed" and us is not None:
                gap = np.maximum(0.0, self.level - us.pressure())
                self.set_levels(np.maximum(0.0, self.level - np.maximum(p.step, p.follow_share * gap)))
            else:
                self.set_levels(np.maximum(0.0, self.level - p.step))
            choice, against = "relax", p.relax_below
        else:
            choice, against = "hold", p.tighten_above
        m.decide(
            "eu",
            "renewal",
            choice,
            float((self.level - before).sum()),
            "index",
            idx,
            "threshold",
            against,
            ", ".join(f"{k} {v:+.2f}" for k, v in parts.items()),
        )


class Neighbour(Counterpart):
    """A neighbour controlling transit and border crossings, with security incidents and its own people."""

    p: NeighbourParams

    def __init__(self, model: RepressionBargaining, name: str, params: NeighbourParams) -> None:
        super().__init__(model, name, params)
        self._transit = self.inst.index(params.transit_instrument) if params.transit_instrument else -1
        self._borders = [j for j in range(len(self.inst)) if j != self._transit]
        self.incidents = np.zeros(0)

    def act(self) -> dict | None:
        m = self.model
        self.incident()
        if not m.replaying("instrument"):
            self.review_transit()
        return self.round()

    def incident(self) -> None:
        """Security incidents attributed to the regime (Poisson); a severe one closes the border crossings."""
        m, p = self.model, self.p
        if m.t <= m.timeline_end:
            return  # within the timeline, incidents are its facts
        k = int(m.rng.poisson(p.incident_rate)) if p.incident_rate > 0 else 0
        if not k:
            return
        m.month_incidents += k
        severity = float(m.rng.random(k).max())
        if severity >= p.close_severity and not m.replaying("instrument"):
            closed = [j for j in self._borders if self.level[j] < 1.0]
            for j in closed:
                self.set_one(j, 1.0)
            if closed:
                m.decide(
                    self.name,
                    "border",
                    "close",
                    len(closed),
                    "severity",
                    severity,
                    "close_severity",
                    p.close_severity,
                    f"{k} incident(s) this month",
                )

    def review_transit(self) -> None:
        """Reopen transit when its revenue beats the security and alignment costs of an open route,
        ``revenue > security x incidents over the year + alignment x EU sanctions``; close it again only for
        security, ``security x incidents > revenue`` (a route opened in a deal is not closed to align with
        the EU).
        """
        m, p = self.model, self.p
        if self._transit < 0:
            return
        incidents, _ = m.window("incidents", 12)
        eu = m.counterparts.get("eu")
        alignment = p.alignment_cost * (eu.pressure() if eu is not None else 0.0)
        security = p.security_cost * incidents
        j = self._transit
        is_open = self.level[j] < 0.5
        if not is_open and p.transit_revenue > security + alignment:
            self.set_one(j, 0.0)
            m.decide(
                self.name,
                "transit",
                "reopen",
                1,
                "revenue",
                p.transit_revenue,
                "cost",
                security + alignment,
                f"{incidents:.0f} incidents over the year; EU alignment {alignment:.2f}",
            )
        elif is_open and security > p.transit_revenue:
            self.set_one(j, 1.0)
            m.decide(
                self.name,
                "transit",
                "close",
                1,
                "revenue",
                p.transit_revenue,
                "security_cost",
                security,
                f"{incidents:.0f} incidents over the year",
            )


class Mediator(Counterpart):
    """A humanitarian mediator: releases for recognition and nothing material."""

    p: MediatorParams


KINDS: dict[str, type[Counterpart]] = {
    "us": UnitedStates,
    "eu": EuropeanUnion,
    "lithuania": Neighbour,
    "poland": Neighbour,
    "holy_see": Mediator,
}
