"""sim-calibrate and sim-run calibration=... end to end (slow)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from test_cli import BIN, sh

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_fit(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "fit"
    r = sh(BIN / "sim-calibrate", "default", "--quick", "--out", out)
    assert r.returncode == 0, r.stderr[-2000:]
    return out


def test_calibration_folder(quick_fit):
    for f in (
        "fit.md",
        "fit.json",
        "posterior.parquet",
        "calibrated.yaml",
        "history.parquet",
        "figures/targets.png",
        "figures/posterior.png",
    ):
        assert (quick_fit / f).is_file(), f
    fit = json.loads((quick_fit / "fit.json").read_text())
    names = {t["target"] for t in fit["targets"]}
    assert {"prisoners_held_2025_12", "release_waves_2025", "released_since_2024_07"} <= names
    for t in fit["targets"]:
        assert {
            "observed",
            "kind",
            "simulated_median",
            "simulated_p5",
            "simulated_p95",
            "loss",
            "met",
        } <= set(t)
    assert fit["evaluations"] > 0 and fit["history"]
    text = (quick_fit / "fit.md").read_text()
    assert "targets met" in text
    unmet = [t["target"] for t in fit["targets"] if not t["met"]]
    for name in unmet:  # every target that is not met is named, none dropped
        assert f"`{name}`" in text.split("## Targets")[0]
    cal = yaml.safe_load((quick_fit / "calibrated.yaml").read_text())
    assert "population.initial_stock" not in cal["parameters"]  # backtest-only
    assert cal["calibration"]["command"].startswith("sim-calibrate")
    post = pd.read_parquet(quick_fit / "posterior.parquet")
    assert len(post) >= 1 and set(cal["parameters"]) <= set(post.columns)


def test_sim_run_with_calibration_and_parameter_uncertainty(quick_fit, tmp_path):
    cal = yaml.safe_load((quick_fit / "calibrated.yaml").read_text())["parameters"]
    fixed, drawn = tmp_path / "fixed", tmp_path / "drawn"
    r = sh(
        BIN / "sim-run",
        "replicates=6",
        "months=6",
        f"calibration={quick_fit}",
        "us.leverage_value=0.33",
        f"hydra.run.dir={fixed}",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    o = pd.read_parquet(fixed / "outcomes.parquet")
    assert o["regime.arrests_ref"].nunique() == 1 and o["regime.arrests_ref"].iloc[0] == pytest.approx(
        cal["regime.arrests_ref"]
    )
    assert (o["us.leverage_value"] == 0.33).all()  # the command line wins over the calibration
    r = sh(
        BIN / "sim-run",
        "replicates=6",
        "months=6",
        f"calibration={quick_fit}",
        "parameter_uncertainty=true",
        f"hydra.run.dir={drawn}",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    o = pd.read_parquet(drawn / "outcomes.parquet")
    post = pd.read_parquet(quick_fit / "posterior.parquet")
    assert set(o["regime.arrests_ref"].round(9)) <= set(post["regime.arrests_ref"].round(9))
    assert "parameter uncertainty" in json.loads((drawn / "summary.json").read_text())["uncertainty"]
    assert "parameter uncertainty" in (drawn / "report.md").read_text()


def test_bad_calibration_input_is_one_line(tmp_path):
    r = sh(BIN / "sim-calibrate", "no_such_setup")
    assert r.returncode == 2 and r.stderr.startswith("sim-calibrate: error: calibration=no_such_setup")
    bad = tmp_path / "bad.yaml"
    bad.write_text("targets:\n  - {name: nope, statistic: held_at, start: '2025-12'}\n")
    r = sh(BIN / "sim-calibrate", bad)
    assert (
        r.returncode == 2
        and "not a figure in seeds/belarus/figures.csv" in r.stderr
        and len(r.stderr.splitlines()) == 1
    )
    r = sh(BIN / "sim-run", "calibration=nowhere", f"hydra.run.dir={tmp_path / 'x'}")
    assert r.returncode == 2 and "calibration=nowhere" in r.stderr and not (tmp_path / "x").exists()
