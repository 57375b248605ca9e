"""Forward runs from a calibration: each replicate's parameters and the state it starts from. Pure.

A calibration (``sim-calibrate``) gives a weighted posterior over the free parameters, the posterior medians
(its *point*), and the states at the end of its replay of the record, one per saved particle. A forward run
(``sim-run``, ``sim-forecast``) builds each replicate from it:

* **With parameter uncertainty** (the default), replicate *r* takes one particle: its parameter values and,
  when the run starts the month after the saved states end, that particle's saved state. Otherwise the
  particle's replay of the record is run to the month before the start, facts up to there.
* **Without** (``parameter_uncertainty=false``), every replicate takes the point values, and its own replay of
  the record to the month before the start (so only the stochastic variation remains, in the history as in
  the future).

Values the user set explicitly are never replaced by a calibration's. The scenario's initial conditions are
put on the starting state by :func:`sim.core.handoff.scenario_on_state`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.core.calendar import month_index, month_text
from sim.core.handoff import scenario_on_state
from sim.core.model import RepressionBargaining
from sim.core.params import ScenarioParams


class ForwardError(ValueError):
    """A forward run its calibration cannot start (one line: the field and what is allowed)."""


@dataclass
class Calibration:
    """What a forward run needs from a calibration (read by :func:`sim.store.calibrations.read_calibration`).

    Attributes:
        case: the case it was fitted to.
        source: where it was read from, relative to the project (for the run record).
        point: the posterior medians of the free parameters, by dotted name.
        posterior: the weighted particles (a column per free parameter, ``weight``).
        base: the case's parameters at the start of its record (the replay's start).
        record_end: the last month whose events the calibration replayed as facts.
        states: saved states at the end of the replay (one per saved particle); empty for none.
        state_particles: the particle each saved state belongs to (rows align with ``states``).
        data_vintage: the last observation the fit used (YYYY-MM).
    """

    case: str
    source: str
    point: dict[str, float]
    posterior: pd.DataFrame
    base: ScenarioParams
    record_end: str
    states: list[dict] = field(default_factory=list)
    state_particles: pd.DataFrame | None = None
    data_vintage: str = ""

    @property
    def free(self) -> list[str]:
        """The free parameters (dotted names)."""
        return list(self.point)

    @property
    def state_month(self) -> str | None:
        """The month a run from the saved states starts (they describe the end of the month before); None
        without states."""
        return self.states[0]["month"] if self.states else None


@dataclass
class Replicate:
    """One replicate of a forward run.

    Attributes:
        params: its parameters (scenario, command line and calibration).
        particle: the posterior row its values came from (-1 for the point values or no calibration).
        state: a saved state to start from (None: replay the record, or draw a synthetic stock).
        replay: the parameters to replay the record with up to the month before the start (None: no replay).
        origin: how its starting state is made, in words.
    """

    params: ScenarioParams
    particle: int = -1
    state: dict | None = None
    replay: ScenarioParams | None = None
    origin: str = "the case's synthetic stock"


def _values(row: Mapping[str, Any], names: Sequence[str], like: ScenarioParams) -> dict[str, Any]:
    from sim.core.params import flatten

    flat = flatten(like)
    out = {}
    for n in names:
        v = row[n]
        out[n] = (
            int(round(float(v)))
            if isinstance(flat.get(n), int) and not isinstance(flat[n], bool)
            else float(v)
        )
    return out


def plan(
    scenario: ScenarioParams,
    replicates: int,
    seed: int,
    calibration: Calibration | None,
    uncertainty: bool,
    explicit: set[str] = frozenset(),
) -> tuple[list[Replicate], str]:
    """Each replicate's parameters and how its starting state is made, and a sentence saying what the
    replicates' spread includes.

    Args:
        scenario: the run's parameters before the calibration (scenario and command line).
        replicates: the number of replicates.
        seed: the run's root seed (the particles are drawn from it).
        calibration: the case's calibration, or None to run the scenario as its files say.
        uncertainty: draw each replicate's parameters from the posterior.
        explicit: dotted names the user set; a calibration never replaces them.

    Raises:
        ForwardError: the calibration belongs to another case, or the run starts before its record does.
    """
    if calibration is None:
        reps = [Replicate(scenario) for _ in range(replicates)]
        return (
            reps,
            "stochastic variation only (no calibration: parameters as the case and scenario set them)",
        )
    cal = calibration
    if cal.case != scenario.case.name:
        raise ForwardError(
            f"calibration: fitted to case {cal.case}, the run is case {scenario.case.name}; a fit is never "
            f"applied across cases (calibration=none, or a calibration of {scenario.case.name})"
        )
    first = month_index(cal.base.start) + 1
    if month_index(scenario.start) < first:
        raise ForwardError(
            f"start = {scenario.start}: the calibration's record starts in {cal.base.start}; choose a start "
            f"from "
            f"{month_text(first)} on, or calibration=none"
        )
    free = [n for n in cal.free if n not in explicit]
    saved = cal.state_month is not None and cal.state_month == scenario.start
    where = f"{cal.source}"
    reps: list[Replicate] = []
    if not uncertainty:
        values = {n: cal.point[n] for n in free}
        params = scenario.replace(**values) if values else scenario
        base = cal.base.replace(**{n: cal.point[n] for n in cal.free})
        for _ in range(replicates):
            reps.append(
                Replicate(params, -1, None, base, f"its own replay of the record to {_before(scenario)}")
            )
        return reps, (
            f"stochastic variation only, at the calibrated point values of {where} (parameter uncertainty "
            f"not "
            f"included; each replicate replays the record to {_before(scenario)} with its own seed)"
        )
    rng = np.random.default_rng(seed)
    if saved:
        parts = cal.state_particles
        picks = rng.integers(0, len(cal.states), replicates)
        for i in picks:
            row = parts.iloc[int(i)]
            params = scenario.replace(**_values(row, free, scenario)) if free else scenario
            reps.append(
                Replicate(params, int(i), cal.states[int(i)], None, f"saved state {int(i)} of {where}")
            )
        what = f"its particle's saved state (the end of {month_text(month_index(cal.state_month) - 1)})"
    else:
        post = cal.posterior
        w = post["weight"].to_numpy(float)
        picks = rng.choice(len(post), size=replicates, replace=True, p=w / w.sum())
        for i in picks:
            row = post.iloc[int(i)]
            params = scenario.replace(**_values(row, free, scenario)) if free else scenario
            base = cal.base.replace(**_values(row, cal.free, cal.base))
            reps.append(
                Replicate(params, int(i), None, base, f"its particle's replay to {_before(scenario)}")
            )
        what = f"its particle's replay of the record to {_before(scenario)}"
    return reps, (
        f"stochastic variation and parameter uncertainty: each replicate draws {', '.join(free)} from the "
        f"posterior of {where} ({len(cal.posterior)} particles) and starts from {what}"
    )


def _before(params: ScenarioParams) -> str:
    return month_text(month_index(params.start) - 1)


def start_state(
    rep: Replicate,
    case: ScenarioParams,
    events: Sequence[Any],
    seed: int,
    explicit: set[str] = frozenset(),
) -> tuple[dict | None, list[str]]:
    """The state a replicate starts from, with the scenario's initial conditions put on it.

    Args:
        rep: the replicate.
        case: the case's parameters as its file gives them (for the scenario's initial conditions).
        events: the case's timeline; a replay uses only the events before the start.
        seed: the replay's seed (the replicate's, so the replicate stays reproducible from its seed).
        explicit: dotted names the user set.

    Returns:
        The state (None: the model draws its synthetic stock) and the initial conditions the scenario changed.
    """
    state = rep.state
    if state is None and rep.replay is not None:
        until = _before(rep.params)
        months = month_index(until) - month_index(rep.replay.start) + 1
        past = [e for e in events if month_index(e.month) <= month_index(until)]
        model = RepressionBargaining(rep.replay, months=months, rng=seed, events=past, replay_until=until)
        state = model.run().snapshot()
    if state is None:
        return None, []
    return scenario_on_state(state, case, rep.params, explicit)


def replay_seed(seed: int) -> int:
    """The seed of a replicate's replay of the record, derived from the replicate's seed."""
    return int(np.random.SeedSequence([int(seed), 1]).generate_state(1)[0])


@dataclass
class Forward:
    """A forward run's replicates, the case's timeline and how the run uses it.

    Attributes:
        replicates: each replicate's parameters and starting state (:func:`plan`).
        uncertainty: what the spread of the replicates includes, in words (for reports).
        calibration: the calibration, or None.
        case: the case's parameters as its file gives them (the scenario's initial conditions are changes
            from these).
        events: the case's timeline.
        replay_until: the last month whose deals, pardons and instrument changes are facts (None: none after
            the start).
        timeline_mode: ``free`` or ``replay``.
        explicit: dotted names the user set.
    """

    replicates: list[Replicate]
    uncertainty: str
    calibration: Calibration | None
    case: ScenarioParams
    events: list[Any]
    replay_until: str | None
    timeline_mode: str = "free"
    explicit: set[str] = field(default_factory=set)
    changed: dict[int, list[str]] = field(default_factory=dict)

    @property
    def params(self) -> list[ScenarioParams]:
        """Each replicate's parameters."""
        return [r.params for r in self.replicates]

    def starts(self, r: int, seed: int) -> dict | None:
        """The state replicate ``r`` (run with ``seed``) starts from (for
        :func:`sim.core.run.run_replicates`);
        remembers which initial conditions the scenario changed."""
        state, changed = start_state(
            self.replicates[r], self.case, self.events, replay_seed(seed), self.explicit
        )
        self.changed[r] = changed
        return state

    def record(self) -> dict:
        """What the run folder records about the calibration and the starting states."""
        cal = self.calibration
        reps = self.replicates
        first = reps[0] if reps else None
        if first is None or (first.state is None and first.replay is None):
            origin = "the case's synthetic stock"
        elif first.state is not None:
            end = month_text(month_index(cal.state_month) - 1)
            origin = f"its posterior particle's saved state (the end of {end})"
        else:
            who = "its posterior particle's" if first.particle >= 0 else "its own (point values)"
            origin = f"{who} replay of the record from {cal.base.start} to {_before(first.params)}"
        changed = sorted({c for cs in self.changed.values() for c in cs})
        return {
            "calibration": cal.source if cal else None,
            "calibration_case": cal.case if cal else None,
            "data_vintage": cal.data_vintage if cal else None,
            "free_parameters": cal.free if cal else [],
            "start_state": origin,
            "saved_state_month": cal.state_month if cal else None,
            "initial_conditions_from_scenario": changed,
            "timeline": self.timeline_mode,
            "replay_until": self.replay_until,
        }

    def replicate_table(self, seeds: Sequence[int]) -> pd.DataFrame:
        """One row per replicate: its seed, the particle it drew, how its starting state was made."""
        return pd.DataFrame(
            {
                "replicate": np.arange(len(self.replicates)),
                "seed": np.asarray(seeds, dtype=np.int64),
                "particle": [r.particle for r in self.replicates],
                "start_state": [r.origin for r in self.replicates],
                "initial_conditions_changed": [",".join(self.changed.get(i, [])) for i in range(len(seeds))],
            }
        )
