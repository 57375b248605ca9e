"""A toy stochastic stock-flow simulator with a synthetic record: the stand-in that tests and benchmarks the
calibration machinery until the real model is plugged in (it is not a model of any country).

Each month ``m`` (from ``start``, ``months`` long, with a stock of ``initial_stock`` persons before it):

* ``arrests_m ~ NegBin(mean = toy.arrests_mean, dispersion k)`` (``k`` = :data:`DISPERSION`; variance
  ``a + a^2 / k``);
* ``released_served_m ~ Binomial(stock, toy.release_rate)`` (people who finish their terms);
* with probability ``toy.batch_rate`` a pardon batch: ``released_pardon_m ~ Poisson(toy.batch_size)``, at
  most the stock (else 0);
* ``stock += arrests - released_served - released_pardon``; ``prisoners_held_m`` is the stock at the end of
  the month; ``released_deal_m = 0``.

``toy.unused`` has no effect: its likelihood is flat, so the identifiability diagnostics must list it.

:func:`toy_problem` simulates a record at :data:`TRUTH`, hides months the way a monitoring record does (the
stock quarterly to 2023 then monthly, arrests from 2023, pardons from 2022), adds two figures after the record
(a lower bound on the stock and an approximate arrest total), and returns a
:class:`~sim.analysis.abc.CalibrationProblem`. All numbers here are made up for the test: no source.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.core.calendar import month_index, month_text

from .abc import CalibrationProblem
from .priors import Prior
from .summaries import StatisticSpec, SummarySet

DISPERSION = 10.0
START, MONTHS, INITIAL_STOCK = "2021-01", 60, 1000
RECORD_END = "2024-12"
TRUTH = {
    "toy.arrests_mean": 40.0,
    "toy.release_rate": 0.02,
    "toy.batch_rate": 0.2,
    "toy.batch_size": 30,
    "toy.unused": 0.5,
}
PRIORS = [
    Prior("toy.arrests_mean", "uniform", 5.0, 100.0),
    Prior("toy.release_rate", "loguniform", 0.005, 0.1),
    Prior("toy.batch_rate", "uniform", 0.0, 0.6),
    Prior("toy.batch_size", "uniform", 5, 80, integer=True),
    Prior("toy.unused", "uniform", 0.0, 1.0),
]


def simulate_series(
    params: Mapping[str, float],
    seed: int,
    start: str = START,
    months: int = MONTHS,
    initial_stock: int = INITIAL_STOCK,
) -> pd.DataFrame:
    """One replicate of the toy (module notes): columns ``month``, ``prisoners_held``, ``arrests``,
    ``released_pardon``, ``released_deal``, ``released_served`` (persons, or persons per month)."""
    rng = np.random.default_rng(seed)
    a, r = float(params["toy.arrests_mean"]), float(params["toy.release_rate"])
    p, b = float(params["toy.batch_rate"]), float(params["toy.batch_size"])
    arrests = rng.negative_binomial(DISPERSION, DISPERSION / (DISPERSION + a), months)
    batch = rng.random(months) < p
    sizes = rng.poisson(b, months) * batch
    stock = initial_stock
    held, served, pardon = (np.zeros(months) for _ in range(3))
    for m in range(months):
        served[m] = rng.binomial(stock, r)
        stock -= served[m]
        pardon[m] = min(stock, sizes[m])
        stock += arrests[m] - pardon[m]
        held[m] = stock
    t0 = month_index(start)
    return pd.DataFrame(
        {
            "month": [month_text(t0 + i) for i in range(months)],
            "prisoners_held": held,
            "arrests": arrests.astype(float),
            "released_pardon": pardon,
            "released_deal": np.zeros(months),
            "released_served": served,
        }
    )


def observe(series: pd.DataFrame, end: str = RECORD_END) -> pd.DataFrame:
    """The synthetic monitoring record of a series: up to ``end``, with the toy's gaps (module notes)."""
    rec = series[series["month"] <= end].copy().reset_index(drop=True)
    year = rec["month"].str[:4].astype(int)
    mon = rec["month"].str[5:].astype(int)
    rec.loc[(year < 2024) & (mon % 3 != 0), "prisoners_held"] = np.nan
    rec.loc[year < 2023, "arrests"] = np.nan
    rec.loc[year < 2022, "released_pardon"] = np.nan
    rec["released_deal"] = np.nan
    return rec.drop(columns=["released_served"])


def toy_specs(truth_series: pd.DataFrame) -> list[StatisticSpec]:
    """The toy's statistics; the two figures after the record are read off the true series."""
    held_2025_06 = float(truth_series.loc[truth_series["month"] == "2025-06", "prisoners_held"].iloc[0])
    arrests_2025 = float(truth_series.loc[truth_series["month"].str.startswith("2025"), "arrests"].sum())
    return [
        StatisticSpec("held", "level", "prisoners_held", months=("2024-06", "2024-12")),
        StatisticSpec("held_mean", "yearly_mean", "prisoners_held", start="2021-01", end="2023-12"),
        StatisticSpec("held_trend", "trend", "prisoners_held", start="2021-01", end="2024-12"),
        StatisticSpec("arrests_mean", "yearly_mean", "arrests", start="2023-01", end="2024-12"),
        StatisticSpec("arrests_ac1", "autocorr", "arrests", start="2023-01", end="2024-12"),
        StatisticSpec("pardons", "batches", "released_pardon", start="2022-01", end="2024-12", threshold=10),
        StatisticSpec(
            "held_2025_06_min",
            "figure",
            "prisoners_held",
            end="2025-06",
            value=round(0.9 * held_2025_06),
            kind="lower_bound",
        ),
        StatisticSpec(
            "arrests_2025",
            "figure",
            "arrests",
            start="2025-01",
            end="2025-12",
            reduce="sum",
            value=arrests_2025,
        ),
    ]


class ToySimulator:
    """``simulate(params, seed) -> summaries`` for the toy (picklable)."""

    def __init__(self, summaries: SummarySet, months: int = MONTHS):
        self.summaries = summaries
        self.months = months

    def __call__(self, params: Mapping[str, float], seed: int) -> dict[str, float]:
        return self.summaries(simulate_series(params, seed, months=self.months))


class ToySeries:
    """``series(params, seed) -> DataFrame`` for the toy's predictive checks (picklable)."""

    def __init__(self, months: int = MONTHS):
        self.months = months

    def __call__(self, params: Mapping[str, float], seed: int) -> pd.DataFrame:
        return simulate_series(params, seed, months=self.months)


def toy_problem(truth: Mapping[str, float] | None = None, seed: int = 20250101) -> CalibrationProblem:
    """A synthetic calibration problem: the record simulated at ``truth`` (default :data:`TRUTH`) with
    ``seed``, observed as in :func:`observe`."""
    truth = dict(TRUTH if truth is None else truth)
    series = simulate_series(truth, seed)
    record = observe(series)
    summaries = SummarySet(toy_specs(series), record)
    return CalibrationProblem(
        priors=list(PRIORS),
        simulate=ToySimulator(summaries),
        observed=dict(summaries.observed),
        kinds=summaries.kinds(),
        describe=summaries.describe(),
        series=ToySeries(),
        observed_series=record,
        truth=truth,
    )
