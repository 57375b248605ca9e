"""Calibration: simulated method of moments against the seed figures, with a posterior by ABC rejection.

Pure functions (no I/O): the targets come in as a table (from :mod:`sim.store.sources` and the calibration
config), results go out as tables.

* A **target** binds a seed figure (its value and kind: exact, approximate, lower or upper bound) to a
  **statistic** of a backtest run (e.g. prisoners held in 2025-12) with a relative **tolerance** that says
  how strongly it binds.
* The **loss** of a target compares the median of the statistic over replicates with the figure: a squared
  relative miss in units of the tolerance; a bound contributes zero while it is satisfied and grows once it is
  violated. The mismatch is the weighted sum.
* Every evaluation uses the same replicate seeds (**common random numbers**), so the loss surface is smooth
  enough for scipy's differential evolution.
* The **posterior** is ABC rejection: parameter draws from the prior box, each simulated with fresh seeds,
  accepted when their mismatch is within the acceptance threshold (by default, the best share of draws).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import differential_evolution

from sim.core.calendar import month_index
from sim.core.params import ScenarioParams
from sim.core.run import RunResult, run_replicates

from .design import apply_point

KINDS = ("exact", "approximate", "lower_bound", "upper_bound")
STATISTICS = (
    "held_at",
    "arrests_in",
    "arrests_between",
    "deals_between",
    "released_between",
    "largest_deal_between",
    "largest_deal_high_profile",
    "largest_deal_share_to_ua",
)


@dataclass(frozen=True)
class Target:
    """One calibration target.

    Attributes:
        name: the seeds figure id it is held to.
        observed: the figure's value.
        kind: exact, approximate, lower_bound or upper_bound.
        statistic: how the model's output is summarised (one of :data:`STATISTICS`).
        start, end: the months (YYYY-MM) the statistic covers (``start`` alone for a month's value).
        tolerance: relative tolerance (share of the observed value) that one unit of loss stands for.
        weight: weight in the mismatch.
    """

    name: str
    observed: float
    kind: str
    statistic: str
    start: str
    end: str = ""
    tolerance: float = 0.1
    weight: float = 1.0


@dataclass(frozen=True)
class FreeParameter:
    """A parameter to calibrate: dotted name, best guess, and bounds."""

    name: str
    best: float
    low: float
    high: float
    integer: bool = False


def statistic(res: RunResult, t: Target) -> np.ndarray:
    """The target's statistic for each replicate of a run (one value per replicate)."""
    ts, deals = res.timeseries, res.deals
    reps = np.sort(ts["replicate"].unique())
    end = t.end or t.start
    if t.statistic == "held_at":
        s = ts[ts["month"] == t.start].set_index("replicate")["prisoners_held"]
    elif t.statistic == "arrests_in":
        s = ts[ts["month"] == t.start].set_index("replicate")["arrests"]
    elif t.statistic == "arrests_between":
        s = ts[(ts["month"] >= t.start) & (ts["month"] <= end)].groupby("replicate")["arrests"].sum()
    elif t.statistic == "released_between":
        w = ts[(ts["month"] >= t.start) & (ts["month"] <= end)]
        s = w.groupby("replicate")[["released_deal", "released_pardon"]].sum().sum(axis=1)
    else:
        d = deals[(deals["month"] >= t.start) & (deals["month"] <= end)] if len(deals) else deals
        if t.statistic == "deals_between":
            s = d.groupby("replicate").size() if len(d) else pd.Series(dtype=float)
        else:
            if len(d):
                largest = d.sort_values("released").groupby("replicate").tail(1).set_index("replicate")
            else:
                largest = pd.DataFrame(columns=["released", "released_high_profile", "to_ua"])
            if t.statistic == "largest_deal_between":
                s = largest["released"]
            elif t.statistic == "largest_deal_high_profile":
                s = largest["released_high_profile"]
            else:
                s = largest["to_ua"] / largest["released"] if len(largest) else largest["released"]
    return s.reindex(reps).fillna(0.0).to_numpy(dtype=float)


def target_loss(t: Target, simulated: float) -> float:
    """Loss of one target given the simulated median: zero inside a bound, squared tolerance units outside."""
    scale = max(abs(t.observed) * t.tolerance, 1e-9)
    if t.kind == "lower_bound":
        miss = max(0.0, t.observed - simulated)
    elif t.kind == "upper_bound":
        miss = max(0.0, simulated - t.observed)
    else:
        miss = simulated - t.observed
    return t.weight * (miss / scale) ** 2


def met(t: Target, simulated: float) -> bool:
    """Whether the simulated median meets the target: a bound holds (strictly: it is satisfied or violated);
    a point or approximate figure is within one tolerance."""
    if t.kind == "lower_bound":
        return simulated >= t.observed
    if t.kind == "upper_bound":
        return simulated <= t.observed
    return target_loss(t, simulated) <= t.weight * (1.0 + 1e-9)


@dataclass
class Evaluation:
    """The model evaluated at one parameter point: per-target replicate statistics and the mismatch."""

    x: np.ndarray
    samples: dict[str, np.ndarray]
    losses: dict[str, float]
    mismatch: float


def evaluate(
    base: ScenarioParams,
    free: list[FreeParameter],
    targets: list[Target],
    x: np.ndarray,
    months: int,
    replicates: int,
    seed: int,
) -> Evaluation:
    """Run the backtest at ``x`` and compute every target's statistic and loss."""
    res = run_replicates(apply_point(base, free, x), months, replicates, seed)
    samples = {t.name: statistic(res, t) for t in targets}
    losses = {t.name: target_loss(t, float(np.median(samples[t.name]))) for t in targets}
    return Evaluation(np.asarray(x, float), samples, losses, float(sum(losses.values())))


class Objective:
    """The mismatch as a picklable function of the free parameters (for scipy's parallel workers)."""

    def __init__(self, base, free, targets, months, replicates, seed):
        self.args = (base, free, targets)
        self.months, self.replicates, self.seed = months, replicates, seed

    def __call__(self, x: np.ndarray) -> float:
        try:
            return evaluate(*self.args, x, self.months, self.replicates, self.seed).mismatch
        except ValueError:  # a combination outside the model's ranges
            return 1e12


@dataclass
class CalibrationResult:
    """What a calibration found.

    Attributes:
        best: the best parameter point, by name.
        evaluation: the model at the best point (with more replicates than during the search).
        history: one row per optimiser generation: best mismatch so far and evaluations used.
        evaluations: model evaluations (parameter points) used by the optimiser.
        posterior: accepted parameter draws (one row each, with their mismatch).
        threshold: the ABC acceptance threshold on the mismatch.
    """

    best: dict[str, float]
    evaluation: Evaluation
    history: pd.DataFrame
    evaluations: int
    posterior: pd.DataFrame
    threshold: float
    prior_draws: int = 0
    extra: dict = field(default_factory=dict)


def calibrate(
    base: ScenarioParams,
    free: list[FreeParameter],
    targets: list[Target],
    months: int,
    *,
    replicates: int = 16,
    seed: int = 1,
    maxiter: int = 20,
    popsize: int = 8,
    workers: int = 1,
    abc_draws: int = 400,
    abc_replicates: int = 4,
    abc_accept: float = 0.1,
    progress: Callable[[str, int, int], None] | None = None,
    optimiser_seed: int = 0,
) -> CalibrationResult:
    """Fit the free parameters to the targets, then draw a posterior around the fit.

    Args:
        base: the backtest scenario.
        free: the free parameters with bounds.
        targets: the targets.
        months: months of the backtest.
        replicates: replicates per evaluation (common random numbers: the same seeds every time).
        seed: root seed of those replicates.
        maxiter, popsize: differential evolution's generations and population multiplier.
        workers: processes for the optimiser (scipy's ``workers``).
        abc_draws: parameter draws for ABC rejection (from the bounds box, uniform).
        abc_replicates: replicates per ABC draw (fresh seeds per draw, so the posterior carries the noise).
        abc_accept: share of draws accepted (their mismatch at most the corresponding quantile), and never
            more than the draws within twice the number of targets of mismatch above the best.
        progress: called with (stage, done, total).
        optimiser_seed: seed of the optimiser.
    """
    bounds = [(f.low, f.high) for f in free]
    objective = Objective(base, free, targets, months, replicates, seed)
    history: list[dict] = []

    def callback(intermediate_result):
        history.append(
            {
                "generation": len(history),
                "best_mismatch": float(intermediate_result.fun),
                "evaluations": int(intermediate_result.nfev),
                **{f.name: float(v) for f, v in zip(free, intermediate_result.x)},
            }
        )
        if progress:
            progress("optimise", len(history), maxiter + 1)

    res = differential_evolution(
        objective,
        bounds,
        x0=np.array([f.best for f in free]),
        maxiter=maxiter,
        popsize=popsize,
        seed=optimiser_seed,
        polish=False,
        workers=workers,
        updating="deferred" if workers != 1 else "immediate",
        callback=callback,
        tol=1e-6,
    )
    best_eval = evaluate(base, free, targets, res.x, months, max(replicates, 32), seed)

    rng = np.random.default_rng(seed + 1)
    draws = (
        np.column_stack([rng.uniform(f.low, f.high, abc_draws) for f in free]) if free else np.zeros((0, 0))
    )
    seeds = np.random.SeedSequence(seed + 2).spawn(abc_draws)
    rows = []
    for i, x in enumerate(draws):
        try:
            e = evaluate(base, free, targets, x, months, abc_replicates, int(seeds[i].generate_state(1)[0]))
            mismatch = e.mismatch
        except ValueError:
            mismatch = np.inf
        rows.append(
            {**{f.name: (round(v) if f.integer else float(v)) for f, v in zip(free, x)}, "mismatch": mismatch}
        )
        if progress:
            progress("posterior", i + 1, abc_draws)
    prior = pd.DataFrame(rows)
    threshold = (
        float(np.quantile(prior["mismatch"][np.isfinite(prior["mismatch"])], abc_accept))
        if len(prior)
        else np.inf
    )
    posterior = prior[prior["mismatch"] <= threshold].reset_index(drop=True)
    return CalibrationResult(
        best={f.name: (round(v) if f.integer else float(v)) for f, v in zip(free, res.x)},
        evaluation=best_eval,
        history=pd.DataFrame(history),
        evaluations=int(res.nfev),
        posterior=posterior,
        threshold=threshold,
        prior_draws=abc_draws,
    )


def fit_table(targets: list[Target], evaluation: Evaluation) -> pd.DataFrame:
    """One row per target: observed figure and kind, simulated median and 90 % band, loss, met."""
    rows = []
    for t in targets:
        s = evaluation.samples[t.name]
        med = float(np.median(s))
        rows.append(
            {
                "target": t.name,
                "statistic": t.statistic,
                "window": f"{t.start}" + (f" to {t.end}" if t.end else ""),
                "kind": t.kind,
                "observed": t.observed,
                "tolerance": t.tolerance,
                "simulated_median": med,
                "simulated_p5": float(np.percentile(s, 5)),
                "simulated_p95": float(np.percentile(s, 95)),
                "loss": evaluation.losses[t.name],
                "met": met(t, med),
            }
        )
    return pd.DataFrame(rows)


def months_between(start: str, end: str) -> int:
    """Number of months from ``start`` to ``end`` inclusive."""
    return month_index(end) - month_index(start) + 1
