"""Forecasts from an origin see nothing after it; validation scores come out as computed by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from calibration_fixture import make_calibration

from sim.analysis import scoring
from sim.analysis.forecasting import fit_to_origin, forecast, statistics_through
from sim.analysis.summaries import StatisticSpec
from sim.analysis.validation import MODEL, event_baselines, score_table, summarise
from sim.core.timeline import Event
from sim.store.calibrations import load_config, read_calibration
from sim.store.cases import case_params
from sim.store.sources import load_monitoring
from sim.store.timelines import load_timeline


def test_statistics_are_cut_at_the_origin():
    specs = [
        StatisticSpec("held", "level", months=("2021-04", "2022-02", "2023-07")),
        StatisticSpec("trend", "trend", start="2022-01", end="2024-12"),
        StatisticSpec("late", "trend", start="2023-01", end="2024-12"),
        StatisticSpec("fig", "figure", end="2025-12", value=1.0),
        StatisticSpec("old", "figure", end="2021-12", value=1.0),
    ]
    cut = {s.name: s for s in statistics_through(specs, "2022-06")}
    assert set(cut) == {"held", "trend", "old"}
    assert cut["held"].months == ("2021-04", "2022-02") and cut["trend"].end == "2022-06"


@pytest.fixture(scope="module")
def small():
    cfg = load_config("belarus")
    abc = {**cfg["abc"], "population": [20], "max_populations": 2, "max_walltime_s": 120, "seed": 3}
    return cfg, abc


def _after(record: pd.DataFrame, origin: str) -> pd.Series:
    return record["date"].astype(str).str[:7] > origin


def test_a_fit_and_its_forecast_use_no_observation_after_the_origin(small, tmp_path):
    cfg, abc = small
    origin = "2023-06"
    record = load_monitoring("belarus")
    events = list(load_timeline("belarus"))
    # the future, changed: every later count doubled, and a release and US talks that never happened
    changed = record.copy()
    later = _after(changed, origin)
    doubled = pd.to_numeric(changed.loc[later, "value"], errors="coerce") * 2
    changed.loc[later, "value"] = doubled.map(lambda x: "" if pd.isna(x) else f"{x:g}")
    changed.loc[later, "number"] = changed.loc[later, "number"] * 2
    assert later.sum() > 20
    fake = [
        Event(month="2023-08", type="talks", counterpart="us", state="open", source="test", confidence="H"),
        Event(month="2023-09", type="pardon", released=300, source="test", confidence="H"),
    ]
    runs = []
    for i, (rec, ev) in enumerate(((record, events), (changed, [*events, *fake]))):
        cal, result, summaries = fit_to_origin(
            cfg, rec, ev, origin, abc, db=f"sqlite:///{tmp_path / f'{i}.db'}", sampler="single"
        )
        res, _ = forecast(
            case_params("belarus", "baseline"), case_params("belarus", None), cal, ev, origin, 6, 4, 5
        )
        runs.append((cal, summaries.observed, res.timeseries))
    (c1, o1, t1), (c2, o2, t2) = runs
    assert o1 == o2 and c1.data_vintage == c2.data_vintage <= origin
    pd.testing.assert_frame_equal(c1.posterior, c2.posterior)
    pd.testing.assert_frame_equal(t1, t2)
    assert t1["month"].min() == "2023-07"


def test_a_forecast_refuses_a_calibration_fitted_on_later_data(tmp_path):
    cal = read_calibration(str(make_calibration(tmp_path / "c", particles=2)), "belarus")
    with pytest.raises(ValueError, match="may not use data after its origin"):
        forecast(case_params("belarus"), case_params("belarus", None), cal, [], "2024-06", 3, 2, 1)
    later = dataclasses.replace(cal, data_vintage="2024-06")
    res, fw = forecast(case_params("belarus"), case_params("belarus", None), later, [], "2024-06", 3, 2, 1)
    assert list(res.timeseries["month"].unique()) == ["2024-07", "2024-08", "2024-09"]
    assert "replay of the record from 2020-08 to 2024-06" in fw.record()["start_state"]


def test_scores_match_hand_computed_values():
    observed = pd.DataFrame(
        {
            "month": ["2024-01", "2024-02", "2024-03"],
            "prisoners_held": [np.nan, 10.0, 14.0],
            "arrests": np.nan,
        }
    )
    ens = np.array([[9.0, 8.0, 12.0], [11.0, 12.0, 20.0], [10.0, 9.0, 13.0]])  # 3 members x 3 months
    t = score_table("2023-12", MODEL, {"prisoners_held": ens}, observed, np.random.default_rng(0))
    assert list(t["month"]) == ["2024-02", "2024-03"]  # an unobserved month is not scored
    # fair CRPS (Ferro 2014): mean |x_i - y| - sum_ij |x_i - x_j| / (2 m (m - 1))
    # Feb: members 8, 12, 9, y 10: 5/3 - 16/12 = 1/3; Mar: 12, 20, 13, y 14: 9/3 - 32/12 = 1/3
    assert t["crps"].tolist() == pytest.approx([1 / 3, 1 / 3])
    # linear quantiles: 90 % of [8, 9, 12] is 8.1 .. 11.7 (holds 10); of [12, 13, 20] 12.1 .. 19.3 (holds 14)
    assert t["lower90"].tolist() == pytest.approx([8.1, 12.1]) and t["upper90"].tolist() == pytest.approx(
        [11.7, 19.3]
    )
    assert t["covered90"].tolist() == [1.0, 1.0]
    # 50 %: [8.5, 10.5] holds 10; [12.5, 16.5] holds 14
    assert t["covered50"].tolist() == [1.0, 1.0] and t["upper50"].tolist() == pytest.approx([10.5, 16.5])
    persistence = t.assign(forecaster="persistence", crps=[1.0, 4.0])
    extra = persistence.iloc[:1].assign(month="2024-09", crps=100.0)  # a month the model did not score
    s = summarise(pd.concat([t, persistence, extra]), pd.DataFrame(columns=["forecaster", "brier"]), [3])
    (row,) = [r for r in s["skill"] if r["target"] == "prisoners_held"]
    assert row["n"] == 2 and row["skill"] == pytest.approx(1 - (1 / 3) / 2.5)  # only the months both scored


def test_event_baselines_by_hand():
    obs = pd.DataFrame(
        {
            "month": [f"2024-{m:02d}" for m in range(1, 7)],
            "released_pardon": [0, 25, 0, 0, 0, 0],
            "released_deal": [0, 0, 0, 0, 0, 19],
        }
    )
    b = event_baselines(obs, "2024-06", None)
    # windows Jan-Mar, Feb-Apr, Mar-May, Apr-Jun: the first two hold a month >= 20
    assert b == {"persistence": 0.0, "climatology": 0.5}
    assert scoring.brier(np.array([0.5]), np.array([1.0]))[0] == pytest.approx(0.25)
