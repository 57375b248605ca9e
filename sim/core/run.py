"""Run a scenario: one replicate or many with spawned seeds; returns tables, writes nothing.

Tables are long format: ``timeseries`` has one row per replicate and month, ``deals`` one row per deal,
both keyed by ``scenario`` and ``replicate`` and carrying the replicate's ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import OUTPUTS, RepressionBargaining
from .params import ScenarioParams
from .prisoners import month_index, month_text

DEAL_COLUMNS = [
    "scenario",
    "replicate",
    "seed",
    "month",
    "counterpart",
    "policy",
    "released",
    "released_high_profile",
    "released_reserve",
    "released_us_citizens",
    "expelled",
    "expelled_high_profile",
    "to_ua",
    "to_lt",
    "to_pl",
    "stayed",
    "ua_tied",
    "relief",
    "relief_cost_us",
    "price_per_prisoner",
    "sectors_lifted",
    "lift_aviation",
    "lift_potash",
    "lift_banking",
    "lift_other",
    "restraint_clause",
    "snapped_back",
    "gain_regime",
    "gain_us",
]


@dataclass
class RunResult:
    """Tables of one or more replicates.

    Attributes:
        timeseries: one row per replicate and month.
        deals: one row per deal.
    """

    timeseries: pd.DataFrame
    deals: pd.DataFrame


def spawn_seeds(seed: int, replicates: int) -> list[int]:
    """Independent 32-bit seeds for each replicate, spawned from ``seed`` (numpy SeedSequence)."""
    children = np.random.SeedSequence(seed).spawn(replicates)
    return [int(c.generate_state(1)[0]) for c in children]


def run_model(params: ScenarioParams, months: int, seed: int) -> RepressionBargaining:
    """Build and run one replicate; returns the model (its ``out`` arrays and ``deals`` list)."""
    return RepressionBargaining(params, months=months, rng=seed).run()


def run_replicates(
    params: ScenarioParams | list[ScenarioParams],
    months: int,
    replicates: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Run ``replicates`` independent replicates of a scenario.

    Args:
        params: the scenario, or one scenario per replicate (parameter uncertainty); they share name and
        start.
        months: months simulated from ``params.start``.
        replicates: number of replicates.
        seed: root seed; replicate seeds are spawned from it, so the tables depend on nothing else.
        progress: called with 1 after each replicate (e.g. a progress bar's ``update``).

    Returns:
        The replicates' tables.
    """
    seeds = spawn_seeds(seed, replicates)
    per = params if isinstance(params, list) else [params] * replicates
    if len(per) != replicates:
        raise ValueError(f"params: {len(per)} scenarios for {replicates} replicates")
    params = per[0]
    t0 = month_index(params.start)
    months_text = [month_text(t0 + i) for i in range(months)]
    columns: dict[str, list[np.ndarray]] = {name: [] for name in OUTPUTS}
    deals: list[dict] = []
    for r, s in enumerate(seeds):
        model = run_model(per[r], months, s)
        for name in OUTPUTS:
            columns[name].append(model.out[name])
        for d in model.deals:
            deals.append({"scenario": params.name, "replicate": r, "seed": s, **d})
        if progress is not None:
            progress(1)
    ts = pd.DataFrame(
        {
            "scenario": pd.Series([params.name] * (months * replicates), dtype="string"),
            "replicate": np.repeat(np.arange(replicates), months),
            "seed": np.repeat(np.asarray(seeds, dtype=np.int64), months),
            "month": pd.Series(months_text * replicates, dtype="string"),
            **{name: np.concatenate(columns[name]) if replicates else np.zeros(0) for name in OUTPUTS},
        }
    )
    counts = [c for c in OUTPUTS if c in COUNT_COLUMNS]
    ts[counts] = ts[counts].astype(np.int64)
    dl = pd.DataFrame(deals, columns=DEAL_COLUMNS)
    return RunResult(timeseries=ts, deals=dl)


COUNT_COLUMNS = {
    "prisoners_held",
    "arrests",
    "released_deal",
    "released_pardon",
    "released_served",
    "died",
    "expelled",
    "released_high_profile",
    "exiles",
    "opposition_centres",
    "high_profile_held",
    "reserve_held",
    "snapbacks",
}
