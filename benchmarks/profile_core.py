"""Where a replicate's time goes: the bench's baseline replicate under cProfile, and by kind of month.

Builds the replicate exactly as ``benchmarks/bench_core.py`` does (``case_params("belarus", "baseline")``,
``run_model(params, months, seed)``, one warm-up run), then

* runs ``--repeats`` replicates under :mod:`cProfile` and prints the functions with the most time, by own time
  and by cumulative time (``--sort``), and the number of Python function calls per replicate;
* runs them again without the profiler, timing every month with the thread's CPU clock, and prints the mean
  CPU time of a month in which no bargaining round and no pardon happened (a quiet month), one with a round
  and one with a pardon, with how many of each a replicate has.

Used for ``docs/performance.md``. Usage: ``python benchmarks/profile_core.py [--repeats 20] [--top 30]``
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time

from sim.core.counterparts import Counterpart
from sim.core.model import RepressionBargaining
from sim.core.regime import Regime
from sim.core.run import run_model
from sim.store.cases import case_params


def month_kinds(params, months: int, repeats: int) -> dict[str, list[float]]:
    """CPU seconds of each month, by kind (quiet, round, pardon), over ``repeats`` replicates."""
    kinds: dict[str, list[float]] = {"quiet": [], "round": [], "pardon": []}
    seen = {"round": False, "pardon": False}
    solve, lowest, step = Counterpart.solve, Regime.lowest, RepressionBargaining.step

    def timed_solve(self, *a, **k):
        seen["round"] = True
        return solve(self, *a, **k)

    def timed_lowest(self, *a, **k):
        seen["pardon"] = True
        return lowest(self, *a, **k)

    def timed_step(self):
        seen["round"] = seen["pardon"] = False
        t = time.thread_time()
        step(self)
        kind = "round" if seen["round"] else "pardon" if seen["pardon"] else "quiet"
        kinds[kind].append(time.thread_time() - t)

    Counterpart.solve, Regime.lowest, RepressionBargaining.step = timed_solve, timed_lowest, timed_step
    try:
        for seed in range(1, repeats + 1):
            run_model(params, months, seed)
    finally:
        Counterpart.solve, Regime.lowest, RepressionBargaining.step = solve, lowest, step
    return kinds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--top", type=int, default=30, help="functions listed")
    ap.add_argument("--sort", default="tottime", help="pstats sort key of the first listing")
    args = ap.parse_args()
    params = case_params("belarus", "baseline")
    run_model(params, args.months, 0)

    prof = cProfile.Profile()
    prof.enable()
    for seed in range(1, args.repeats + 1):
        run_model(params, args.months, seed)
    prof.disable()
    stats = pstats.Stats(prof)
    print(f"{stats.total_calls / args.repeats:,.0f} Python function calls per replicate (cProfile)")
    stats.sort_stats(args.sort).print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)

    kinds = month_kinds(params, args.months, args.repeats)
    total = sum(sum(v) for v in kinds.values()) / args.repeats
    print(f"CPU time per replicate, months only: {1000 * total:.1f} ms")
    for kind, times in kinds.items():
        if times:
            print(
                f"  {kind:>6} months: {len(times) / args.repeats:5.1f} a replicate, mean "
                f"{1e6 * statistics.fmean(times):6.0f} us, "
                f"{1000 * sum(times) / args.repeats:5.1f} ms a replicate"
            )


if __name__ == "__main__":
    main()
