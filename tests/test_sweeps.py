"""Sweeps end to end, as a researcher types them: launchers, failures, partial sweeps, sensitivity (slow)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from test_cli import BIN, sh

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    d = tmp_path_factory.mktemp("grid") / "sweep"
    r = sh(
        BIN / "sim-run",
        "-m",
        "us.value_per_prisoner=0.5,2",
        "us.leverage_value=0.1,0.4",
        "replicates=5",
        "months=24",
        "seed=2",
        f"hydra.sweep.dir={d}",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "sweep: 4 job(s) complete, 0 failed" in r.stdout
    return d


def test_grid_through_the_process_pool_and_its_report(grid):
    hydra_cfg = (grid / "multirun.yaml").read_text()
    assert "ProcessPoolLauncher" in hydra_cfg
    r = sh(BIN / "sim-report", grid)
    assert r.returncode == 0, r.stderr
    df = pd.read_parquet(grid / "sweep.parquet")
    assert len(df) == 4 * 5 and df["job"].nunique() == 4
    combos = set(zip(df["us.value_per_prisoner"], df["us.leverage_value"]))
    assert combos == {(0.5, 0.1), (0.5, 0.4), (2.0, 0.1), (2.0, 0.4)}
    # the table's outcomes are the jobs' own: compare one job with its run folder
    one = df[(df["us.value_per_prisoner"] == 0.5) & (df["us.leverage_value"] == 0.1)]
    job = grid / one["job"].iloc[0]
    ts = pd.read_parquet(job / "timeseries.parquet")
    assert sorted(one["total_arrests"]) == sorted(ts.groupby("replicate")["arrests"].sum())
    text = (grid / "sweep.md").read_text()
    assert "4 of 4 jobs complete" in text and "## Best and worst parameter points" in text
    assert (grid / "figures" / "heatmap_us_leverage_value__us_value_per_prisoner.png").is_file()
    assert "None: every job of the sweep completed." in text


def test_rerun_skips_complete_jobs(grid):
    before = {p: p.stat().st_mtime_ns for p in grid.rglob("summary.json")}
    r = sh(
        BIN / "sim-run",
        "-m",
        "us.value_per_prisoner=0.5,2",
        "us.leverage_value=0.1,0.4",
        "replicates=5",
        "months=24",
        "seed=2",
        f"hydra.sweep.dir={grid}",
    )
    assert r.returncode == 0 and (r.stdout + r.stderr).count("skipping") == 4, r.stdout + r.stderr
    assert {p: p.stat().st_mtime_ns for p in grid.rglob("summary.json")} == before


def test_partial_sweep_names_what_is_missing(grid, tmp_path):
    part = tmp_path / "partial"
    shutil.copytree(grid, part)
    gone = next(
        p
        for p in part.iterdir()
        if p.is_dir() and "leverage_value=0.4" in p.name and "value_per_prisoner=2" in p.name
    )
    shutil.rmtree(gone)
    r = sh(BIN / "sim-report", part)
    assert r.returncode == 0, r.stderr
    text = (part / "sweep.md").read_text()
    assert "3 of 4 jobs complete" in text and "1 not started" in text and "This sweep is partial" in text
    assert "not started" in text and "us.value_per_prisoner=2" in text


def test_one_failing_job_does_not_stop_the_sweep(tmp_path):
    d = tmp_path / "sweep"
    r = sh(
        BIN / "sim-run",
        "-m",
        "fail_on_purpose=false,true",
        "replicates=2",
        "months=6",
        f"hydra.sweep.dir={d}",
    )
    assert r.returncode == 1, r.stderr[-2000:]  # a sweep with a failed job says so in its exit code
    assert "1 failed" in r.stdout and "1 of 2 jobs did not complete" in r.stderr
    r = sh(BIN / "sim-report", d)
    assert r.returncode == 0, r.stderr
    text = (d / "sweep.md").read_text()
    assert "1 of 2 jobs complete, 1 failed" in text
    assert "fail_on_purpose=true" in text and "RuntimeError" in text


def test_two_jobs_through_submitit_local(tmp_path):
    d = tmp_path / "sweep"
    r = sh(
        BIN / "sim-run",
        "-m",
        "hydra/launcher=submitit_local",
        "us.value_per_prisoner=1,2",
        "replicates=2",
        "months=6",
        f"hydra.sweep.dir={d}",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert (d / ".submitit").is_dir() and len(list(d.rglob("outcomes.parquet"))) == 2
    assert sh(BIN / "sim-report", d).returncode == 0


def test_sobol_design_and_indices(tmp_path):
    d = tmp_path / "sobol"
    factors = (
        "[regime.arrests_ref,regime.arrest_elasticity,population.sentence_ordinary_years,"
        "regime.learning_rate]"
    )
    r = sh(
        BIN / "sim-run",
        "sweep=sobol",
        f"design.factors={factors}",
        "design.samples=32",
        "replicates=2",
        "months=24",
        f"hydra.sweep.dir={d}",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    r = sh(BIN / "sim-report", d, "--prim", "final_stock > initial_stock")
    assert r.returncode == 0, r.stderr
    df = pd.read_parquet(d / "sweep.parquet")
    assert sorted(df["point"].unique()) == list(range(32 * 6))
    for o in ("final_stock", "total_arrests", "released_deal", "revolving_door_ratio"):
        idx = pd.read_parquet(d / f"sensitivity_{o}.parquet")
        assert np.isfinite(idx[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy()).all()
        assert (idx["S1"] - idx["S1_conf"]).sum() <= 1.0  # first-order sum at or below 1 within its intervals
    arrests = pd.read_parquet(d / "sensitivity_total_arrests.parquet").set_index("factor")
    assert arrests["ST"].idxmax() == "regime.arrests_ref"  # the reference arrest rate drives total arrests
    text = (d / "sweep.md").read_text()
    assert "## Sensitivity: Sobol indices" in text and "Scenario discovery (PRIM)" in text


def test_prim_rejects_a_bad_condition(grid):
    r = sh(BIN / "sim-report", grid, "--prim", "no_such_column > 3")
    assert r.returncode == 2 and "cannot evaluate" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_parameter_drawn_per_replicate_is_not_a_swept_one():
    """Under parameter uncertainty every replicate draws the calibrated parameters: they vary within each job,
    so the sweep report must not take them for the levers the sweep varied across jobs."""
    from sim.views.sweep_report import swept

    df = pd.DataFrame(
        {
            "job": ["a", "a", "b", "b"],
            "us.value_per_prisoner": [0.5, 0.5, 2.0, 2.0],  # swept: one value per job
            "regime.arrests_ref": [27.0, 31.0, 29.5, 25.0],  # drawn per replicate
        }
    )
    assert swept(df) == ["us.value_per_prisoner"]
