"""Designs over the parameter schema (SALib) and the sweep report's bookkeeping, without running sweeps."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis import design
from sim.core.params import ScenarioParams, describe
from sim.edge.cli import expand_overrides as expected_jobs
from sim.views.sweep_report import missing_jobs


def test_factors_come_from_the_schema_roles_and_ranges():
    unc = design.factors()
    both = design.factors(include_levers=True)
    rows = {r["name"]: r for r in describe()}
    assert all(rows[f.name]["role"] == "uncertainty" for f in unc)
    assert {f.name for f in both} - {f.name for f in unc} == {
        f.name for f in both if rows[f.name]["role"] == "lever"
    }
    assert "us.value_per_prisoner" in {f.name for f in both} and "us.value_per_prisoner" not in {
        f.name for f in unc
    }
    for f in both:
        assert (f.lo, f.hi) == tuple(float(x) for x in rows[f.name]["plausible"])
    with pytest.raises(ValueError, match="us.policy"):
        design.factors(only=["us.policy"])


def test_a_case_design_leaves_out_absent_counterparts_and_case_facts(belarus):
    names = {f.name for f in design.factors(include_levers=True, params=belarus)}
    assert "holy_see.value_per_prisoner" not in names and "us.value_per_prisoner" in names
    assert not any(".instruments." in n for n in names)


def test_chunks_partition_the_points():
    parts = [design.chunk_points(103, 8, c) for c in range(8)]
    assert sorted(np.concatenate(parts).tolist()) == list(range(103))
    assert max(len(p) for p in parts) - min(len(p) for p in parts) <= 1


def test_design_is_reproducible_and_points_apply():
    fs = design.factors(only=["regime.arrests_ref", "population.initial_stock"])
    a = design.sample("sobol", fs, 8, seed=3)
    assert np.array_equal(a, design.sample("sobol", fs, 8, seed=3))
    assert a.shape == (8 * (2 + 2), 2)
    p = design.apply_point(ScenarioParams(), fs, a[0])
    stock = [f for f in fs if f.name == "population.initial_stock"][0]
    assert isinstance(p.population.initial_stock, int) and stock.lo <= p.population.initial_stock <= stock.hi


def test_sobol_wrapper_on_the_ishigami_function():
    # known answer (Ishigami & Homma 1990, a = 7, b = 0.1): S1 = 0.314, 0.442, 0; ST3 = 0.244
    fs = [design.Factor(f"x{i}", -np.pi, np.pi, False, "uncertainty") for i in range(3)]
    x = design.sample("sobol", fs, 1024, seed=1)
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    idx = design.sobol_indices(fs, y).set_index("factor")
    assert idx.loc["x0", "S1"] == pytest.approx(0.314, abs=0.05)
    assert idx.loc["x1", "S1"] == pytest.approx(0.442, abs=0.05)
    assert abs(idx.loc["x2", "S1"]) < 0.05
    assert idx.loc["x2", "ST"] == pytest.approx(0.244, abs=0.05)


def test_morris_ranks_the_influential_factor_first():
    fs = [design.Factor(f"x{i}", 0.0, 1.0, False, "uncertainty") for i in range(4)]
    x = design.sample("morris", fs, 20, seed=2)
    y = 10 * x[:, 2] + x[:, 0]
    idx = design.morris_indices(fs, x, y)
    assert idx.sort_values("mu_star", ascending=False)["factor"].iloc[0] == "x2"


def test_expected_and_missing_jobs():
    exp = expected_jobs(
        ["us.value_per_prisoner=0.5,1", "eu.stance=firm,relaxed", "replicates=3", "hydra.run.dir=x"]
    )
    assert len(exp) == 4 and {"us.value_per_prisoner": "0.5", "eu.stance": "firm", "replicates": "3"} in exp
    started = [
        ["us.value_per_prisoner=0.5", "eu.stance=firm", "replicates=3"],
        ["us.value_per_prisoner=1.0", "eu.stance=firm", "replicates=3"],
    ]
    missing = missing_jobs(exp, started)
    assert [m["eu.stance"] for m in missing] == ["relaxed", "relaxed"]
    assert (
        len(expected_jobs(["scenario=glob(us_*)"])) == 4
    )  # us_conditional, _grand_bargain, _maximum_pressure, _snapback
