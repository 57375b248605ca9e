"""sim-calibrate, and sim-run from a calibration, end to end as a user types them (slow)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from calibration_fixture import make_calibration
from test_cli import BIN, ROOT, sh

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_fit(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "fit"
    r = sh(BIN / "sim-calibrate", "belarus", "--quick", "--workers", "2", "--out", out)
    assert r.returncode == 0, r.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def small_cal(tmp_path_factory):
    return make_calibration(tmp_path_factory.mktemp("smallcal") / "c", particles=4, seed=2)


def test_calibration_folder(quick_fit):
    for f in ("fit.md", "fit.json", "posterior.parquet", "generations.parquet", "calibrated.yaml",
              "states.parquet", "states.json", "abc.db"):  # fmt: skip
        assert (quick_fit / f).is_file(), f
    assert len(list((quick_fit / "figures").glob("*.png"))) >= 4
    cal = yaml.safe_load((quick_fit / "calibrated.yaml").read_text())
    assert cal["calibration"]["case"] == "belarus" and cal["calibration"]["data_vintage"] == "2025-12"
    assert cal["base"]["start"] == "2020-08" and cal["start"] == "2026-01"
    post = pd.read_parquet(quick_fit / "posterior.parquet")
    assert set(cal["parameters"]) <= set(post.columns) and abs(post["weight"].sum() - 1) < 1e-9
    text = (quick_fit / "fit.md").read_text()
    for part in ("prior", "posterior", "correlation", "not identif", "predictive"):
        assert part in text.lower(), part
    assert "/tmp/" not in text.replace(str(quick_fit), "")  # no machine paths besides the folder given


def test_sim_run_records_the_values_it_used(small_cal, tmp_path):
    cal = yaml.safe_load((small_cal / "calibrated.yaml").read_text())["parameters"]
    fixed = tmp_path / "fixed"
    r = sh(BIN / "sim-run", "replicates=4", "months=6", f"calibration={small_cal}",
           "parameter_uncertainty=false", "us.leverage_value=0.33", f"hydra.run.dir={fixed}")  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    o = pd.read_parquet(fixed / "outcomes.parquet")
    assert o["regime.arrests_ref"].nunique() == 1
    assert o["regime.arrests_ref"].iloc[0] == pytest.approx(cal["regime.arrests_ref"])
    assert (o["us.leverage_value"] == 0.33).all()  # the command line wins over the calibration
    used = yaml.safe_load((fixed / "config.yaml").read_text())
    assert used["regime"]["arrests_ref"] == pytest.approx(cal["regime.arrests_ref"])  # not the case's value
    assert used["us"]["leverage_value"] == 0.33
    report = (fixed / "report.md").read_text()
    assert "| `regime.arrests_ref` |" in report and "| calibration |" in report
    assert "None: this run uses" not in report
    summary = json.loads((fixed / "summary.json").read_text())
    assert "not included" in summary["uncertainty"] and summary["calibration"].endswith("calibrated.yaml")
    shown = sh(BIN / "sim-run", f"calibration={small_cal}", "parameter_uncertainty=false", "--cfg", "job")
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert yaml.safe_load(shown.stdout)["regime"]["arrests_ref"] == pytest.approx(cal["regime.arrests_ref"])


def test_parameter_uncertainty_draws_particles_with_their_states(small_cal, tmp_path):
    drawn = tmp_path / "drawn"
    r = sh(BIN / "sim-run", "replicates=8", "months=6", f"calibration={small_cal}", f"hydra.run.dir={drawn}")
    assert r.returncode == 0, r.stderr[-2000:]
    reps = pd.read_parquet(drawn / "replicates.parquet")
    meta = json.loads((small_cal / "states.json").read_text())
    for row in reps.itertuples():
        particle = meta["particles"][row.particle]
        assert row.start_state.startswith("saved state")
        assert reps.loc[row.Index, "regime.arrests_ref"] == pytest.approx(particle["regime.arrests_ref"])
    summary = json.loads((drawn / "summary.json").read_text())
    assert "parameter uncertainty" in summary["uncertainty"] and summary["saved_state_month"] == "2026-01"
    report = (drawn / "report.md").read_text()
    assert "parameter uncertainty" in report and "saved state" in report
    ts = pd.read_parquet(drawn / "timeseries.parquet")
    held = {}
    import pyarrow.parquet as pq

    states = pq.read_table(small_cal / "states.parquet").to_pandas()
    for p, g in states.groupby("state"):
        held[p] = int((g["status"] == 0).sum())
    first = ts[ts["month"] == "2026-01"].set_index("replicate")["prisoners_held"]
    for row in reps.itertuples():  # the first month continues the particle's saved stock
        assert abs(first[row.replicate] - held[row.particle]) < 0.2 * held[row.particle] + 50


def test_the_backtest_starts_from_the_replayed_record(small_cal, tmp_path):
    for mode in ("free", "replay"):
        out = tmp_path / mode
        r = sh(BIN / "sim-run", "scenario=backtest_2024", "replicates=3", f"calibration={small_cal}",
               f"timeline={mode}", f"hydra.run.dir={out}")  # fmt: skip
        assert r.returncode == 0, r.stderr[-2000:]
        summary = json.loads((out / "summary.json").read_text())
        assert summary["start"] == "2024-07" and summary["timeline"] == mode
        assert "replay of the record from 2020-08 to 2024-06" in summary["start_state"]
        deals = pd.read_parquet(out / "deals.parquet")
        if mode == "replay":  # the December 2025 wave is a fact of every replicate
            dec = deals[(deals["month"] == "2025-12") & deals["replayed"]]
            assert sorted(dec.groupby("replicate")["released"].sum()) == [123, 123, 123]
        else:
            assert not deals["replayed"].any()


def test_bad_calibration_input_is_one_line(tmp_path, small_cal):
    r = sh(BIN / "sim-calibrate", "no_such_setup")
    assert r.returncode == 2 and r.stderr.startswith("sim-calibrate: error: calibration=no_such_setup")
    bad = tmp_path / "bad.yaml"
    cfg = yaml.safe_load((ROOT / "conf" / "calibration" / "belarus.yaml").read_text())
    next(st for st in cfg["statistics"] if "figure" in st)["figure"] = "nope"
    bad.write_text(yaml.safe_dump(cfg))
    r = sh(BIN / "sim-calibrate", bad)
    assert r.returncode == 2 and "not a row of seeds/belarus/figures.csv" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = sh(BIN / "sim-run", "calibration=nowhere", f"hydra.run.dir={tmp_path / 'x'}")
    assert r.returncode == 2 and "calibration=nowhere" in r.stderr and not (tmp_path / "x").exists()
    r = sh(BIN / "sim-run", "scenario=baseline", "timeline=sometimes", f"hydra.run.dir={tmp_path / 'y'}")
    assert r.returncode == 2 and "timeline = 'sometimes': must be one of free, replay" in r.stderr
    assert not (tmp_path / "y").exists()
