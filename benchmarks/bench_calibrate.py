"""ABC-SMC calibration speed: wall time, generations, simulations, simulations per second, final epsilon.

Runs :func:`sim.analysis.abc.run_problem` on the problem a factory returns (``--problem module:function``, a
function of no arguments returning a :class:`sim.analysis.abc.CalibrationProblem`). The default is the real
model: the Belarus calibration exactly as ``sim-calibrate belarus`` fits it
(:func:`sim.edge.calibrate.problem`),
with the population schedule, generations and wall-time limit of its config
(``conf/calibration/belarus.yaml``, ``abc``); the toy stock-flow problem
(``--problem sim.analysis.toy_stockflow:toy_problem``) takes about a minute.

Target (issue 9): a final population of >= 1,000 particles within 15 minutes on 2 cores with the real model.
The run stops at ``--generations`` generations or ``--max-walltime`` seconds, whichever comes first (pyabc
checks after each generation, so the last generation finishes past the limit); the final population has the
last scheduled size. Repeated runs (``--repeats``) are summarised by their medians.

Usage: ``python benchmarks/bench_calibrate.py [--problem MOD:FUNC] [--population 1000] [--generations 7]
[--procs 2] [--repeats 1] [--dask-scheduler ADDRESS [--dask-batch-size 1]] [--json PATH]``
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sim.analysis.abc import CalibrationProblem, run_problem

DEFAULT_PROBLEM = "sim.edge.calibrate:problem"
TARGET_PARTICLES, TARGET_SECONDS = 1000, 15 * 60


def load_factory(path: str):
    """``module:function`` -> the function (one-line error naming the option otherwise)."""
    mod, sep, fn = path.partition(":")
    if not sep or not mod or not fn:
        sys.exit(f"error: --problem must be module:function, got {path!r}")
    try:
        factory = getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError) as e:
        sys.exit(f"error: --problem {path!r} cannot be imported ({e})")
    return factory


def population(text: str) -> int | list[int]:
    try:
        sizes = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"integers separated by commas, got {text!r}") from None
    if any(n < 2 for n in sizes):
        raise argparse.ArgumentTypeError("population sizes must be >= 2")
    return sizes[0] if len(sizes) == 1 else sizes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--problem", default=DEFAULT_PROBLEM, help="factory of the calibration problem, module:function"
    )
    from sim.edge.calibrate import abc_settings

    abc = abc_settings("belarus")
    sizes = abc["population"]
    ap.add_argument(
        "--population", type=population, default=sizes if len(sizes) > 1 else sizes[0],
        help="particles per generation, or a schedule a,b,c (default: the Belarus config's)",
    )  # fmt: skip
    ap.add_argument("--generations", type=int, default=abc["max_populations"], help="most generations")
    ap.add_argument("--min-epsilon", type=float, default=0.0)
    ap.add_argument("--max-simulations", type=int, default=None)
    ap.add_argument("--max-walltime", type=float, default=abc["max_walltime_s"], help="seconds")
    ap.add_argument("--procs", type=int, default=2, help="worker processes of the multicore sampler")
    ap.add_argument(
        "--dask-scheduler", default=None, help="run on this Dask scheduler instead (tcp://host:port)"
    )
    ap.add_argument("--dask-batch-size", type=int, default=1, help="simulations per Dask task")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args()
    if min(args.generations, args.repeats, args.procs, args.dask_batch_size) < 1:
        sys.exit("error: --generations, --repeats, --procs and --dask-batch-size must be positive integers")
    logging.getLogger("ABC").setLevel(logging.WARNING)

    factory = load_factory(args.problem)
    t0 = time.perf_counter()
    problem = factory()
    if not isinstance(problem, CalibrationProblem):
        kind = type(problem).__name__
        sys.exit(f"error: --problem {args.problem!r} must return a CalibrationProblem, got {kind}")
    setup = time.perf_counter() - t0
    sampler = (
        {"sampler": "dask", "scheduler_address": args.dask_scheduler, "dask_batch_size": args.dask_batch_size}
        if args.dask_scheduler
        else {"sampler": "multicore", "n_procs": args.procs}
    )
    print(
        f"problem {args.problem}: {len(problem.priors)} parameters, {len(problem.observed)} statistics "
        f"(set-up {setup:.1f} s); population {args.population}, at most {args.generations} generations, "
        f"{sampler['sampler']} on {args.dask_scheduler or f'{args.procs} processes'} "
        f"({os.cpu_count()} cores here)"
    )
    runs = []
    for r in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            res = run_problem(
                problem,
                db=f"sqlite:///{Path(tmp) / 'abc.db'}",
                population_size=args.population,
                max_populations=args.generations,
                min_epsilon=args.min_epsilon,
                max_total_simulations=args.max_simulations,
                max_walltime_s=args.max_walltime,
                seed=args.seed + r,
                **sampler,
            )
            run = {
                "wall_seconds": res.wall_seconds,
                "generations": len(res.generations),
                "total_simulations": res.total_simulations,
                "simulations_per_second": res.simulations_per_second,
                "final_epsilon": res.final_epsilon,
                "final_population": res.final_population_size,
                "stop_reasons": res.stop_reasons,
                "sampler": res.sampler,
            }
        runs.append(run)
        print(
            f"run {r + 1}/{args.repeats}: {run['wall_seconds']:.1f} s, {run['generations']} generations, "
            f"{run['total_simulations']} simulations ({run['simulations_per_second']:.0f}/s), final epsilon "
            f"{run['final_epsilon']:.4g}, final population {run['final_population']}, stopped by "
            f"{', '.join(run['stop_reasons']) or '?'}"
        )
        print(res.generations.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    keys = ("wall_seconds", "generations", "total_simulations", "simulations_per_second", "final_epsilon")
    median = {k: statistics.median(r[k] for r in runs) for k in keys}
    median["final_population"] = min(r["final_population"] for r in runs)
    ok = median["final_population"] >= TARGET_PARTICLES and median["wall_seconds"] <= TARGET_SECONDS
    print(
        f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)"
    )
    print(
        f"median over {len(runs)} run(s): {median['wall_seconds']:.1f} s wall, {median['generations']:g} "
        f"generations, {median['total_simulations']:.0f} simulations, {median['simulations_per_second']:.0f} "
        f"simulations/s, final epsilon {median['final_epsilon']:.4g}; smallest final population "
        f"{median['final_population']}"
    )
    target = f">= {TARGET_PARTICLES} particles in <= {TARGET_SECONDS // 60} min"
    print(f"target ({target}): {'met' if ok else 'NOT met'}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"problem": args.problem, "settings": vars(args), "runs": runs, "median": median}, indent=2
            )
        )


if __name__ == "__main__":
    main()
