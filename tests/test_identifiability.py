"""Identifiability diagnostics: weighted quantiles and correlations, the not-identified rule, predictive
bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.identifiability import (
    band_coverage,
    interval_table,
    not_identified,
    posterior_correlations,
    posterior_predictive,
    strong_pairs,
    weighted_quantile,
)
from sim.analysis.priors import Prior


def test_weighted_quantile_by_hand():
    v = np.array([4.0, 1.0, 3.0, 2.0])
    # equal weights: midpoints of cumulative weight at 1/8, 3/8, 5/8, 7/8
    assert weighted_quantile(v, np.ones(4), 0.5) == pytest.approx(2.5)
    assert weighted_quantile(v, np.ones(4), [0.125, 0.875]) == pytest.approx([1.0, 4.0])
    # all the weight on 3: every quantile is 3
    assert weighted_quantile(v, np.array([0, 0, 1.0, 0]), [0.05, 0.5, 0.95]) == pytest.approx([3, 3, 3])
    # weights shift the quantiles: the middle value with half the mass sits at F = 1/2
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 1.0]), 0.5) == pytest.approx(2.0)
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 1.0]), 0.3) == pytest.approx(
        1 + (0.3 - 1 / 8) / (1 / 2 - 1 / 8)
    )


def flat_and_peaked(n=4000, seed=0):
    """A posterior where ``a`` is pinned near 0.3, ``b`` is spread over its whole prior (flat likelihood) and
    ``c`` (log-uniform prior) is pinned within a factor of 1.2."""
    rng = np.random.default_rng(seed)
    priors = [Prior("a", "uniform", 0, 1), Prior("b", "uniform", 0, 1), Prior("c", "loguniform", 0.01, 1.0)]
    post = pd.DataFrame(
        {
            "a": rng.normal(0.3, 0.02, n),
            "b": rng.uniform(0, 1, n),
            "c": 0.1 * np.exp(rng.uniform(-0.1, 0.1, n)),
            "weight": rng.uniform(0.5, 1.5, n),
        }
    )
    post["weight"] /= post["weight"].sum()
    return priors, post


def test_a_parameter_with_a_flat_likelihood_is_listed_as_not_identified():
    priors, post = flat_and_peaked()
    table = interval_table(post, priors)
    assert not_identified(table) == ["b"]
    r = table.set_index("parameter")["width_ratio"]
    assert r["a"] == pytest.approx(2 * 1.645 * 0.02 / 0.9, rel=0.1)
    assert r["b"] == pytest.approx(1.0, abs=0.05)
    # log scale for the log-uniform prior: posterior log-width 0.18 against the prior's 0.9 * log(100)
    assert r["c"] == pytest.approx(0.18 / (0.9 * np.log(100)), rel=0.1)
    assert table.set_index("parameter").loc["a", "posterior_median"] == pytest.approx(0.3, abs=0.005)


def test_weighted_correlations():
    rng = np.random.default_rng(1)
    priors = [Prior("x", "uniform", -5, 5), Prior("y", "uniform", -5, 5), Prior("z", "uniform", -5, 5)]
    x = rng.normal(size=3000)
    post = pd.DataFrame({"x": x, "y": -x + 0.1 * rng.normal(size=3000), "z": rng.normal(size=3000)})
    post["weight"] = 1.0 / len(post)
    corr = posterior_correlations(post, priors)
    assert corr.loc["x", "y"] == pytest.approx(-0.995, abs=0.005)
    assert abs(corr.loc["x", "z"]) < 0.1
    assert strong_pairs(corr).to_dict("records") == [
        {"a": "x", "b": "y", "r": pytest.approx(corr.loc["x", "y"])}
    ]
    # weights matter: put the weight on the particles where x and z agree in sign
    post["weight"] = np.where(np.sign(post["x"]) == np.sign(post["z"]), 1.0, 1e-9)
    assert posterior_correlations(post, priors).loc["x", "z"] > 0.5


class ConstantSeries:
    """A 'simulator' whose series is its parameter ``a`` in every month (picklable)."""

    def __call__(self, params, seed):
        return pd.DataFrame({"month": ["2024-01", "2024-02"], "prisoners_held": [params["a"]] * 2})


def test_predictive_bands_are_quantiles_over_posterior_draws():
    priors = [Prior("a", "uniform", 0, 10)]
    post = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "weight": [0.0, 0.0, 0.0, 1.0]})
    bands = posterior_predictive(post, priors, ConstantSeries(), n_draws=20, columns=["prisoners_held"])
    assert list(bands["month"]) == ["2024-01", "2024-02"]
    assert (bands[["q05", "q50", "q95"]] == 4.0).all().all()
    post["weight"] = 0.25
    bands = posterior_predictive(
        post, priors, ConstantSeries(), n_draws=400, seed=3, columns=["prisoners_held"]
    )
    assert (
        bands["q05"].iloc[0] == 1.0
        and bands["q95"].iloc[0] == 4.0
        and bands["q50"].iloc[0] in (2.0, 2.5, 3.0)
    )
    obs = pd.DataFrame({"month": ["2024-01", "2024-02"], "prisoners_held": [3.0, 9.0]})
    assert band_coverage(bands, obs, "prisoners_held") == (0.5, 2)
