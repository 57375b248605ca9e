"""Parameters of the repression-as-bargaining model: plain dataclasses, one per actor.

Every field carries metadata read by the range checks, the sweep and sensitivity designs and the docs:

* ``unit`` -- the unit of the value;
* ``lo`` / ``hi`` -- the allowed range (checked in ``__post_init__``), or ``choices`` for text;
* ``role`` -- ``"lever"`` (a policy choice of an outside actor) or ``"uncertainty"`` (the world);
* ``plausible`` -- the (low, high) range a sweep or sensitivity design should explore;
* ``source`` -- ``"seeds:<id>"`` (a row of ``seeds/<case>/figures.csv``), a paper, or ``"assumption"`` with
  the reasoning in the comment beside the default.

**The relief scale.** Sanctions relief and prisoners' values are measured in *relief units* (RU). One RU is
normalised to the relief value the regime obtained per prisoner in the December 2025 wave in Belarus: 123
prisoners (seeds:release_2025_12_total) for the lifting of US sanctions on Belaruskali
(seeds:us_relief_potash_2025_12) while Baltic transit was closed (seeds:eu_transit_closed_2025_12). Values
held as flows (control of a prisoner, capacity) are in RU per month.

**Cases are data.** The defaults here are the generic behavioural priors. What belongs to one regime -- the
counterparts present, their relief instruments, ties, destinations, the monitoring definition -- is set by a
case file (``conf/case/<name>.yaml``, read by :mod:`sim.store.cases`); a bare ``ScenarioParams()`` has no
counterpart at all.

No I/O and no Hydra here (the Hydra schema in :mod:`sim.edge.config` reuses these classes).
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from .calendar import FIRST_MONTH, LAST_MONTH, MONTH_RE, month_index

PROFILES = ("ordinary", "notable", "symbol")
US_POLICIES = ("transactional", "conditional", "snapback", "maximum_pressure", "grand_bargain")
EU_STANCES = ("firm", "relaxed")
#: Counterparts the model knows, in the order they act each month (a new one: a class in
#: :mod:`sim.core.counterparts`, its parameters below, a field of :class:`ScenarioParams`, and a case block).
COUNTERPARTS = ("us", "eu", "lithuania", "poland", "holy_see")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def p(
    default: Any,
    *,
    unit: str,
    source: str,
    role: str = "uncertainty",
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    plausible: tuple[float, float] | None = None,
    doc: str = "",
) -> Any:
    """Declare a parameter field with its metadata (unit, range, role, source)."""
    meta = {
        "unit": unit,
        "source": source,
        "role": role,
        "lo": lo,
        "hi": hi,
        "choices": choices,
        "plausible": plausible,
        "doc": doc,
    }
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


class ParamError(ValueError):
    """A parameter value outside its allowed range, with the field's dotted name."""


def _check_value(name: str, value: Any, m: dict) -> None:
    if m.get("choices") is not None:
        if value not in m["choices"]:
            raise ParamError(f"{name} = {value!r}: must be one of {', '.join(m['choices'])}")
        return
    if m.get("lo") is None and m.get("hi") is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(f"{name} = {value!r}: must be a number in [{m['lo']}, {m['hi']}]")
    if (
        value != value
        or (m["lo"] is not None and value < m["lo"])
        or (m["hi"] is not None and value > m["hi"])
    ):
        raise ParamError(f"{name} = {value!r}: must be in [{m['lo']}, {m['hi']}] ({m['unit']})")


def check_fields(obj: Any, prefix: str = "") -> None:
    """Check every field of a params dataclass against its metadata; recurse into nested ones and dicts.

    Raises:
        ParamError: one line naming the field, the value and the allowed values.
    """
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        name = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            check_fields(value, prefix=f"{name}.")
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str) or not NAME_RE.match(key):
                    raise ParamError(f"{name}.{key}: names must be lower_snake_case (letters, digits, _)")
                if dataclasses.is_dataclass(item):
                    check_fields(item, prefix=f"{name}.{key}.")
                elif f.metadata:
                    _check_value(f"{name}.{key}", item, f.metadata)
            continue
        if f.metadata:
            _check_value(name, value, f.metadata)


def check_month(name: str, value: str | None, allow_none: bool = False) -> None:
    """Check a calendar month given as text ``YYYY-MM`` within the model's calendar."""
    if value is None and allow_none:
        return
    if not isinstance(value, str) or not MONTH_RE.match(value):
        raise ParamError(
            f"{name} = {value!r}: must be a month as text YYYY-MM (e.g. 2025-12)"
            + (", or null" if allow_none else "")
        )
    if not month_index(FIRST_MONTH) <= month_index(value) <= month_index(LAST_MONTH):
        raise ParamError(f"{name} = {value!r}: must be between {FIRST_MONTH} and {LAST_MONTH}")


# --------------------------------------------------------------------------------------------- the case
@dataclass
class CaseParams:
    """What defines one regime's case (set by ``conf/case/<name>.yaml``).

    Attributes:
        name: the case's name (lower_snake_case); selects its seeds, timeline and calibration.
        monitor: the monitoring organisation whose count defines a political prisoner here.
        counts_parole: whether the monitor keeps prisoners released on parole on its list (Cuba's Prisoners
            Defenders does), so that ``prisoners_held`` counts them while ``in_prison`` does not.
        ties: names of the ties that make a prisoner valuable to an outside actor (at most 7).
        destinations: where released prisoners can go; the first is staying in the country.
        outside: actors in the case's record that the model does not represent (their exchanges are replayed
            as releases with no relief modelled), e.g. Germany in the Ankara exchange of August 2024.
        relief_unit: what one relief unit (RU) is in this case, in a sentence for reports.
    """

    name: str = "generic"
    monitor: str = p("", unit="text", source="case file")
    counts_parole: bool = p(False, unit="bool", source="case file (the monitor's definition)")
    ties: list[str] = p([], unit="names", source="case file")
    destinations: list[str] = p(["stayed"], unit="names", source="case file")
    outside: list[str] = p([], unit="names", source="case file")
    relief_unit: str = p(
        "the relief value the regime obtained per prisoner in the case's reference deal", unit="text",
        source="case file",
    )  # fmt: skip

    def __post_init__(self) -> None:
        if not NAME_RE.match(self.name):
            raise ParamError(f"case.name = {self.name!r}: must be lower_snake_case (letters, digits, _)")
        for what, names in (
            ("ties", self.ties),
            ("destinations", self.destinations),
            ("outside", self.outside),
        ):
            for n in names:
                if not isinstance(n, str) or not NAME_RE.match(n):
                    raise ParamError(f"case.{what}: {n!r} must be lower_snake_case")
            if len(set(names)) != len(names):
                raise ParamError(f"case.{what}: names must be unique")
        if len(self.ties) > 7:
            raise ParamError(f"case.ties: at most 7 ties (got {len(self.ties)})")
        if not self.destinations or self.destinations[0] != "stayed":
            raise ParamError("case.destinations: the first destination must be 'stayed'")


# --------------------------------------------------------------------------------------------- population
@dataclass
class PopulationParams:
    """The initial stock of political prisoners, synthesised as individuals.

    Attributes:
        initial_stock: prisoners held at the start month (persons).
        share_notable: share of the stock with a notable profile (journalists, lawyers, activists).
        share_symbol: share who are high-profile symbols (laureates, protest leaders).
        tie_shares: share of the stock with each tie of the case (``case.ties``).
        sentence_ordinary_years, sentence_notable_years, sentence_symbol_years: median sentence (years).
        sentence_spread: log-normal sigma of sentences (dimensionless).
        first_arrest_month: earliest arrest month in the synthesised stock (YYYY-MM).
        poor_health_share: share of the stock in poor health at the start.
    """

    # seeds:prisoners_held_2025_12 says "more than 1100" after the December wave; the envoy's "around 1,000"
    # (seeds:prisoners_remaining_envoy_2025_12) is looser. We take the human-rights count just above its
    # bound.
    initial_stock: int = p(
        1110,
        unit="persons",
        lo=0,
        hi=10_000_000,
        source="seeds:prisoners_held_2025_12",
        plausible=(1000, 1300),
    )
    share_notable: float = p(0.12, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.05, 0.25))
    # A few dozen nationally known figures among ~1,100 (assumption; three were released in Dec 2025,
    # seeds:release_2025_12_high_profile, and others remain).
    share_symbol: float = p(0.03, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.01, 0.06))
    tie_shares: dict[str, float] = p({}, unit="share", lo=0.0, hi=1.0, source="case file")
    # Most political sentences are a few years (a stock of ~1,100 fed by ~33 a month turns over in ~3 years).
    sentence_ordinary_years: float = p(
        3.0, unit="years", lo=0.1, hi=30.0, source="assumption", plausible=(2.0, 5.0)
    )
    sentence_notable_years: float = p(
        7.0, unit="years", lo=0.1, hi=30.0, source="assumption", plausible=(5.0, 10.0)
    )
    # Bialiatski 10 years, Kalesnikava 11 years (seeds:sentence_bialiatski, seeds:sentence_kalesnikava).
    sentence_symbol_years: float = p(
        10.5, unit="years", lo=0.1, hi=30.0, source="seeds:sentence_kalesnikava", plausible=(8.0, 15.0)
    )
    sentence_spread: float = p(0.4, unit="log-sd", lo=0.0, hi=2.0, source="assumption", plausible=(0.2, 0.7))
    # Kalesnikava imprisoned since 2020 (seeds:arrest_year_kalesnikava): the post-election crackdown of Aug
    # 2020.
    first_arrest_month: str = p("2020-08", unit="YYYY-MM", source="seeds:arrest_year_kalesnikava")
    poor_health_share: float = p(
        0.15, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.05, 0.3)
    )

    def __post_init__(self) -> None:
        check_fields(self, "population.")
        check_month("population.first_arrest_month", self.first_arrest_month)
        if self.share_notable + self.share_symbol > 1:
            raise ParamError("population.share_notable + population.share_symbol: must add up to at most 1")


# --------------------------------------------------------------------------------------------- the regime
@dataclass
class RegimeParams:
    """The regime: its arrest decision, holding values, beliefs about counterparts, compliance and need.

    Attributes:
        arrests_ref: arrests a month at which the marginal domestic cost of arresting equals ``arrest_cost``
            (persons/month): the scale of the arrest cost curve.
        arrest_cost: marginal domestic cost of one more arrest at ``arrests_ref`` a month (RU/arrest):
            police and courts, backlash.
        arrest_elasticity: curvature of the arrest cost curve: arrests rise as (net marginal value /
            arrest_cost) to this power (dimensionless).
        arrest_dispersion: negative-binomial size of monthly arrests (larger = closer to Poisson).
        discount: the regime's monthly discount factor (per month).
        control_ordinary, control_notable, control_symbol: domestic control value of holding one prisoner a
            month (RU/prisoner-month).
        threat_mobilisation: rise of the control value per unit of opposition mobilisation (share).
        threat_fragmentation: share of the mobilisation threat lost when the opposition is fully fragmented.
        capacity_cost: cost of holding a prisoner a month per 1,000 prisoners held (RU/prisoner-month).
        expulsion_discount: share of a released prisoner's control value not lost when they are expelled.
        arrest_share_notable, arrest_share_symbol: profile shares among new arrests.
        death_hazard: monthly probability of death in custody, good health (1/month).
        poor_health_multiplier: hazard ratio for prisoners in poor health.
        health_decline: monthly probability that a prisoner in good health falls into poor health (1/month).
        pardon_probability: probability of a unilateral goodwill pardon batch in a month (1/month).
        pardon_batch: mean size of a goodwill pardon batch (persons).
        rearrest_hazard: monthly probability that a prisoner released inside the country is arrested again.
        bargaining_power: the regime's Nash bargaining weight alpha (share).
        initial_price: the price per ordinary-prisoner equivalent the regime expects at the start (RU/eq.).
        learning_rate: weight of the latest deal in the learned price (share).
        belief_rate: weight of the latest month in the regime's belief about a counterpart's rounds (share).
        revocation_prior: the regime's belief at the start that relief it obtains will be revoked (share).
        revocation_learning: weight of the latest revocation (or kept deal) in that belief (share).
        need_initial: economic need at the start; relief is worth ``1 + need`` times its nominal value.
        need_growth: rise of need a month as wartime demand cools (1/month).
        need_sanctions: extra need per unit change of sanctions pressure since the start (dimensionless).
        symbol_escalation: rise of the control cost of each further symbol released in the same deal (share).
        release_escalation: extra cost to the regime of the k-th prisoner released in one deal, times the
            share k / (prisoners held) (RU): deterrence weakens when many go at once.
        decision_noise: scale of the logistic noise in the regime's compliance decision (RU).
        crackdown_multiplier, crackdown_half_life: a timeline crackdown's arrest multiplier at onset and the
            months for its excess to halve, when the record does not give them.
    """

    # seeds:new_political_prisoners_2025_11: 33 in November 2025 sets the scale of the cost curve.
    arrests_ref: float = p(
        33.0,
        unit="persons/month",
        lo=0.0,
        hi=1e6,
        source="seeds:new_political_prisoners_2025_11",
        plausible=(20.0, 50.0),
    )
    # The marginal cost of the 33rd arrest of a month is set near the marginal value of an arrest at the
    # reference state (control value over a three-year sentence plus a chip value of a few tenths of an RU).
    arrest_cost: float = p(0.5, unit="RU/arrest", lo=1e-6, hi=1e4, source="assumption", plausible=(0.25, 1.0))
    # Brandt, George & Sandler (2016): 26-87 % more kidnappings after concessions. With chips worth about a
    # third of an arrest's marginal value, an elasticity near 1 reproduces a rise of that size.
    arrest_elasticity: float = p(
        1.0,
        unit="dimensionless",
        lo=0.0,
        hi=10.0,
        source="Brandt, George & Sandler 2016",
        plausible=(0.5, 2.0),
    )
    arrest_dispersion: float = p(
        8.0, unit="NegBin size", lo=0.01, hi=1e6, source="assumption", plausible=(2.0, 50.0)
    )
    # Autocracies discount the future steeply: ~22 % a year (assumption).
    discount: float = p(
        0.98, unit="per month", lo=0.5, hi=0.9999, source="assumption", plausible=(0.95, 0.995)
    )
    # About 0.5 RU over a three-year sentence for an ordinary prisoner; symbols are costly to release at home
    # (DESIGN.md), notables in between (assumption; calibrated).
    control_ordinary: float = p(
        0.02, unit="RU/prisoner-month", lo=0.0, hi=1e3, source="assumption", plausible=(0.005, 0.05)
    )
    control_notable: float = p(
        0.06, unit="RU/prisoner-month", lo=0.0, hi=1e3, source="assumption", plausible=(0.02, 0.15)
    )
    control_symbol: float = p(
        0.5, unit="RU/prisoner-month", lo=0.0, hi=1e4, source="assumption", plausible=(0.2, 1.5)
    )
    threat_mobilisation: float = p(
        1.0, unit="share", lo=0.0, hi=20.0, source="assumption", plausible=(0.0, 3.0)
    )
    # New centres of legitimacy split the opposition (seed 003): a fragmented opposition threatens less.
    threat_fragmentation: float = p(
        0.5, unit="share", lo=0.0, hi=1.0, source="assumption (seed 003)", plausible=(0.0, 1.0)
    )
    capacity_cost: float = p(
        0.005,
        unit="RU/prisoner-month per 1,000 held",
        lo=0.0,
        hi=1e3,
        source="assumption",
        plausible=(0.0, 0.015),
    )
    # Symbols are cheaper to release if expelled (DESIGN.md; all of the Dec 2025 wave was expelled,
    # seeds:release_2025_12_expelled).
    expulsion_discount: float = p(
        0.5, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.2, 0.8)
    )
    # New arrests are mostly ordinary people; few become national symbols (assumption).
    arrest_share_notable: float = p(
        0.08, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.02, 0.2)
    )
    arrest_share_symbol: float = p(
        0.003, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.01)
    )
    # A handful of deaths in custody among ~1,000-1,500 prisoners over five years (three in 2023-2024 in
    # seeds/belarus/monitoring.csv's death_in_custody rows).
    death_hazard: float = p(
        0.0001, unit="1/month", lo=0.0, hi=1.0, source="assumption", plausible=(0.00003, 0.0005)
    )
    poor_health_multiplier: float = p(
        8.0, unit="hazard ratio", lo=1.0, hi=1000.0, source="assumption", plausible=(2.0, 20.0)
    )
    # Prisoners fall ill in custody (the Dec 2025 wave included some in poor health, seed 002).
    health_decline: float = p(
        0.003, unit="1/month", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.01)
    )
    pardon_probability: float = p(
        0.2, unit="1/month", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.5)
    )
    pardon_batch: float = p(15.0, unit="persons", lo=0.0, hi=1e6, source="assumption", plausible=(5.0, 40.0))
    # Nicaragua's monitor counts former releasees among new prisoners (re_arrested rows in
    # seeds/nicaragua/monitoring.csv); elsewhere small.
    rearrest_hazard: float = p(
        0.0, unit="1/month", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.005)
    )
    bargaining_power: float = p(
        0.5, unit="share", lo=0.01, hi=0.99, source="assumption (symmetric Nash)", plausible=(0.3, 0.7)
    )
    # ~125 RU for 123 prisoners, of whom 3 symbols worth ~45 ordinary prisoners each to the US
    # (seeds:release_2025_12_total, seeds:release_2025_12_high_profile): 125 / (120 + 3 x 45) ~ 0.5 RU/eq.
    initial_price: float = p(
        0.5, unit="RU/equivalent", lo=0.0, hi=1e4, source="seeds:release_2025_12_total", plausible=(0.25, 1.0)
    )
    learning_rate: float = p(0.3, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.1, 0.6))
    belief_rate: float = p(0.1, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.03, 0.3))
    revocation_prior: float = p(0.05, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.3))
    revocation_learning: float = p(
        0.5, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.2, 0.8)
    )
    # Wartime demand is cooling (seed 000): need rises slowly; the level is an assumption.
    need_initial: float = p(
        0.1, unit="share", lo=-0.9, hi=10.0, source="assumption (seed 000)", plausible=(0.0, 0.3)
    )
    need_growth: float = p(
        0.005, unit="1/month", lo=-1.0, hi=1.0, source="assumption (seed 000)", plausible=(0.0, 0.015)
    )
    need_sanctions: float = p(
        0.5, unit="dimensionless", lo=0.0, hi=10.0, source="assumption", plausible=(0.0, 1.0)
    )
    # Releases come a few symbols per wave (3 in Dec 2025, seeds:release_2025_12_high_profile): the k-th
    # symbol
    # in one deal costs control_symbol x (1 + symbol_escalation x k) (assumption on the mechanism).
    symbol_escalation: float = p(
        0.4, unit="share", lo=0.0, hi=100.0, source="assumption", plausible=(0.0, 1.5)
    )
    # Releases come "in a calibrated manner" (seed 003): letting many go at once weakens deterrence at home.
    # The k-th prisoner released in one deal costs the regime release_escalation x k / (prisoners held) more.
    release_escalation: float = p(
        9.0, unit="RU", lo=0.0, hi=1e4, source="assumption (seed 003)", plausible=(3.0, 20.0)
    )
    decision_noise: float = p(0.5, unit="RU", lo=1e-6, hi=1e4, source="assumption", plausible=(0.1, 2.0))
    # A timeline crackdown whose size or duration the record does not give takes these (calibrated) values.
    crackdown_multiplier: float = p(
        3.0, unit="ratio", lo=1.0, hi=100.0, source="assumption (calibrated)", plausible=(1.5, 6.0)
    )
    crackdown_half_life: float = p(
        9.0, unit="months", lo=0.5, hi=240.0, source="assumption (calibrated)", plausible=(3.0, 24.0)
    )


@dataclass
class RussiaParams:
    """Russia as the regime's outside option: its support lowers what Western relief is worth.

    Attributes:
        support: Russia's economic support of the regime at the start (0-1).
        support_trend: change of support a month (1/month).
        substitution: share of Western relief's value that full Russian support replaces.
    """

    # "more dependent than ever on the Kremlin" (seed 000); Russian routes carry potash but are overloaded and
    # inefficient (seed 003): high support that does not replace everything (assumption on the level).
    support: float = p(
        0.7, unit="0-1", lo=0.0, hi=1.0, source="assumption (seeds 000, 003)", plausible=(0.4, 0.9)
    )
    support_trend: float = p(
        0.0, unit="1/month", lo=-0.1, hi=0.1, source="assumption", plausible=(-0.01, 0.01)
    )
    substitution: float = p(0.3, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.6))


# --------------------------------------------------------------------------------------------- counterparts
@dataclass
class Instrument:
    """One relief instrument a counterpart controls: a sanctions sector, a licence, a listing, transit.

    Attributes:
        level: share in force (0 = lifted or open, 1 = fully in force or closed).
        value: value to the regime of lifting all of it (RU).
        cost: cost to its holder of lifting all of it: lost leverage, politics at home (RU-equivalent).
        complement: another instrument, ``counterpart.instrument``, whose being in force reduces this one's
            value (e.g. potash relief is worth less while Baltic transit is closed); empty for none.
        complement_share: share of the value kept while the complement is fully in force.
        recovery_months: for a concession its giver can give again (a mediator's recognition), the mean months
            for a lifted level to return to the case file's: each month ``level += (level0 - level) /
            recovery_months``; 0: a lifted instrument stays lifted until its holder decides otherwise.
    """

    level: float = p(1.0, unit="share", lo=0.0, hi=1.0, source="case file", plausible=(0.0, 1.0))
    value: float = p(100.0, unit="RU", lo=0.0, hi=1e6, source="case file", plausible=(50.0, 400.0))
    cost: float = p(50.0, unit="RU", lo=0.0, hi=1e6, source="case file", plausible=(20.0, 300.0))
    complement: str = p("", unit="COUNTERPART.INSTRUMENT", source="case file")
    complement_share: float = p(1.0, unit="share", lo=0.0, hi=1.0, source="case file", plausible=(0.2, 0.8))
    recovery_months: float = p(0.0, unit="months", lo=0.0, hi=1200.0, source="case file")


@dataclass
class CounterpartParams:
    """What every counterpart shares: how it values releases, when it talks, what it controls, and where
    releases go.

    Attributes:
        present: whether this counterpart exists in the case.
        value_per_prisoner: what one ordinary prisoner's release is worth to it (RU).
        worth_ordinary, worth_notable, worth_symbol: its value of a release by profile, in
            ordinary-prisoner equivalents.
        tie: the case's tie it values (e.g. ``us`` for US citizens, ``lt`` for people tied to Lithuania).
        tie_worth: extra value of a prisoner with that tie (ordinary-prisoner equivalents).
        health_bonus: extra value of a prisoner in poor health (share).
        contact_hazard: monthly probability of an opportunity to talk while engaged (1/month).
        engaged: whether talks are open at the start (a timeline event can open or close them).
        engagement_from: first month talks can happen (YYYY-MM), or null.
        round_cost: political cost of holding a round (RU); a round is held only if its value to the
            counterpart exceeds it.
        leverage_value: the discount on relief kept for later rounds: a unit of relief kept is worth
            ``leverage_value x value_per_prisoner / (its believed cost per equivalent)`` beyond its cost.
        instruments: the relief it controls, by name.
        destinations: where prisoners released in its deals go, as shares of the case's destinations.
        expel_share: share of prisoners released in its deals who are expelled.
        parole: releases in its deals are paroles inside the country (sentence intact).
        denationalise: the expelled lose their nationality.
    """

    present: bool = p(False, unit="bool", source="case file")
    value_per_prisoner: float = p(
        1.0, unit="RU/prisoner", lo=0.0, hi=1e4, source="assumption", plausible=(0.5, 3.0)
    )
    worth_ordinary: float = p(1.0, unit="ordinary-equivalents", lo=0.0, hi=1e4, source="assumption")
    worth_notable: float = p(
        2.0, unit="ordinary-equivalents", lo=0.0, hi=1e4, source="assumption", plausible=(1.2, 4.0)
    )
    worth_symbol: float = p(
        45.0, unit="ordinary-equivalents", lo=0.0, hi=1e4, source="assumption", plausible=(20.0, 120.0)
    )
    tie: str = p("", unit="name (a tie of the case)", source="case file")
    tie_worth: float = p(
        0.0, unit="ordinary-equivalents", lo=0.0, hi=1e4, source="assumption", plausible=(0.0, 50.0)
    )
    # Some of the Dec 2025 wave were in poor health (seed 002): humanitarian urgency (assumption on the size).
    health_bonus: float = p(
        0.5, unit="share", lo=0.0, hi=100.0, source="assumption (seed 002)", plausible=(0.0, 2.0)
    )
    contact_hazard: float = p(0.05, unit="1/month", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.2))
    engaged: bool = p(False, unit="bool", source="case file")
    engagement_from: str | None = p(None, unit="YYYY-MM or null", source="case file")
    round_cost: float = p(5.0, unit="RU", lo=0.0, hi=1e5, source="assumption", plausible=(0.0, 20.0))
    # "baby steps" (seed 004): relief kept is worth what it would buy in later rounds, discounted by the
    # chance
    # and the delay of those rounds (assumption on the discount).
    leverage_value: float = p(
        0.3, unit="share", lo=0.0, hi=10.0, source="assumption (seed 004)", plausible=(0.1, 0.6)
    )
    instruments: dict[str, Instrument] = field(default_factory=dict)
    destinations: dict[str, float] = p({}, unit="share", lo=0.0, hi=1.0, source="case file")
    expel_share: float = p(1.0, unit="share", lo=0.0, hi=1.0, source="case file", plausible=(0.0, 1.0))
    parole: bool = p(False, unit="bool", source="case file")
    denationalise: bool = p(False, unit="bool", source="case file")

    def _check(self, prefix: str) -> None:
        check_month(f"{prefix}.engagement_from", self.engagement_from, allow_none=True)
        if self.destinations and abs(sum(self.destinations.values()) - 1.0) > 1e-6:
            raise ParamError(
                f"{prefix}.destinations: shares must add up to 1 (got {sum(self.destinations.values())})"
            )
        for name, ins in self.instruments.items():
            if ins.complement and not re.match(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$", ins.complement):
                raise ParamError(
                    f"{prefix}.instruments.{name}.complement = {ins.complement!r}: must be "
                    "COUNTERPART.INSTRUMENT or empty"
                )

    def __post_init__(self) -> None:
        self._check(type(self).__name__)


@dataclass
class PolicyThresholds:
    """Arrests over the US's watch window, relative to their level before engagement, at which the US pauses.

    Attributes:
        transactional, conditional, snapback, grand_bargain: the ratio for each policy.
    """

    transactional: float = p(
        2.0, unit="ratio", lo=0.0, hi=100.0, role="lever", source="assumption", plausible=(1.5, 3.0)
    )
    conditional: float = p(
        1.25, unit="ratio", lo=0.0, hi=100.0, role="lever", source="assumption", plausible=(1.0, 1.5)
    )
    snapback: float = p(
        1.5, unit="ratio", lo=0.0, hi=100.0, role="lever", source="assumption", plausible=(1.1, 2.0)
    )
    grand_bargain: float = p(
        1.75, unit="ratio", lo=0.0, hi=100.0, role="lever", source="assumption", plausible=(1.2, 2.5)
    )


@dataclass
class USParams(CounterpartParams):
    """The United States: flexible sector sanctions, a special envoy, and a bargaining policy.

    Attributes:
        policy: transactional, conditional (restraint clause, verified), snapback (re-impose on a significant
            rise of arrests after a deal), maximum_pressure (no rounds), grand_bargain (most remaining relief
            for all prisoners).
        envoy: a special envoy institutionalises dialogue: contacts come at ``contact_hazard_envoy``.
        contact_hazard_envoy: monthly probability of a contact with an envoy (1/month).
        credibility: weight of the revolving door (arrests per release over the last year, above 1) in the
            US's cost of a round (share per unit of ratio).
        pause: thresholds of the pause rule, by policy.
        pause_window: months of arrests the pause and designation rules look at.
        designation_instrument: the instrument new designations raise (empty: no designations).
        designation_threshold: ratio of arrests (as for ``pause``) above which the US adds designations.
        designation_step: share of the designation instrument added at a time.
        designation_cooldown: months between two designation decisions.
        designation_noise: spread of the designation decision around its threshold (ratio).
        designation_cost: political cost to the US of a designation step made to rebuild leverage (RU).
        restraint: under ``conditional``, the share by which new arrests must fall while verified.
        verification_months: months over which the restraint is verified after a conditional deal.
        detection: monthly probability that the US detects a month of cheating on the restraint.
        suspension_months: months without rounds after cheating is detected (the conditional deal is revoked).
        snapback_window: months after a deal over which arrests are watched (``snapback``).
        snapback_alpha: significance level of the one-sided test that arrests rose after a deal
        (``snapback``).
        grand_share: share of the remaining relief offered for all prisoners (``grand_bargain``).
    """

    policy: str = p(
        "transactional",
        unit="choice",
        role="lever",
        choices=US_POLICIES,
        source="seeds:us_relief_potash_2025_12 (2025 deals traded releases for relief)",
    )
    # The US's willingness, in RU per ordinary prisoner: the lever that replaced the old price_per_prisoner.
    value_per_prisoner: float = p(
        1.5, unit="RU/prisoner", lo=0.0, hi=1e4, role="lever", source="assumption", plausible=(0.5, 3.0)
    )
    # Nobel laureate and protest leaders (seeds:release_2025_12_high_profile) were the headline of the deal.
    worth_symbol: float = p(
        15.0, unit="ordinary-equivalents", lo=0.0, hi=1e4, source="assumption", plausible=(8.0, 40.0)
    )
    tie: str = p("us", unit="name (a tie of the case)", source="case file")
    tie_worth: float = p(
        20.0, unit="ordinary-equivalents", lo=0.0, hi=1e4, source="assumption", plausible=(5.0, 50.0)
    )
    envoy: bool = p(True, unit="bool", role="lever", source="seeds:us_envoy_appointed_2025")
    # Four waves in 2025 (seeds:release_waves_2025): about one contact every three months with an envoy.
    contact_hazard_envoy: float = p(
        0.33, unit="1/month", lo=0.0, hi=1.0, source="seeds:release_waves_2025", plausible=(0.2, 0.5)
    )
    credibility: float = p(0.5, unit="share", lo=0.0, hi=100.0, source="assumption", plausible=(0.0, 2.0))
    pause: PolicyThresholds = field(default_factory=PolicyThresholds)
    pause_window: int = p(3, unit="months", lo=1, hi=60, source="assumption")
    designation_instrument: str = p("", unit="name (one of its instruments)", source="case file")
    designation_threshold: float = p(
        1.5, unit="ratio", lo=0.0, hi=100.0, role="lever", source="assumption", plausible=(1.2, 3.0)
    )
    designation_step: float = p(
        0.1, unit="share", lo=0.0, hi=1.0, role="lever", source="assumption", plausible=(0.0, 0.3)
    )
    designation_cooldown: int = p(6, unit="months", lo=1, hi=120, source="assumption")
    # Thresholds are not known to the decimal, even to those who set them: a designation is decided with
    # probability Phi((ratio - threshold) / noise) (assumption on the noise).
    designation_noise: float = p(
        0.25, unit="ratio", lo=1e-6, hi=100.0, source="assumption", plausible=(0.1, 0.5)
    )
    # Designating to trade the listings away later is not free at home (assumption on the size).
    designation_cost: float = p(5.0, unit="RU", lo=0.0, hi=1e5, source="assumption", plausible=(0.0, 20.0))
    # seed 000: relief "tied to verifiable steps such as ... an end to new politically motivated arrests".
    restraint: float = p(
        0.8,
        unit="share",
        lo=0.0,
        hi=1.0,
        role="lever",
        source="seed 000 (end to new arrests)",
        plausible=(0.5, 1.0),
    )
    verification_months: int = p(
        6, unit="months", lo=1, hi=120, role="lever", source="assumption", plausible=(3, 12)
    )
    # Viasna publishes new political prisoners every month: cheating on a restraint is hard to hide
    # (assumption on the monthly probability).
    detection: float = p(
        0.5, unit="1/month", lo=0.0, hi=1.0, role="lever", source="assumption", plausible=(0.1, 0.9)
    )
    suspension_months: int = p(
        12, unit="months", lo=0, hi=120, role="lever", source="assumption", plausible=(6, 24)
    )
    snapback_window: int = p(
        3, unit="months", lo=1, hi=60, role="lever", source="assumption", plausible=(2, 6)
    )
    snapback_alpha: float = p(
        0.05, unit="probability", lo=1e-6, hi=0.5, role="lever", source="assumption", plausible=(0.01, 0.2)
    )
    grand_share: float = p(
        0.8,
        unit="share",
        lo=0.0,
        hi=1.0,
        role="lever",
        source="seeds:prisoners_remaining_envoy_2025_12 (most sanctions if all freed)",
        plausible=(0.5, 1.0),
    )

    def __post_init__(self) -> None:
        self._check("us")


@dataclass
class EUParams(CounterpartParams):
    """The European Union: systemic sanctions renewed on a calendar, tightened or relaxed by its own rules.

    Attributes:
        stance: firm (relaxes only when persecution recedes) or relaxed (follows US relief, and trades).
        renewal_month: calendar month of the renewal decision (1-12).
        weight_arrests: weight of the rise of arrests (ratio to the level at the start, minus 1) in the index.
        weight_releases: weight of releases over the past year (share of the stock held) in the index.
        weight_lobbying: weight of the exiles' lobbying (0-1) in the index.
        weight_incidents: weight of member states' security incidents over the past year (count).
        tighten_above: index above which the EU tightens.
        relax_below: index below which the EU may relax (a firm EU also needs the systemic condition).
        step: change of the sanctions level at a tightening or relaxation (share).
        index_noise: spread of the renewal decision around its thresholds: it tightens with probability
            Phi((index - tighten_above) / noise) and relaxes with probability Phi((relax_below - index) /
            noise).
        firm_stock_share: a firm EU relaxes only once the stock has fallen to this share of its level at
        start.
        follow_share: share of its gap to US pressure a relaxed EU closes when it relaxes.
    """

    stance: str = p(
        "firm",
        unit="choice",
        role="lever",
        choices=EU_STANCES,
        source="seed 000 (EU sanctions tied to systemic change)",
    )
    renewal_month: int = p(
        2,
        unit="month of year",
        lo=1,
        hi=12,
        source="assumption (the EU's Belarus regime is renewed in February)",
    )
    weight_arrests: float = p(
        1.0, unit="per unit ratio", lo=0.0, hi=100.0, source="assumption", plausible=(0.0, 2.0)
    )
    weight_releases: float = p(
        2.0, unit="per share of stock", lo=0.0, hi=100.0, source="assumption", plausible=(0.0, 5.0)
    )
    # Exiled leaders ask the EU to keep its sanctions (seeds 002, 004): lobbying holds the EU firm.
    weight_lobbying: float = p(
        0.5,
        unit="per unit lobbying",
        lo=0.0,
        hi=100.0,
        source="assumption (seeds 002, 004)",
        plausible=(0.0, 1.5),
    )
    weight_incidents: float = p(
        0.1, unit="per incident", lo=0.0, hi=100.0, source="assumption (seed 000)", plausible=(0.0, 0.3)
    )
    tighten_above: float = p(
        0.3, unit="index", lo=-100.0, hi=100.0, role="lever", source="assumption", plausible=(0.1, 0.6)
    )
    relax_below: float = p(
        -0.2, unit="index", lo=-100.0, hi=100.0, role="lever", source="assumption", plausible=(-0.5, 0.0)
    )
    step: float = p(
        0.05, unit="share", lo=0.0, hi=1.0, role="lever", source="assumption", plausible=(0.02, 0.2)
    )
    # 27 member states decide by unanimity: the outcome is not a sharp function of the index (assumption).
    index_noise: float = p(0.2, unit="index", lo=1e-6, hi=100.0, source="assumption", plausible=(0.1, 0.4))
    firm_stock_share: float = p(
        0.5, unit="share", lo=0.0, hi=1.0, role="lever", source="assumption", plausible=(0.2, 0.8)
    )
    follow_share: float = p(
        0.5, unit="share", lo=0.0, hi=1.0, role="lever", source="assumption", plausible=(0.2, 1.0)
    )

    def __post_init__(self) -> None:
        self._check("eu")


@dataclass
class NeighbourParams(CounterpartParams):
    """A neighbour (Lithuania, Poland) that controls transit or border crossings and values its own people.

    Attributes:
        transit_instrument: the instrument whose opening is a unilateral decision (empty for none).
        transit_revenue: the neighbour's own gain a month from its instrument being open (RU/month).
        security_cost: its cost a month of an open instrument per security incident over the past year
            (RU/month per incident).
        alignment_cost: its cost a month of an open instrument per unit of EU sanctions in force (RU/month).
        incident_rate: security incidents a month attributed to the regime (balloons, migrants) (1/month).
        close_severity: an incident at least this severe closes the border instrument (0-1).
    """

    transit_instrument: str = p("", unit="name (one of its instruments)", source="case file")
    transit_revenue: float = p(
        2.0, unit="RU/month", lo=0.0, hi=1e5, source="assumption", plausible=(0.0, 6.0)
    )
    security_cost: float = p(
        1.0,
        unit="RU/month per incident",
        lo=0.0,
        hi=1e5,
        source="assumption (seed 000)",
        plausible=(0.0, 3.0),
    )
    alignment_cost: float = p(
        3.0, unit="RU/month", lo=0.0, hi=1e5, source="assumption (seed 003)", plausible=(0.0, 6.0)
    )
    incident_rate: float = p(
        0.1, unit="1/month", lo=0.0, hi=10.0, source="assumption (seed 000)", plausible=(0.0, 0.3)
    )
    close_severity: float = p(0.7, unit="0-1", lo=0.0, hi=1.0, source="assumption", plausible=(0.4, 1.0))

    def __post_init__(self) -> None:
        self._check(type(self).__name__)


@dataclass
class MediatorParams(CounterpartParams):
    """A humanitarian mediator (e.g. the Holy See): releases for recognition, nothing material.

    Attributes: as :class:`CounterpartParams`; its instrument is usually ``recognition`` with no cost.
    """

    expel_share: float = p(1.0, unit="share", lo=0.0, hi=1.0, source="case file")

    def __post_init__(self) -> None:
        self._check("holy_see")


# --------------------------------------------------------------------------------------------- opposition
@dataclass
class OppositionParams:
    """The opposition: individuals with thresholds, the exile community, centres of legitimacy.

    Attributes:
        individuals: number of represented individuals whose thresholds make up mobilisation.
        core_share: share of committed activists who are active whatever others do (threshold 0).
        threshold_mean, threshold_sd: the normal distribution of the others' thresholds (share active).
        initial_mobilisation: share active at the start (0-1).
        grievance: rise of the perceived participation per 100 arrests (per 100 persons).
        deterrence: fall of the perceived participation per 100 arrests (per 100 persons).
        hope: rise of the perceived participation per 100 prisoners released (per 100 persons).
        loss: fall of the perceived participation per expelled symbol (per symbol).
        new_centre_probability: probability that a released symbol founds a new centre of legitimacy.
        new_centre_weight: weight of a new centre relative to the original leadership's (share).
        initial_centres: centres at the start: the leadership in exile and those founded by released symbols.
        lobbying: strength of the exiles' lobbying when united and numerous (0-1).
        exiles_initial: the exile community at the start (persons).
        exiles_half: exile community at which lobbying reaches half its strength (persons).
    """

    individuals: int = p(1000, unit="persons (represented)", lo=10, hi=1_000_000, source="assumption")
    core_share: float = p(0.02, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.05))
    # Granovetter (1978); Epstein (2002): heterogeneous thresholds make mobilisation tip.
    threshold_mean: float = p(
        0.25,
        unit="share active",
        lo=0.0,
        hi=1.0,
        source="Granovetter 1978 (form); assumption",
        plausible=(0.15, 0.4),
    )
    threshold_sd: float = p(
        0.08, unit="share active", lo=0.001, hi=1.0, source="assumption", plausible=(0.03, 0.15)
    )
    initial_mobilisation: float = p(
        0.03, unit="0-1", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.2)
    )
    grievance: float = p(
        0.06, unit="per 100 arrests", lo=0.0, hi=10.0, source="assumption", plausible=(0.0, 0.15)
    )
    deterrence: float = p(
        0.05,
        unit="per 100 arrests",
        lo=0.0,
        hi=10.0,
        source="Epstein 2002 (form); assumption",
        plausible=(0.0, 0.15),
    )
    hope: float = p(0.04, unit="per 100 released", lo=0.0, hi=10.0, source="assumption", plausible=(0.0, 0.1))
    loss: float = p(0.01, unit="per symbol", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.03))
    # Two of the three symbols released in Dec 2025 (Babaryka, Kalesnikava) are read by seed 003 as new
    # centres of legitimacy: 2/3.
    new_centre_probability: float = p(
        2 / 3,
        unit="probability",
        lo=0.0,
        hi=1.0,
        source="seeds:release_2025_12_high_profile",
        plausible=(0.2, 0.9),
    )
    new_centre_weight: float = p(
        0.2, unit="share", lo=0.0, hi=10.0, source="assumption", plausible=(0.05, 0.5)
    )
    # Babaryka and Kalesnikava, released in Dec 2025, are already alternative centres at the start (seed 003).
    initial_centres: int = p(3, unit="centres", lo=1, hi=1000, source="seeds:release_2025_12_high_profile")
    lobbying: float = p(0.5, unit="0-1", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 1.0))
    # Estimates of post-2020 emigration from Belarus vary widely (a few hundred thousand): assumption.
    exiles_initial: float = p(
        300_000.0, unit="persons", lo=0.0, hi=1e8, source="assumption", plausible=(100_000.0, 500_000.0)
    )
    exiles_half: float = p(300_000.0, unit="persons", lo=1.0, hi=1e8, source="assumption")


# --------------------------------------------------------------------------------------------- the scenario
@dataclass
class ScenarioParams:
    """All parameters of one scenario of one case.

    Attributes:
        name: scenario name (lower_snake_case, used in tables and folder names).
        start: first simulated month (YYYY-MM).
        case: what defines the regime's case (counterparts present, ties, destinations, monitor).
        population, regime, russia, opposition: the regime's side.
        us, eu, lithuania, poland, holy_see: the counterparts (each ``present`` or not in the case).
    """

    name: str = "baseline"
    start: str = "2025-12"
    case: CaseParams = field(default_factory=CaseParams)
    population: PopulationParams = field(default_factory=PopulationParams)
    regime: RegimeParams = field(default_factory=RegimeParams)
    russia: RussiaParams = field(default_factory=RussiaParams)
    opposition: OppositionParams = field(default_factory=OppositionParams)
    us: USParams = field(default_factory=USParams)
    eu: EUParams = field(default_factory=EUParams)
    lithuania: NeighbourParams = field(default_factory=NeighbourParams)
    poland: NeighbourParams = field(default_factory=NeighbourParams)
    holy_see: MediatorParams = field(default_factory=MediatorParams)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME_RE.match(self.name):
            raise ParamError(
                f"name = {self.name!r}: must be lower_snake_case (letters, digits, _; at most 40)"
            )
        check_month("start", self.start)
        check_fields(self)
        self.check_case()
        if month_index(self.population.first_arrest_month) >= month_index(self.start):
            raise ParamError(
                f"population.first_arrest_month = {self.population.first_arrest_month!r}: must be "
                f"before start = {self.start!r}"
            )

    def counterparts(self) -> dict[str, CounterpartParams]:
        """The counterparts present in this case, by name, in acting order."""
        return {n: getattr(self, n) for n in COUNTERPARTS if getattr(self, n).present}

    def check_case(self) -> None:
        """Names used by the counterparts (ties, destinations, complements) must exist in the case."""
        ties, dests = set(self.case.ties), set(self.case.destinations)
        for t in self.population.tie_shares:
            if t not in ties:
                raise ParamError(
                    f"population.tie_shares.{t}: not a tie of the case; ties: {', '.join(ties) or 'none'}"
                )
        present = self.counterparts()
        for n, c in present.items():
            if c.tie and c.tie not in ties:
                raise ParamError(
                    f"{n}.tie = {c.tie!r}: not a tie of the case; ties: {', '.join(ties) or 'none'}"
                )
            for d in c.destinations:
                if d not in dests:
                    raise ParamError(
                        f"{n}.destinations.{d}: not a destination of the case; allowed: "
                        f"{', '.join(self.case.destinations)}"
                    )
            for i, ins in c.instruments.items():
                if ins.complement:
                    cn, ci = ins.complement.split(".")
                    if cn not in present or ci not in present[cn].instruments:
                        raise ParamError(
                            f"{n}.instruments.{i}.complement = {ins.complement!r}: no such instrument "
                            "of a counterpart present in the case"
                        )
        us = self.us
        if us.present and us.designation_instrument and us.designation_instrument not in us.instruments:
            raise ParamError(
                f"us.designation_instrument = {us.designation_instrument!r}: not one of the US "
                f"instruments ({', '.join(us.instruments) or 'none'})"
            )
        for n in ("lithuania", "poland"):
            c = getattr(self, n)
            if c.present and c.transit_instrument and c.transit_instrument not in c.instruments:
                raise ParamError(
                    f"{n}.transit_instrument = {c.transit_instrument!r}: not one of its instruments"
                )

    def replace(self, **changes: Any) -> ScenarioParams:
        """A copy with dotted-name changes, e.g. ``replace(**{"us.policy": "conditional"})``."""
        return with_changes(self, changes)


def _copy_path(obj: Any, parts: list[str], key: str) -> Any:
    """Copy the chain of containers along ``parts`` below ``obj`` (in place in ``obj``); return the last
    one."""
    cur = obj
    for i, part in enumerate(parts):
        if isinstance(cur, dict):
            if part not in cur:
                raise ParamError(f"{key}: unknown parameter ({'.'.join(parts[: i + 1])} does not exist)")
            child = copy.copy(cur[part])
            cur[part] = child
        else:
            if not dataclasses.is_dataclass(cur) or part.startswith("_") or not hasattr(cur, part):
                raise ParamError(f"{key}: unknown parameter")
            child = getattr(cur, part)
            if not (dataclasses.is_dataclass(child) or isinstance(child, (dict, list))):
                raise ParamError(f"{key}: unknown parameter")
            child = copy.copy(child)  # a shallow copy: checks run once all changes are in
            setattr(cur, part, child)
        cur = child
    return cur


def with_changes(params: ScenarioParams, changes: dict[str, Any]) -> ScenarioParams:
    """Return a checked copy of ``params`` with dotted-name changes applied (into nested dataclasses and
    dicts).

    A dict entry that does not exist yet is created when the value is a plain number (e.g. a tie share); a
    nested mapping given as a value updates the fields of an existing entry.
    """
    new = copy.copy(params)
    for key, value in changes.items():
        parts = key.split(".")
        parent = _copy_path(new, parts[:-1], key)
        last = parts[-1]
        if isinstance(parent, dict):
            if not NAME_RE.match(last):
                raise ParamError(f"{key}: names must be lower_snake_case")
            if isinstance(value, dict) and last in parent and dataclasses.is_dataclass(parent[last]):
                item = copy.copy(parent[last])
                for k, v in value.items():
                    if not hasattr(item, k):
                        raise ParamError(f"{key}.{k}: unknown parameter")
                    setattr(item, k, v)
                value = item
            parent[last] = value
            continue
        if not dataclasses.is_dataclass(parent) or last.startswith("_") or not hasattr(parent, last):
            raise ParamError(f"{key}: unknown parameter")
        current = getattr(parent, last)
        if isinstance(current, dict) and isinstance(value, dict):
            value = dict(value)
        setattr(parent, last, value)
    for obj in reversed(chain_all(new)):
        post = getattr(obj, "__post_init__", None)
        if post is not None:
            post()
    return new


def chain_all(obj: Any) -> list[Any]:
    """All dataclass instances in ``obj`` (and in its dicts), parents first."""
    out = [obj]
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out.extend(chain_all(value))
        elif isinstance(value, dict):
            for item in value.values():
                if dataclasses.is_dataclass(item):
                    out.extend(chain_all(item))
    return out


def describe(params: Any = None, prefix: str = "") -> list[dict[str, Any]]:
    """Flat list of every parameter: dotted name, default, unit, range, role, plausible range, source.

    Args:
        params: an instance (e.g. a case's parameters) to list with its values and its dict entries
            (instruments, tie shares); default: the schema's defaults of :class:`ScenarioParams`.
    """
    inst = params if params is not None else ScenarioParams()
    rows: list[dict[str, Any]] = []
    for f in dataclasses.fields(inst):
        value = getattr(inst, f.name)
        name = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            rows.extend(describe(value, prefix=f"{name}."))
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                if dataclasses.is_dataclass(item):
                    rows.extend(describe(item, prefix=f"{name}.{key}."))
                elif f.metadata:
                    rows.append({"name": f"{name}.{key}", "default": item, **_meta(f.metadata)})
            continue
        if not f.metadata:
            continue
        rows.append({"name": name, "default": value, **_meta(f.metadata)})
    return rows


def _meta(m: dict) -> dict:
    return {k: m[k] for k in ("unit", "lo", "hi", "choices", "role", "plausible", "source", "doc")}


def flatten(params: Any, prefix: str = "") -> dict[str, Any]:
    """Every parameter value by dotted name (text and null become strings, lists joined, for tables)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        name = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, dict):
            for key, item in value.items():
                if dataclasses.is_dataclass(item):
                    out.update(flatten(item, f"{name}.{key}."))
                else:
                    out[f"{name}.{key}"] = item
        elif isinstance(value, (bool, int, float)):
            out[name] = value
        elif isinstance(value, list):
            out[name] = ",".join(str(v) for v in value)
        else:
            out[name] = "" if value is None else str(value)
    return out


def from_mapping(data: dict, base: ScenarioParams | None = None) -> ScenarioParams:
    """Parameters from a nested mapping (a case or scenario file), applied on ``base`` (default: the schema).

    Mappings into dataclasses are walked field by field; a mapping into a dict field (instruments, tie shares,
    destinations) sets its entries, so a case can list its own instruments.

    Raises:
        ParamError: one line naming the unknown or out-of-range field.
    """
    base = base if base is not None else ScenarioParams()
    changes: dict[str, Any] = {}

    def walk(obj: Any, d: dict, prefix: str) -> None:
        if not isinstance(d, dict):
            raise ParamError(f"{prefix.rstrip('.')}: must be a mapping of fields")
        for key, value in d.items():
            name = f"{prefix}{key}"
            if not isinstance(key, str) or key.startswith("_") or not hasattr(obj, key):
                raise ParamError(f"{name}: unknown parameter")
            child = getattr(obj, key)
            if dataclasses.is_dataclass(child):
                walk(child, value, f"{name}.")
            elif isinstance(child, dict):
                if not isinstance(value, dict):
                    raise ParamError(f"{name}: must be a mapping")
                for k, v in value.items():
                    item = child.get(k)
                    if dataclasses.is_dataclass(item) and isinstance(v, dict):
                        walk(item, v, f"{name}.{k}.")
                    elif key == "instruments":
                        if not isinstance(v, dict):
                            raise ParamError(f"{name}.{k}: must be a mapping of instrument fields")
                        try:
                            changes[f"{name}.{k}"] = Instrument(**v)
                        except TypeError:
                            allowed = ", ".join(f.name for f in dataclasses.fields(Instrument))
                            raise ParamError(f"{name}.{k}: unknown field; allowed: {allowed}") from None
                    else:
                        changes[f"{name}.{k}"] = v
            else:
                changes[name] = value

    walk(base, data, "")
    return with_changes(base, changes)


def changes_outside_case(case: ScenarioParams, params: ScenarioParams) -> list[str]:
    """What a scenario (or command line) sets that its case does not have: instruments a counterpart of the
    case lacks, and settings of a counterpart absent from the case (which would silently do nothing).

    Args:
        case: the case's parameters as its file gives them.
        params: the run's parameters (the case with a scenario and changes on top).

    Returns:
        One line per offending setting (empty when the scenario fits the case).
    """
    out = []
    for name in COUNTERPARTS:
        mine, theirs = getattr(case, name), getattr(params, name)
        if not mine.present:
            if theirs.present:
                out.append(f"{name}: not present in case {case.case.name}")
                continue
            a, b = flatten(mine), flatten(theirs)
            changed = sorted(k for k in b if a.get(k) != b[k])
            if changed:
                out.append(f"{name}.{changed[0]}: {name} is not present in case {case.case.name}")
            continue
        extra = sorted(set(theirs.instruments) - set(mine.instruments))
        if extra:
            have = ", ".join(mine.instruments) or "none"
            out.append(
                f"{name}.instruments.{extra[0]}: case {case.case.name} has no such instrument; it has: {have}"
            )
    return out
