"""Baselines: fitted only up to the origin, and recovering known parameters from their own synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis import baselines as bl
from sim.analysis.observed import monthly_series, months_between
from sim.store.sources import load_monitoring


def _series(stock, arrests, first="2020-01"):
    months = months_between(first, "2100-01")[: len(stock)]
    return pd.DataFrame(
        {
            "month": pd.Series(months, dtype="string"),
            "prisoners_held": np.asarray(stock, dtype=float),
            "arrests": np.asarray(arrests, dtype=float),
            "released_pardon": 0.0,
            "released_deal": 0.0,
        }
    )


def _synthetic_stock_flow(mu=30.0, k=5.0, q=0.02, s0=1000, months=240, seed=3):
    rng = np.random.default_rng(seed)
    inflow = rng.negative_binomial(k, k / (k + mu), size=months)
    stock, s = [], s0
    for a in inflow:
        s = s - rng.binomial(s, q) + a
        stock.append(s)
    return _series(stock, inflow)


BELARUS = monthly_series(load_monitoring("belarus"), "2024-12")


def test_forecast_months():
    assert bl.forecast_months("2024-11", 3) == ["2024-12", "2025-01", "2025-02"]
    with pytest.raises(ValueError, match="horizon 0 must be >= 1"):
        bl.forecast_months("2024-11", 0)


@pytest.mark.parametrize("name", list(bl.BASELINES))
def test_no_observation_after_the_origin_changes_the_forecast(name):
    origin = "2024-06"
    f = bl.BASELINES[name]
    before = f(BELARUS, origin, 6, 200, np.random.default_rng(5), window=24)
    poisoned = BELARUS.copy()
    late = poisoned["month"] > origin
    poisoned.loc[late, ["prisoners_held", "arrests"]] = 1e6
    after = f(poisoned, origin, 6, 200, np.random.default_rng(5), window=24)
    for target in bl.TARGETS:
        assert before[target].shape == (200, 6)
        np.testing.assert_array_equal(before[target], after[target])
        assert (before[target] >= 0).all()
    # and the observations inside the window do matter
    moved = BELARUS.copy()
    moved.loc[moved["month"] == "2024-05", "prisoners_held"] = 2000.0
    changed = f(moved, origin, 6, 200, np.random.default_rng(5), window=24)
    assert not np.array_equal(before["prisoners_held"], changed["prisoners_held"])


@pytest.mark.parametrize("name", list(bl.BASELINES))
def test_rows_before_the_window_are_not_used(name):
    f = bl.BASELINES[name]
    before = f(BELARUS, "2024-12", 3, 100, np.random.default_rng(2), window=20)
    early = BELARUS.copy()
    early.loc[early["month"] < "2023-05", ["prisoners_held", "arrests"]] = 5.0
    after = f(early, "2024-12", 3, 100, np.random.default_rng(2), window=20)
    for target in bl.TARGETS:
        np.testing.assert_array_equal(before[target], after[target])


def test_persistence_centres_on_the_last_value_and_spreads_with_horizon():
    rng = np.random.default_rng(0)
    s = _series([100, 104, 98, 103, 101, 99, 102, 100], [10, 12, 9, 11, 10, 13, 9, 11])
    fc = bl.persistence(s, "2020-08", 12, 4000, rng)
    assert fc["prisoners_held"][:, 0].mean() == pytest.approx(100, abs=0.5), "centred on the last value"
    assert fc["arrests"][:, 0].mean() == pytest.approx(11, abs=0.5)
    sd = fc["prisoners_held"].std(axis=0)
    assert sd[0] > 0 and sd[11] > 2.5 * sd[0], "random-walk spread grows like sqrt(h)"
    trending = _series([100, 106, 109, 116, 119, 126], [1, 2, 3, 4, 5, 6])
    up = bl.persistence(trending, "2020-06", 12, 4000, rng)
    assert up["prisoners_held"][:, -1].mean() == pytest.approx(126, abs=2), "no drift: persistence, not trend"
    with pytest.raises(bl.BaselineError, match="persistence of prisoners_held: 1 observation"):
        bl.persistence(s.iloc[:1], "2020-01", 3, 10, rng)


def test_persistence_steps_over_gaps_are_scaled():
    # a change of 4 over a gap of 4 months is one-month-equivalent 4 / sqrt(4) = 2
    assert bl._spread_steps(np.array([0.0, 1.0, 5.0]), np.array([0.0, 1.0, 5.0])).tolist() == [1.0, 2.0]


def test_persistence_carries_a_stale_observation_through_the_gap():
    s = _series([100, 110, 100, np.nan, np.nan], [5, 5, 5, np.nan, 7])
    fc = bl.persistence(s, "2020-05", 1, 4000, np.random.default_rng(1))
    # the stock was last seen in 2020-03: three steps of +-10 to 2020-06, sd 10 sqrt(3) = 17.3, not 10
    assert fc["prisoners_held"].std() == pytest.approx(10 * np.sqrt(3), rel=0.05)


def test_linear_trend_recovers_a_line_and_its_predictive_spread():
    rng = np.random.default_rng(4)
    t = np.arange(60)
    stock = 500 + 3.0 * t + rng.normal(0, 5, size=60)
    s = _series(stock, 20 + rng.normal(0, 2, size=60))
    fc = bl.linear_trend(s, s["month"].iloc[-1], 12, 20000, rng)
    centre = 500 + 3.0 * (60 + np.arange(12))
    assert np.median(fc["prisoners_held"], axis=0) == pytest.approx(centre, abs=4)
    assert fc["prisoners_held"].std(axis=0)[0] == pytest.approx(
        5 * np.sqrt(1 + 1 / 60 + 30.5**2 / 17995), rel=0.1
    )
    with pytest.raises(bl.BaselineError, match="need 3"):
        bl.linear_trend(s.iloc[:2], "2020-02", 3, 10, rng)


def test_negbin_fit_recovers_its_parameters():
    rng = np.random.default_rng(7)
    mu, k = 30.0, 5.0
    draws = rng.negative_binomial(k, k / (k + mu), size=3000)
    mu_hat, k_hat = bl.fit_negbin(draws)
    assert mu_hat == pytest.approx(mu, rel=0.03)
    assert k_hat == pytest.approx(k, rel=0.15)
    mu_p, k_p = bl.fit_negbin(rng.poisson(30.0, size=500))
    assert mu_p == pytest.approx(30, rel=0.05) and (np.isinf(k_p) or k_p > 100), "Poisson counts"


def test_stock_flow_fit_recovers_inflow_and_outflow_share():
    s = _synthetic_stock_flow()
    fit = bl.fit_stock_flow(s, s["month"].iloc[-1])
    assert fit.mu == pytest.approx(30, rel=0.08)
    assert fit.k == pytest.approx(5, rel=0.3)
    assert fit.q == pytest.approx(0.02, rel=0.1)
    # with two stock observations in three and a third of the monthly inflows missing
    gappy = s.copy()
    gappy.loc[gappy.index % 3 == 1, "prisoners_held"] = np.nan
    gappy.loc[gappy.index % 3 == 2, "arrests"] = np.nan
    fit2 = bl.fit_stock_flow(gappy, s["month"].iloc[-1])
    assert fit2.q == pytest.approx(0.02, rel=0.15)


def test_stock_flow_simulation_is_the_model_it_fits():
    fit = bl.StockFlowFit(mu=30.0, k=5.0, q=0.02, stock=1000.0, t_stock=bl._index("2024-12"))
    fc = bl.simulate_stock_flow(fit, "2024-12", 24, 4000, np.random.default_rng(9))
    assert fc["arrests"].mean() == pytest.approx(30, rel=0.03)
    expected, s = [], 1000.0
    for _ in range(24):  # the mean path: S <- (1 - q) S + mu
        s = (1 - 0.02) * s + 30
        expected.append(s)
    assert fc["prisoners_held"].mean(axis=0) == pytest.approx(expected, rel=0.01)
    assert (fc["prisoners_held"] >= 0).all()
    late = bl.simulate_stock_flow(fit, "2025-03", 1, 4000, np.random.default_rng(9))
    assert late["prisoners_held"].mean() == pytest.approx(expected[3], rel=0.01), "the gap to the origin"


def test_a_record_without_monthly_arrests_still_gets_a_stock_forecast():
    """Venezuela's record counts the stock in some months and never the monthly new prisoners: persistence
    and the trend forecast the stock and leave the arrests out; with neither target observed they refuse."""
    months = [f"2024-{m:02d}" for m in range(1, 10)]
    stock = [257, np.nan, np.nan, np.nan, np.nan, np.nan, 305, np.nan, 1834]
    obs = pd.DataFrame({"month": months, "prisoners_held": stock, "arrests": np.nan})
    rng = np.random.default_rng(0)
    for fn in (bl.persistence, bl.linear_trend):
        out = fn(obs, "2024-09", 3, 50, rng)
        assert set(out) == {"prisoners_held"} and out["prisoners_held"].shape == (50, 3)
    with pytest.raises(bl.BaselineError):
        bl.persistence(obs.assign(prisoners_held=np.nan), "2024-09", 3, 50, rng)
