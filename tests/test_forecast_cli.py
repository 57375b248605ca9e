"""sim-forecast and sim-validate end to end, on small sizes (slow)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_cli import BIN, sh

from sim.store.forecasts import FORECAST_COLUMNS, verify_forecast

pytestmark = pytest.mark.slow


def test_sim_forecast_registers_a_forecast_made_from_the_origin(tmp_path):
    out = tmp_path / "fc"
    r = sh(BIN / "sim-forecast", "origin=2024-06", "horizon=4", "replicates=6", "seed=4", "quick=true",
           "workers=1", f"out={out}")  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    record = verify_forecast(out)
    table = pd.read_parquet(out / "forecast.parquet")
    assert set(FORECAST_COLUMNS) <= set(table.columns) and "in_prison" in table.columns
    assert sorted(table["month"].unique()) == ["2024-07", "2024-08", "2024-09", "2024-10"]
    assert table["replicate"].nunique() == 6 and len(table) == 24
    assert record["origin"] == "2024-06" and record["data_vintage"] <= "2024-06"
    assert record["commit"] and record["files"]["forecast.parquet"]["sha256"]
    assert "refitted on the data through 2024-06" in record["calibration"]
    assert (out / "forecast.md").is_file() and (out / "figures" / "forecast.png").is_file()
    # the same command again refuses to replace it
    again = sh(BIN / "sim-forecast", "origin=2024-06", "horizon=4", f"out={out}")
    assert again.returncode == 2 and "already holds files" in again.stderr
    assert verify_forecast(out)["files"] == record["files"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["origin=2024-13", "horizon=3"], "origin = '2024-13': must be a month YYYY-MM"),
        (["origin=2024-06", "horizon=0"], "horizon = '0': must be an integer in [1, 120]"),
        (["origin=2024-06"], "horizon: required"),
        (["origin=2024-06", "horizon=3", "colour=red"], "colour: unknown key"),
        (["origin=2024-06", "horizon=3", "case=atlantis"], "case = 'atlantis': must be one of"),
        (["origin=2019-01", "horizon=3"], "origin = 2019-01: must be after the record's start"),
        (["origin=2024-06", "horizon=3", "regime.arrests_ref=-4"], "regime.arrests_ref"),
    ],
)
def test_bad_forecast_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    out = tmp_path / "x"
    r = sh(BIN / "sim-forecast", *args, f"out={out}")
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not out.exists()


def test_sim_validate_scores_the_model_and_the_baselines(tmp_path):
    out = tmp_path / "val"
    r = sh(BIN / "sim-validate", "origins=2023-12,2024-06", "horizons=3,6", "replicates=8", "quick=true",
           "workers=1", f"out={out}")  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    body = json.loads((out / "validation.json").read_text())
    assert body["origins"] == ["2023-12", "2024-06"] and body["horizons"] == [3, 6]
    forecasters = {row["forecaster"] for row in body["crps"]}
    assert forecasters == {"model", "persistence", "linear_trend", "negbin_stock_flow"}
    assert {row["baseline"] for row in body["skill"]} == forecasters - {"model"}
    assert {row["forecaster"] for row in body["brier"]} == {"model", "persistence", "climatology"}
    for fit in body["fits"]:
        assert fit["data_vintage"] <= fit["origin"]
    scores = pd.read_parquet(out / "scores.parquet")
    assert (scores["month"] > scores["origin"]).all() and (scores["month"] <= "2024-12").all()
    text = (out / "validation.md").read_text()
    assert "Does the model beat persistence?" in text and "PIT" in text
    assert (out / "figures" / "pit.png").is_file()
    bad = sh(BIN / "sim-validate", "origins=2026-01", f"out={tmp_path / 'y'}")
    assert bad.returncode == 2 and "origins = 2026-01: must be after" in bad.stderr
    assert not (tmp_path / "y").exists()
