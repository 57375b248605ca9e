"""Shared fixtures: small scenarios and replicated runs reused across tests."""

from __future__ import annotations

import pytest

from sim.core.params import ScenarioParams
from sim.core.run import run_replicates


@pytest.fixture(scope="session")
def baseline_run():
    """Baseline, 24 replicates of 36 months (session-wide: several tests read it)."""
    return run_replicates(ScenarioParams(), months=36, replicates=24, seed=11)


def replicated(months: int = 36, replicates: int = 40, seed: int = 7, **changes):
    """Run a variant of the baseline, changes given as dotted names (``us__policy`` -> ``us.policy``)."""
    params = ScenarioParams().replace(**{k.replace("__", "."): v for k, v in changes.items()})
    return run_replicates(params, months=months, replicates=replicates, seed=seed)
