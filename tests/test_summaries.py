"""Summary statistics: hand-computed values on tiny series, the record's gaps applied to simulations, bounds
that cost nothing while they hold, and one-line errors for bad specs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.summaries import (
    StatisticSpec,
    SummarySet,
    bound_miss,
    clip_to_bound,
    lag1_autocorrelation,
    summarise_replicates,
)

NAN = math.nan
MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


def record():
    """Six months; the stock observed in Jan, Mar, Jun; arrests missing in Mar; pardons missing in Apr."""
    return pd.DataFrame(
        {
            "month": MONTHS,
            "prisoners_held": [100, NAN, 110, NAN, NAN, 130],
            "arrests": [5, 7, NAN, 9, 11, 10],
            "released_pardon": [0, 25, 0, NAN, 30, 5],
            "released_deal": [NAN] * 6,
        }
    )


def specs(**figure):
    return [
        StatisticSpec("held", "level", "prisoners_held"),
        StatisticSpec("held_trend", "trend", "prisoners_held"),
        StatisticSpec("arrests_mean", "yearly_mean", "arrests"),
        StatisticSpec("arrests_ac1", "autocorr", "arrests", min_points=2),
        StatisticSpec("pardons", "batches", "released_pardon", threshold=20),
        StatisticSpec(
            "held_sep",
            "figure",
            "prisoners_held",
            end="2024-09",
            value=figure.get("value", 120.0),
            kind=figure.get("kind", "lower_bound"),
        ),
    ]


def simulation(**changes):
    """A complete nine-month simulation that equals the record wherever the record observes."""
    sim = pd.DataFrame(
        {
            "month": [*MONTHS, "2024-07", "2024-08", "2024-09"],
            "prisoners_held": [100, 1000, 110, 1000, 1000, 130, 135, 140, 150],
            "arrests": [5, 7, 500, 9, 11, 10, 12, 13, 14],
            "released_pardon": [0, 25, 0, 99, 30, 5, 0, 0, 0],
            "released_deal": [0.0] * 9,
        }
    )
    for k, v in changes.items():
        sim[k] = v
    return sim


def test_hand_computed_values_on_the_record():
    s = SummarySet(specs(), record())
    o = s.observed
    assert {k: o[k] for k in ("held@2024-01", "held@2024-03", "held@2024-06")} == {
        "held@2024-01": 100,
        "held@2024-03": 110,
        "held@2024-06": 130,
    }
    # OLS on months 0, 2, 5 (values 100, 110, 130): Sxy = 76.667, Sxx = 12.667 persons/month -> x12 per year
    assert o["held_trend"] == pytest.approx(72.63157894736842)
    assert o["arrests_mean@2024"] == pytest.approx(8.4)  # mean(5, 7, 9, 11, 10), March missing
    # mean 8.4, c0 = 23.2 / 5; pairs (Jan,Feb), (Apr,May), (May,Jun): c1 = (4.76 + 1.56 + 4.16) / 3
    assert o["arrests_ac1"] == pytest.approx((10.48 / 3) / (23.2 / 5))
    # pardon batches >= 20 in observed months: Feb (25, offset 1) and May (30, offset 4)
    assert [o[f"pardons.{k}"] for k in ("count", "mean_size", "first_month", "mean_month")] == [
        2,
        27.5,
        1,
        2.5,
    ]
    assert o["held_sep"] == 120.0
    assert s.kinds()["held_sep"] == "lower_bound" and s.kinds()["held_trend"] == "exact"
    assert s.bounds() == {"held_sep": "lower_bound"}
    assert set(s.describe()) == set(s.keys)


def test_a_simulation_is_read_on_the_records_months_only():
    """Values in months the record does not observe (1000s, 500, a 99 batch) change nothing."""
    s = SummarySet(specs(), record())
    out = s(simulation())
    for k in s.keys:
        if k != "held_sep":
            assert out[k] == pytest.approx(s.observed[k]), k
    assert out["held_sep"] == 150.0  # the figure reads the simulation's own September
    assert list(out) == list(s.keys)


def test_gaps_change_the_statistic_the_same_way_on_both_sides():
    """With February's pardons unobserved the record has one batch, and so does the simulation."""
    rec = record()
    rec.loc[1, "released_pardon"] = NAN
    s = SummarySet(specs(), rec)
    assert s.observed["pardons.count"] == 1 and s(simulation())["pardons.count"] == 1


def test_statistics_the_record_cannot_support_are_dropped_with_a_reason():
    s = SummarySet(
        [
            StatisticSpec("ac", "autocorr", "arrests"),  # default 6 pairs; the record has 3
            StatisticSpec("held", "level", "prisoners_held", months=("2024-01", "2024-02")),
        ],
        record(),
    )
    assert s.keys == ("held@2024-01",)
    assert "ac" in s.dropped and "held@2024-02" in s.dropped


def test_no_batches_gives_the_window_length_as_timing():
    s = SummarySet([StatisticSpec("p", "batches", "released_pardon", threshold=50)], record())
    assert s.observed == {"p.count": 0, "p.mean_size": 0, "p.first_month": 6, "p.mean_month": 6}


def test_autocorrelation_of_a_constant_series_is_zero_and_needs_pairs():
    assert lag1_autocorrelation(np.full(8, 3.0), np.arange(8), 2) == 0.0
    assert math.isnan(lag1_autocorrelation(np.array([1.0, NAN, 2.0, NAN, 3.0]), np.arange(5), 1))


def test_bounds_cost_nothing_while_they_hold():
    assert bound_miss("lower_bound", 130, 120) == 0 and bound_miss("lower_bound", 100, 120) == -20
    assert bound_miss("upper_bound", 100, 120) == 0 and bound_miss("upper_bound", 130, 120) == 10
    assert bound_miss("exact", 130, 120) == 10 and bound_miss("approximate", 110, 120) == -10
    assert clip_to_bound("lower_bound", 150, 120) == 120 and clip_to_bound("lower_bound", 90, 120) == 90
    assert clip_to_bound("upper_bound", 90, 120) == 120 and clip_to_bound("upper_bound", 150, 120) == 150
    assert clip_to_bound("exact", 150, 120) == 150


def test_median_over_replicates():
    s = SummarySet(specs(), record())
    reps = pd.concat(
        [simulation(prisoners_held=[100 + d] * 9).assign(replicate=i) for i, d in enumerate((0, 10, 40))]
    )
    out = summarise_replicates(reps, s)
    assert out["held@2024-01"] == 110 and out["held_trend"] == 0.0


def test_a_simulation_too_short_for_a_figure_is_an_error():
    s = SummarySet(specs(), record())
    with pytest.raises(ValueError, match="held_sep"):
        s(simulation().iloc[:7])


@pytest.mark.parametrize(
    "bad,field",
    [
        ({"name": "x", "statistic": "mode"}, "statistic must be one of"),
        ({"name": "x", "statistic": "level", "column": "deaths"}, "column must be one of"),
        ({"name": "x", "statistic": "figure", "end": "2025-13", "value": 1}, "end: a month as YYYY-MM"),
        ({"name": "x", "statistic": "figure", "end": "2025-12", "value": 1, "kind": "lower"}, "kind must be"),
        ({"name": "x", "statistic": "trend", "colour": "red"}, "unknown field 'colour'"),
        ({"name": "x y", "statistic": "trend"}, "statistic name"),
        (
            {"name": "x", "statistic": "trend", "start": "2024-06", "end": "2024-01"},
            "start must not be after",
        ),
    ],
)
def test_bad_specs_are_one_line_errors_naming_the_field(bad, field):
    with pytest.raises(ValueError, match=field) as e:
        StatisticSpec.from_dict(bad)
    assert "\n" not in str(e.value)


def test_a_window_outside_the_record_is_refused():
    with pytest.raises(ValueError, match="must lie within the record"):
        SummarySet([StatisticSpec("t", "trend", start="2023-01", end="2024-06")], record())
