"""Replaying the record: the simulation a calibration fits, and the state a forward run starts from. Pure.

A *replay* runs the model from the start of a case's record (its ``base``: the month and the stock the record
starts from) with the case's timeline: up to ``replay_until`` the recorded deals, pardons and instrument
changes are facts, after it the actors decide; talks, crackdowns and incidents are shocks throughout. The
regime's arrests are always its own decision: they are what the record's new political prisoners measure.

* :class:`ReplaySimulator` is what ABC-SMC calls with a particle (``simulate(params, seed) -> summaries``).
* :func:`replay_state` replays a particle up to a month and returns the model's state there (the hand-off
  to a forward run or a forecast).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.core.calendar import month_index, month_text
from sim.core.model import RepressionBargaining
from sim.core.params import ScenarioParams

from .summaries import COLUMNS, SummarySet


def with_particle(base: ScenarioParams, particle: Mapping[str, Any]) -> ScenarioParams:
    """The base parameters with a particle's values (dotted names; other keys, e.g. ``weight``, ignored)."""
    known = {k: v for k, v in particle.items() if "." in k}
    return base.replace(**known) if known else base


def replay(
    base: ScenarioParams,
    particle: Mapping[str, Any],
    events: Sequence[Any],
    end: str,
    replay_until: str | None,
    seed: int,
) -> RepressionBargaining:
    """Run one replay of the record from ``base.start`` to ``end`` (inclusive) and return the model."""
    months = month_index(end) - month_index(base.start) + 1
    if months < 1:
        raise ValueError(f"replay: end {end} is before the record's start {base.start}")
    params = with_particle(base, particle)
    return RepressionBargaining(
        params, months=months, rng=seed, events=events, replay_until=replay_until
    ).run()


def monthly_frame(model: RepressionBargaining) -> pd.DataFrame:
    """A replay's monthly series in the columns the summaries read
    (:data:`~sim.analysis.summaries.COLUMNS`)."""
    n = model.recorded
    return pd.DataFrame(
        {
            "month": [month_text(model.t0 + i) for i in range(n)],
            **{c: model.out[c][:n].astype(float) for c in COLUMNS},
        }
    )


class ReplaySimulator:
    """The simulation a calibration fits: one replay of the record per particle, summarised.

    Picklable (for pyabc's multicore and Dask samplers): holds only parameters, events and the summary set.

    Args:
        base: the case's parameters at the start of its record.
        events: the case's timeline.
        end: the last month simulated (the fit may cover months after the record, e.g. 2025's figures).
        replay_until: the last month whose deals, pardons and instrument changes are facts.
        summaries: the statistics, built on the observed record.
    """

    def __init__(
        self,
        base: ScenarioParams,
        events: Sequence[Any],
        end: str,
        replay_until: str | None,
        summaries: SummarySet,
    ) -> None:
        self.base, self.events, self.end, self.replay_until = base, list(events), end, replay_until
        self.summaries = summaries

    def series(self, particle: Mapping[str, Any], seed: int) -> pd.DataFrame:
        """The replay's monthly series for a particle."""
        return monthly_frame(replay(self.base, particle, self.events, self.end, self.replay_until, seed))

    def __call__(self, particle: Mapping[str, Any], seed: int) -> dict[str, float]:
        try:
            frame = self.series(particle, seed)
        except ValueError:  # a combination outside the model's ranges: the farthest possible summaries
            return {k: float("inf") for k in self.summaries.keys}
        return self.summaries(frame)


def replay_state(
    base: ScenarioParams,
    particle: Mapping[str, Any],
    events: Sequence[Any],
    until: str,
    replay_until: str | None,
    seed: int,
) -> dict:
    """A particle's state at the end of ``until``: replay the record to there and take the model's
    snapshot."""
    return replay(base, particle, events, until, replay_until, seed).snapshot()


def spawn(seed: int, n: int) -> list[int]:
    """Independent 32-bit seeds (numpy SeedSequence)."""
    return [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(seed).spawn(n)]
