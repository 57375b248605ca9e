"""Sweeps on a scheduler: the SLURM launcher's waiting rules (fast, with a stand-in queue), and a real
single-node Slurm (slow; skipped, saying why, where Slurm cannot be started: see ``slurm_cluster.py``)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import slurm_cluster
from test_cli import BIN
from test_hostile import run_cli

from sim.edge import launchers

# ------------------------------------------------------------------------ waiting rules (fast, no Slurm)


class _Job:
    def __init__(self, folder: Path, job_id: str) -> None:
        self.job_id = job_id
        self.paths = SimpleNamespace(result_pickle=folder / f"{job_id}_result.pkl")


def _wait_at_most(waiter, jobs, overrides, seconds: float = 20.0) -> None:
    """Run the waiting loop in a thread; fail (instead of hanging the suite) if it waits longer."""
    import threading

    t = threading.Thread(target=waiter._wait, args=(jobs, overrides), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still waiting after {seconds} s"


class _Waiter(launchers.SlurmLauncherMixin):
    poll_s, vanish_grace_s, blind_limit_s = 0.05, 0.5, 0.5

    def __init__(self) -> None:
        self.recorded: list[tuple[str, str]] = []
        self.collected: list[str] = []

    def _record(self, job, overrides, state, detail=""):
        self.recorded.append((job.job_id, state))

    def _collect(self, job, overrides):
        self.collected.append(job.job_id)


def test_a_job_gone_from_the_queue_without_accounting_is_not_waited_for_forever(tmp_path, monkeypatch):
    monkeypatch.setattr(launchers, "queue_states", lambda ids: {})  # left the queue
    monkeypatch.setattr(launchers, "final_states", lambda ids: {})  # no sacct
    w = _Waiter()
    _wait_at_most(w, [_Job(tmp_path, "7_0")], [["seed=1"]], 10)
    assert w.recorded == [("7_0", "ENDED (no accounting: state unknown)")]


def test_a_cancelled_job_is_recorded_with_its_state_and_the_others_collected(tmp_path, monkeypatch):
    jobs = [_Job(tmp_path, "8_0"), _Job(tmp_path, "8_1")]
    jobs[0].paths.result_pickle.write_text("done")
    monkeypatch.setattr(launchers, "queue_states", lambda ids: {})
    monkeypatch.setattr(launchers, "final_states", lambda ids: {"8_1": "CANCELLED by 0"})
    monkeypatch.setattr(_Waiter, "vanish_grace_s", 30.0)  # the accounting state is enough
    monkeypatch.setattr(launchers.time, "monotonic", _fast_clock())
    w = _Waiter()
    _wait_at_most(w, jobs, [["seed=1"], ["seed=2"]])
    assert w.collected == ["8_0"] and w.recorded == [("8_1", "CANCELLED by 0")]


def test_a_scheduler_that_does_not_answer_is_given_up_on(tmp_path, monkeypatch):
    monkeypatch.setattr(launchers, "queue_states", lambda ids: None)
    w = _Waiter()
    _wait_at_most(w, [_Job(tmp_path, "9_0")], [["seed=1"]], 10)
    assert w.recorded == [("9_0", "UNKNOWN (squeue does not answer)")]


def test_the_warning_signal_never_comes_at_once():
    assert launchers.warning_delay(60, 120) == 120
    assert launchers.warning_delay(1, 120) == 6  # a tenth of a one-minute limit, not 120 s before it
    assert launchers.warning_delay(0.1, 120) == 5


def _fast_clock():
    t = [0.0]

    def clock() -> float:
        t[0] += 1.0
        return t[0]

    return clock


# ------------------------------------------------------------------------------- a real Slurm (slow)


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    cluster = slurm_cluster.start(tmp_path_factory.mktemp("slurm-state"))
    if isinstance(cluster, str):
        pytest.skip(cluster)
    try:
        yield cluster
    finally:
        cluster.stop()


def _sweep(folder: Path, *overrides: str, **kw):
    return [
        str(BIN / "sim-run"),
        "-m",
        *overrides,
        "months=24",
        "report=false",
        "hydra/launcher=slurm",
        "hydra.launcher.partition=debug",
        "hydra.launcher.timeout_min=10",
        "hydra.launcher.mem_gb=1",
        f"hydra.sweep.dir={folder}",
    ]


def _squeue() -> dict[str, str]:
    out = subprocess.run(["squeue", "-h", "-r", "-o", "%i|%T"], capture_output=True, text=True).stdout
    return dict(line.split("|", 1) for line in out.split())


@pytest.mark.slow
def test_sweeps_on_a_real_slurm(slurm, tmp_path):
    started = time.monotonic()
    # 1. a 2-job sweep completes, and its records name the command built from Hydra's overrides
    ok = tmp_path / "ok"
    r = run_cli(*_sweep(ok, "seed=1,2", "replicates=3"))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert len(list(ok.rglob("outcomes.parquet"))) == 2 and (ok / ".submitit").is_dir()
    prov = json.loads(next(ok.rglob("provenance.json")).read_text())
    assert prov["command"][0] == "sim-run" and not any(".submitit" in a for a in prov["command"])

    # 2. a failing job is recorded, with a traceback that names the project's file
    bad = tmp_path / "bad"
    r = run_cli(*_sweep(bad, "fail_on_purpose=true", "replicates=2"))
    assert r.returncode == 1 and "1 of 1 jobs did not complete" in r.stderr, r.stderr[-3000:]
    error = json.loads(next(bad.rglob("error.json")).read_text())
    assert error["error"] == "RuntimeError" and 'File "sim/edge/cli.py"' in error["traceback"]
    assert "<dynamic-code>" not in error["traceback"]

    # 3. a job cancelled while it runs is reported, not crashed on; the other job goes on. The job script's
    # setup line holds the first job in the RUNNING state until the flag file exists (so the cancel always
    # finds it running, on a fast machine too), and shows that setup lines reach the job script.
    cancel, flag = tmp_path / "cancel", tmp_path / "go"
    cmd = _sweep(
        cancel,
        "seed=1,2",
        "replicates=3",
        "hydra.launcher.array_parallelism=1",
        f"hydra.launcher.setup=['for i in $(seq 60); do test -e {flag} && break; sleep 1; done']",
    )
    proc = subprocess.Popen(
        cmd,
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    running = None
    while running is None:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        running = next((j for j, s in _squeue().items() if s == "RUNNING" and j.endswith("_0")), None)
        time.sleep(0.5)
    time.sleep(1)
    subprocess.run(["scancel", running], check=True)
    flag.write_text("the next job need not wait")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err[-3000:]
    assert "Traceback" not in err and "1 of 2 jobs did not complete" in err
    errors = [json.loads(p.read_text()) for p in cancel.rglob("error.json")]
    assert len(errors) == 1 and errors[0]["slurm_state"].startswith("CANCELLED"), errors
    assert len(list(cancel.rglob("outcomes.parquet"))) == 1

    # 4. the same command again resumes: the complete job is not resubmitted, the cancelled one is redone
    r = run_cli(*cmd)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "1 job(s) already complete; not submitted again" in r.stdout
    assert len(list(cancel.rglob("outcomes.parquet"))) == 2 and not list(cancel.rglob("error.json"))
    table = pd.concat(pd.read_parquet(p) for p in cancel.rglob("outcomes.parquet"))
    assert sorted(table["job"].str.extract(r"seed=(\d)")[0]) == ["1"] * 3 + ["2"] * 3
    print(f"Slurm checks took {time.monotonic() - started:.0f} s (after the cluster started)")
