"""Run a scenario: one replicate or many with spawned seeds; returns tables, writes nothing.

Tables are long format, keyed by ``scenario`` and ``replicate`` and carrying the replicate's ``seed``:
``timeseries`` has one row per replicate and month, ``deals`` one row per deal, ``decisions`` one row per
replicate, month, actor and decision (with the two quantities the decision compared).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .calendar import month_index, month_text
from .model import COUNT_OUTPUTS, DECISION_FIELDS, RepressionBargaining
from .params import ScenarioParams

DEAL_COLUMNS = [
    "scenario", "replicate", "seed", "month", "counterpart", "policy", "replayed", "released",
    "released_high_profile", "released_notable", "released_tied", "released_other_ties", "expelled",
    "expelled_high_profile",
    "denationalised", "paroled", "relief", "relief_cost", "price_per_prisoner", "instruments_lifted",
    "restraint_clause", "snapped_back", "gain_regime", "gain_counterpart",
]  # fmt: skip
DECISION_COLUMNS = ["scenario", "replicate", "seed", *DECISION_FIELDS]


@dataclass
class RunResult:
    """Tables of one or more replicates.

    Attributes:
        timeseries: one row per replicate and month.
        deals: one row per deal.
        decisions: one row per replicate, month, actor and decision.
    """

    timeseries: pd.DataFrame
    deals: pd.DataFrame
    decisions: pd.DataFrame


def spawn_seeds(seed: int, replicates: int) -> list[int]:
    """Independent 32-bit seeds for each replicate, spawned from ``seed`` (numpy SeedSequence)."""
    children = np.random.SeedSequence(seed).spawn(replicates)
    return [int(c.generate_state(1)[0]) for c in children]


def run_model(
    params: ScenarioParams,
    months: int,
    seed: int,
    events: Iterable[Any] = (),
    replay_until: str | None = None,
    state: dict | None = None,
) -> RepressionBargaining:
    """Build and run one replicate; returns the model (its ``out`` arrays, ``deals`` and ``decisions``).
    ``state`` is a saved state to start from (None: the case's synthetic stock)."""
    return RepressionBargaining(
        params, months=months, rng=seed, events=events, replay_until=replay_until, state=state
    ).run()


def monthly_decisions(model: RepressionBargaining) -> list[tuple]:
    """The decisions taken every month, as decision rows: the regime's arrests and the opposition's
    mobilisation."""
    rows = []
    md = model.monthly_decision
    for i in range(model.recorded):
        control, chip, external, rate = md[i]
        rows.append(
            (
                model.t0 + i,
                "regime",
                "arrests",
                "arrest",
                rate,
                "marginal_value",
                control + chip,
                "external_cost",
                external,
                f"control {control:.3f} + chip {chip:.3f} RU",
            )
        )
    mob, x = model.out["mobilisation"], model.out["perceived_participation"]
    for i in range(model.recorded):
        rows.append(
            (
                model.t0 + i,
                "opposition",
                "mobilisation",
                "mobilise",
                mob[i],
                "perceived",
                x[i],
                "share_active",
                mob[i],
                "",
            )
        )
    return rows


def run_replicates(
    params: ScenarioParams | list[ScenarioParams],
    months: int,
    replicates: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
    events: Iterable[Any] = (),
    replay_until: str | None = None,
    starts: Callable[[int, int], dict | None] | None = None,
) -> RunResult:
    """Run ``replicates`` independent replicates of a scenario.

    Args:
        params: the scenario, or one scenario per replicate (parameter uncertainty); they share name and
        start.
        months: months simulated from ``params.start``.
        replicates: number of replicates.
        seed: root seed; replicate seeds are spawned from it, so the tables depend on nothing else.
        progress: called with 1 after each replicate (e.g. a progress bar's ``update``).
        events: timeline events (see :class:`RepressionBargaining`).
        replay_until: month up to which the timeline's deals, pardons and instrument changes are facts.
        starts: ``starts(replicate, seed)`` gives the state replicate starts from (None: a synthetic stock).

    Returns:
        The replicates' tables.
    """
    seeds = spawn_seeds(seed, replicates)
    per = params if isinstance(params, list) else [params] * replicates
    if len(per) != replicates:
        raise ValueError(f"params: {len(per)} scenarios for {replicates} replicates")
    events = list(events)
    first = per[0]
    t0 = month_index(first.start)
    months_text = [month_text(t0 + i) for i in range(months)]
    columns: dict[str, list[np.ndarray]] = {}
    deals: list[dict] = []
    decisions: list[tuple] = []
    outputs: tuple[str, ...] = ()
    for r, s in enumerate(seeds):
        state = starts(r, s) if starts is not None else None
        model = run_model(per[r], months, s, events, replay_until, state)
        outputs = model.outputs
        for name in outputs:
            columns.setdefault(name, []).append(model.out[name])
        for d in model.deals:
            deals.append({"scenario": first.name, "replicate": r, "seed": s, **d})
        for row in (*model.decisions, *monthly_decisions(model)):
            decisions.append((first.name, r, s, month_text(row[0]), *row[1:]))
        if progress is not None:
            progress(1)
    ts = pd.DataFrame({
        "scenario": pd.Series([first.name] * (months * replicates), dtype="string"),
        "replicate": np.repeat(np.arange(replicates), months),
        "seed": np.repeat(np.asarray(seeds, dtype=np.int64), months),
        "month": pd.Series(months_text * replicates, dtype="string"),
        **{name: np.concatenate(columns[name]) if replicates else np.zeros(0) for name in outputs},
    })  # fmt: skip
    counts = [c for c in outputs if c in COUNT_OUTPUTS]
    ts[counts] = ts[counts].astype(np.int64)
    extra = [c for c in (deals[0] if deals else {}) if c not in DEAL_COLUMNS]
    dl = pd.DataFrame(deals, columns=[*DEAL_COLUMNS, *extra])
    dc = pd.DataFrame(decisions, columns=DECISION_COLUMNS)
    dc["scenario"] = dc["scenario"].astype("string")
    return RunResult(timeseries=ts, deals=dl, decisions=dc)
