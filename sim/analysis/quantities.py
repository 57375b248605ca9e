"""The vocabulary of the monitoring record (one place): quantities, their roles and units, release
channels, and how a row's date and ``period=`` note become the span of time it covers. Pure: no files.

Each case's record (``seeds/<case>/monitoring.csv``, read by :mod:`sim.store.sources`) has one dated figure
a row: ``id, date, quantity, value, unit, channel, source, confidence, note``. The quantity names are the
ones the source files use (``../shared/data/README.md``): Viasna's Belarus file has its own names
(``pp_stock_viasna``), the other cases share a set (``political_prisoners_stock``). The *role* of a quantity
says what the analysis may do with it: :mod:`sim.analysis.observed` builds the monthly series from the
``stock``, ``inflow`` and ``release`` roles only.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from sim.core.timeline import CONFIDENCE

__all__ = [
    "CHANNELS",
    "CONFIDENCE",
    "COUNT_UNITS",
    "QUANTITIES",
    "ROLES",
    "UNITS",
    "Quantity",
    "PeriodError",
    "date_span",
    "month_of",
    "parse_number",
    "row_period",
]

ROLES = {
    "stock": "the monitoring organisation's count of political prisoners held at a date",
    "inflow": "new political prisoners recognised (added to the list) over a period",
    "release": "persons released at a date or over a period (the row's channel says how)",
    "release_total": "a total of releases over a period, for checking the batches it sums",
    "detentions": "detentions or re-arrests, not all of which become recognised political prisoners",
    "convictions": "convictions over a period",
    "cumulative": "a running total since a start date",
    "death": "deaths in custody",
    "derived": "arithmetic on other rows (a net change, a lower bound)",
    "context": "economic, legal or comparative context",
    "event": "a dated fact given as text (a concession, its reversal, a sanction, a swap, a finding)",
}

UNITS = ("persons", "persons/year", "percent", "years", "cases", "Mt", "USD", "USD bn", "GBP", "text")
COUNT_UNITS = ("persons", "persons/year")
"""Units whose value must be a plain number (a count); other units may carry text, kept as text."""

CHANNELS = {
    "pardon": "a unilateral release batch counted by the record (e.g. a presidential pardon)",
    "deal": "a release negotiated with, or facilitated by, a counterpart",
    "list_exit": "exits from the organisation's list over a period, not identified as one batch",
    "claim": "a government claim, not the monitoring organisation's count",
    "outside_count": "people released whom the record does not place on the organisation's list",
}
"""How a ``release`` row was released; the project assigns it to each release row (see sources.yaml)."""


@dataclass(frozen=True)
class Quantity:
    """One quantity of the record.

    Attributes:
        role: one of :data:`ROLES`.
        units: the units a row of this quantity may have (:data:`UNITS`).
        meaning: what it measures, in words.
        period: ``"month"`` or ``"year"`` when the row's date stands for the calendar month or year it falls
            in (Viasna's ``*_month`` and ``*_year`` rows); otherwise the note's ``period=`` or the date.
    """

    role: str
    units: tuple[str, ...]
    meaning: str
    period: str | None = None


_P = ("persons",)
QUANTITIES: dict[str, Quantity] = {
    # Belarus, Viasna's names
    "pp_stock_viasna": Quantity("stock", _P, "political prisoners recognised by Viasna and held"),
    "pp_new_recognised_month": Quantity(
        "inflow", _P, "new political prisoners recognised in the month", "month"
    ),
    "pp_new_recognised_year": Quantity(
        "inflow", _P, "new political prisoners recognised in the year", "year"
    ),
    "pp_cumulative_recognised": Quantity("cumulative", _P, "political prisoners recognised since 2020"),
    "pardon_batch": Quantity("release", _P, "political prisoners released in one pardon batch"),
    "pardoned_year_total": Quantity("release_total", _P, "political prisoners pardoned in the year", "year"),
    "political_detentions_month": Quantity("detentions", _P, "politically motivated detentions", "month"),
    "detained_month": Quantity("detentions", _P, "people detained for political reasons", "month"),
    "convicted_month": Quantity("convictions", _P, "people convicted in political cases", "month"),
    "avg_prison_term_years": Quantity(
        "context", ("years",), "average prison term of those convicted", "month"
    ),
    "death_in_custody": Quantity("death", _P, "political prisoners who died in custody"),
    "repression_cases_month": Quantity("context", ("cases",), "cases of repression recorded", "month"),
    "repression_instances_month": Quantity(
        "context", ("cases",), "instances of repression recorded", "month"
    ),
    "potash_exports_usd_bn": Quantity("context", ("USD bn",), "potash exports by value", "year"),
    "potash_exports_mt": Quantity("context", ("Mt",), "potash exports by mass", "year"),
    "potash_share_world_market": Quantity(
        "context", ("percent",), "share of the world potash market", "year"
    ),
    "belaruskali_via_klaipeda_mt": Quantity("context", ("Mt",), "Belaruskali exports shipped via Klaipeda"),
    "klaipeda_transit": Quantity("event", ("text",), "state of potash transit through Klaipeda"),
    "klaipeda_fertiliser_drop_mt": Quantity(
        "context", ("Mt",), "fall of fertiliser cargo at Klaipeda", "year"
    ),
    "potash_exports_change": Quantity("context", ("percent",), "change of potash exports", "year"),
    "potash_via_russian_ports_mt": Quantity("context", ("Mt",), "potash shipped via Russian ports", "year"),
    "potash_via_russian_ports_mt_forecast": Quantity(
        "context", ("Mt",), "forecast of potash shipped via Russian ports", "year"
    ),
    "gdp_growth_pct": Quantity("context", ("percent",), "real GDP growth", "year"),
    # other cases (cases_to_2024.csv)
    "political_prisoners_stock": Quantity("stock", _P, "political prisoners on the organisation's list"),
    "new_political_prisoners": Quantity("inflow", _P, "people added to the list over the period"),
    "released": Quantity("release", _P, "persons released (channel and destination in the row)"),
    "detentions": Quantity("detentions", _P, "detentions, arbitrary or political, over the period"),
    "detentions_cumulative": Quantity("cumulative", _P, "political detentions since 2014"),
    "re_arrested": Quantity("detentions", _P, "former releasees arrested again"),
    "political_prisoners_recognised_cumulative": Quantity(
        "cumulative", _P, "people recognised as political prisoners since a start date"
    ),
    "political_prisoners_stock_lower_bound": Quantity("derived", _P, "a lower bound on the stock"),
    "net_change_stock": Quantity("derived", _P, "net change of the stock between two figures"),
    "concession": Quantity(
        "event", ("text",), "what the regime received around a release (or that nothing was)"
    ),
    "concession_amount": Quantity("context", ("USD", "GBP"), "money paid or unfrozen"),
    "concession_reversed": Quantity("event", ("text",), "a concession the giver took back"),
    "sanction": Quantity("event", ("text",), "a sanction imposed"),
    "swap": Quantity("event", ("text",), "what the other side gave in a prisoner swap"),
    "foreign_nationals_held": Quantity("context", _P, "foreign or dual nationals held"),
    # Study rows (published findings)
    "finding": Quantity("event", ("text",), "a published finding stated in words"),
    "kidnappings_increase_after_concessions": Quantity(
        "context", ("percent",), "increase in kidnappings after concessions (a range)"
    ),
    "share_wrongful_detainee_releases_via_exchange": Quantity(
        "context", ("percent",), "share of wrongful-detainee releases obtained by exchange"
    ),
    "us_nationals_hostage_or_wrongfully_detained_cumulative": Quantity(
        "cumulative", _P, "US nationals taken hostage or wrongfully detained since 2001"
    ),
    "us_nationals_held": Quantity("context", _P, "US nationals held abroad"),
    "us_nationals_detained_in_russia": Quantity(
        "context", ("persons/year",), "US nationals detained in Russia"
    ),
    "us_nationals_released": Quantity("context", _P, "US nationals released in the year"),
    "us_nationals_wrongfully_detained": Quantity("context", _P, "US nationals wrongfully detained"),
    "western_hostages_studied": Quantity("context", _P, "Western hostages in a study's sample"),
    "us_nationals_recovered_via_concession_or_swap": Quantity(
        "context", _P, "US nationals recovered through a concession or a swap"
    ),
}

_DATE = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])(?:-(\d{2}))?)?$")
_PERIOD = re.compile(r"period=(week to (\S+?)|[0-9][0-9/-]*[0-9])(?=$|[\s;,(])")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class PeriodError(ValueError):
    """A date or a ``period=`` note that cannot be read."""


def date_span(text: str) -> tuple[date, date]:
    """First and last day a date stands for: ``YYYY`` a year, ``YYYY-MM`` a month, ``YYYY-MM-DD`` a day.

    Raises:
        PeriodError: the text is not one of these forms, or not a real day.
    """
    m = _DATE.match(text or "")
    if not m:
        raise PeriodError(f"date {text!r} must be YYYY, YYYY-MM or YYYY-MM-DD")
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    if mo is None:
        return date(y, 1, 1), date(y, 12, 31)
    mo = int(mo)
    last = calendar.monthrange(y, mo)[1]
    if d is None:
        return date(y, mo, 1), date(y, mo, last)
    try:
        day = date(y, mo, int(d))
    except ValueError:
        raise PeriodError(f"date {text!r} is not a real day") from None
    return day, day


def row_period(row_date: str, note: str, quantity: str) -> tuple[date, date]:
    """The span of time a row covers.

    Rules, in order: a ``period=start/end`` (or ``period=X``, or ``period=week to DAY``) in the note gives
    it, from the first day of ``start`` to the last day of ``end``; otherwise a quantity whose vocabulary
    says ``month`` (or ``year``) covers the calendar month (or year) of its date; otherwise the date's own
    span (a day, a month or a year).

    Raises:
        PeriodError: an unreadable date or ``period=``, a period that ends after the row's date (a flow is
            dated at its period's end, so anything else would be a later observation), or one that ends
            before it starts.
    """
    first, last = date_span(row_date)
    if "period=" in (note or ""):
        m = _PERIOD.search(note)
        if not m:
            raise PeriodError(
                f"note's period= is not YYYY[-MM[-DD]][/YYYY[-MM[-DD]]] or 'week to DAY': {note!r}"
            )
        if m.group(2):
            end = date_span(m.group(2))[1]
            start = end - timedelta(days=6)
        else:
            parts = m.group(1).split("/")
            if len(parts) > 2:
                raise PeriodError(f"period {m.group(1)!r} has more than two ends")
            start = date_span(parts[0])[0]
            end = date_span(parts[-1])[1]
        if end < start:
            raise PeriodError(f"period {m.group(1)!r} ends before it starts")
        if end > last:
            raise PeriodError(f"period {m.group(1)!r} ends after the row's date {row_date}")
        return start, end
    spec = QUANTITIES.get(quantity)
    if spec is not None and spec.period == "month":
        y, mo = first.year, first.month
        return date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1])
    if spec is not None and spec.period == "year":
        return date(first.year, 1, 1), date(first.year, 12, 31)
    return first, last


def month_of(row_date: str) -> str | None:
    """``YYYY-MM`` of a date with a month (``None`` for a year-only date, which no month can hold)."""
    first, last = date_span(row_date)
    return None if first.month != last.month else f"{first.year:04d}-{first.month:02d}"


def parse_number(value: str) -> float | None:
    """A plain number (``123``, ``-4.7``), or ``None`` for anything else (``~20%``, ``halted``, ``64-87``)."""
    return float(value) if _NUMBER.match((value or "").strip()) else None
