"""Policy comparisons with their certainty: paired shares by hand, and PRIM finding what flips a ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.comparison import flips, paired, pairwise, varying_parameters


def test_paired_shares_count_ties_half_and_follow_the_direction():
    a = pd.DataFrame(
        {"replicate": [0, 1, 2, 3], "final_stock": [10, 20, 30, np.nan], "released_deal": [5, 5, 5, 5]}
    )
    b = pd.DataFrame(
        {"replicate": [0, 1, 2, 3], "final_stock": [15, 20, 25, 1], "released_deal": [1, 9, 5, 5]}
    )
    wins, diff, reps = paired(a, b, "final_stock", "lower")
    assert list(wins) == [1.0, 0.5, 0.0] and list(diff) == [-5, 0, 5] and list(reps) == [0, 1, 2]
    rows = {r["outcome"]: r for r in pairwise({"A": a, "B": b})}
    assert rows["final_stock"]["p_a_better"] == 0.5 and rows["final_stock"]["n"] == 3
    assert rows["released_deal"]["p_a_better"] == (1 + 0 + 0.5 + 0.5) / 4  # more releases is better


def test_prim_finds_the_parameter_that_flips_the_ranking():
    rng = np.random.default_rng(0)
    n = 400
    x, y = rng.random(n), rng.random(n)  # x decides who wins, y is irrelevant
    a = pd.DataFrame(
        {
            "replicate": range(n),
            "final_stock": 100 - 50 * x + rng.normal(0, 1, n),
            "regime.arrest_elasticity": x,
            "us.detection": y,
        }
    )
    b = pd.DataFrame({"replicate": range(n), "final_stock": np.full(n, 80.0)})
    factors = varying_parameters(a, {"regime.arrest_elasticity", "us.detection"})
    assert set(factors) == {"regime.arrest_elasticity", "us.detection"}
    f = flips(a, b, "final_stock", "lower", factors)
    assert abs(f["base_rate"] - 0.6) < 0.07
    box = {r["parameter"]: r for r in f["box"]}
    assert "regime.arrest_elasticity" in box and 0.3 < box["regime.arrest_elasticity"]["low"] < 0.5
    assert f["density"] > 0.9


def test_no_varying_parameter_is_said_plainly():
    a = pd.DataFrame({"replicate": [0, 1], "final_stock": [1.0, 3.0], "regime.arrest_elasticity": [1.0, 1.0]})
    b = pd.DataFrame({"replicate": [0, 1], "final_stock": [2.0, 2.0]})
    f = flips(a, b, "final_stock", "lower", varying_parameters(a, {"regime.arrest_elasticity"}))
    assert f["box"] == [] and "no parameter varies" in f["note"]
