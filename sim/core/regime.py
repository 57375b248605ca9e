"""The regime as a Mesa agent: what a prisoner is worth to it, and its decisions.

Decisions (each written in ``docs/ODD.md`` with its equation, and recorded when it fires):

* **arrests** every month: the marginal value of one more prisoner (its control value over a sentence plus its
  expected value as a chip) against the expected external cost of an arrest (designations, snapback, EU
  tightening) and a convex domestic cost; the chosen rate is drawn with negative-binomial noise;
* **compliance** with a restraint clause, every month it is verified: cheat when the gain from arresting
  freely exceeds the probability of detection times the penalty (the deal's relief revoked, rounds lost);
* **decompression**: release the prisoners whose net holding value has turned negative (capacity);
* goodwill **pardons** come as a stochastic process (not a decision), of the prisoners worth least to hold.

Beliefs it learns from what it observes: the price each counterpart pays (RU per ordinary-prisoner equivalent
in that counterpart's eyes), how often each counterpart holds rounds, and whether relief gets revoked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from . import bargaining as bg
from .numerics import sale_factor
from .prisoners import N_BINS, Status

if TYPE_CHECKING:
    from .model import RepressionBargaining


class Regime(mesa.Agent):
    """The regime.

    Attributes:
        price: learned price per counterpart (RU per ordinary-prisoner equivalent in its eyes).
        round_belief: believed monthly probability of a round with each counterpart (1/month).
        revocation: believed share of relief from each counterpart that will be revoked (0-1).
        need: economic need; relief is worth ``(1 + need)`` times its nominal value before Russia's support.
        clause: the restraint clause being verified, or None: counterpart, until month, arrest cap, relief
        at stake.
        cheating: whether the regime cheats on the clause this month.
    """

    def __init__(self, model: RepressionBargaining) -> None:
        super().__init__(model)
        rp = model.params.regime
        self.rp = rp
        names = list(model.counterparts)
        self.price = dict.fromkeys(names, rp.initial_price)
        self.round_belief = {
            n: (c.hazard() if c.talks_open() and c.trades() else 0.0) for n, c in model.counterparts.items()
        }
        self.revocation = dict.fromkeys(names, rp.revocation_prior)
        self.need = rp.need_initial
        self.need_drift = 0.0  # accumulated rise of need as wartime demand cools (need_growth a month)
        self.clause: dict | None = None
        self.cheating = False
        self.crackdown = 1.0
        ctrl = np.array([rp.control_ordinary, rp.control_notable, rp.control_symbol])
        self._control = ctrl[model.registry.classes.profile]
        self._sentence_ordinary = 12.0 * model.params.population.sentence_ordinary_years
        self._ordinary = int(model.registry.classes.code(np.array([0]), np.array([0]), np.array([False]))[0])
        self.arrest_rate = rp.arrests_ref
        self.last = {"chip": 0.0, "control": 0.0, "marginal": 0.0, "external": 0.0, "net": 0.0}

    # ---------------------------------------------------------------- what things are worth
    def relief_multiplier(self) -> float:
        """What a unit of nominal Western relief is worth to the regime now: need raises it, Russia's support
        (an outside option) lowers it."""
        m = self.model
        rus = m.params.russia
        return max(0.1, 1.0 + self.need) * (1.0 - rus.substitution * m.russia_support)

    def revocation_risk(self, name: str) -> float:
        """Believed share of relief from ``name`` that will be revoked, with a counterpart's announced
        policy."""
        c = self.model.counterparts[name]
        return 1.0 - (1.0 - self.revocation[name]) * (1.0 - c.announced_revocation())

    def threat(self) -> float:
        """How much the opposition threatens the regime: mobilisation raises the control value of prisoners,
        a fragmented opposition threatens less."""
        m, rp = self.model, self.rp
        return 1.0 + rp.threat_mobilisation * m.opposition.mobilisation * (
            1.0 - rp.threat_fragmentation * m.opposition.fragmentation()
        )

    def control_flow(self) -> np.ndarray:
        """Net domestic value of holding one prisoner of each class a month (RU/prisoner-month): control
        (scaled by threat) minus the capacity cost of a full prison system."""
        m = self.model
        op = m.opposition
        key = (m.registry.version, op.mobilisation, op.fragmentation())
        if key != self._flow_key:
            self._flow_key = key
            self._flow = self._control * self.threat() - self.rp.capacity_cost * m.registry.held / 1000.0
        return self._flow

    _flow_key: tuple = ()
    _flow = None

    def _chip_terms(self) -> list[tuple[float, float, np.ndarray]]:
        """For each counterpart the regime expects to sell to: (round belief, price x exhaustion x (1 - risk),
        its worth of each class)."""
        terms = []
        for name, c in self.model.counterparts.items():
            h = self.round_belief[name]
            if h <= 0 or not c.trades():
                continue
            scale = self.price[name] * c.exhaustion(self.price[name]) * (1.0 - self.revocation_risk(name))
            terms.append((h, scale, c.worth))
        return terms

    def cell_values(
        self, cls: np.ndarray, months: np.ndarray, expel_share: float = 0.0, annuity: np.ndarray | None = None
    ) -> np.ndarray:
        """Value of holding one prisoner of class ``cls[i]`` with ``months[i]`` months left (RU).

        ``v = c_k a(r) (1 - expulsion_discount x expel_share) + max_c D(h_c, delta, r) X_c p_c e_ck (1 -
        rho_c)``:
        the control it gives until release (less what is not lost when the released are expelled), plus its
        value as a chip: sold at most once, to whoever pays most; ``D`` the discounted chance of a sale before
        the sentence ends (:func:`bg.sale_factor`), ``X_c`` the share of the stock the relief still on the
        table
        can pay for at the going price (exhaustion), ``e_ck`` the prisoner's worth in c's eyes, ``rho_c`` the
        believed revocation risk.
        """
        rp = self.rp
        flow = self.control_flow()[cls] * (1.0 - rp.expulsion_discount * expel_share)
        r = np.maximum(np.asarray(months, float), 0.0)
        v = flow * (bg.annuity(rp.discount, r) if annuity is None else annuity)
        best = np.zeros(np.shape(v))
        for h, scale, worth in self._chip_terms():
            best = np.maximum(best, bg.sale_factor_clipped(h, rp.discount, r) * scale * worth[cls])
        return v + best

    def holding_values(self, months_left: np.ndarray, expel_share: float = 0.0) -> np.ndarray:
        """:meth:`cell_values` for every class (rows) and bin (columns) of ``months_left``."""
        cls = np.broadcast_to(np.arange(months_left.shape[0])[:, None], months_left.shape)
        return self.cell_values(cls, months_left, expel_share)

    # ---------------------------------------------------------------- beliefs
    def observe_month(self, rounds: set[str]) -> None:
        """Update the believed round rate of each counterpart from whether it held a round this month."""
        b = self.rp.belief_rate
        for name, c in self.model.counterparts.items():
            target = 1.0 if name in rounds else 0.0
            self.round_belief[name] = (1 - b) * self.round_belief[name] + b * target if c.trades() else 0.0

    def learn_price(self, name: str, relief_value: float, equivalents: float) -> None:
        """After a deal: ``p <- (1 - eta) p + eta * relief value / equivalents released`` (in c's eyes)."""
        self.price[name] = bg.update_price(self.price[name], relief_value, equivalents, self.rp.learning_rate)

    def learn_revocation(self, name: str, revoked: bool) -> None:
        """After a revocation (or a watch that passed without one), move the belief towards 1 (or 0)."""
        r = self.rp.revocation_learning
        self.revocation[name] = (1 - r) * self.revocation[name] + r * (1.0 if revoked else 0.0)
        self.model.epoch += 1

    def update_need(self) -> None:
        """Need grows as wartime demand cools and with sanctions pressure relative to the start."""
        m, rp = self.model, self.rp
        if m.t > m.t0:
            self.need_drift += rp.need_growth
        self.need = rp.need_initial + self.need_drift + rp.need_sanctions * (m.pressure() - m.pressure0)

    # ---------------------------------------------------------------- decisions
    def _cost(self, lam: np.ndarray | float) -> np.ndarray:
        """Convex domestic cost of an arrest rate: ``c0 l0 (l/l0)^(1+1/e) / (1+1/e)`` (RU a month)."""
        rp = self.rp
        e = max(rp.arrest_elasticity, 1e-6)
        l0 = max(rp.arrests_ref * self.crackdown, 1e-9)
        return rp.arrest_cost * l0 * (np.asarray(lam, float) / l0) ** (1 + 1 / e) / (1 + 1 / e)

    def marginal_value(self) -> tuple[float, float, float]:
        """(control value, chip value, external cost) of one more arrest now: an ordinary prisoner with no
        tie, held for a median ordinary sentence (RU)."""
        m, rp = self.model, self.rp
        s = self._sentence_ordinary
        k = self._ordinary
        control = float(self.control_flow()[k]) * (1.0 - rp.discount**s) / (1.0 - rp.discount)
        chip = 0.0
        for h, scale, worth in self._chip_terms():
            chip = max(chip, sale_factor(h, rp.discount, s) * scale * float(worth[k]))
        external = sum(c.arrest_penalty() for c in m.counterparts.values())
        return control, chip, float(external)

    def decide_arrests(self) -> float:
        """The arrest rate this month: ``lambda* = lambda0 k ((MV - MC) / c0)^e`` (0 when MV <= MC), with
        ``k`` a crackdown multiplier (timeline shocks); under a restraint clause, comply or cheat."""
        rp = self.rp
        control, chip, external = self.marginal_value()
        net = control + chip - external
        lam = rp.arrests_ref * self.crackdown * (max(net, 0.0) / rp.arrest_cost) ** rp.arrest_elasticity
        self.last = {
            "chip": chip,
            "control": control,
            "marginal": control + chip,
            "external": external,
            "net": net,
        }
        self.cheating = False
        if self.clause is not None:
            lam = self._comply_or_cheat(lam, net)
        self.arrest_rate = lam
        return lam

    def _comply_or_cheat(self, lam: float, net: float) -> float:
        """Under a restraint clause: cheat iff gain - detection x penalty + logistic noise > 0."""
        m, cl = self.model, self.clause
        if m.t > cl["until"]:
            return lam
        cap = cl["cap"]
        if lam <= cap:
            m.decide(
                "regime",
                "compliance",
                "comply",
                lam,
                "gain_from_cheating",
                0.0,
                "expected_penalty",
                0.0,
                f"the free arrest rate {lam:.1f}/month is within the cap {cap:.1f}",
            )
            return lam
        gain = float(net * (lam - cap) - (self._cost(lam) - self._cost(cap)))
        c = m.counterparts[cl["counterpart"]]
        penalty = self.cheating_penalty(c, cl["at_stake"])
        expected = c.p.detection * penalty
        noise = m.rng.logistic(0.0, self.rp.decision_noise)
        self.cheating = gain - expected + noise > 0
        m.decide(
            "regime",
            "compliance",
            "cheat" if self.cheating else "comply",
            lam if self.cheating else cap,
            "gain_from_cheating",
            gain,
            "expected_penalty",
            expected,
            f"detection {c.p.detection:.2f}/month x penalty {penalty:.1f} RU",
        )
        return lam if self.cheating else cap

    def cheating_penalty(self, c, at_stake: float) -> float:
        """What the regime loses if its cheating is detected (RU): the deal's relief, revoked, and the rounds
        it would have had with the counterpart during the suspension,
        ``at_stake + suspension_months x round belief x mean deal value``."""
        return at_stake + c.p.suspension_months * self.round_belief[c.name] * c.mean_deal_value()

    def expected_clause_cost(self, verification: int) -> float:
        """The regime's expected cost of accepting a restraint clause (RU): over the verified months
        (discounted), the cheaper each month of complying (the arrests it gives up) and cheating (the
        detection probability times :meth:`cheating_penalty` of a typical deal)."""
        m, rp = self.model, self.rp
        lam = self.arrest_rate
        us = m.counterparts.get("us")
        if us is None or lam <= 0:
            return 0.0
        cap = (1.0 - us.p.restraint) * lam
        net = self.last["net"]
        comply = float(net * (lam - cap) - (self._cost(lam) - self._cost(cap)))
        cheat = us.p.detection * self.cheating_penalty(us, us.mean_deal_value())
        months = np.arange(verification)
        return float(np.sum(rp.discount**months) * max(0.0, min(comply, cheat)))

    def pardon(self) -> int:
        """A goodwill pardon batch, with probability ``pardon_probability``: the prisoners worth least to hold
        (they stay in the country). Returns how many were released."""
        m, rp = self.model, self.rp
        if m.replaying("pardon") or m.rng.random() >= rp.pardon_probability:
            return 0
        k = int(m.rng.poisson(rp.pardon_batch))
        return self.release_lowest(k, "goodwill pardon") if k else 0

    def decompress(self) -> int:
        """Release every prisoner whose net holding value has turned negative (the prisons cost more than the
        prisoners are worth); returns how many."""
        m = self.model
        if m.replaying("pardon") or self.control_flow().min() >= 0:  # chips are never worth less than 0
            return 0
        counts, left = m.registry.counts_by_bin(m.t)
        v = self.holding_values(left)
        neg = (v < 0) & (counts > 0)
        if not neg.any():
            return 0
        k = int(counts[neg].sum())
        m.decide(
            "regime",
            "decompression",
            "release",
            k,
            "lowest_holding_value",
            float(v[neg].min()),
            "threshold",
            0.0,
            f"{k} prisoners are worth less than nothing to hold",
        )
        return self.release_cells(np.argwhere(neg), counts, Status.PARDON)

    def lowest(self, k: int) -> np.ndarray:
        """Rows of the ``k`` held prisoners with the lowest holding value (a scan)."""
        m = self.model
        counts, left = m.registry.counts_by_bin(m.t)
        flat = counts.ravel()
        cells = (flat > 0).nonzero()[0]
        if cells.size == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64)
        v = self.cell_values(cells // N_BINS, left.ravel()[cells])
        order = cells[v.argsort(kind="stable")]
        cum = flat[order].cumsum()
        last = min(int(cum.searchsorted(k)), len(cum) - 1)  # the cells up to this one cover k
        take = flat[order[: last + 1]].copy()
        take[-1] -= max(0, int(cum[last]) - k)
        return m.registry.pick_cells(m.rng, m.t, order[: last + 1], take)

    def release_lowest(self, k: int, why: str, dest: np.ndarray | None = None, parole: bool = False) -> int:
        """Release the ``k`` held prisoners with the lowest holding value, as a pardon: they stay (or go where
        ``dest`` codes say), on parole if ``parole``."""
        m = self.model
        idx = self.lowest(k)
        d = 0 if dest is None else dest[: len(idx)]
        m.registry.remove(idx, Status.PARDON, m.t, dest=d, parole=parole & (np.asarray(d) == 0))
        m.month_pardoned += len(idx)
        m.month_expelled += int(np.sum(np.asarray(d) > 0))
        return len(idx)

    def release_cells(self, cells: np.ndarray, counts: np.ndarray, status: Status) -> int:
        """Release everyone held in the (class, bin) cells given (they stay in the country)."""
        m = self.model
        codes = np.asarray([c * N_BINS + b for c, b in cells], dtype=np.int64)
        idx = m.registry.pick_cells(m.rng, m.t, codes, counts.ravel()[codes])
        m.registry.remove(idx, status, m.t, dest=0)
        m.month_pardoned += len(idx)
        return len(idx)
