"""The Mesa model of repression as bargaining, with its explicit monthly step order.

Prisoners live in a columnar registry (:mod:`sim.core.prisoners`); the strategic actors are Mesa agents: the
regime (:mod:`sim.core.regime`), the counterparts of the case (:mod:`sim.core.counterparts`) and the
opposition (:mod:`sim.core.opposition`). Outputs are recorded into preallocated arrays (one slot a month), a
list of deals and a list of decisions; :mod:`sim.core.run` turns them into tables. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import mesa
import numpy as np

from .calendar import month_index, month_text
from .counterparts import KINDS, Counterpart
from .numerics import clip01
from .opposition import Opposition
from .params import COUNTERPARTS, ScenarioParams
from .prisoners import (
    ClassMap,
    Profile,
    Registry,
    Status,
    draw_profiles_and_ties,
    draw_sentences,
    synthesise_stock,
)
from .regime import Regime

#: Monthly outputs every case has, in table order (counts are within the month; stocks at its end). The
#: levels of each counterpart's instruments follow, as ``level_<counterpart>_<instrument>``.
BASE_OUTPUTS = (
    "prisoners_held", "in_prison", "arrests", "rearrests", "released_deal", "released_pardon",
    "released_served", "died", "paroled", "expelled", "released_high_profile", "us_sanctions", "eu_sanctions",
    "learned_price", "arrest_rate", "control_value", "chip_value", "external_cost", "regime_need",
    "russia_support", "regime_relief", "mobilisation", "perceived_participation", "exiles", "lobbying",
    "fragmentation", "opposition_centres", "transit_open", "high_profile_held", "tied_held", "rounds", "deal",
    "snapbacks", "designations", "incidents", "cheating", "round_belief", "revocation_belief", "crackdown",
)  # fmt: skip
COUNT_OUTPUTS = frozenset({
    "prisoners_held", "in_prison", "arrests", "rearrests", "released_deal", "released_pardon",
    "released_served", "died", "paroled", "expelled", "released_high_profile", "opposition_centres",
    "high_profile_held",
    "tied_held", "rounds", "snapbacks", "designations", "incidents",
})  # fmt: skip
#: Decision rows: one per decision that fired (the regime's monthly arrest decision and the opposition's
#: mobilisation are added for every month by :mod:`sim.core.run`).
DECISION_FIELDS = ("month", "actor", "decision", "choice", "value", "compared", "a", "versus", "b", "note")
#: Timeline event types that are facts only when replaying (the actors decide them otherwise); talks and
#: crackdowns are exogenous shocks in both modes.
REPLAYED = ("deal", "pardon", "instrument")


class RepressionBargaining(mesa.Model):
    """A regime trades political prisoners for relief and refills the stock with arrests.

    Args:
        params: the scenario's parameters (a case's parameters: see :mod:`sim.store.cases`).
        months: number of monthly steps to record.
        rng: seed or numpy Generator; the only source of randomness.
        events: timeline events of the case (:mod:`sim.core.timeline`), applied in their month.
        replay_until: month (YYYY-MM) up to which deals, pardons and instrument changes are replayed as facts
            from ``events`` and the actors do not decide them; None lets the actors decide throughout.
    """

    def __init__(
        self,
        params: ScenarioParams | None = None,
        months: int = 120,
        rng=None,
        events: Iterable[Any] = (),
        replay_until: str | None = None,
        state: dict | None = None,
    ) -> None:
        super().__init__(rng=rng)
        self.params = p = params if params is not None else ScenarioParams()
        if state is not None and state["month"] != p.start:
            raise ValueError(f"state: saved for {state['month']}, but the run starts in {p.start}")
        self.months = int(months)
        self.t0 = month_index(p.start)
        self.t = self.t0
        self.replay_until = month_index(replay_until) if replay_until else None
        self.events: dict[int, list[Any]] = {}
        for e in events:
            self.events.setdefault(month_index(e.month), []).append(e)
        #: the last month the timeline covers: up to it, incidents are its facts, not random draws
        self.timeline_end = max(self.events, default=-1)

        present = p.counterparts()
        self.tie_names = list(p.case.ties)
        valued = 0
        for c in present.values():
            valued |= self.tie_bit(c.tie)
        self.classes = ClassMap(valued)
        stock = len(state["registry"]["arrest"]) if state is not None else p.population.initial_stock
        capacity = int(stock * 1.2 + p.regime.arrests_ref * 2 * self.months + 64)
        self.registry = Registry(self.classes, self.t0, capacity)
        self.tie_shares = np.array([p.population.tie_shares.get(t, 0.0) for t in self.tie_names])
        if state is None:
            synthesise_stock(self.rng, p.population, self.tie_shares, self.t0, self.registry)
        else:
            self._restore_registry(state)
        self.dest_names = list(p.case.destinations)

        self.russia_support = p.russia.support
        self._new_month()
        self.epoch = 0  # bumped whenever an instrument or a belief that relief values depend on changes
        self._cum = {"arrests": [0.0], "releases": [0.0], "incidents": [0.0]}
        self._first = self.t0  # month of the first entry after 0 in the cumulative histories
        self.counterparts: dict[str, Counterpart] = {}
        self.regime = None  # counterparts read the regime's beliefs; it is built right after them
        for name in COUNTERPARTS:
            if name in present:
                self.counterparts[name] = KINDS[name](self, name, present[name])
        self._sanctioners = [c for n, c in self.counterparts.items() if n in ("us", "eu") and len(c.level)]
        self.regime = Regime(self)
        self.opposition = Opposition(self)
        if state is not None:
            self._restore_actors(state)
        self.regime.arrest_rate = self.regime.decide_arrests()
        for c in self.counterparts.values():
            if state is None or c.reference <= 0:
                c.reference = max(self.regime.arrest_rate, 1e-6)
        self.pressure0 = self.pressure() if state is None else float(state["regime"]["pressure0"])
        self.initial_held = self.registry.held

        self.outputs = (
            *BASE_OUTPUTS,
            *(f"level_{n}_{i}" for n, c in self.counterparts.items() for i in c.inst),
        )
        # one row per output (a month is a column of it): ``out`` maps each name to its row
        self._table = np.zeros((len(self.outputs), self.months))
        self.out = {name: self._table[j] for j, name in enumerate(self.outputs)}
        self._levels = [(c, j) for c in self.counterparts.values() for j in range(len(c.inst))]
        self.deals: list[dict] = []
        self.decisions: list[tuple] = []
        self.recorded = 0
        self._potash_like = [
            (c, j)
            for c in self.counterparts.values()
            if hasattr(c, "_transit") and c._transit >= 0
            for j in [c._transit]
        ]

    # ---------------------------------------------------------------- helpers
    def _new_month(self) -> None:
        """Reset the month's counters."""
        self.month_pardoned = self.month_deal = self.month_expelled = self.month_high = 0
        self.month_rearrested_parolees = 0
        self.month_symbols_expelled = self.month_snapbacks = self.month_designations = (
            self.month_incidents
        ) = 0
        self.month_rounds: set[str] = set()
        self.month_deal_rows: list[dict] = []

    def tie_bit(self, name: str) -> int:
        """The bit of a tie in the registry's tie mask (0 for none)."""
        return 1 << self.tie_names.index(name) if name in self.tie_names else 0

    def pressure(self) -> float:
        """Sanctions pressure on the regime: the mean of the US and EU value-weighted shares in force."""
        vals = [c.pressure() for c in self._sanctioners]
        return sum(vals) / len(vals) if vals else 0.0

    def arrests_between(self, first: int, last: int) -> float:
        """Arrests recorded from month ``first`` to month ``last`` (indices, inclusive; clipped to the
        record)."""
        cum = self._cum["arrests"]
        lo = min(max(first - self._first, 0), len(cum) - 1)
        hi = min(max(last - self._first + 1, 0), len(cum) - 1)
        return cum[hi] - cum[lo] if hi > lo else 0.0

    def window(self, series: str, months: int) -> tuple[float, int]:
        """Sum of a recorded monthly series over the last ``months`` months, and how many months that is."""
        cum = self._cum[series]
        n = min(months, len(cum) - 1)
        return cum[-1] - cum[-1 - n], n

    def replaying(self, kind: str) -> bool:
        """Whether decisions of this kind are replayed as facts this month."""
        return self.replay_until is not None and self.t <= self.replay_until and kind in REPLAYED

    def decide(
        self,
        actor: str,
        decision: str,
        choice: str,
        value: float,
        compared: str,
        a: float,
        versus: str,
        b: float,
        note: str = "",
    ) -> None:
        """Record a decision that fired, with the two quantities it compared."""
        self.decisions.append(
            (self.t, actor, decision, choice, float(value), compared, float(a), versus, float(b), note)
        )

    def relief_in_force(self) -> float:
        """Value to the regime of the relief it has gained since the start of the run: what counterparts have
        lifted below the levels they started from (RU); designations made and traded away again net out."""
        if self._relief_key != self.epoch:
            self._relief_key = self.epoch
            # a counterpart that has lifted nothing adds +0.0, which leaves the sum as it is: skipped
            self._relief = float(sum((c.gained @ c.relief_values()) for c in self._lifted_any()))
        return self._relief

    _relief_key, _relief = -1, 0.0

    def _lifted_any(self) -> list[Counterpart]:
        """The counterparts with an instrument below its level at the start."""
        return [c for c in self.counterparts.values() if c.gained_any]

    # ---------------------------------------------------------------- the month
    def step(self) -> None:
        """Advance one month, in this order.

        1. Timeline: exogenous shocks of the month (talks opening or closing, crackdowns); when replaying,
           the month's deals, pardons and instrument changes as facts.
        2. The regime's economic need and Russia's support are updated.
        3. Drains: term completions, deaths in custody (poor health raises the hazard), illness; re-arrests of
           people released inside the country.
        4. The regime's releases: a goodwill pardon batch (stochastic) and its decompression decision.
        5. The counterparts act, in the case's order (US, EU, Lithuania, Poland, mediator): their checks
           (snapback, designations, renewal, transit, incidents), then a contact and perhaps a round and a
           deal.
        6. The regime decides its arrests (and, under a restraint clause, whether to cheat); the US may detect
           cheating.
        7. The regime updates its beliefs (rounds held); the opposition absorbs releases and mobilises.
        8. Outputs are recorded.
        """
        if self.recorded >= self.months:
            raise RuntimeError(f"the model was built for {self.months} months")
        reg, rp, t = self.registry, self.params.regime, self.t
        self.month_pardoned = self.month_deal = self.month_expelled = self.month_high = 0
        self.month_symbols_expelled = self.month_snapbacks = self.month_designations = (
            self.month_incidents
        ) = 0
        self.month_rounds: set[str] = set()
        self.month_deal_rows: list[dict] = []

        self._apply_events()
        self.regime.update_need()
        if t > self.t0:  # Russia's support drifts a month at a time (so a saved state carries it on)
            self.russia_support = clip01(self.russia_support + self.params.russia.support_trend)
        self.epoch += 1  # need and Russia's support change what relief is worth: cached values refresh

        served = reg.due_now(t)
        reg.remove(served, Status.SERVED, t, dest=0)
        death_max = rp.death_hazard * rp.poor_health_multiplier
        cand = reg.thin(self.rng, death_max + rp.health_decline)
        u = self.rng.random(len(cand)) * (death_max + rp.health_decline)
        accept = np.where(reg.poor[cand], 1.0, 1.0 / rp.poor_health_multiplier)
        dies = u < death_max * accept
        died = cand[dies]
        reg.remove(died, Status.DIED, t, dest=0)
        reg.fall_ill(cand[~dies & (u >= death_max) & ~reg.poor[cand]])
        rearrested = self._rearrest()

        self.regime.pardon()
        self.regime.decompress()

        for c in self.counterparts.values():
            c.recover()
            c.act()

        lam = self.regime.decide_arrests()
        arrests = self._arrest(lam) + rearrested
        us = self.counterparts.get("us")
        if us is not None:
            us.detect()
        released = self.month_pardoned + self.month_deal + len(served)
        for name, x in (("arrests", arrests), ("releases", released), ("incidents", self.month_incidents)):
            self._cum[name].append(self._cum[name][-1] + x)
        for c in self.counterparts.values():
            if not c.dealt and not c.talks_open():
                c.reference = 0.9 * c.reference + 0.1 * arrests  # the level before engagement
        self.regime.observe_month(self.month_rounds)
        self.opposition.absorb_releases(self.month_high, self.month_expelled)
        self.opposition.mobilise(arrests, self.month_pardoned + self.month_deal, self.month_symbols_expelled)
        self._record(arrests, rearrested, len(served), len(died))
        self.t += 1

    def _arrest(self, lam: float) -> int:
        """Draw this month's arrests (negative binomial around the chosen rate) and register them."""
        rp, pop = self.params.regime, self.params.population
        if lam <= 0:
            return 0
        r = rp.arrest_dispersion
        k = int(self.rng.negative_binomial(r, r / (r + lam)))
        if k:
            profile, ties = draw_profiles_and_ties(
                self.rng, k, self.tie_shares, rp.arrest_share_symbol, rp.arrest_share_notable
            )
            sentence = draw_sentences(self.rng, profile, pop)
            self.registry.add(self.t, sentence, profile, ties, False)
        return k

    def _rearrest(self) -> int:
        """People released inside the country arrested again (a new spell, same person)."""
        reg, rp = self.registry, self.params.regime
        idx = reg.released_inside(self.rng, rp.rearrest_hazard)
        self.month_rearrested_parolees = 0
        if len(idx) == 0:
            return 0
        self.month_rearrested_parolees = reg.on_parole_rows(idx, self.t)
        sentence = draw_sentences(self.rng, reg.profile[idx].astype(np.int64), self.params.population)
        reg.add(
            np.full(len(idx), self.t, dtype=np.int32),
            sentence,
            reg.profile[idx],
            reg.ties[idx],
            reg.poor[idx],
            person=reg.person[idx],
        )
        return len(idx)

    # ---------------------------------------------------------------- deals
    def carry_out(self, c: Counterpart, deal, info: dict, clause: bool = False) -> dict:
        """Release the prisoners a deal names, send the expelled abroad, lift the instruments; returns its
        row."""
        reg = self.registry
        cells = info["cells"]
        take = deal.taken > 0
        idx = reg.pick_cells(self.rng, self.t, cells[take], deal.taken[take])
        lifted = c.lift(deal, info["frontier"])
        return self._release(
            c, idx, deal.relief_value, deal.relief_cost, lifted, deal.gain_regime, deal.gain_us, clause=clause
        )

    def _release(
        self,
        c: Counterpart,
        idx: np.ndarray,
        relief_value: float,
        relief_cost: float,
        lifted: np.ndarray,
        gain_regime: float,
        gain_counterpart: float,
        clause: bool = False,
        destinations: dict[str, int] | None = None,
        replayed: bool = False,
        parole: bool | None = None,
        denationalise: bool | None = None,
    ) -> dict:
        reg, cp = self.registry, c.p
        parole = cp.parole if parole is None else parole  # a recorded deal says for itself
        denationalise = cp.denationalise if denationalise is None else denationalise
        n = len(idx)
        ties = reg.ties[idx]
        if destinations:  # a replayed deal: the destinations the record gives, the rest stay
            dest = np.zeros(n, dtype=np.int64)
            pos = 0
            for d, k in destinations.items():
                j = self.dest_names.index(d)
                dest[pos : pos + k] = j
                pos += k
            self.rng.shuffle(dest)
        else:
            expel = (self.rng.random(n) < cp.expel_share) & (not parole)
            shares = np.array([cp.destinations.get(d, 0.0) for d in self.dest_names[1:]])
            abroad = self.dest_names[1:]
            if shares.sum() > 0:
                drawn = 1 + self.rng.choice(len(abroad), size=n, p=shares / shares.sum())
            else:
                drawn = np.zeros(n, dtype=np.int64)
            # the expelled who are tied to a destination country go there (e.g. tied to Lithuania -> lt)
            for j, d in enumerate(abroad, start=1):
                bit = self.tie_bit(d)
                if bit:
                    drawn = np.where((ties & bit) != 0, j, drawn)
            dest = np.where(expel & (drawn > 0), drawn, 0)
        profile = reg.profile[idx]
        high = profile == Profile.SYMBOL
        expelled = dest > 0
        reg.remove(
            idx,
            Status.DEAL,
            self.t,
            dest=dest,
            parole=parole & ~expelled,
            denationalised=expelled & denationalise,
        )
        cls = reg.cls[idx]
        equivalents = float(c.worth[cls].sum())
        self.regime.learn_price(c.name, relief_value, equivalents)
        c.deal_values.append(relief_value)
        c.paid.append((float(relief_cost), equivalents))
        c.dealt = True
        self.month_rounds.add(c.name)
        n_expelled = int(np.count_nonzero(expelled))
        n_high = int(np.count_nonzero(high))
        n_high_expelled = int(np.count_nonzero(expelled & high))
        self.month_deal += n
        self.month_expelled += n_expelled
        self.month_high += n_high
        self.month_symbols_expelled += n_high_expelled
        own = c.tied_classes[cls]
        to = np.bincount(dest, minlength=len(self.dest_names)).tolist() if n else [0] * len(self.dest_names)
        row = {
            "month": month_text(self.t), "counterpart": c.name,
            "policy": getattr(c, "policy", ""), "replayed": replayed,
            "released": int(n), "released_high_profile": n_high,
            "released_notable": int(np.count_nonzero(profile == Profile.NOTABLE)),
            "released_tied": int(np.count_nonzero(own)),
            "released_other_ties": int(np.count_nonzero((ties != 0) & ~own)),
            "expelled": n_expelled, "expelled_high_profile": n_high_expelled,
            "denationalised": n_expelled if denationalise else 0,
            "paroled": n - n_expelled if parole else 0,
            **{f"to_{d}": to[j] for j, d in enumerate(self.dest_names)},
            "relief": float(relief_value), "relief_cost": float(relief_cost),
            "price_per_prisoner": float(relief_value) / max(n, 1),
            "instruments_lifted": ",".join(f"{i}:{x:.2f}" for i, x in zip(c.inst, lifted) if x > 1e-9),
            **{f"lift_{c.name}_{i}": float(x) for i, x in zip(c.inst, lifted)},
            "restraint_clause": bool(clause), "snapped_back": False,
            "gain_regime": float(gain_regime), "gain_counterpart": float(gain_counterpart),
        }  # fmt: skip
        self.deals.append(row)
        self.month_deal_rows.append(row)
        if getattr(c, "policy", "") == "snapback":
            c.start_watch(lifted)
        if clause:
            lam = self.regime.arrest_rate
            self.regime.clause = {
                "counterpart": c.name,
                "month": self.t,
                "until": self.t + c.p.verification_months - 1,
                "cap": (1.0 - c.p.restraint) * lam,
                "at_stake": float(relief_value),
                "lifted": lifted,
            }
        return row

    def snapback_deal(self, name: str, month: int) -> None:
        """Mark the deal of ``name`` made in ``month`` as revoked."""
        for row in reversed(self.deals):
            if row["counterpart"] == name and row["month"] == month_text(month):
                row["snapped_back"] = True
                break
        self.month_snapbacks += 1

    # ---------------------------------------------------------------- the timeline
    def _apply_events(self) -> None:
        """Apply the timeline's events of this month: talks, crackdowns and incidents are exogenous shocks
        (always applied); deals, pardons and instrument changes are facts only when replaying (else the actors
        decide them)."""
        rg, rp = self.regime, self.params.regime
        if rg.crackdown != self._crackdown_floor:
            floor = self._crackdown_floor
            rg.crackdown = floor + (rg.crackdown - floor) * self._crackdown_decay
        for e in self.events.get(self.t, ()):
            kind = e.type
            if kind == "talks" and e.counterpart in self.counterparts:
                self.counterparts[e.counterpart].engaged = e.state == "open"
            elif kind == "crackdown":  # an unknown size or duration takes the calibrated one
                mult = rp.crackdown_multiplier if e.multiplier is None else float(e.multiplier)
                half = rp.crackdown_half_life if e.half_life_months is None else float(e.half_life_months)
                rg.crackdown = max(rg.crackdown, mult)
                self._crackdown_decay = 0.5 ** (1.0 / max(half, 1e-6))
                self._crackdown_floor = min(max(float(e.floor), 1.0), rg.crackdown)
            elif kind == "incident":
                self.month_incidents += 1
            elif not self.replaying(kind):
                continue
            elif kind == "instrument" and e.counterpart in self.counterparts:
                c = self.counterparts[e.counterpart]
                if e.instrument in c.inst:
                    c.set_level(e.instrument, float(e.level))
            elif kind == "pardon" and e.released:
                rg.release_lowest(int(e.released), "replayed pardon", self._dest_codes(e), bool(e.parole))
            elif kind == "deal" and e.counterpart in self.counterparts:
                self._replay_deal(self.counterparts[e.counterpart], e)
            elif kind == "deal" and e.released:  # a counterpart the model does not represent (an exchange)
                self._replay_outside_deal(e)

    def _dest_codes(self, e) -> np.ndarray | None:
        """The destination code of each person a recorded release names (None: all stayed)."""
        dests = dict(getattr(e, "destinations", None) or {})
        if not dests:
            return None
        codes = np.concatenate([np.full(int(k), self.dest_names.index(d)) for d, k in dests.items()])
        self.rng.shuffle(codes)
        return codes

    def _replay_outside_deal(self, e) -> None:
        """A recorded exchange with an actor the model does not represent: the prisoners worth least to the
        regime leave through the deal channel to the recorded destinations; no relief is modelled."""
        reg = self.registry
        before = reg.n
        idx = self.regime.lowest(int(e.released))
        dest = self._dest_codes(e)
        dest = np.zeros(len(idx), dtype=np.int64) if dest is None else dest[: len(idx)]
        reg.remove(idx, Status.DEAL, self.t, dest=dest, denationalised=bool(e.denationalised) & (dest > 0))
        del before
        self.month_deal += len(idx)
        self.month_expelled += int((dest > 0).sum())
        row = dict.fromkeys(
            (
                "released_high_profile",
                "released_notable",
                "released_tied",
                "released_other_ties",
                "expelled_high_profile",
                "denationalised",
                "paroled",
            ),
            0,
        )
        row.update({
            "month": month_text(self.t), "counterpart": e.counterpart, "policy": "", "replayed": True,
            "released": int(len(idx)), "expelled": int((dest > 0).sum()),
            **{f"to_{d}": int(np.sum(dest == j)) for j, d in enumerate(self.dest_names)},
            "relief": 0.0, "relief_cost": 0.0, "price_per_prisoner": 0.0, "instruments_lifted": "",
            "restraint_clause": False, "snapped_back": False, "gain_regime": 0.0, "gain_counterpart": 0.0,
        })  # fmt: skip
        self.deals.append(row)
        self.month_deal_rows.append(row)

    _crackdown_decay = 1.0
    _crackdown_floor = 1.0  # the multiplier a crackdown decays towards (a timeline event's floor)

    def _replay_deal(self, c: Counterpart, e) -> None:
        """A recorded deal: the symbols it names, then the prisoners the counterpart values most for what the
        regime gives up, up to the recorded size; the recorded instruments lifted."""
        reg = self.registry
        if e.released is None:  # size not recorded: the counterpart and the regime bargain this month
            deal, info = c.solve()
            if deal.happened:
                self.carry_out(c, deal, info)
            return
        counts, left = reg.counts_by_bin(self.t)
        v = self.regime.holding_values(left, c.p.expel_share)
        w = c.p.value_per_prisoner * c.worth[:, None] * np.ones_like(v)
        ratio = np.where(counts > 0, w / np.maximum(v, 1e-9), -np.inf)
        symbols = reg.classes.profile[:, None] == Profile.SYMBOL
        want = int(e.released)
        high = min(int(getattr(e, "high_profile", 0) or 0), want)
        chosen_cells, chosen_k = [], []
        for mask, quota in ((symbols, high), (~symbols, want - high)):
            r = np.where(mask, ratio, -np.inf).ravel()
            got = 0
            for cell in np.argsort(-r, kind="stable"):
                if not np.isfinite(r[cell]) or got >= quota:
                    break
                k = min(int(counts.ravel()[cell]), quota - got)
                chosen_cells.append(int(cell))
                chosen_k.append(k)
                got += k
        idx = reg.pick_cells(self.rng, self.t, np.array(chosen_cells, dtype=np.int64), np.array(chosen_k))
        values = c.relief_values()
        lifted = np.zeros(len(c.level))
        for name, share in (getattr(e, "lifted", None) or {}).items():
            if name in c.inst:
                j = c.inst.index(name)
                lifted[j] = min(float(share), c.level[j])
        c.set_levels(np.clip(c.level - lifted, 0.0, 1.0))
        dests = dict(getattr(e, "destinations", None) or {})
        self._release(
            c,
            idx,
            float(lifted @ values),
            float(lifted @ c.cost),
            lifted,
            0.0,
            0.0,
            destinations=dests if dests else None,
            replayed=True,
            parole=bool(getattr(e, "parole", False)),
            denationalise=bool(getattr(e, "denationalised", False)),
        )

    # ---------------------------------------------------------------- outputs
    def _record(self, arrests: int, rearrested: int, served: int, died: int) -> None:
        i, reg, rg, op = self.recorded, self.registry, self.regime, self.opposition
        held = reg.held
        paroled_deal, paroled_pardon, parole_ended, parolees = reg.parole_flows(self.t)
        if self.params.case.counts_parole:
            # The list the monitor keeps: people on parole stay on it, so its flows are the moves onto and off
            # the list (ODD 7.10): a paroled release and a re-arrested parolee do not move it, a parole that
            # ends with the sentence does.
            listed = held + parolees
            flows = (
                arrests - self.month_rearrested_parolees,
                self.month_deal - paroled_deal,
                self.month_pardoned - paroled_pardon,
                served + parole_ended,
            )
        else:
            listed, flows = held, (arrests, self.month_deal, self.month_pardoned, served)
        us, eu = self.counterparts.get("us"), self.counterparts.get("eu")
        last = rg.last
        # in the order of BASE_OUTPUTS, then the instruments' levels
        self._table[:, i] = (
            listed,  # prisoners_held
            held,  # in_prison
            flows[0],  # arrests
            rearrested,
            flows[1],  # released_deal
            flows[2],  # released_pardon
            flows[3],  # released_served
            died,
            paroled_deal + paroled_pardon,  # paroled
            self.month_expelled,  # expelled
            self.month_high,  # released_high_profile
            us.pressure() if us is not None else 0.0,  # us_sanctions
            eu.pressure() if eu is not None else 0.0,  # eu_sanctions
            rg.price.get("us", max(rg.price.values(), default=0.0)),  # learned_price
            rg.arrest_rate,
            last["control"],  # control_value
            last["chip"],  # chip_value
            last["external"],  # external_cost
            rg.need,  # regime_need
            self.russia_support,
            self.relief_in_force(),  # regime_relief
            op.mobilisation,
            op.perceived,  # perceived_participation
            op.exiles,
            op.lobbying(),
            op.fragmentation(),
            len(op.centres),  # opposition_centres
            float(any(c.level[j] < 0.5 for c, j in self._potash_like)),  # transit_open
            reg.count_held_where(profile=Profile.SYMBOL),  # high_profile_held
            reg.count_held_where(tie_mask=self.classes.valued),  # tied_held
            len(self.month_rounds),  # rounds
            float(bool(self.month_deal_rows)),  # deal
            self.month_snapbacks,  # snapbacks
            self.month_designations,  # designations
            self.month_incidents,  # incidents
            float(rg.cheating),  # cheating
            rg.round_belief.get("us", 0.0),  # round_belief
            rg.revocation.get("us", 0.0),  # revocation_belief
            rg.crackdown,
            *(c.level[j] for c, j in self._levels),
        )
        self.monthly_decision[i] = (last["control"], last["chip"], last["external"], rg.arrest_rate)
        self.recorded += 1

    @property
    def monthly_decision(self) -> np.ndarray:
        """Per month: the regime's arrest decision's control value, chip value, external cost and rate."""
        if not hasattr(self, "_monthly_decision"):
            self._monthly_decision = np.zeros((self.months, 4))
        return self._monthly_decision

    # ---------------------------------------------------------------- state hand-off
    #: Registry columns saved in a state (the prisoners held, and the people released inside the country in
    #: the last two years, who can be arrested again).
    STATE_COLUMNS = (
        "person",
        "arrest",
        "due",
        "release",
        "profile",
        "ties",
        "poor",
        "status",
        "dest",
        "parole",
    )

    def snapshot(self) -> dict:
        """The model's state at the end of the last recorded month, to start another run from the next month.

        Plain mappings and numpy arrays (no objects): the registry's held prisoners (and those released inside
        the country in the last 24 months), the regime's beliefs, every counterpart's instruments and memory,
        the opposition, Russia's support and the arrest, release and incident histories.
        """
        reg = self.registry
        n = reg.n
        held = reg.status[:n] == Status.HELD
        inside = (reg.status[:n] != Status.HELD) & (reg.status[:n] != Status.DIED) & (reg.dest[:n] == 0)
        # released inside the country recently (re-arrest), or on parole with the sentence still running
        recent = inside & ((reg.release[:n] >= self.t - 24) | (reg.parole[:n] & (reg.due[:n] > self.t)))
        keep = np.flatnonzero(held | recent)
        rg, op = self.regime, self.opposition
        return {
            "month": month_text(self.t),
            "registry": {c: getattr(reg, c)[keep].copy() for c in self.STATE_COLUMNS},
            "next_person": int(reg.next_person),
            "regime": {
                "price": dict(rg.price), "round_belief": dict(rg.round_belief),
                "revocation": dict(rg.revocation),
                "crackdown": rg.crackdown, "crackdown_decay": self._crackdown_decay,
                "crackdown_floor": self._crackdown_floor,
                "need_drift": rg.need_drift, "pressure0": self.pressure0,
            },
            "counterparts": {
                name: {
                    "instruments": list(c.inst), "level": c.level.tolist(), "revoked": c.revoked.tolist(),
                    "engaged": bool(c.engaged), "suspended_until": int(c.suspended_until),
                    "deal_values": list(c.deal_values), "paid": [list(x) for x in c.paid],
                    "reference": float(c.reference), "dealt": bool(c.dealt),
                    "next_designation": int(getattr(c, "next_designation", 0)),
                }
                for name, c in self.counterparts.items()
            },
            "opposition": {"mobilisation": op.mobilisation, "exiles": op.exiles, "centres": list(op.centres)},
            "russia_support": self.russia_support,
            "history": {"first": int(self._first), **{k: list(v) for k, v in self._cum.items()}},
        }  # fmt: skip

    def _restore_registry(self, state: dict) -> None:
        reg, cols = self.registry, state["registry"]
        k = len(cols["arrest"])
        if k == 0:
            return
        held = np.asarray(cols["status"]) == Status.HELD
        profile = np.asarray(cols["profile"], dtype=np.int8)
        ties = np.asarray(cols["ties"], dtype=np.int16)
        arrest = np.asarray(cols["arrest"], dtype=np.int32)
        due = np.asarray(cols["due"], dtype=np.int32)
        reg.add(
            arrest,
            due - arrest,
            profile,
            ties,
            np.asarray(cols["poor"], dtype=bool),
            person=np.asarray(cols["person"], dtype=np.int64),
        )
        reg.next_person = max(reg.next_person, int(state["next_person"]))
        gone = np.flatnonzero(~held)  # released inside the country: kept as ended spells
        if len(gone):
            reg.remove(gone, Status.PARDON, 0)
            reg.status[gone] = np.asarray(cols["status"])[gone]
            reg.release[gone] = np.asarray(cols["release"])[gone]
            reg.dest[gone] = np.asarray(cols["dest"])[gone]
            reg.parole[gone] = np.asarray(cols["parole"], dtype=bool)[gone]

    def _restore_actors(self, state: dict) -> None:
        rg = self.regime
        for key in ("price", "round_belief", "revocation"):
            getattr(rg, key).update(
                {k: float(v) for k, v in state["regime"][key].items() if k in self.counterparts}
            )
        rg.crackdown = float(state["regime"]["crackdown"])
        rg.need_drift = float(state["regime"]["need_drift"])
        self._crackdown_decay = float(state["regime"]["crackdown_decay"])
        self._crackdown_floor = float(state["regime"].get("crackdown_floor", 1.0))
        for name, cs in state["counterparts"].items():
            c = self.counterparts.get(name)
            if c is None:
                continue
            if list(cs["instruments"]) != c.inst:
                raise ValueError(
                    f"state: {name}'s instruments {cs['instruments']} differ from the case's {c.inst}"
                )
            c.set_levels(np.asarray(cs["level"], dtype=float))
            c.revoked = np.asarray(cs["revoked"], dtype=float)
            c.engaged, c.suspended_until, c.dealt = (
                bool(cs["engaged"]),
                int(cs["suspended_until"]),
                bool(cs["dealt"]),
            )
            c.deal_values, c.paid = list(cs["deal_values"]), [tuple(x) for x in cs["paid"]]
            c.reference = float(cs["reference"])
            if hasattr(c, "next_designation"):
                c.next_designation = int(cs["next_designation"])
        op = self.opposition
        op.mobilisation = op.perceived = float(state["opposition"]["mobilisation"])
        op.exiles = float(state["opposition"]["exiles"])
        op.centres = [float(x) for x in state["opposition"]["centres"]]
        op._update_fragmentation()
        self.russia_support = float(state["russia_support"])
        hist = state["history"]
        self._first = int(hist["first"])
        self._cum = {k: [float(x) for x in hist[k]] for k in ("arrests", "releases", "incidents")}
        self.epoch += 1

    def run(self) -> RepressionBargaining:
        """Step through all months."""
        while self.recorded < self.months:
            self.step()
        return self
