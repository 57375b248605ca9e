"""Forecast records: written atomically, registered (origin, vintage, config, commit, sha256), verified."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from sim.analysis import baselines as bl
from sim.analysis import scoring
from sim.analysis.observed import last_observation, monthly_series
from sim.store import forecasts as fr
from sim.store.sources import load_monitoring

ORIGIN = "2024-06"


def _baseline_table(members=50, horizon=6):
    rec = load_monitoring("belarus")
    obs = monthly_series(rec, ORIGIN)
    ens = bl.negbin_stock_flow(obs, ORIGIN, horizon, members, np.random.default_rng(3), window=24)
    months = bl.forecast_months(ORIGIN, horizon)
    fill = {"released_deal": 0.0, "released_pardon": 0.0, "released_served": 0.0}
    return scoring.table_from_ensembles(ens, months, fill), last_observation(rec, ORIGIN), ens


def test_write_verify_and_read_back(tmp_path):
    table, vintage, ens = _baseline_table()
    rec = fr.write_forecast(
        tmp_path, table, origin=ORIGIN, data_vintage=vintage, config={"baseline": "negbin_stock_flow"}, seed=3
    )
    on_disk = json.loads((tmp_path / fr.RECORD_FILE).read_text())
    assert on_disk["origin"] == ORIGIN and on_disk["data_vintage"] == vintage == "2024-05-21"
    assert on_disk["config"] == {"baseline": "negbin_stock_flow"} and on_disk["case"] == "belarus"
    assert on_disk["commit"] and len(on_disk["commit"]) == 40
    assert on_disk["months"] == {"first": "2024-07", "last": "2024-12", "count": 6}
    assert on_disk["replicates"] == 50
    digest = hashlib.sha256((tmp_path / fr.FORECAST_FILE).read_bytes()).hexdigest()
    assert on_disk["files"][fr.FORECAST_FILE]["sha256"] == digest == rec["files"][fr.FORECAST_FILE]["sha256"]
    assert fr.verify_forecast(tmp_path)["origin"] == ORIGIN
    back, _ = fr.read_forecast(tmp_path)
    months = bl.forecast_months(ORIGIN, 6)
    np.testing.assert_array_equal(
        scoring.ensemble_from_table(back, "prisoners_held", months), ens["prisoners_held"]
    )


def test_a_changed_table_or_record_does_not_verify(tmp_path):
    table, vintage, _ = _baseline_table()
    fr.write_forecast(tmp_path, table, origin=ORIGIN, data_vintage=vintage, config={})
    t = pd.read_parquet(tmp_path / fr.FORECAST_FILE)
    t.loc[0, "prisoners_held"] += 1
    t.to_parquet(tmp_path / fr.FORECAST_FILE, index=False)
    with pytest.raises(fr.ForecastRecordError, match="the table changed after it was recorded"):
        fr.verify_forecast(tmp_path)
    (tmp_path / fr.RECORD_FILE).write_text("{not json")
    with pytest.raises(fr.ForecastRecordError, match="unreadable"):
        fr.verify_forecast(tmp_path)
    (tmp_path / fr.RECORD_FILE).unlink()
    with pytest.raises(fr.ForecastRecordError, match="incomplete"):
        fr.verify_forecast(tmp_path)


@pytest.mark.parametrize(
    "change,kwargs,message",
    [
        (lambda t: t.drop(columns="released_served"), {}, "lacks column(s) released_served"),
        (lambda t: t.assign(month="2024-06"), {}, "not after the origin 2024-06"),
        (lambda t: t.assign(month="June"), {}, "month 'June' must be YYYY-MM"),
        (lambda t: t.assign(arrests=-1.0), {}, "arrests must be a number >= 0"),
        (lambda t: t.assign(replicate=0), {}, "repeats a (replicate, month) row"),
        (lambda t: t, {"data_vintage": "2024-07-01"}, "is after the origin 2024-06: data would leak"),
        (lambda t: t, {"origin": "2024/06"}, "origin '2024/06' must be a month"),
        (lambda t: t, {"config": {"x": object()}}, "config is not JSON-serialisable"),
    ],
)
def test_bad_forecasts_are_refused_before_anything_is_written(tmp_path, change, kwargs, message):
    table, vintage, _ = _baseline_table(members=3, horizon=2)
    args = {"origin": ORIGIN, "data_vintage": vintage, "config": {}, **kwargs}
    with pytest.raises(fr.ForecastRecordError) as err:
        fr.write_forecast(tmp_path / "f", change(table), **args)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "f").exists()


def test_an_earlier_forecast_is_kept_unless_overwritten(tmp_path):
    table, vintage, _ = _baseline_table(members=3, horizon=2)
    fr.write_forecast(tmp_path, table, origin=ORIGIN, data_vintage=vintage, config={"v": 1})
    before = (tmp_path / fr.FORECAST_FILE).read_bytes(), (tmp_path / fr.RECORD_FILE).read_bytes()
    with pytest.raises(fr.ForecastRecordError, match="already holds a forecast"):
        fr.write_forecast(tmp_path, table, origin=ORIGIN, data_vintage=vintage, config={"v": 2})
    assert ((tmp_path / fr.FORECAST_FILE).read_bytes(), (tmp_path / fr.RECORD_FILE).read_bytes()) == before
    fr.write_forecast(tmp_path, table, origin=ORIGIN, data_vintage=vintage, config={"v": 2}, overwrite=True)
    assert fr.verify_forecast(tmp_path)["config"] == {"v": 2}


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    table, vintage, _ = _baseline_table(members=3, horizon=2)

    def boom(self, *a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(OSError, match="disk full"):
        fr.write_forecast(tmp_path, table, origin=ORIGIN, data_vintage=vintage, config={})
    assert list(tmp_path.iterdir()) == [], "no forecast file and no temporary left behind"


def test_table_and_ensemble_conversions():
    months = ["2025-01", "2025-02"]
    ens = {"a": np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])}
    t = scoring.table_from_ensembles(ens, months, {"b": 0.0})
    assert list(t.columns) == ["replicate", "month", "a", "b"] and len(t) == 6
    np.testing.assert_array_equal(scoring.ensemble_from_table(t, "a", months), ens["a"])
    with pytest.raises(ValueError, match="lacks a for month"):
        scoring.ensemble_from_table(t, "a", ["2025-03"])
