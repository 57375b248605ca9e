"""Forecasts from an origin: a fit that sees nothing after the origin, then the model run beyond it. Pure.

A forecast at origin ``O`` may use only what was known at the end of ``O``:

* the monitoring record through ``O`` (:func:`sim.analysis.observed.monthly_series` drops later rows);
* the timeline's events through ``O`` (later events are facts the forecaster did not have);
* a calibration fitted on those alone. An installed calibration whose data run past ``O`` would leak the
  future into the parameters, so :func:`fit_to_origin` refits the case's calibration config with its
  statistics cut at ``O`` (:func:`statistics_through`): the same priors, the same replay of the record, an
  ABC-SMC run sized for the purpose.

The forecast itself (:func:`forecast`) is a forward run starting the month after ``O``: every replicate
replays the record to ``O`` with its particle (facts through ``O``), then the actors decide.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.core.calendar import month_index, month_text
from sim.core.params import ScenarioParams
from sim.core.run import RunResult, run_replicates

from .abc import ABCResult, run_abc
from .backtest import ReplaySimulator
from .forward import Calibration, Forward, plan
from .identifiability import weighted_quantile
from .observed import last_observation, monthly_series
from .priors import Prior
from .summaries import StatisticSpec, SummarySet


def statistics_through(specs: Sequence[StatisticSpec], origin: str) -> list[StatisticSpec]:
    """The statistics that can be computed from data through ``origin``: a figure dated after it is dropped,
    a level keeps its months up to it, a windowed statistic (trend, mean, autocorrelation, batches) is cut
    to end there (dropped when its window starts after it). The summary set then drops those with too few
    observed points."""
    o = month_index(origin)
    out = []
    for s in specs:
        if s.statistic == "figure":
            if s.end and month_index(s.end) <= o:
                out.append(s)
        elif s.statistic == "level" and s.months:
            months = tuple(m for m in s.months if month_index(m) <= o)
            if months:
                out.append(dataclasses.replace(s, months=months))
        else:
            if s.start and month_index(s.start) > o:
                continue
            end = s.end if s.end and month_index(s.end) <= o else origin
            out.append(dataclasses.replace(s, end=end))
    return out


def point_values(posterior: pd.DataFrame, priors: Sequence[Prior]) -> dict[str, float | int]:
    """The posterior medians (weighted) as the model takes them (integers rounded)."""
    w = posterior["weight"].to_numpy(float)
    out: dict[str, float | int] = {}
    for p in priors:
        med = float(weighted_quantile(posterior[p.name].to_numpy(float), w, [0.5])[0])
        v = p.model_value(med)
        out[p.name] = int(v) if p.integer else float(v)
    return out


def data_vintage(record: pd.DataFrame, specs: Sequence[StatisticSpec], origin: str) -> str:
    """The last month of data a fit through ``origin`` used: the record's last observation or a figure's."""
    months = [m for m in [last_observation(record, origin)] if m]
    months += [s.end for s in specs if s.statistic == "figure"]
    months = [m[:7] for m in months]
    return max(months, key=month_index) if months else origin


def fit_to_origin(
    cfg: dict,
    record: pd.DataFrame,
    events: Sequence[Any],
    origin: str,
    abc: dict,
    *,
    db: str,
    sampler: str = "multicore",
    n_procs: int = 2,
    scheduler_address: str | None = None,
) -> tuple[Calibration, ABCResult, SummarySet]:
    """Fit a case's calibration config to the data through ``origin`` only.

    Args:
        cfg: the calibration config (:func:`sim.store.calibrations.load_config`).
        record: the case's monitoring record (rows after the origin are dropped here).
        events: the case's timeline (events after the origin are dropped here).
        origin: the last month the fit may see (``YYYY-MM``).
        abc: ABC-SMC settings (population, max_populations, max_walltime_s, min_acceptance_rate,
            max_total_simulations, seed).
        db: the pyabc database URL.
        sampler, n_procs, scheduler_address: pyabc's sampler (:func:`sim.analysis.abc.run_abc`).

    Returns:
        The calibration (no saved states: forward runs replay to their start), the ABC run, the summaries.
    """
    base: ScenarioParams = cfg["base"]
    if month_index(origin) <= month_index(base.start):
        raise ValueError(f"origin = {origin}: must be after the record's start {base.start}")
    through = min(origin, cfg["record_through"], key=month_index)
    observed = monthly_series(record, through, start=base.start)
    specs = statistics_through(cfg["statistics"], origin)
    summaries = SummarySet(specs, observed)
    if not summaries.keys:
        raise ValueError(f"origin = {origin}: no statistic of the calibration can be computed by then")
    past = [e for e in events if month_index(e.month) <= month_index(origin)]
    replay_until = cfg["replay_until"]
    replay_until = origin if replay_until is None else min(replay_until, origin, key=month_index)
    sim = ReplaySimulator(base, past, origin, replay_until, summaries)
    result = run_abc(
        cfg["priors"], sim, summaries.observed, db=db, kinds=summaries.kinds(),
        population_size=abc["population"], max_populations=abc["max_populations"],
        max_walltime_s=abc["max_walltime_s"], min_acceptance_rate=abc["min_acceptance_rate"],
        max_total_simulations=abc.get("max_total_simulations"), sampler=sampler, n_procs=n_procs,
        scheduler_address=scheduler_address, seed=abc["seed"],
    )  # fmt: skip
    cal = Calibration(
        case=cfg["case"],
        source=f"a fit to the data through {origin}",
        point=point_values(result.posterior, cfg["priors"]),
        posterior=result.posterior,
        base=base,
        record_end=origin,
        data_vintage=data_vintage(record, specs, origin),
    )
    return cal, result, summaries


def forecast(
    scenario: ScenarioParams,
    case: ScenarioParams,
    calibration: Calibration | None,
    events: Sequence[Any],
    origin: str,
    horizon: int,
    replicates: int,
    seed: int,
    uncertainty: bool = True,
    explicit: set[str] = frozenset(),
) -> tuple[RunResult, Forward]:
    """Simulate ``horizon`` months after ``origin``: each replicate replays the record to the origin with its
    particle (the timeline's events through the origin as facts), then the actors decide.

    Args:
        scenario: the run's parameters (its ``start`` is replaced by the month after the origin).
        case: the case's parameters as its file gives them.
        calibration: the calibration (its data must not run past the origin: the caller checks), or None.
        events: the case's timeline; events after the origin are dropped.
        origin: the last month known (``YYYY-MM``).
        horizon: months simulated after the origin.
        replicates: ensemble members.
        seed: the root seed.
        uncertainty: draw each replicate's parameters from the posterior.
        explicit: dotted names the user set (never replaced by the calibration).
    """
    if calibration is not None and month_index(calibration.data_vintage) > month_index(origin):
        raise ValueError(
            f"origin = {origin}: the calibration used data through {calibration.data_vintage}; "
            f"a forecast may not use data after its origin"
        )
    start = month_text(month_index(origin) + 1)
    params = scenario.replace(start=start)
    reps, sentence = plan(
        params, replicates, seed, calibration, uncertainty and calibration is not None, explicit
    )
    past = [e for e in events if month_index(e.month) <= month_index(origin)]
    fw = Forward(reps, sentence, calibration, case, past, None, "free", set(explicit))
    res = run_replicates(
        fw.params, horizon, replicates, seed, events=past, replay_until=None, starts=fw.starts
    )
    return res, fw


def months_after(origin: str, horizon: int) -> list[str]:
    """``origin + 1 .. origin + horizon``."""
    o = month_index(origin)
    return [month_text(o + h) for h in range(1, horizon + 1)]


def spread(values: np.ndarray) -> tuple[float, float, float]:
    """5th, 50th and 95th percentiles."""
    q = np.percentile(np.asarray(values, float), [5, 50, 95])
    return float(q[0]), float(q[1]), float(q[2])
