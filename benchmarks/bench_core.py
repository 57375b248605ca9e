"""Speed of the simulator core: medians over repeated runs, and how time grows with the prisoner stock.

Reports, on one core:
* the median wall time of one 120-month baseline replicate at the reference population (target <= 20 ms);
* replicates per second (1 / that median);
* the median time with the initial stock x10 and x100, as ratios to the reference (target: x100 <= x5 time).

Usage: ``python benchmarks/bench_core.py [--repeats N] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from sim.core.params import ScenarioParams
from sim.core.run import run_model
from sim.store.cases import case_params


def median_time(params: ScenarioParams, months: int, repeats: int) -> float:
    """Median seconds of one replicate over ``repeats`` runs with different seeds (after one warm-up)."""
    run_model(params, months, 0)
    times = []
    for seed in range(1, repeats + 1):
        t = time.perf_counter()
        run_model(params, months, seed)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=41)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--json", type=str, default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()
    base = case_params("belarus", "baseline")
    n0 = base.population.initial_stock
    ref = median_time(base, args.months, args.repeats)
    rows = {"reference": {"initial_stock": n0, "median_s": ref, "ratio": 1.0}}
    for factor, reps in ((10, max(args.repeats // 2, 5)), (100, max(args.repeats // 4, 5))):
        # a prison system `factor` times larger: the capacity cost per 1,000 held shrinks in proportion
        p = base.replace(
            **{
                "population.initial_stock": n0 * factor,
                "regime.capacity_cost": base.regime.capacity_cost / factor,
            }
        )
        t = median_time(p, args.months, reps)
        rows[f"x{factor}"] = {"initial_stock": n0 * factor, "median_s": t, "ratio": t / ref}
    print(f"one {args.months}-month replicate, baseline, one core (cpu count {os.cpu_count()}):")
    print(f"  median time        {1000 * ref:8.2f} ms   (target <= 20 ms)")
    print(f"  replicates/second  {1 / ref:8.1f}")
    for k, r in rows.items():
        print(
            f"  {k:>9}: stock {r['initial_stock']:>7,d}  median {1000 * r['median_s']:8.2f} ms  ratio "
            f"x{r['ratio']:.2f}"
        )
    print(f"  x100 prisoners cost x{rows['x100']['ratio']:.2f} the time (target <= x5)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(
                {"months": args.months, "repeats": args.repeats, "replicates_per_second": 1 / ref, **rows},
                fh,
                indent=2,
            )


if __name__ == "__main__":
    main()
