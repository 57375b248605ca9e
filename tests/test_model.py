"""Invariants of the model and reproducibility: conservation every month, registry and tables agree, bounds,
same seed same tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.core.model import RepressionBargaining
from sim.core.prisoners import Status
from sim.core.run import run_replicates
from sim.store.cases import case_params, cases, scenarios_for

POLICIES = ["transactional", "conditional", "snapback", "maximum_pressure", "grand_bargain"]


@pytest.mark.parametrize("policy", POLICIES)
def test_prisoners_conserved_every_month(belarus, policy):
    res = run_replicates(belarus.replace(**{"us.policy": policy}), months=48, replicates=6, seed=3)
    ts = res.timeseries.sort_values(["replicate", "month"])
    for _, g in ts.groupby("replicate"):
        held = g["prisoners_held"].to_numpy()
        out = (g["released_deal"] + g["released_pardon"] + g["released_served"] + g["died"]).to_numpy()
        assert np.array_equal(held[1:], held[:-1] + g["arrests"].to_numpy()[1:] - out[1:])


@pytest.mark.parametrize("policy", POLICIES)
def test_registry_agrees_with_outputs_and_nobody_leaves_twice(belarus, policy):
    m = RepressionBargaining(belarus.replace(**{"us.policy": policy}), months=60, rng=5).run()
    reg = m.registry
    status = reg.status[: reg.n]
    assert (status == Status.HELD).sum() == m.initial_held + m.out["arrests"].sum() - (
        m.out["released_deal"] + m.out["released_pardon"] + m.out["released_served"] + m.out["died"]
    ).sum()
    # every spell ended at most once: counts by exit channel equal the monthly totals
    assert (status == Status.DEAL).sum() == m.out["released_deal"].sum()
    assert (status == Status.PARDON).sum() == m.out["released_pardon"].sum()
    assert (status == Status.SERVED).sum() == m.out["released_served"].sum()
    assert (status == Status.DIED).sum() == m.out["died"].sum()
    left = status != Status.HELD
    assert np.all(reg.release[: reg.n][left] >= reg.arrest[: reg.n][left])
    assert np.all(reg.release[: reg.n][~left] == -1)
    scan = np.bincount(reg.cls[: reg.n][~left], minlength=len(reg.class_counts))
    assert np.array_equal(scan, reg.class_counts)
    for d in m.deals:  # released = sum over destinations; expelled = released - stayed
        assert sum(d[f"to_{x}"] for x in m.dest_names) == d["released"]
        assert d["expelled"] == d["released"] - d["to_stayed"]


def test_bounds(baseline_run):
    ts = baseline_run.timeseries
    shares = [
        "us_sanctions",
        "eu_sanctions",
        "mobilisation",
        "fragmentation",
        "lobbying",
        "round_belief",
        "revocation_belief",
        "russia_support",
        *[c for c in ts.columns if c.startswith("level_")],
    ]
    for c in shares:
        assert ts[c].between(0, 1).all(), c
    counts = ["prisoners_held", "arrests", "released_deal", "released_pardon", "released_served", "died"]
    assert (ts[counts] >= 0).all().all()
    assert (ts["learned_price"] >= 0).all() and (ts["arrest_rate"] >= 0).all()


def test_same_seed_same_tables_and_different_seeds_differ(belarus):
    a = run_replicates(belarus, months=24, replicates=4, seed=99)
    b = run_replicates(belarus, months=24, replicates=4, seed=99)
    c = run_replicates(belarus, months=24, replicates=4, seed=100)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.deals, b.deals)
    pd.testing.assert_frame_equal(a.decisions, b.decisions)
    assert not a.timeseries["arrests"].equals(c.timeseries["arrests"])


def test_replicates_are_independent_of_how_many_are_run(belarus):
    few = run_replicates(belarus, months=12, replicates=2, seed=4).timeseries
    many = run_replicates(belarus, months=12, replicates=5, seed=4).timeseries
    pd.testing.assert_frame_equal(few, many[many["replicate"] < 2].reset_index(drop=True))


def test_initial_stock_as_configured_and_held_at_start(belarus):
    m = RepressionBargaining(belarus, months=1, rng=0)
    assert m.registry.held == m.params.population.initial_stock
    assert np.all(m.registry.due[: m.registry.n] > m.t0)  # nobody's sentence ended before the start
    assert np.all(m.registry.arrest[: m.registry.n] < m.t0)


def test_decisions_table_has_a_row_per_month_for_arrests_and_mobilisation(baseline_run):
    d = baseline_run.decisions
    per = d[d["decision"].isin(["arrests", "mobilisation"])].groupby(["replicate", "decision"]).size()
    assert (per == 36).all()
    assert {"month", "actor", "decision", "choice", "compared", "a", "versus", "b"} <= set(d.columns)
    arrests = d[d["decision"] == "arrests"].merge(baseline_run.timeseries, on=["replicate", "month"])
    assert np.allclose(arrests["value"], arrests["arrest_rate"])  # the recorded decision is the rate used


PAIRS = [(c, s) for c in cases() for s in scenarios_for(c)]


@pytest.mark.parametrize("case, name", PAIRS)
def test_every_scenario_runs_on_every_case_it_fits(case, name):
    params = case_params(case, name)
    res = run_replicates(params, months=12, replicates=2, seed=1)
    assert len(res.timeseries) == 24


def test_scenarios_that_do_not_fit_a_case_are_refused():
    fits = {(c, s) for c, s in PAIRS}
    assert ("belarus", "us_maximum_pressure") in fits and ("nicaragua", "nicaragua_us_engages") in fits
    assert ("nicaragua", "us_maximum_pressure") not in fits  # aviation and potash are Belarus's instruments
    assert ("belarus", "nicaragua_us_engages") not in fits  # another case's scenario
    assert ("cuba", "eu_relaxes") not in fits  # no EU in the Cuba case
    assert all(any(c == case for c, _ in PAIRS) for case in cases())


def test_a_saved_state_restores_the_registry_and_the_actors(belarus):
    m = RepressionBargaining(belarus, months=18, rng=3).run()
    state = m.snapshot()
    n = RepressionBargaining(belarus.replace(start=state["month"]), months=6, rng=4, state=state)
    assert n.registry.held == m.registry.held
    assert np.array_equal(n.registry.class_counts, m.registry.class_counts)
    assert n.regime.price == m.regime.price and n.regime.round_belief == m.regime.round_belief
    for name, c in m.counterparts.items():
        assert np.allclose(n.counterparts[name].level, c.level) and n.counterparts[name].paid == c.paid
    assert (
        n.opposition.mobilisation == m.opposition.mobilisation
        and n.opposition.centres == m.opposition.centres
    )
    assert n.window("arrests", 12) == m.window("arrests", 12)  # the pause rule sees the same recent past
    n.run()
    assert n.out["prisoners_held"][0] == m.registry.held + n.out["arrests"][0] - (
        n.out["released_deal"][0]
        + n.out["released_pardon"][0]
        + n.out["released_served"][0]
        + n.out["died"][0]
    )
    with pytest.raises(ValueError, match="state: saved for"):
        RepressionBargaining(belarus, months=6, rng=4, state=state)
