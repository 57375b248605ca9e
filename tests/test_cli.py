"""End to end, as a user types it: sim-run and sim-report in subprocesses (slow, run in CI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT.parent / "shared" / "tools" / "check-run-contract"
pytestmark = pytest.mark.slow


def sh(*args, cwd=ROOT):
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli") / "run"
    r = sh(BIN / "sim-run", "scenario=baseline", "replicates=6", "months=24", "seed=3", f"hydra.run.dir={d}")
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"report: {d.resolve()}/report.md" in r.stdout
    return d


def test_run_folder_contract(run_dir):
    for f in (
        "timeseries.parquet",
        "deals.parquet",
        "summary.json",
        "config.yaml",
        "provenance.json",
        "report.md",
    ):
        assert (run_dir / f).is_file(), f
    assert len(list((run_dir / "figures").glob("*.png"))) >= 4
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    assert len(ts) == 6 * 24 and ts["month"].iloc[0] == "2026-01"
    assert {
        "scenario",
        "replicate",
        "seed",
        "month",
        "prisoners_held",
        "arrests",
        "released_deal",
        "released_pardon",
        "released_served",
        "died",
        "us_sanctions",
        "eu_sanctions",
        "learned_price",
        "mobilisation",
        "regime_relief",
    } <= set(ts.columns)
    deals = pd.read_parquet(run_dir / "deals.parquet")
    assert {
        "scenario",
        "replicate",
        "month",
        "counterpart",
        "released",
        "released_high_profile",
        "expelled",
        "relief",
        "instruments_lifted",
    } <= set(deals.columns)
    decisions = pd.read_parquet(run_dir / "decisions.parquet")
    assert {"replicate", "month", "actor", "decision", "choice", "compared", "a", "versus", "b"} <= set(
        decisions.columns
    )
    assert (decisions[decisions["decision"] == "arrests"].groupby("replicate").size() == 24).all()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["scenario"] == "baseline" and summary["replicates"] == 6 and summary["months"] == 24
    for k in (
        "final_stock",
        "total_arrests",
        "released_deal",
        "released_pardon",
        "released_served",
        "revolving_door_ratio",
        "deals",
        "months_to_first_deal",
        "us_sanctions_end",
        "eu_sanctions_end",
    ):
        assert {"median", "p5", "p95"} <= set(summary["outcomes"][k]), k
    prov = json.loads((run_dir / "provenance.json").read_text())
    assert prov["seed"] == 3 and prov["packages"]["mesa"].startswith("3.5") and "commit" in prov
    assert "sim-run" in prov["command"][0]
    report = (run_dir / "report.md").read_text()
    assert "Revolving door" in report and "figures/prisoners_held.png" in report
    assert "## Why: the decisions behind" in report


@pytest.mark.skipif(not CONTRACT.exists(), reason="the shared contract checker sits beside the repository")
def test_shared_contract_checker_agrees(run_dir):
    r = sh(CONTRACT, run_dir)
    assert r.returncode == 0, r.stdout + r.stderr


def test_same_command_same_tables(run_dir, tmp_path):
    d = tmp_path / "again"
    r = sh(BIN / "sim-run", "scenario=baseline", "replicates=6", "months=24", "seed=3", f"hydra.run.dir={d}")
    assert r.returncode == 0, r.stderr[-2000:]
    pd.testing.assert_frame_equal(
        pd.read_parquet(run_dir / "timeseries.parquet"), pd.read_parquet(d / "timeseries.parquet")
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(run_dir / "deals.parquet"), pd.read_parquet(d / "deals.parquet")
    )


def test_bad_input_writes_nothing_and_keeps_earlier_results(run_dir, tmp_path):
    before = {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()}
    for args in (["us.value_per_prisoner=-1"], ["scenario=nope"], ["start=12-2025"], []):
        r = sh(BIN / "sim-run", *args, "replicates=2", "months=3", f"hydra.run.dir={run_dir}")
        assert r.returncode != 0
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("sim-run: error: "), r.stderr
    assert {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()} == before
    fresh = tmp_path / "never"
    r = sh(BIN / "sim-run", "eu.transit=ajar", f"hydra.run.dir={fresh}")
    assert r.returncode != 0 and not fresh.exists()


def test_sim_report_rebuilds_the_report(run_dir):
    (run_dir / "report.md").unlink()
    r = sh(BIN / "sim-report", run_dir)
    assert r.returncode == 0, r.stderr
    assert (run_dir / "report.md").is_file()


def test_multirun_over_scenarios_and_comparison(tmp_path):
    sweep = tmp_path / "sweep"
    r = sh(
        BIN / "sim-run",
        "-m",
        "scenario=baseline,us_conditional",
        "replicates=4",
        "months=12",
        "seed=1",
        f"hydra.sweep.dir={sweep}",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    runs = sorted(p.parent for p in sweep.rglob("summary.json"))
    # one folder per job, named by its overrides, the seed as its own segment
    assert [p.relative_to(sweep).as_posix() for p in runs] == [
        "months=12,replicates=4,scenario=baseline/seed=1",
        "months=12,replicates=4,scenario=us_conditional/seed=1",
    ]
    r = sh(BIN / "sim-report", sweep)
    assert r.returncode == 0, r.stderr
    text = (sweep / "comparison.md").read_text()
    assert "[`baseline`](months=12,replicates=4,scenario=baseline/seed=1/report.md)" in text
    assert "[`us_conditional`](months=12,replicates=4,scenario=us_conditional/seed=1/report.md)" in text
    for name in ("baseline", "us_conditional"):
        assert (
            name
            in pd.read_parquet(sweep / f"months=12,replicates=4,scenario={name}/seed=1/timeseries.parquet")[
                "scenario"
            ].unique()
        )
    assert (sweep / "figures" / "compare_prisoners_held.png").is_file()


def test_sim_report_on_a_folder_without_runs(tmp_path):
    r = sh(BIN / "sim-report", tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("sim-report: error:") and len(r.stderr.splitlines()) == 1
