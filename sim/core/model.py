"""The Mesa model of repression as bargaining, with its explicit monthly step order.

Prisoners live in a columnar registry (:mod:`sim.core.prisoners`); the strategic actors are Mesa agents
(:mod:`sim.core.agents`). Outputs are recorded into preallocated arrays (one slot a month) and a list of
deals;
:mod:`sim.core.run` turns them into tables. No I/O here.
"""

from __future__ import annotations

import mesa
import numpy as np

from .agents import EuropeanUnion, Opposition, Regime, UnitedStates
from .params import SECTORS, ScenarioParams
from .prisoners import (
    TIE_LT,
    TIE_PL,
    TIE_UA,
    Profile,
    Registry,
    Status,
    month_index,
    month_text,
    synthesise_stock,
)

_POTASH = SECTORS.index("potash")

#: Monthly outputs, in table order (all counts are within the month; stocks are at its end).
OUTPUTS = (
    "prisoners_held",
    "arrests",
    "released_deal",
    "released_pardon",
    "released_served",
    "died",
    "expelled",
    "released_high_profile",
    "us_sanctions",
    "eu_sanctions",
    *(f"us_{s}" for s in SECTORS),
    "learned_price",
    "arrest_rate",
    "arrest_restraint",
    "regime_need",
    "regime_relief",
    "mobilisation",
    "exiles",
    "fragmentation",
    "opposition_centres",
    "transit_open",
    "high_profile_held",
    "reserve_held",
    "us_round",
    "deal",
    "snapbacks",
)


class RepressionBargaining(mesa.Model):
    """A regime trades political prisoners for sanctions relief and refills the stock with arrests.

    The bargaining rule is the Nash bargaining solution (Nash 1950) over which prisoners are released
    and which US sanctions are lifted (:mod:`sim.core.bargaining`); the arrest rate responds to the price the
    regime has learned from past deals, the concession effect reported for hostage-taking by Brandt,
    George & Sandler (2016). See ``docs/ODD.md``.

    Args:
        params: the scenario's parameters (defaults: the baseline).
        months: number of monthly steps to record.
        rng: seed or numpy Generator; the only source of randomness.
    """

    def __init__(self, params: ScenarioParams | None = None, months: int = 120, rng=None) -> None:
        super().__init__(rng=rng)
        self.params = params if params is not None else ScenarioParams()
        self.months = int(months)
        self.t0 = month_index(self.params.start)
        self.t = self.t0
        self.registry = Registry(
            capacity=int(
                self.params.population.initial_stock * 1.2
                + self.params.regime.arrests_ref * 2 * self.months
                + 64
            )
        )
        synthesise_stock(self.rng, self.params.population, self.t0, self.registry)
        self.regime = Regime(self)
        self.us = UnitedStates(self)
        self.eu = EuropeanUnion(self)
        self.opposition = Opposition(self)
        self.pressure0 = self.sanctions_pressure()
        self.initial_held = self.registry.held
        self.out = {name: np.zeros(self.months) for name in OUTPUTS}
        self.arrests_history = np.zeros(self.months)
        self.deals: list[dict] = []
        self.snapbacks_this_month = 0
        self.recorded = 0

    # ---------------------------------------------------------------- helpers
    def month_of(self, text: str) -> int:
        """Month index of ``YYYY-MM``."""
        return month_index(text)

    def sanctions_pressure(self) -> float:
        """Average of US and EU sanctions in force (0-1), the pressure that drives the regime's need."""
        return 0.5 * (self.us.pressure() + self.eu.level)

    def relief_in_force(self) -> float:
        """Value to the regime of all relief in force, US sectors (transit-scaled) and EU (RU)."""
        us, potash = self.us, _POTASH
        total = sum((1.0 - lv) * v for lv, v in zip(us.level.tolist(), us.value.tolist()))
        total -= (1.0 - us.level[potash]) * us.value[potash] * (1.0 - self.eu.transit_factor())
        return float(total + (1.0 - self.eu.level) * self.params.eu.value)

    # ---------------------------------------------------------------- the month
    def step(self) -> None:
        """Advance one month, in this order.

        1. The regime's economic need is updated (cooling war demand, sanctions pressure).
        2. Drains without a deal: term completions, then deaths in custody (poor health raises the hazard),
           then health deterioration.
        3. A unilateral pardon batch, with some probability.
        4. The EU acts: scheduled reopening of transit; at its renewal month, relax or hold.
        5. The US acts: snapback checks on past deals; a bargaining round with some probability, and the
           deal it produces (releases, expulsions, relief); the regime learns the price, or forgets without
           a deal.
        6. The regime arrests (rate from mobilisation, learned price and any restraint clause).
        7. The opposition absorbs releases and arrests (centres, exile, mobilisation).
        8. Outputs are recorded.
        """
        if self.recorded >= self.months:
            raise RuntimeError(f"the model was built for {self.months} months")
        reg, rp, t = self.registry, self.params.regime, self.t
        self.snapbacks_this_month = 0
        self.regime.update_need()

        served = reg.due_now(t)
        reg.remove(served, Status.SERVED, t, dest=0)
        # One thinning pass for both events: a candidate dies with probability death_max * acceptance
        # (1 in poor health, 1/multiplier otherwise), else falls ill with probability health_decline.
        death_max = rp.death_hazard * rp.poor_health_multiplier
        cand = reg.thin(self.rng, death_max + rp.health_decline)
        u = self.rng.random(len(cand)) * (death_max + rp.health_decline)
        accept = np.where(reg.poor[cand], 1.0, 1.0 / rp.poor_health_multiplier)
        dies = u < death_max * accept
        died = cand[dies]
        reg.remove(died, Status.DIED, t, dest=0)
        reg.poor[cand[~dies & (u >= death_max)]] = True

        pardoned = self.regime.pardon()
        self.eu.decide()

        if self.us.policy == "snapback":
            self.us.check_snapback()
        round_ = self.us.bargain()
        deal_row = self._carry_out(round_) if round_ is not None else None
        if deal_row is None:
            self.regime.forget()

        arrests = self.regime.arrest()
        self.arrests_history[t - self.t0] = arrests
        if deal_row is not None:
            self.opposition.absorb_releases(
                deal_row["released_high_profile"], deal_row["expelled"], deal_row["expelled_high_profile"]
            )
        self.opposition.mobilise(arrests)
        self._record(arrests, len(served), len(died), len(pardoned), round_ is not None, deal_row)
        self.t += 1

    def _carry_out(self, round_) -> dict | None:
        """Release the prisoners a deal names, expel some, lift the sectors; returns the deal's row."""
        deal, frontier = round_
        if not deal.happened:
            return None
        reg, rp, up = self.registry, self.params.regime, self.params.us
        picked = [reg.pick(self.rng, c, int(k)) for c in np.flatnonzero(deal.taken) for k in [deal.taken[c]]]
        idx = np.concatenate(picked) if picked else np.zeros(0, dtype=np.int64)
        expel = self.rng.random(len(idx)) < rp.expel_share
        dest_p = np.array([rp.dest_ua, rp.dest_lt, rp.dest_pl])
        dest = np.where(expel, 1 + self.rng.choice(3, size=len(idx), p=dest_p / dest_p.sum()), 0)
        high = reg.profile[idx] == Profile.SYMBOL
        equivalents = float(self.us.worth[reg.cls[idx]].sum())
        reg.remove(idx, Status.DEAL, self.t, dest=dest)
        lifted = self.us.apply(deal, frontier)
        self.regime.learn(deal.relief_value, equivalents)
        if self.us.policy == "conditional":
            self.regime.restraint = up.restraint
            self.regime.restraint_until = self.t + up.verification_months
        row = {
            "month": month_text(self.t),
            "counterpart": "US",
            "policy": str(self.us.policy),
            "released": int(len(idx)),
            "released_high_profile": int(high.sum()),
            "released_reserve": int(np.sum((reg.ties[idx] & (TIE_LT | TIE_PL)) != 0)),
            "released_us_citizens": int(np.sum((reg.ties[idx] & 4) != 0)),
            "expelled": int(expel.sum()),
            "expelled_high_profile": int((expel & high).sum()),
            "to_ua": int(np.sum(dest == 1)),
            "to_lt": int(np.sum(dest == 2)),
            "to_pl": int(np.sum(dest == 3)),
            "stayed": int(np.sum(dest == 0)),
            "ua_tied": int(np.sum((reg.ties[idx] & TIE_UA) != 0)),
            "relief": deal.relief_value,
            "relief_cost_us": deal.relief_cost,
            "price_per_prisoner": deal.relief_value / max(len(idx), 1),
            "sectors_lifted": ",".join(s for s, x in zip(SECTORS, lifted) if x > 1e-9),
            **{f"lift_{s}": float(x) for s, x in zip(SECTORS, lifted)},
            "restraint_clause": self.us.policy == "conditional",
            "snapped_back": False,
            "gain_regime": deal.gain_regime,
            "gain_us": deal.gain_us,
        }
        self.deals.append(row)
        if self.us.policy == "snapback":
            lo = max(0, self.t - self.t0 - self.params.us.snapback_window)
            hist = self.arrests_history[lo : self.t - self.t0]
            before = float(hist.mean()) if len(hist) else self.params.regime.arrests_ref
            self.us.watch.append((len(self.deals) - 1, self.t, lifted, before))
        return row

    def _record(
        self, arrests: int, served: int, died: int, pardoned: int, had_round: bool, deal: dict | None
    ) -> None:
        i, o, reg = self.recorded, self.out, self.registry
        o["prisoners_held"][i] = reg.held
        o["arrests"][i] = arrests
        o["released_deal"][i] = deal["released"] if deal else 0
        o["released_pardon"][i] = pardoned
        o["released_served"][i] = served
        o["died"][i] = died
        o["expelled"][i] = deal["expelled"] if deal else 0
        o["released_high_profile"][i] = deal["released_high_profile"] if deal else 0
        o["us_sanctions"][i] = self.us.pressure()
        o["eu_sanctions"][i] = self.eu.level
        for j, s in enumerate(SECTORS):
            o[f"us_{s}"][i] = self.us.level[j]
        o["learned_price"][i] = self.regime.price
        o["arrest_rate"][i] = self.regime.arrest_rate
        o["arrest_restraint"][i] = self.regime.restraint if self.t <= self.regime.restraint_until else 0.0
        o["regime_need"][i] = self.regime.need
        o["regime_relief"][i] = self.relief_in_force()
        o["mobilisation"][i] = self.opposition.mobilisation
        o["exiles"][i] = self.opposition.exiles
        o["fragmentation"][i] = self.opposition.fragmentation()
        o["opposition_centres"][i] = len(self.opposition.centres)
        o["transit_open"][i] = float(self.eu.transit_open)
        o["high_profile_held"][i] = reg.count_held_where(profile=Profile.SYMBOL)
        o["reserve_held"][i] = reg.count_held_where(tie_mask=TIE_LT | TIE_PL)
        o["us_round"][i] = float(had_round)
        o["deal"][i] = float(deal is not None)
        o["snapbacks"][i] = self.snapbacks_this_month
        self.recorded += 1

    def run(self) -> RepressionBargaining:
        """Step through all months."""
        while self.recorded < self.months:
            self.step()
        return self
