"""Shared fixtures: the Belarus case's parameters and replicated runs reused across tests."""

from __future__ import annotations

import pytest

from sim.core.run import run_replicates
from sim.store.cases import case_params


@pytest.fixture(scope="session")
def belarus():
    """The Belarus case, baseline scenario, uncalibrated (the schema's sourced defaults)."""
    return case_params("belarus", "baseline")


@pytest.fixture(scope="session")
def baseline_run(belarus):
    """Baseline, 24 replicates of 36 months (session-wide: several tests read it)."""
    return run_replicates(belarus, months=36, replicates=24, seed=11)


def replicated(months: int = 36, replicates: int = 40, seed: int = 7, scenario: str = "baseline", **changes):
    """Run a variant of a Belarus scenario, changes given as dotted names (``us__policy`` ->
    ``us.policy``)."""
    params = case_params("belarus", scenario, **changes)
    return run_replicates(params, months=months, replicates=replicates, seed=seed)
