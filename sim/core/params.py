"""Parameters of the repression-as-bargaining model: plain dataclasses, one per actor.

Every field carries metadata read by the range checks, the sweep and sensitivity designs and the docs:

* ``unit`` -- the unit of the value;
* ``lo`` / ``hi`` -- the allowed range (checked in ``__post_init__``), or ``choices`` for text;
* ``role`` -- ``"lever"`` (a policy choice of the US, the EU or the regime) or ``"uncertainty"`` (the world);
* ``plausible`` -- the (low, high) range a sweep or sensitivity design should explore;
* ``source`` -- ``"seeds:<id>"`` (a row of ``seeds/figures.csv``), a paper, or ``"assumption"`` with
  the reasoning in the comment beside the default.

The relief scale. Sanctions relief and prisoners' values are measured in *relief units* (RU). One RU is
normalised to the relief value the regime obtained per prisoner in the December 2025 wave: 123 prisoners
(seeds:release_2025_12_total) for the lifting of US sanctions on Belaruskali
(seeds:us_relief_potash_2025_12) while Baltic transit was closed (seeds:eu_transit_closed_2025_12).
The sector values below are set so that this deal comes out at about 1 RU per prisoner.

No I/O and no Hydra here (the Hydra schemas in :mod:`sim.edge.config` reuse these classes).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

PROFILES = ("ordinary", "notable", "symbol")
TIES = ("lt", "pl", "us", "ua")
SECTORS = ("aviation", "potash", "banking", "other")
DESTINATIONS = ("stayed", "ua", "lt", "pl")
US_POLICIES = ("transactional", "conditional", "snapback", "maximum_pressure", "grand_bargain")
EU_STANCES = ("firm", "relaxed")
TRANSIT = ("closed", "open")


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


def check_fields(obj: Any, prefix: str = "") -> None:
    """Check every field of a params dataclass against its metadata; recurse into nested ones.

    Raises:
        ParamError: one line naming the field, the value and the allowed values.
    """
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        name = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            check_fields(value, prefix=f"{name}.")
            continue
        m = f.metadata
        if not m:
            continue
        if m.get("choices") is not None:
            if value not in m["choices"]:
                raise ParamError(f"{name} = {value!r}: must be one of {', '.join(m['choices'])}")
            continue
        if m.get("lo") is None and m.get("hi") is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamError(f"{name} = {value!r}: must be a number in [{m['lo']}, {m['hi']}]")
        if (
            value != value
            or (m["lo"] is not None and value < m["lo"])
            or (m["hi"] is not None and value > m["hi"])
        ):
            raise ParamError(f"{name} = {value!r}: must be in [{m['lo']}, {m['hi']}] ({m['unit']})")


def check_month(name: str, value: str | None, allow_none: bool = False) -> None:
    """Check a calendar month given as text ``YYYY-MM``."""
    if value is None and allow_none:
        return
    if not isinstance(value, str) or not MONTH_RE.match(value):
        raise ParamError(
            f"{name} = {value!r}: must be a month as text YYYY-MM (e.g. 2025-12)"
            + (", or null" if allow_none else "")
        )


@dataclass
class Sector:
    """One US sanctions sector.

    Attributes:
        level: share of the sector's sanctions still in force at the start, 0 (lifted) to 1 (full).
        value: value to the regime of lifting the whole sector with transit open (RU).
        cost: cost to the US of lifting the whole sector: lost leverage and domestic politics (RU-equivalent).
    """

    level: float = p(1.0, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 1.0))
    value: float = p(100.0, unit="RU", lo=0.0, hi=1e5, source="assumption", plausible=(50.0, 400.0))
    cost: float = p(50.0, unit="RU", lo=0.0, hi=1e5, source="assumption", plausible=(20.0, 300.0))


def _sector(level: float, value: float, cost: float, src: str) -> Any:
    return field(
        default_factory=lambda: Sector(level=level, value=value, cost=cost), metadata={"source": src}
    )


@dataclass
class PopulationParams:
    """The initial stock of political prisoners, synthesised as individuals.

    Attributes:
        initial_stock: prisoners held at the start month (persons).
        share_notable: share of the stock with a notable profile (journalists, lawyers, activists).
        share_symbol: share who are high-profile symbols (laureates, protest leaders).
        tie_lt, tie_pl, tie_us, tie_ua: share with ties that make them valuable to Lithuania, Poland,
            the US (citizens, residents) and Ukraine.
        sentence_ordinary_years, sentence_notable_years, sentence_symbol_years: median sentence (years).
        sentence_spread: log-normal sigma of sentences (dimensionless).
        first_arrest_month: earliest arrest month in the synthesised stock (YYYY-MM).
        poor_health_share: share of the stock in poor health at the start.
    """

    # seeds:prisoners_held_2025_12 says "more than 1100" after the December wave; the envoy's "around 1,000"
    # (seeds:prisoners_remaining_envoy_2025_12) is a looser figure. We take the human-rights count just
    # above its bound.
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
    tie_lt: float = p(0.04, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.01, 0.1))
    tie_pl: float = p(0.04, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.01, 0.1))
    tie_us: float = p(0.005, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.02))
    tie_ua: float = p(0.05, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.01, 0.15))
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


@dataclass
class RegimeParams:
    """The regime: arrests, drains, pardons, valuation of prisoners, learning and economic need.

    Attributes:
        arrests_ref: expected new political prisoners a month at the reference state (persons/month).
        arrest_dispersion: negative-binomial size of monthly arrests (larger = closer to Poisson).
        arrest_elasticity_mobilisation: relative change in arrests per unit change of mobilisation.
        arrest_elasticity_price: relative change in arrests per 100 % change in the trade value of a prisoner.
        death_hazard: monthly probability of death in custody, good health (1/month).
        poor_health_multiplier: hazard ratio for prisoners in poor health.
        health_decline: monthly probability that a prisoner in good health falls into poor health (1/month).
        arrest_share_notable, arrest_share_symbol: profile shares among new arrests.
        pardon_probability: probability of a unilateral pardon batch in a month (1/month).
        pardon_batch: mean size of a pardon batch (persons).
        control_ordinary, control_notable, control_symbol: domestic control value of holding one prisoner
        (RU).
        expulsion_discount: share of control value no longer lost when a released prisoner is expelled.
        option_weight: weight on the expected future price of a prisoner in the value of holding them.
        reserve_premium: extra worth (in ordinary-prisoner equivalents) of prisoners tied to Poland or
            Lithuania, kept to trade later for transit concessions.
        initial_price: learned price per ordinary-prisoner equivalent at the start (RU/equivalent).
        learning_rate: weight of the latest deal in the learned price (share).
        price_half_life: months for the learned price to halve without deals (months).
        bargaining_power: the regime's Nash bargaining weight alpha (share).
        need_initial: economic need at the start; relief is worth ``1 + need`` times its nominal value.
        need_growth: rise of need a month as wartime demand cools (1/month).
        need_sanctions: extra need per unit change of sanctions pressure since the start (dimensionless).
        symbol_escalation: rise of the control cost of each further symbol released in the same deal (share).
        expel_share: share of prisoners released in deals who are expelled.
        dest_ua, dest_lt, dest_pl: destination shares of the expelled (must add up to 1).
    """

    # seeds:new_political_prisoners_2025_11: 33 in November 2025 (the reference month of the arrest rate).
    arrests_ref: float = p(
        33.0,
        unit="persons/month",
        lo=0.0,
        hi=1e6,
        source="seeds:new_political_prisoners_2025_11",
        plausible=(20.0, 50.0),
    )
    arrest_dispersion: float = p(
        8.0, unit="NegBin size", lo=0.01, hi=1e6, source="assumption", plausible=(2.0, 50.0)
    )
    arrest_elasticity_mobilisation: float = p(
        0.8, unit="1/unit mobilisation", lo=0.0, hi=20.0, source="assumption", plausible=(0.0, 2.0)
    )
    # Brandt, George & Sandler (2016), J. Peace Research: 26-87 % more kidnappings after concessions.
    # A prior for hostage-taking in general, not a fact about Belarus: midpoint ~0.5.
    arrest_elasticity_price: float = p(
        0.5,
        unit="share per 100 %",
        lo=0.0,
        hi=5.0,
        source="Brandt, George & Sandler 2016",
        plausible=(0.26, 0.87),
    )
    # A handful of deaths in custody among ~1,000-1,500 prisoners over five years (assumption, not in seeds).
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
    # New arrests are mostly ordinary people; few become national symbols (assumption).
    arrest_share_notable: float = p(
        0.08, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.02, 0.2)
    )
    arrest_share_symbol: float = p(
        0.003, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.01)
    )
    pardon_probability: float = p(
        0.2, unit="1/month", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.5)
    )
    pardon_batch: float = p(15.0, unit="persons", lo=0.0, hi=1e6, source="assumption", plausible=(5.0, 40.0))
    control_ordinary: float = p(
        0.5, unit="RU/prisoner", lo=0.0, hi=1e4, source="assumption", plausible=(0.05, 0.6)
    )
    control_notable: float = p(
        1.5, unit="RU/prisoner", lo=0.0, hi=1e4, source="assumption", plausible=(0.5, 4.0)
    )
    # Releasing several symbols at once costs more at home than one at a time: the k-th symbol in one deal
    # costs control_symbol * (1 + symbol_escalation * k). Releases come a few symbols per wave (3 in Dec 2025,
    # seeds:release_2025_12_high_profile) rather than all at once (assumption on the mechanism).
    symbol_escalation: float = p(
        0.4, unit="share", lo=0.0, hi=100.0, source="assumption", plausible=(0.0, 1.5)
    )
    control_symbol: float = p(
        20.0, unit="RU/prisoner", lo=0.0, hi=1e4, source="assumption", plausible=(8.0, 60.0)
    )
    # Symbols are costly to release at home, cheaper if expelled (DESIGN.md; all of the Dec 2025 wave
    # was expelled, seeds:release_2025_12_expelled).
    expulsion_discount: float = p(
        0.5, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.2, 0.8)
    )
    option_weight: float = p(0.5, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.2, 0.9))
    # seeds:us_envoy_appointed_2025 notes prisoners important to Poland and Lithuania kept in reserve.
    reserve_premium: float = p(
        3.0, unit="ordinary-equivalents", lo=0.0, hi=1000.0, source="assumption", plausible=(0.0, 8.0)
    )
    # Normalisation of the relief unit (module docstring): ~1 RU per prisoner in the December 2025 wave.
    # In RU per ordinary-prisoner equivalent: ~125 RU for 123 prisoners, of whom 3 symbols worth ~60 each
    # (seeds:release_2025_12_total, seeds:release_2025_12_high_profile): 125 / (120 + 3 x 60) ~ 0.4.
    initial_price: float = p(
        0.4, unit="RU/equivalent", lo=0.0, hi=1e4, source="seeds:release_2025_12_total", plausible=(0.2, 0.8)
    )
    learning_rate: float = p(0.5, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.1, 0.9))
    price_half_life: float = p(
        12.0, unit="months", lo=0.1, hi=1e4, source="assumption", plausible=(4.0, 36.0)
    )
    bargaining_power: float = p(
        0.5, unit="share", lo=0.01, hi=0.99, source="assumption (symmetric Nash)", plausible=(0.3, 0.7)
    )
    # Need is measured from the start (0 = the state of the December 2025 deal, which fixes the relief unit).
    need_initial: float = p(
        0.0, unit="dimensionless", lo=-0.9, hi=100.0, source="assumption", plausible=(0.0, 0.5)
    )
    # Wartime demand from Russia is cooling (seed 000, qualitative): need grows slowly.
    need_growth: float = p(0.005, unit="1/month", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.02))
    need_sanctions: float = p(
        0.2, unit="dimensionless", lo=0.0, hi=10.0, source="assumption", plausible=(0.0, 0.5)
    )
    # All 123 of the December 2025 wave were expelled (seeds:release_2025_12_expelled).
    expel_share: float = p(
        1.0, unit="share", lo=0.0, hi=1.0, source="seeds:release_2025_12_expelled", plausible=(0.5, 1.0)
    )
    # 114 of 123 to Ukraine, 9 to Lithuania (seeds:release_2025_12_to_ukraine,
    # seeds:release_2025_12_to_lithuania).
    dest_ua: float = p(114 / 123, unit="share", lo=0.0, hi=1.0, source="seeds:release_2025_12_to_ukraine")
    dest_lt: float = p(9 / 123, unit="share", lo=0.0, hi=1.0, source="seeds:release_2025_12_to_lithuania")
    # Seed 002 names Poland among destinations but gives no count: zero in the reference wave.
    dest_pl: float = p(0.0, unit="share", lo=0.0, hi=1.0, source="assumption")

    def __post_init__(self) -> None:
        check_fields(self, "regime.")
        total = self.dest_ua + self.dest_lt + self.dest_pl
        if abs(total - 1.0) > 1e-6:
            raise ParamError(f"regime.dest_ua + dest_lt + dest_pl = {total:.4g}: must add up to 1")


@dataclass
class USParams:
    """The United States: flexible, sector-by-sector sanctions and a policy for bargaining.

    Attributes:
        policy: transactional (relief per release), conditional (relief only with an arrest-restraint
            clause, verified), snapback (re-impose when arrests spike after a deal), maximum_pressure (no
            deals), grand_bargain (most sanctions for all remaining prisoners).
        envoy: whether a special envoy institutionalises dialogue (rounds recur at ``round_hazard_envoy``).
        engagement_from: first month a bargaining round can happen (YYYY-MM), or null for the start.
        round_hazard: monthly probability of a bargaining round without an envoy (1/month).
        round_hazard_envoy: monthly probability of a round with an envoy (1/month).
        price_per_prisoner: the most relief cost the US would bear to free one ordinary prisoner (RU).
        worth_notable, worth_symbol: US value of a notable / symbol release, in ordinary-prisoner units.
        citizen_bonus: extra value of a prisoner tied to the US, in ordinary-prisoner units.
        relief_per_round: share of the US relief remaining at the start that one round may lift (by US cost).
        restraint: under ``conditional``, the share by which new arrests must fall while verified.
        restraint_cost: the regime's cost of accepting the restraint clause (RU).
        verification_months: months over which the restraint is verified after a conditional deal.
        snapback_window: months after a deal over which arrests are watched (``snapback``).
        snapback_threshold: arrests over the window, relative to the rate before the deal, that trigger
            re-imposition.
        grand_share: share of the remaining sanctions offered for all prisoners (``grand_bargain``).
        aviation, potash, banking, other: the sectors (level, value to the regime, cost to the US).
    """

    policy: str = p(
        "transactional",
        unit="choice",
        role="lever",
        choices=US_POLICIES,
        source="seeds:us_relief_potash_2025_12 (2025 deals traded releases for relief)",
    )
    envoy: bool = p(True, unit="bool", role="lever", source="seeds:us_envoy_appointed_2025")
    # Talks opened in 2025 (seeds:us_talks_opened_2025): a backtest from 2024 has no rounds before then.
    engagement_from: str | None = p(
        None, unit="YYYY-MM or null", role="lever", source="seeds:us_talks_opened_2025"
    )
    round_hazard: float = p(0.08, unit="1/month", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 0.2))
    # Four waves in 2025 (seeds:release_waves_2025): about one round every three months with an envoy.
    round_hazard_envoy: float = p(
        0.33, unit="1/month", lo=0.0, hi=1.0, source="seeds:release_waves_2025", plausible=(0.2, 0.5)
    )
    price_per_prisoner: float = p(
        1.5, unit="RU", lo=0.0, hi=1e4, role="lever", source="assumption", plausible=(0.5, 3.0)
    )
    worth_notable: float = p(
        2.0, unit="ordinary-equivalents", lo=0.0, hi=1e4, source="assumption", plausible=(1.2, 4.0)
    )
    # Nobel laureate and protest leaders (seeds:release_2025_12_high_profile) were the headline of the deal.
    worth_symbol: float = p(
        45.0, unit="ordinary-equivalents", lo=0.0, hi=1e4, source="assumption", plausible=(20.0, 120.0)
    )
    citizen_bonus: float = p(
        20.0, unit="ordinary-equivalents", lo=0.0, hi=1e4, source="assumption", plausible=(5.0, 50.0)
    )
    # A tranche: share of the relief remaining at the start that one round may lift ("baby steps").
    relief_per_round: float = p(
        0.2, unit="share", lo=0.0, hi=1.0, role="lever", source="assumption", plausible=(0.1, 0.5)
    )
    restraint: float = p(
        0.8,
        unit="share",
        lo=0.0,
        hi=1.0,
        role="lever",
        source="seed 000 (end to new arrests)",
        plausible=(0.5, 1.0),
    )
    restraint_cost: float = p(40.0, unit="RU", lo=0.0, hi=1e5, source="assumption", plausible=(10.0, 100.0))
    verification_months: int = p(
        6, unit="months", lo=1, hi=120, role="lever", source="assumption", plausible=(3, 12)
    )
    snapback_window: int = p(
        3, unit="months", lo=1, hi=60, role="lever", source="assumption", plausible=(2, 6)
    )
    snapback_threshold: float = p(
        1.25, unit="ratio", lo=0.0, hi=100.0, role="lever", source="assumption", plausible=(1.0, 2.0)
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
    # Sector levels at the start (after the December 2025 deal) and values. Belaruskali was lifted in Dec 2025
    # (seeds:us_relief_potash_2025_12); other potash entities stay listed: half the sector remains
    # (assumption).
    # Aviation relief (2025) is not in the seeds: half remains (assumption). Values are set so that lifting
    # the Belaruskali half of potash (0.5 x 500 RU x transit 0.5 = 125 RU) buys ~123 prisoners (1 RU each).
    aviation: Sector = _sector(0.5, 100.0, 40.0, "assumption")
    potash: Sector = _sector(0.5, 500.0, 150.0, "seeds:us_relief_potash_2025_12")
    banking: Sector = _sector(1.0, 300.0, 200.0, "assumption")
    other: Sector = _sector(1.0, 200.0, 150.0, "assumption")

    def __post_init__(self) -> None:
        check_month("us.engagement_from", self.engagement_from, allow_none=True)

    def sectors(self) -> list[Sector]:
        """The sectors in the order of :data:`SECTORS`."""
        return [getattr(self, s) for s in SECTORS]


@dataclass
class EUParams:
    """The European Union: systemic sanctions, renewal calendar, and transit through Baltic ports.

    Attributes:
        stance: firm (relax only if persecution ends) or relaxed (follows US relief partly).
        initial_level: EU sanctions in force at the start (share).
        renewal_month: calendar month of the EU's renewal decision (1-12; February).
        transit: Baltic transit for potash at the start, closed or open.
        transit_reopen_month: month transit reopens (YYYY-MM), or null for never.
        transit_factor_closed: share of potash relief's value that reaches the regime while transit is closed.
        firm_stock_threshold: prisoners held at or below which a firm EU considers relaxing (persons).
        firm_quiet_months: months with arrests at or below ``firm_quiet_arrests`` a firm EU requires.
        firm_quiet_arrests: arrests a month that count as "no new arrests" (persons/month).
        relax_step: reduction of EU sanctions at a renewal when conditions hold (share).
        follow_share: share of the gap to US sanctions a relaxed EU closes at each renewal.
        value: value to the regime of lifting all EU sanctions (RU).
    """

    stance: str = p(
        "firm",
        unit="choice",
        role="lever",
        choices=EU_STANCES,
        source="seed 000 (EU sanctions tied to systemic change)",
    )
    initial_level: float = p(1.0, unit="share", lo=0.0, hi=1.0, source="assumption")
    renewal_month: int = p(
        2, unit="month of year", lo=1, hi=12, source="assumption (EU Belarus regime renews in February)"
    )
    transit: str = p(
        "closed", unit="choice", role="lever", choices=TRANSIT, source="seeds:eu_transit_closed_2025_12"
    )
    transit_reopen_month: str | None = p(None, unit="YYYY-MM or null", role="lever", source="assumption")
    # Russian routes are overloaded and inefficient (seed 003): most potash value is lost while closed.
    transit_factor_closed: float = p(
        0.5, unit="share", lo=0.0, hi=1.0, source="assumption (seed 003, qualitative)", plausible=(0.2, 0.8)
    )
    firm_stock_threshold: float = p(50.0, unit="persons", lo=0.0, hi=1e7, role="lever", source="assumption")
    firm_quiet_months: int = p(6, unit="months", lo=1, hi=120, role="lever", source="assumption")
    firm_quiet_arrests: float = p(3.0, unit="persons/month", lo=0.0, hi=1e6, source="assumption")
    relax_step: float = p(
        0.25, unit="share", lo=0.0, hi=1.0, role="lever", source="assumption", plausible=(0.1, 0.5)
    )
    follow_share: float = p(
        0.5, unit="share", lo=0.0, hi=1.0, role="lever", source="assumption", plausible=(0.2, 1.0)
    )
    value: float = p(800.0, unit="RU", lo=0.0, hi=1e6, source="assumption", plausible=(400.0, 1500.0))

    def __post_init__(self) -> None:
        check_month("eu.transit_reopen_month", self.transit_reopen_month, allow_none=True)


@dataclass
class OppositionParams:
    """The opposition: mobilisation, exile and fragmentation.

    Attributes:
        initial_mobilisation: mobilisation at the start (0-1); also the reference level of the arrest rate.
        reference_mobilisation: mobilisation at which arrests equal ``regime.arrests_ref``.
        grievance: rise of mobilisation per 100 arrests (per 100 persons).
        deterrence: fall of mobilisation per 100 arrests, proportional to mobilisation (per 100 persons).
        recovery: monthly pull of mobilisation back to its baseline (1/month).
        baseline_mobilisation: the level mobilisation returns to (0-1).
        leadership_drain: fall of mobilisation per expelled symbol (who leads from abroad instead).
        new_centre_probability: probability that a released symbol founds a new centre of legitimacy.
        new_centre_weight: weight of a new centre relative to the original leadership's (share).
        initial_centres: centres of legitimacy at the start: the leadership in exile plus those founded by
            symbols already released (each at ``new_centre_weight``).
        lobbying: strength with which a united opposition holds the EU to its sanctions (share).
    """

    initial_mobilisation: float = p(
        0.3, unit="0-1", lo=0.0, hi=1.0, source="assumption", plausible=(0.1, 0.6)
    )
    reference_mobilisation: float = p(0.3, unit="0-1", lo=0.0, hi=1.0, source="assumption")
    grievance: float = p(
        0.04, unit="per 100 arrests", lo=0.0, hi=10.0, source="assumption", plausible=(0.0, 0.1)
    )
    deterrence: float = p(
        0.08, unit="per 100 arrests", lo=0.0, hi=10.0, source="assumption", plausible=(0.0, 0.2)
    )
    recovery: float = p(0.05, unit="1/month", lo=0.0, hi=1.0, source="assumption", plausible=(0.01, 0.2))
    baseline_mobilisation: float = p(
        0.3, unit="0-1", lo=0.0, hi=1.0, source="assumption", plausible=(0.1, 0.6)
    )
    leadership_drain: float = p(0.002, unit="per symbol", lo=0.0, hi=1.0, source="assumption")
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
    lobbying: float = p(0.5, unit="share", lo=0.0, hi=1.0, source="assumption", plausible=(0.0, 1.0))


@dataclass
class ScenarioParams:
    """All parameters of one scenario.

    Attributes:
        name: scenario name (free text, used in tables).
        start: first simulated month (YYYY-MM); the state is the seeds' state after the December 2025 wave.
        population, regime, us, eu, opposition: the actors' parameters.
    """

    name: str = "baseline"
    start: str = "2025-12"
    population: PopulationParams = field(default_factory=PopulationParams)
    regime: RegimeParams = field(default_factory=RegimeParams)
    us: USParams = field(default_factory=USParams)
    eu: EUParams = field(default_factory=EUParams)
    opposition: OppositionParams = field(default_factory=OppositionParams)

    def __post_init__(self) -> None:
        check_month("start", self.start)
        check_fields(self)

    def replace(self, **changes: Any) -> ScenarioParams:
        """A copy with dotted-name changes, e.g. ``replace(**{"us.policy": "conditional"})``."""
        return with_changes(self, changes)


def with_changes(params: ScenarioParams, changes: dict[str, Any]) -> ScenarioParams:
    """Return a checked copy of ``params`` with dotted-name changes applied."""
    new = dataclasses.replace(params)
    for key, value in changes.items():
        parts = key.split(".")
        # rebuild the chain of nested dataclasses so the original stays untouched
        chain = [new]
        for part in parts[:-1]:
            if not hasattr(chain[-1], part):
                raise ParamError(f"{key}: unknown parameter")
            child = dataclasses.replace(getattr(chain[-1], part))
            setattr(chain[-1], part, child)
            chain.append(child)
        if not hasattr(chain[-1], parts[-1]) or parts[-1].startswith("_"):
            raise ParamError(f"{key}: unknown parameter")
        setattr(chain[-1], parts[-1], value)
    for obj in reversed(chain_all(new)):
        post = getattr(obj, "__post_init__", None)
        if post is not None:
            post()
    return new


def chain_all(obj: Any) -> list[Any]:
    """All dataclass instances in ``obj``, parents first."""
    out = [obj]
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out.extend(chain_all(value))
    return out


def describe(cls: type = ScenarioParams, prefix: str = "") -> list[dict[str, Any]]:
    """Flat list of every parameter: dotted name, default, unit, range, role, plausible range, source."""
    rows: list[dict[str, Any]] = []
    inst = cls()
    for f in dataclasses.fields(cls):
        value = getattr(inst, f.name)
        if dataclasses.is_dataclass(value):
            sub = describe(type(value), prefix=f"{prefix}{f.name}.")
            if f.metadata.get("source"):  # sectors: the sector-level source tag applies to level/value/cost
                for r in sub:
                    r["source"] = f.metadata["source"] if r["source"] == "assumption" else r["source"]
                # report the instance defaults, not the class defaults
                for r in sub:
                    r["default"] = getattr(value, r["name"].rsplit(".", 1)[-1])
            rows.extend(sub)
            continue
        if not f.metadata:
            continue
        rows.append(
            {
                "name": f"{prefix}{f.name}",
                "default": value,
                **{k: f.metadata[k] for k in ("unit", "lo", "hi", "choices", "role", "plausible", "source")},
            }
        )
    return rows


def flatten(params: Any, prefix: str = "") -> dict[str, Any]:
    """Every parameter value by dotted name (text and null become strings, for tables)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        if dataclasses.is_dataclass(value):
            out.update(flatten(value, f"{prefix}{f.name}."))
        elif isinstance(value, (bool, int, float)):
            out[f"{prefix}{f.name}"] = value
        else:
            out[f"{prefix}{f.name}"] = "" if value is None else str(value)
    return out
