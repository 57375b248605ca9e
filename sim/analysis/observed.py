"""The observed monthly series of a case, from its monitoring record. Pure: no files.

:func:`monthly_series` turns a record (as :func:`sim.store.sources.load_monitoring` returns it) into one row
per calendar month with the columns of the simulator's ``timeseries`` table, so the same summary statistics
and scores apply to both:

* ``month`` -- ``YYYY-MM`` text.
* ``prisoners_held`` -- the organisation's stock at the end of the month: the last ``stock`` figure dated
  within the month; NaN where there is none (never carried forward or interpolated). Within a month,
  figures are ordered by day; a figure dated only to the month (``YYYY-MM``) counts as of the 15th, its
  day being unknown. A figure dated only to a year is never used.
* ``arrests`` -- new political prisoners recognised (added to the list) in the month: an ``inflow`` figure
  whose period is exactly that calendar month (Viasna's ``pp_new_recognised_month``; ``period=YYYY-MM`` in
  the other records). Flows over longer periods (two months, a year, twelve months to a date) or shorter
  ones (a week) are not split across months, since a split would invent a monthly profile: those months
  stay NaN. Detentions (people held briefly, not all of them recognised) are not arrests here.
* ``released_pardon`` -- persons released in the month in rows whose channel is ``pardon`` (unilateral
  batches), summed by the month of their date; 0 where none is recorded.
* ``released_deal`` -- the same for channel ``deal`` (releases with a counterpart); 0 where none.

Release rows of the other channels stay out of both columns: ``list_exit`` (exits from the list over a
period, not a batch: they show in the stock), ``claim`` (a government figure, not the organisation's) and
``outside_count`` (people the record does not place on the list). A release dated only to a year is left
out (no month can hold it). Release sizes are as the record gives them, which may include people the
organisation did not list (Nicaragua, 5 September 2024: 135 released, 114 of them on MRPPP's list).

The cut-off: no row whose date ends after ``observed_through`` is ever read (a flow is dated at its period's
end, so this also drops any flow reaching past it); the series ends at that month.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from .quantities import QUANTITIES, date_span, month_of, row_period

SERIES_COLUMNS = ("month", "prisoners_held", "arrests", "released_pardon", "released_deal")
"""The columns of the observed series (a subset of the simulator's ``timeseries`` columns)."""
NEEDED = ("date", "quantity", "value", "channel", "note")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _month_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every ``YYYY-MM`` from ``first`` to ``last`` inclusive."""
    return [_month_text(i) for i in range(_month_index(first), _month_index(last) + 1)]


def _check_month(month: str, what: str) -> None:
    if not isinstance(month, str) or not _MONTH.match(month):
        raise ValueError(f"{what} {month!r} must be a month YYYY-MM")


def _number(row: pd.Series) -> float:
    if "number" in row and not pd.isna(row["number"]):
        return float(row["number"])
    try:
        return float(row["value"])
    except (TypeError, ValueError):
        return float("nan")


def rows_through(record: pd.DataFrame, observed_through: str) -> pd.DataFrame:
    """The rows of a record whose date ends no later than the month ``observed_through`` (``YYYY-MM``)."""
    _check_month(observed_through, "observed_through")
    missing = [c for c in NEEDED if c not in record.columns]
    if missing:
        raise ValueError(f"record lacks column(s) {', '.join(missing)}")
    cut = date_span(observed_through)[1]
    keep = [date_span(str(d))[1] <= cut for d in record["date"]]
    return record.loc[keep]


def _contributions(record: pd.DataFrame, observed_through: str) -> list[tuple[object, str, str, date, float]]:
    """``(row label, column, month, day, value)`` for every row that enters the series, by the rules above."""
    out = []
    for label, row in rows_through(record, observed_through).iterrows():
        spec = QUANTITIES.get(row["quantity"])
        if spec is None:
            continue
        when = str(row["date"])
        value = _number(row)
        if np.isnan(value):
            continue
        first, last = date_span(when)
        month = month_of(when)
        if spec.role == "stock" and month is not None:
            day = first if first == last else date(first.year, first.month, 15)
            out.append((label, "prisoners_held", month, day, value))
        elif spec.role == "inflow":
            p0, p1 = row_period(when, str(row["note"]), row["quantity"])
            m = f"{p0.year:04d}-{p0.month:02d}"
            if (p0, p1) == date_span(m):
                out.append((label, "arrests", m, p1, value))
        elif spec.role == "release" and row["channel"] in ("pardon", "deal") and month is not None:
            out.append((label, f"released_{row['channel']}", month, last, value))
    return out


def used_rows(record: pd.DataFrame, observed_through: str) -> pd.DataFrame:
    """The rows of the record that enter :func:`monthly_series` up to ``observed_through``."""
    labels = {c[0] for c in _contributions(record, observed_through)}
    return record.loc[[i for i in record.index if i in labels]]


def last_observation(record: pd.DataFrame, observed_through: str) -> str | None:
    """The data vintage: the date (as the record writes it) of the latest row that enters the series up to
    ``observed_through`` (a month-only date counts as of the 15th, as in the stock rule)."""
    rows = _contributions(record, observed_through)
    return str(record.loc[max(rows, key=lambda c: c[3])[0], "date"]) if rows else None


def monthly_series(record: pd.DataFrame, observed_through: str, start: str | None = None) -> pd.DataFrame:
    """A case's observed monthly series (rules in the module docstring).

    Args:
        record: the case's monitoring record, with at least ``date, quantity, value, channel, note`` (a
            ``number`` column, as the loader adds, is used where present).
        observed_through: the last month (``YYYY-MM``) whose observations may be used; later rows are
            dropped before anything is read.
        start: the first month of the series (default: the first month holding a stock, a monthly inflow or
            a pardon or deal release).

    Returns:
        One row per month from ``start`` to ``observed_through``, columns :data:`SERIES_COLUMNS`;
        ``prisoners_held`` and ``arrests`` are float with NaN where unobserved, the release columns are
        float persons with 0 where none is recorded.
    """
    stock: dict[str, tuple[date, float]] = {}
    inflow: dict[str, float] = {}
    releases: dict[tuple[str, str], float] = {}
    for _, column, month, day, value in _contributions(record, observed_through):
        if column == "prisoners_held":
            if month not in stock or day >= stock[month][0]:
                stock[month] = (day, value)
        elif column == "arrests":
            inflow[month] = value
        else:
            releases[(column, month)] = releases.get((column, month), 0.0) + value
    if start is None:
        firsts = list(stock) + list(inflow) + [m for _, m in releases]
        if not firsts:
            return pd.DataFrame(
                {c: pd.Series(dtype="string" if c == "month" else float) for c in SERIES_COLUMNS}
            )
        start = min(firsts)
    _check_month(start, "start")
    months = months_between(start, observed_through)
    return pd.DataFrame(
        {
            "month": pd.Series(months, dtype="string"),
            "prisoners_held": [stock[m][1] if m in stock else np.nan for m in months],
            "arrests": [inflow.get(m, np.nan) for m in months],
            "released_pardon": [releases.get(("released_pardon", m), 0.0) for m in months],
            "released_deal": [releases.get(("released_deal", m), 0.0) for m in months],
        }
    )
