"""A large sweep through Hydra's joblib launcher: wall time, runs per second, Hydra's share, peak memory.

Runs ``sim-run -m`` over a 10 x 10 grid of two US levers with 100 replicates of 120 months each
(10,000 replicate runs), one worker per core, then ``sim-report`` on the sweep. Targets: <= 3 minutes wall
on 2 cores, <= 2 GB peak memory (the whole process tree), ``sim-report`` <= 30 s.

Hydra's share is the part of the workers' capacity (wall x workers) not spent inside the jobs' replicate
loops (each job records its ``compute_seconds`` in summary.json): process start-up, imports, composition,
launching and writing outputs.

Usage: ``python benchmarks/bench_sweep.py [--side 10] [--replicates 100] [--months 120] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent


def run_measured(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run a command; return wall seconds and peak resident memory of its process tree (GB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.2)
    out, err = proc.communicate()
    return (
        time.perf_counter() - start,
        peak / 1e9,
        subprocess.CompletedProcess(cmd, proc.returncode, out, err),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=10, help="grid side: side x side parameter points")
    ap.add_argument("--replicates", type=int, default=100)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    prices = ",".join(f"{x:.3g}" for x in [0.5 + 2.5 * i / (args.side - 1) for i in range(args.side)])
    tranches = ",".join(f"{x:.3g}" for x in [0.05 + 0.45 * i / (args.side - 1) for i in range(args.side)])
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "sweep"
        cmd = [
            str(BIN / "sim-run"),
            "-m",
            f"us.value_per_prisoner={prices}",
            f"us.leverage_value={tranches}",
            f"replicates={args.replicates}",
            f"months={args.months}",
            "report=false",
            "progress=false",
            f"hydra.sweep.dir={sweep}",
        ]
        wall, peak, r = run_measured(cmd)
        if r.returncode != 0:
            sys.exit("sweep failed: " + r.stderr[-2000:])
        compute = sum(json.loads(p.read_text())["compute_seconds"] for p in sweep.rglob("summary.json"))
        jobs = len(list(sweep.rglob("summary.json")))
        workers = min(os.cpu_count() or 1, jobs)
        runs = jobs * args.replicates
        rwall, rpeak, rr = run_measured([str(BIN / "sim-report"), str(sweep)])
        if rr.returncode != 0:
            sys.exit("sim-report failed: " + rr.stderr[-2000:])
    share = 1 - compute / (wall * workers)
    res = {
        "jobs": jobs,
        "replicate_runs": runs,
        "months": args.months,
        "workers": workers,
        "wall_s": wall,
        "runs_per_s": runs / wall,
        "compute_s": compute,
        "hydra_share": share,
        "peak_gb": peak,
        "report_wall_s": rwall,
        "report_peak_gb": rpeak,
    }
    print(
        f"sweep: {jobs} jobs x {args.replicates} replicates x {args.months} months = {runs:,} replicate "
        f"runs, "
        f"{workers} workers"
    )
    print(f"  wall time          {wall:8.1f} s   (target <= 180 s)")
    print(f"  runs per second    {runs / wall:8.1f}")
    print(f"  in-job compute     {compute:8.1f} s   (sum over jobs)")
    print(f"  Hydra's share      {100 * share:8.1f} %   (of wall x workers, outside the replicate loops)")
    print(f"  peak memory        {peak:8.2f} GB  (process tree; target <= 2 GB)")
    print(f"  sim-report         {rwall:8.1f} s   (target <= 30 s), peak {rpeak:.2f} GB")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
