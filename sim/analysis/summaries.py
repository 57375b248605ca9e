"""Named summary statistics of a monthly series, computed the same way on a simulation and on the record.

Pure (no files, no Hydra): the statistics are configured by a list of :class:`StatisticSpec` (the Belarus
set lives in ``conf/calibration/``), the record comes in as a DataFrame, summaries go out as a flat dict of
floats with stable keys.

**Input.** A DataFrame with a text column ``month`` (``YYYY-MM``, consecutive, one row per month) and float
columns from :data:`COLUMNS`; NaN means *not observed*. A spec's ``column`` may name a sum of columns with
``+`` (``released_pardon+released_deal``); the sum is NaN where any part is. A simulation is one replicate
(what ABC compares with the record, itself one draw of the process); :func:`summarise_replicates` gives the
median over replicates of each statistic, for a lower-noise but narrower target (a posterior fitted to
medians is over-confident about one path: use it only when single replicates are too noisy to converge).

**The same months on both sides.** A :class:`SummarySet` is built from the specs and the observed record. For
every statistic except ``figure`` it keeps the months where the record observes the column inside the
statistic's window, and evaluates the statistic on exactly those months, for the record and for every
simulation (the simulation's other months are ignored). A statistic the record cannot support (too few
observed months) is dropped, with the reason in :attr:`SummarySet.dropped`, so the keys are fixed by the
specs and the record. Notation below: ``x_m`` is the column in month ``m``, ``O`` the observed months of the
window ``[start, end]`` (``start``/``end`` default to the record's first/last month), ``t_m`` the time of
month ``m`` in years.

Statistics (keys in brackets):

* ``level`` [``name@YYYY-MM`` for each month]: ``x_m`` at the spec's ``months``, or, if none are given, at
  every month of ``O``. Persons for stocks, persons per month for flows.
* ``yearly_mean`` [``name@YYYY``]: for each calendar year ``y`` in the window with at least ``min_points``
  (default 1) observed months, ``mean(x_m for m in O, year(m) = y)``. On ``arrests`` this is the mean monthly
  number of new prisoners in the year (persons per month).
* ``trend`` [``name``]: the OLS slope of ``x_m`` on ``t_m`` over ``O``,
  ``sum((t - tbar)(x - xbar)) / sum((t - tbar)^2)``, in units of the column per year; needs ``min_points``
  (default 3) observed months.
* ``autocorr`` [``name``]: lag-1 autocorrelation with gaps (the amplitude-modulated estimator, Parzen 1963):
  ``xbar`` and ``c0 = mean((x - xbar)^2)`` over ``O``; ``c1 = mean((x_m - xbar)(x_{m+1} - xbar))`` over the
  pairs ``P`` of consecutive months both in ``O``; ``r1 = c1 / c0`` (0 when ``c0 = 0``: a constant series has
  no detectable autocorrelation). Needs ``min_points`` (default 6) pairs. Dimensionless.
* ``batches`` [``name.count``, ``name.mean_size``, ``name.first_month``, ``name.mean_month``]: a batch is a
  month of ``O`` with ``x_m >= threshold`` (default 20 persons; monthly totals, so two releases in one month
  count as one batch of their sum). ``count`` is their number; ``mean_size`` their mean ``x_m`` (persons; 0
  when there is none); ``first_month`` and ``mean_month`` the first and mean offset ``m - start`` in months
  (both equal to the window's length ``L = end - start + 1`` when there is none: no batch within the window).
* ``figure`` [``name``]: a figure given by the caller (e.g. from 2025, after the record ends) with its
  ``value`` and ``kind``. On a simulation: ``reduce`` over every month of the window: ``at`` (the value in
  ``end``), ``sum``, ``mean``, ``max``, ``min`` or ``count`` (months with a positive value, e.g. months
  with a deal); the record is not read (the figure's value is the observed statistic).

**Kinds.** Every spec has a ``kind`` (default ``exact``): ``exact`` and ``approximate`` are compared as points
(an approximate figure should get a wider scale); ``lower_bound`` and ``upper_bound`` are bounds. A distance
must treat a bound as a bound: :func:`bound_miss` is the one-sided miss (zero while the bound holds), and
:func:`clip_to_bound` maps a simulated value so that any distance ``|s' - s_0|`` equals that miss.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from sim.core.calendar import month_index, month_text

COLUMNS = ("prisoners_held", "arrests", "released_pardon", "released_deal", "released_high_profile")
STATISTICS = ("level", "yearly_mean", "trend", "autocorr", "batches", "figure")
KINDS = ("exact", "approximate", "lower_bound", "upper_bound")
REDUCERS = ("at", "sum", "mean", "max", "min", "count")
DEFAULT_MIN_POINTS = {"yearly_mean": 1, "trend": 3, "autocorr": 6}
BATCH_KEYS = ("count", "mean_size", "first_month", "mean_month")
UNITS = {
    "prisoners_held": "persons",
    "arrests": "persons per month",
    "released_pardon": "persons per month",
    "released_deal": "persons per month",
    "released_high_profile": "persons per month",
}
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def parse_month(text: str, field: str) -> int:
    """Month index of a ``YYYY-MM`` text; a ValueError naming ``field`` otherwise."""
    if not isinstance(text, str) or not _MONTH.match(text):
        raise ValueError(f"{field}: a month as YYYY-MM (e.g. 2024-07), got {text!r}")
    return month_index(text)


@dataclass(frozen=True)
class StatisticSpec:
    """One configured statistic (see the module notes for each statistic's formula).

    Attributes:
        name: key (or key prefix); letters, digits, ``_`` and ``.``.
        statistic: one of :data:`STATISTICS`.
        column: a column of :data:`COLUMNS`, or a ``+``-joined sum of them.
        start, end: the window's first and last month (``YYYY-MM``); empty: the record's first/last month
            (a ``figure`` needs ``end``; ``start`` defaults to ``end``).
        months: ``level`` only: the months to take (empty: every observed month of the window).
        threshold: ``batches`` only: smallest monthly release that counts as a batch (persons).
        min_points: fewest observed months (``trend``, ``yearly_mean``) or pairs (``autocorr``) for the
            statistic to be defined; default :data:`DEFAULT_MIN_POINTS`.
        reduce: ``figure`` only: one of :data:`REDUCERS`.
        value: ``figure`` only: the figure (in the column's unit, or persons for sums over months).
        kind: one of :data:`KINDS`.
        source: where the figure comes from (recorded, not used).
    """

    name: str
    statistic: str
    column: str = "prisoners_held"
    start: str = ""
    end: str = ""
    months: tuple[str, ...] = ()
    threshold: float = 20.0
    min_points: int | None = None
    reduce: str = "at"
    value: float = math.nan
    kind: str = "exact"
    source: str = ""

    def __post_init__(self):
        label = f"statistic {self.name!r}"
        if not isinstance(self.name, str) or not re.match(r"^[A-Za-z0-9_.]+$", self.name):
            raise ValueError(f"statistic name: letters, digits, '_' and '.', got {self.name!r}")
        if self.statistic not in STATISTICS:
            raise ValueError(
                f"{label}: statistic must be one of {', '.join(STATISTICS)}, got {self.statistic!r}"
            )
        for part in self.column.split("+"):
            if part not in COLUMNS:
                raise ValueError(
                    f"{label}: column must be one of {', '.join(COLUMNS)} (or a '+' sum), got {part!r}"
                )
        if self.kind not in KINDS:
            raise ValueError(f"{label}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        for f in ("start", "end"):
            if getattr(self, f):
                parse_month(getattr(self, f), f"{label} {f}")
        if self.start and self.end and month_index(self.start) > month_index(self.end):
            raise ValueError(f"{label}: start must not be after end ({self.start} > {self.end})")
        object.__setattr__(self, "months", tuple(self.months))
        for m in self.months:
            parse_month(m, f"{label} months")
        if self.months and self.statistic != "level":
            raise ValueError(f"{label}: months is for statistic level only")
        if self.statistic == "figure":
            if not self.end:
                raise ValueError(f"{label}: a figure needs end (YYYY-MM)")
            if self.reduce not in REDUCERS:
                raise ValueError(f"{label}: reduce must be one of {', '.join(REDUCERS)}, got {self.reduce!r}")
            if not math.isfinite(self.value):
                raise ValueError(f"{label}: a figure needs a finite value")
        if self.min_points is not None and (not isinstance(self.min_points, int) or self.min_points < 1):
            raise ValueError(f"{label}: min_points must be a positive integer, got {self.min_points!r}")
        if not math.isfinite(self.threshold) or self.threshold <= 0:
            raise ValueError(
                f"{label}: threshold must be a positive number of persons, got {self.threshold!r}"
            )

    @classmethod
    def from_dict(cls, d: Mapping) -> StatisticSpec:
        """A spec from a config mapping; unknown keys are an error naming the allowed ones."""
        allowed = [f.name for f in fields(cls)]
        unknown = sorted(set(d) - set(allowed))
        if unknown:
            raise ValueError(
                f"statistic {d.get('name')!r}: unknown field {unknown[0]!r}; allowed: {', '.join(allowed)}"
            )
        d = dict(d)
        if "months" in d:
            d["months"] = tuple(d["months"] or ())
        for f in ("threshold", "value"):
            if f in d:
                d[f] = float(d[f])
        return cls(**d)

    @property
    def points(self) -> int:
        """The ``min_points`` in force."""
        return self.min_points if self.min_points is not None else DEFAULT_MIN_POINTS.get(self.statistic, 1)


# --- bounds -----------------------------------------------------------------------------------------------


def bound_miss(kind: str, simulated: float, observed: float) -> float:
    """Signed miss of a simulated statistic against an observed one of ``kind``.

    ``simulated - observed`` for a point (exact, approximate); for a lower bound ``min(s - o, 0)`` and for an
    upper bound ``max(s - o, 0)``: zero while the bound holds, the shortfall or excess otherwise.
    """
    d = simulated - observed
    if kind == "lower_bound":
        return min(d, 0.0)
    if kind == "upper_bound":
        return max(d, 0.0)
    if kind in ("exact", "approximate"):
        return d
    raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")


def clip_to_bound(kind: str, simulated: float, observed: float) -> float:
    """The simulated value as a distance should see it: ``observed + bound_miss(...)``.

    A lower bound ``o`` maps ``s`` to ``min(s, o)``, an upper bound to ``max(s, o)``, a point leaves it as is;
    so ``|clip - o|`` is the one-sided miss and every p-norm distance is zero on a satisfied bound.
    """
    return observed + bound_miss(kind, simulated, observed)


# --- the statistics on arrays (values with NaN = unobserved, integer month indices) -------------------------


def ols_slope_per_year(values: np.ndarray, months: np.ndarray, min_points: int = 3) -> float:
    """OLS slope of ``values`` on time in years over the observed (non-NaN) months; NaN if too few."""
    ok = np.isfinite(values)
    if ok.sum() < max(min_points, 2):
        return math.nan
    t = months[ok] / 12.0
    x = values[ok]
    tc = t - t.mean()
    return float((tc * (x - x.mean())).sum() / (tc * tc).sum())


def lag1_autocorrelation(values: np.ndarray, months: np.ndarray, min_pairs: int = 6) -> float:
    """Lag-1 autocorrelation with gaps (module notes): ``c1 / c0``; NaN with under ``min_pairs`` pairs."""
    ok = np.isfinite(values)
    x, m = values[ok], months[ok]
    pair = np.diff(m) == 1
    if pair.sum() < min_pairs:
        return math.nan
    dev = x - x.mean()
    c0 = float((dev * dev).mean())
    if c0 <= 1e-12 * max(1.0, float(x.mean()) ** 2):
        return 0.0
    c1 = float((dev[:-1][pair] * dev[1:][pair]).mean())
    return c1 / c0


def release_batches(values: np.ndarray, months: np.ndarray, threshold: float, start: int, end: int) -> dict:
    """Batches (observed months with ``value >= threshold``) within ``[start, end]``: count, mean size
    (persons), first and mean offset from ``start`` (months; the window length when there is none)."""
    inside = (months >= start) & (months <= end) & np.isfinite(values)
    hit = inside & (values >= threshold)
    length = float(end - start + 1)
    if not hit.any():
        return {"count": 0.0, "mean_size": 0.0, "first_month": length, "mean_month": length}
    offsets = (months[hit] - start).astype(float)
    return {
        "count": float(hit.sum()),
        "mean_size": float(values[hit].mean()),
        "first_month": float(offsets.min()),
        "mean_month": float(offsets.mean()),
    }


def reduce_window(values: np.ndarray, how: str) -> float:
    """A figure's reduction of a complete window (``at`` is the last month); NaN if any month is missing."""
    if len(values) == 0 or not np.all(np.isfinite(values)):
        return math.nan
    if how == "at":
        return float(values[-1])
    if how == "count":  # months with a positive value (e.g. months with a deal)
        return float(np.sum(values > 0))
    return float(getattr(np, how)(values))


# --- frames -----------------------------------------------------------------------------------------------


def _frame_arrays(frame: pd.DataFrame, what: str) -> tuple[int, dict[str, np.ndarray]]:
    """First month index and float arrays of the columns present; checks months are consecutive YYYY-MM."""
    if "month" not in frame.columns:
        raise ValueError(f"{what}: needs a column 'month' (YYYY-MM)")
    months = [parse_month(str(m), f"{what} month") for m in frame["month"]]
    if not months:
        raise ValueError(f"{what}: no months")
    idx = np.asarray(months)
    if np.any(np.diff(idx) != 1):
        raise ValueError(f"{what}: months must be consecutive and ascending, one row each")
    cols = {c: frame[c].to_numpy(dtype=float) for c in COLUMNS if c in frame.columns}
    return int(idx[0]), cols


def _column(cols: dict[str, np.ndarray], spec: StatisticSpec, what: str) -> np.ndarray:
    parts = spec.column.split("+")
    missing = [p for p in parts if p not in cols]
    if missing:
        raise ValueError(f"{what}: needs column {missing[0]!r} for statistic {spec.name!r}")
    out = cols[parts[0]].copy()
    for p in parts[1:]:
        out = out + cols[p]
    return out


@dataclass(frozen=True)
class _Layout:
    """What one spec reads: its observed months (indices), window, and the keys it gives."""

    spec: StatisticSpec
    months: np.ndarray
    start: int
    end: int
    keys: tuple[str, ...]
    years: tuple[int, ...] = ()


class SummarySet:
    """The configured statistics, bound to the observed record's months (see the module notes).

    Args:
        specs: the statistics (:class:`StatisticSpec` or mappings with its fields).
        observed: the record (module notes for the columns); its NaN pattern fixes which months every
            statistic reads.

    Attributes:
        keys: the statistics' keys, in spec order.
        dropped: key (or spec name) -> why it was left out.
        observed: the observed summaries (key -> float).
    """

    def __init__(self, specs: Iterable[StatisticSpec | Mapping], observed: pd.DataFrame):
        self.specs = [s if isinstance(s, StatisticSpec) else StatisticSpec.from_dict(s) for s in specs]
        names = [s.name for s in self.specs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"statistics: each name once, {dup[0]!r} repeats")
        first, cols = _frame_arrays(observed, "observed record")
        n = len(observed)
        self.record_start, self.record_end = first, first + n - 1
        self.dropped: dict[str, str] = {}
        self._layouts: list[_Layout] = []
        for s in self.specs:
            layout = self._layout(s, first, n, cols)
            if layout is not None:
                self._layouts.append(layout)
        self.observed: dict[str, float] = {}
        for lay in self._layouts:
            vals = (
                {lay.keys[0]: lay.spec.value}
                if lay.spec.statistic == "figure"
                else self._compute(lay, first, cols, "observed record")
            )
            for k, v in vals.items():
                if math.isfinite(v):
                    self.observed[k] = v
                else:
                    self.dropped[k] = "not defined on the record (too few observed months)"
        self.keys = tuple(self.observed)

    def _layout(self, s: StatisticSpec, first: int, n: int, cols) -> _Layout | None:
        last = first + n - 1
        if s.statistic == "figure":
            end = month_index(s.end)
            start = month_index(s.start) if s.start else end
            return _Layout(s, np.arange(start, end + 1), start, end, (s.name,))
        start = month_index(s.start) if s.start else first
        end = month_index(s.end) if s.end else last
        if start < first or end > last:
            raise ValueError(
                f"statistic {s.name!r}: window {month_text(start)}..{month_text(end)} must lie within the "
                f"record {month_text(first)}..{month_text(last)} (use a figure for months after it)"
            )
        x = _column(cols, s, "observed record")
        all_months = np.arange(first, last + 1)
        window = (all_months >= start) & (all_months <= end)
        observed = all_months[window & np.isfinite(x)]
        if s.statistic == "level":
            wanted = np.array([month_index(m) for m in s.months]) if s.months else observed
            outside = [month_text(m) for m in wanted if m < start or m > end]
            if outside:
                raise ValueError(f"statistic {s.name!r}: month {outside[0]} is outside its window")
            keep = np.isin(wanted, observed)
            for m in wanted[~keep]:
                self.dropped[f"{s.name}@{month_text(m)}"] = "month not observed in the record"
            wanted = wanted[keep]
            return _Layout(s, wanted, start, end, tuple(f"{s.name}@{month_text(m)}" for m in wanted))
        if s.statistic == "yearly_mean":
            years = []
            for y in range(start // 12, end // 12 + 1):
                count = int(((observed // 12) == y).sum())
                if count >= s.points:
                    years.append(y)
                else:
                    self.dropped[f"{s.name}@{y:04d}"] = f"{count} observed months (< {s.points})"
            return _Layout(s, observed, start, end, tuple(f"{s.name}@{y:04d}" for y in years), tuple(years))
        if s.statistic == "batches":
            return _Layout(s, observed, start, end, tuple(f"{s.name}.{k}" for k in BATCH_KEYS))
        return _Layout(s, observed, start, end, (s.name,))

    @staticmethod
    def _compute(lay: _Layout, first: int, cols, what: str) -> dict[str, float]:
        s = lay.spec
        x = _column(cols, s, what)
        last = first + len(x) - 1
        need = lay.months
        if len(need) and (need.min() < first or need.max() > last):
            raise ValueError(
                f"{what}: covers {month_text(first)}..{month_text(last)}, statistic {s.name!r} needs "
                f"{month_text(int(need.min()))}..{month_text(int(need.max()))}"
            )
        v = x[need - first]
        if s.statistic == "figure":
            return {s.name: reduce_window(v, s.reduce)}
        if s.statistic == "level":
            return {k: float(val) for k, val in zip(lay.keys, v)}
        if s.statistic == "yearly_mean":
            out = {}
            for k, y in zip(lay.keys, lay.years):
                sel = v[(need // 12) == y]
                sel = sel[np.isfinite(sel)]
                out[k] = float(sel.mean()) if len(sel) else math.nan
            return out
        if s.statistic == "trend":
            return {s.name: ols_slope_per_year(v, need, s.points)}
        if s.statistic == "autocorr":
            return {s.name: lag1_autocorrelation(v, need, s.points)}
        b = release_batches(v, need, s.threshold, lay.start, lay.end)
        return {f"{s.name}.{k}": b[k] for k in BATCH_KEYS}

    def __call__(self, frame: pd.DataFrame) -> dict[str, float]:
        """The summaries of one simulated series (one replicate) on the record's months; keys :attr:`keys`."""
        first, cols = _frame_arrays(frame, "simulation")
        out: dict[str, float] = {}
        for lay in self._layouts:
            out.update(self._compute(lay, first, cols, "simulation"))
        return {k: out[k] for k in self.keys}

    def kinds(self) -> dict[str, str]:
        """Key -> kind (exact, approximate, lower_bound, upper_bound)."""
        return {k: lay.spec.kind for lay in self._layouts for k in lay.keys if k in self.observed}

    def bounds(self) -> dict[str, str]:
        """The keys that are bounds, with their kind."""
        return {k: v for k, v in self.kinds().items() if v in ("lower_bound", "upper_bound")}

    def describe(self) -> dict[str, str]:
        """Key -> what it means (for fit.md)."""
        out = {}
        for lay in self._layouts:
            s = lay.spec
            unit = UNITS.get(s.column, "persons per month")
            col = s.column.replace("+", " + ")
            win = f"{month_text(lay.start)}..{month_text(lay.end)}"
            obs = f"{len(lay.months)} observed months of {win}"
            kind = "" if s.kind == "exact" else f" [{s.kind.replace('_', ' ')}]"
            src = f" (source: {s.source})" if s.source else ""
            if s.statistic == "level":
                for k, m in zip(lay.keys, lay.months):
                    out[k] = f"{col} in {month_text(int(m))} ({unit}){kind}{src}"
            elif s.statistic == "yearly_mean":
                for k, y in zip(lay.keys, lay.years):
                    n = int(((lay.months // 12) == y).sum())
                    out[k] = f"mean of {col} over the {n} observed months of {y} in {win} ({unit}){kind}{src}"
            elif s.statistic == "trend":
                out[s.name] = f"OLS slope of {col} on time over {obs} ({unit} per year){kind}{src}"
            elif s.statistic == "autocorr":
                out[s.name] = (
                    f"lag-1 autocorrelation of {col} over {obs}, consecutive observed pairs{kind}{src}"
                )
            elif s.statistic == "batches":
                what = f"months of {win} with {col} >= {s.threshold:g}"
                length = lay.end - lay.start + 1
                out[f"{s.name}.count"] = f"number of {what} (observed months only){kind}{src}"
                out[f"{s.name}.mean_size"] = f"mean size of those batches (persons; 0 if none){kind}{src}"
                out[f"{s.name}.first_month"] = (
                    f"months from {month_text(lay.start)} to the first batch ({length} if none)"
                )
                out[f"{s.name}.mean_month"] = (
                    f"mean months from {month_text(lay.start)} to the batches ({length} if none)"
                )
            else:
                red = {"at": f"in {month_text(lay.end)}", "sum": f"summed over {win}"}.get(
                    s.reduce, f"{s.reduce} over {win}"
                )
                out[s.name] = f"{col} {red}: figure {s.value:g}{kind}{src}"
        return {k: v for k, v in out.items() if k in self.observed}


def describe_statistics(summaries: SummarySet) -> dict[str, str]:
    """Key -> meaning of every statistic in use (for fit.md)."""
    return summaries.describe()


def summarise_replicates(timeseries: pd.DataFrame, summaries: SummarySet) -> dict[str, float]:
    """Median over replicates of each statistic of a long table (column ``replicate``, one row per month)."""
    if "replicate" not in timeseries.columns:
        return summaries(timeseries)
    per = [summaries(g) for _, g in timeseries.groupby("replicate", sort=True)]
    return {k: float(np.median([p[k] for p in per])) for k in summaries.keys}
