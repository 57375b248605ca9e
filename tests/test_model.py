"""Invariants of the model and reproducibility (epydemic-style conservation, Mesa-style seeded smoke
tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.core.model import RepressionBargaining
from sim.core.params import ScenarioParams
from sim.core.prisoners import Status
from sim.core.run import run_replicates

POLICIES = ["transactional", "conditional", "snapback", "maximum_pressure", "grand_bargain"]


@pytest.mark.parametrize("policy", POLICIES)
def test_prisoners_conserved_every_month(policy):
    res = run_replicates(ScenarioParams().replace(**{"us.policy": policy}), months=48, replicates=6, seed=3)
    ts = res.timeseries.sort_values(["replicate", "month"])
    for _, g in ts.groupby("replicate"):
        held = g["prisoners_held"].to_numpy()
        out = (g["released_deal"] + g["released_pardon"] + g["released_served"] + g["died"]).to_numpy()
        assert np.array_equal(held[1:], held[:-1] + g["arrests"].to_numpy()[1:] - out[1:])


@pytest.mark.parametrize("policy", POLICIES)
def test_registry_agrees_with_outputs_and_nobody_leaves_twice(policy):
    m = RepressionBargaining(ScenarioParams().replace(**{"us.policy": policy}), months=60, rng=5).run()
    reg = m.registry
    status = reg.status[: reg.n]
    # held = initial + arrested - released - served - died, from the registry's own rows
    assert (status == Status.HELD).sum() == m.initial_held + m.out["arrests"].sum() - (
        m.out["released_deal"] + m.out["released_pardon"] + m.out["released_served"] + m.out["died"]
    ).sum()
    # every row left at most once: counts by exit channel equal the monthly totals
    assert (status == Status.DEAL).sum() == m.out["released_deal"].sum()
    assert (status == Status.PARDON).sum() == m.out["released_pardon"].sum()
    assert (status == Status.SERVED).sum() == m.out["released_served"].sum()
    assert (status == Status.DIED).sum() == m.out["died"].sum()
    left = status != Status.HELD
    assert np.all(reg.release[: reg.n][left] >= reg.arrest[: reg.n][left])
    assert np.all(reg.release[: reg.n][~left] == -1)
    # the incremental class counts agree with a full scan
    scan = np.bincount(reg.cls[: reg.n][~left], minlength=len(reg.class_counts))
    assert np.array_equal(scan, reg.class_counts)
    # deals: released = sum of destinations, expelled = released - stayed
    for d in m.deals:
        assert d["to_ua"] + d["to_lt"] + d["to_pl"] + d["stayed"] == d["released"]
        assert d["expelled"] == d["released"] - d["stayed"]


def test_bounds(baseline_run):
    ts = baseline_run.timeseries
    for c in [
        "us_sanctions",
        "eu_sanctions",
        "us_aviation",
        "us_potash",
        "us_banking",
        "us_other",
        "mobilisation",
        "fragmentation",
    ]:
        assert ts[c].between(0, 1).all(), c
    counts = ["prisoners_held", "arrests", "released_deal", "released_pardon", "released_served", "died"]
    assert (ts[counts] >= 0).all().all()
    assert (ts["learned_price"] >= 0).all()


def test_sanctions_only_fall_without_snapback(baseline_run):
    ts = baseline_run.timeseries.sort_values(["replicate", "month"])
    assert (ts.groupby("replicate")["us_sanctions"].diff().dropna() <= 1e-12).all()


def test_same_seed_same_tables_and_different_seeds_differ():
    p = ScenarioParams()
    a = run_replicates(p, months=24, replicates=4, seed=99)
    b = run_replicates(p, months=24, replicates=4, seed=99)
    c = run_replicates(p, months=24, replicates=4, seed=100)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.deals, b.deals)
    assert not a.timeseries["arrests"].equals(c.timeseries["arrests"])


def test_replicates_are_independent_of_how_many_are_run():
    # spawned seeds: replicate r's table does not depend on the number of replicates
    p = ScenarioParams()
    few = run_replicates(p, months=12, replicates=2, seed=4).timeseries
    many = run_replicates(p, months=12, replicates=5, seed=4).timeseries
    pd.testing.assert_frame_equal(few, many[many["replicate"] < 2].reset_index(drop=True))


def test_initial_stock_as_configured_and_held_at_start():
    m = RepressionBargaining(ScenarioParams(), months=1, rng=0)
    assert m.registry.held == m.params.population.initial_stock
    assert np.all(m.registry.due[: m.registry.n] > m.t0)  # nobody's sentence ended before the start
    assert np.all(m.registry.arrest[: m.registry.n] < m.t0)


def test_months_are_calendar_text(baseline_run):
    months = baseline_run.timeseries["month"].unique()
    assert months[0] == "2025-12" and months[1] == "2026-01" and months[-1] == "2028-11"


def test_stepping_past_the_horizon_is_refused():
    m = RepressionBargaining(ScenarioParams(), months=2, rng=0).run()
    with pytest.raises(RuntimeError):
        m.step()
