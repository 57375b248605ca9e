"""The observed monthly series: each rule of sim/analysis/observed.py, and a cut-off nothing crosses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.observed import SERIES_COLUMNS, last_observation, monthly_series, used_rows
from sim.core.params import ScenarioParams
from sim.core.run import run_replicates
from sim.store.sources import load_monitoring


def _record(rows):
    cols = ["date", "quantity", "value", "channel", "note"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)


SMALL = _record(
    [
        ("2024-01-10", "political_prisoners_stock", "100", "", ""),
        ("2024-01", "political_prisoners_stock", "105", "", ""),  # month-only: as of the 15th, beats the 10th
        ("2024-02", "political_prisoners_stock", "110", "", ""),
        ("2024-02-20", "political_prisoners_stock", "112", "", ""),  # the 20th beats a month-only figure
        ("2024", "political_prisoners_stock", "999", "", ""),  # year-only: never used
        ("2024-01", "new_political_prisoners", "7", "", "period=2024-01"),
        ("2024-03", "new_political_prisoners", "9", "", "period=2024-02/2024-03"),  # two months: not split
        ("2024-03-07", "new_political_prisoners", "3", "", "period=week to 2024-03-07"),  # a week: not used
        ("2024-02", "detentions", "50", "", "period=2024-02"),  # detentions are not arrests
        ("2024-02-03", "released", "4", "pardon", ""),
        ("2024-02-25", "released", "6", "pardon", ""),
        ("2024-03-01", "released", "20", "deal", ""),
        ("2024-03", "released", "8", "list_exit", "period=2024-03"),
        ("2024-03-02", "released", "30", "claim", ""),
        ("2024-03-03", "released", "2", "outside_count", ""),
        ("2024", "released", "77", "pardon", ""),  # year-only release: no month holds it
    ]
)


def test_each_rule_on_a_small_record():
    s = monthly_series(SMALL, "2024-04")
    assert list(s.columns) == list(SERIES_COLUMNS)
    assert list(s["month"]) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert s["prisoners_held"].tolist()[:2] == [105.0, 112.0]
    assert s["prisoners_held"].iloc[2:].isna().all(), "no carrying forward"
    assert s["arrests"].iloc[0] == 7 and s["arrests"].iloc[1:].isna().all()
    assert s["released_pardon"].tolist() == [0.0, 10.0, 0.0, 0.0]
    assert s["released_deal"].tolist() == [0.0, 0.0, 20.0, 0.0]


def test_start_and_empty_record():
    s = monthly_series(SMALL, "2024-02", start="2023-11")
    assert list(s["month"]) == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert s["released_pardon"].iloc[:2].eq(0).all() and s["prisoners_held"].iloc[:2].isna().all()
    empty = monthly_series(SMALL.iloc[:0], "2024-02")
    assert list(empty.columns) == list(SERIES_COLUMNS) and empty.empty
    with pytest.raises(ValueError, match="observed_through 'Feb 2024' must be a month"):
        monthly_series(SMALL, "Feb 2024")


def test_belarus_series_matches_the_record():
    s = monthly_series(load_monitoring("belarus"), "2024-12").set_index("month")
    assert s.loc["2024-09", "prisoners_held"] == 1317, "the month-end figure (30 Sep) beats the 4 Sep one"
    assert s.loc["2024-09", "released_pardon"] == 30 + 37
    assert (s.loc["2024-12", "prisoners_held"], s.loc["2024-12", "arrests"]) == (1265, 58)
    assert s.loc["2024-12", "released_pardon"] == 29 + 20
    assert s["released_pardon"].sum() == 227
    assert s["released_deal"].sum() == 0, "the Ankara exchange is outside Viasna's count"


def test_other_cases_series():
    n = monthly_series(load_monitoring("nicaragua"), "2024-12").set_index("month")
    assert n.loc["2023-02", "released_deal"] == 222 and n.loc["2023-02", "prisoners_held"] == 35
    assert n.loc["2024-09", "released_deal"] == 135 and n.loc["2024-12", "released_pardon"] == 0
    v = monthly_series(load_monitoring("venezuela"), "2024-12").set_index("month")
    assert v.loc["2023-12", "released_deal"] == 16, "the 10 US nationals are outside FP's count"
    assert v.loc["2024-12", "released_pardon"] == 0, "government claims are not FP's figures"
    assert v["arrests"].isna().all(), "FP's flows are weekly: no whole-month inflow"
    c = monthly_series(load_monitoring("cuba"), "2024-12").set_index("month")
    assert c.loc["2024-12", "arrests"] == 16 and c.loc["2024-12", "prisoners_held"] == 1161


@pytest.mark.parametrize("case", ["belarus", "nicaragua", "cuba", "venezuela"])
def test_no_row_after_the_cut_off_is_ever_used(case):
    """Rewrite every row after the cut-off (values, channels, periods): the series up to it is unchanged."""
    rec = load_monitoring(case)
    through = "2024-06"
    before = monthly_series(rec, through)
    poisoned = rec.copy()
    late = poisoned["period_end"] > "2024-06-30"
    assert late.any()
    poisoned.loc[late, "value"] = "100000"
    poisoned.loc[late, "number"] = 100000.0
    poisoned.loc[late & (poisoned["role"] == "release"), "channel"] = "pardon"
    extra = (
        poisoned[late]
        .head(1)
        .assign(date="2024-07-01", quantity="political_prisoners_stock", channel="", note="", number=1e6)
    )
    poisoned = pd.concat([poisoned, extra], ignore_index=True)
    after = monthly_series(poisoned, through)
    pd.testing.assert_frame_equal(before, after)
    assert (used_rows(rec, through)["period_end"] <= "2024-06-30").all()
    assert last_observation(rec, through) <= "2024-06-30"
    assert monthly_series(rec, "2024-12")["month"].iloc[-1] == "2024-12"


def test_a_flow_dated_at_its_period_end_after_the_cut_off_is_not_used():
    """Viasna's yearly count (dated 2024-12-31) does not leak into a series observed through 2024-11."""
    rec = load_monitoring("belarus")
    assert "pp_new_recognised_year_2024_12_31" not in set(used_rows(rec, "2024-11")["id"])
    year_only = _record(
        [("2024", "political_prisoners_stock", "5", "", ""), ("2024-05", "released", "3", "pardon", "")]
    )
    assert last_observation(year_only, "2024-11") == "2024-05"


def test_same_columns_as_the_simulator_timeseries():
    ts = run_replicates(ScenarioParams(), months=2, replicates=1, seed=1).timeseries
    assert set(SERIES_COLUMNS) <= set(ts.columns)
    obs = monthly_series(load_monitoring("belarus"), "2024-12")
    for c in SERIES_COLUMNS[1:]:
        assert np.issubdtype(obs[c].dtype, np.floating)
    assert obs["month"].str.match(r"^\d{4}-\d{2}$").all() and ts["month"].str.match(r"^\d{4}-\d{2}$").all()
