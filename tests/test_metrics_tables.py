"""Outcomes on hand-made tables; atomic writes; reading run folders."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.core.metrics import bands, outcomes
from sim.store.tables import RunFolderError, atomic_write, read_run, write_json


def toy_tables():
    ts = pd.DataFrame(
        {
            "scenario": "toy",
            "replicate": [0, 0, 0],
            "seed": 1,
            "month": ["2025-12", "2026-01", "2026-02"],
            "prisoners_held": [100, 90, 95],
            "arrests": [5, 10, 5],
            "released_deal": [0, 20, 0],
            "released_pardon": [3, 0, 0],
            "released_served": [2, 0, 0],
            "died": [0, 0, 0],
            "deal": [0.0, 1.0, 0.0],
            "released_high_profile": [0, 1, 0],
            "expelled": [0, 20, 0],
            "high_profile_held": [5, 4, 4],
            "us_sanctions": [0.7, 0.5, 0.5],
            "eu_sanctions": [1.0, 1.0, 1.0],
            "learned_price": [0.4, 0.5, 0.49],
            "regime_relief": [0.0, 100.0, 100.0],
            "mobilisation": [0.3, 0.3, 0.3],
            "fragmentation": [0.0, 0.2, 0.2],
            "chip_value": [0.1, 0.2, 0.3],
            "snapbacks": [0, 0, 1],
            "designations": [0, 1, 0],
            "cheating": [0.0, 0.0, 1.0],
            "transit_open": [0.0, 1.0, 1.0],
            "lobbying": [0.2, 0.2, 0.1],
        }
    )
    deals = pd.DataFrame({"scenario": ["toy"], "replicate": [0], "relief": [100.0], "released": [20]})
    return ts, deals


def test_outcomes_by_hand():
    o = outcomes(*toy_tables()).iloc[0]
    assert o["initial_stock"] == 100 - 5 + 3 + 2  # held at the end of month 1 minus its flows
    assert o["final_stock"] == 95 and o["stock_change"] == -5
    assert o["total_arrests"] == 20 and o["total_releases"] == 25
    assert o["revolving_door_ratio"] == pytest.approx(0.8)
    assert o["deals"] == 1 and o["months_to_first_deal"] == 1
    assert o["price_per_prisoner"] == pytest.approx(5.0)
    assert o["snapbacks"] == 1 and o["designations"] == 1 and o["cheating_months"] == 1
    assert o["eu_change"] == 0 and o["transit_open_months"] == 2 and o["mobilisation_max"] == 0.3
    assert o["chip_value_mean"] == pytest.approx(0.2)


def test_bands_ignore_missing():
    b = bands(pd.Series([1.0, np.nan, 3.0, np.inf]))
    assert b["n"] == 2 and b["median"] == 2.0
    assert bands(pd.Series([np.nan]))["median"] is None


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "x.json"
    write_json(target, {"a": 1})

    def broken(p):
        p.write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temporary left behind


def test_read_run_errors_name_the_folder(tmp_path):
    with pytest.raises(RunFolderError, match="not a folder"):
        read_run(tmp_path / "nope")
    with pytest.raises(RunFolderError, match="missing timeseries.parquet"):
        read_run(tmp_path)
    for f in ("timeseries.parquet", "deals.parquet", "summary.json"):
        (tmp_path / f).write_text("garbage")
    with pytest.raises(RunFolderError, match="summary.json: not valid JSON"):
        read_run(tmp_path)
    from sim.core.metrics import HEADLINES

    outcomes = {h.name: {"median": 1.0, "p5": 0.0, "p95": 2.0} for h in HEADLINES}
    summary = {"scenario": "x", "replicates": 1, "months": 1, "start": "2025-12", "end": "2025-12"}
    (tmp_path / "summary.json").write_text(json.dumps({**summary, "outcomes": outcomes}))
    with pytest.raises(RunFolderError, match="unreadable run folder"):
        read_run(tmp_path)
