"""ABC-SMC with pyabc: known parameters are recovered from a synthetic record, bounds act as bounds, the run's
record adds up, single-core runs are reproducible, and bad settings are refused before any work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyabc
import pytest

from sim.analysis.abc import (
    BoundSumstat,
    FixedForSomeScale,
    PyabcModel,
    run_abc,
    run_problem,
)
from sim.analysis.identifiability import interval_table, not_identified, weighted_quantile
from sim.analysis.priors import Prior
from sim.analysis.toy_stockflow import TRUTH, toy_problem


@pytest.fixture(scope="module")
def recovery(tmp_path_factory):
    """The toy's synthetic record, calibrated on one core (reproducible): 200 particles, 8 generations."""
    db = "sqlite:///" + str(tmp_path_factory.mktemp("abc") / "abc.db")
    problem = toy_problem()
    return problem, run_problem(
        problem, db=db, population_size=200, max_populations=8, sampler="single", seed=3
    )


def test_pyabc_recovers_known_parameters(recovery):
    problem, res = recovery
    table = interval_table(res.posterior, problem.priors).set_index("parameter")
    for name, true in TRUTH.items():
        lo, hi = table.loc[name, ["posterior_low", "posterior_high"]]
        assert lo <= true <= hi, (
            f"{name}: true {true} outside the 90 % posterior interval [{lo:.4g}, {hi:.4g}]"
        )
    # the record pins the arrest rate and the release rate: intervals far narrower than the prior's
    assert table.loc["toy.arrests_mean", "width_ratio"] < 0.3
    assert table.loc["toy.release_rate", "width_ratio"] < 0.6  # log scale: a factor 20 narrowed to about 4
    # and says nothing about the parameter the toy ignores
    assert table.loc["toy.unused", "width_ratio"] > 0.85
    assert "toy.unused" in not_identified(table.reset_index())
    assert "toy.arrests_mean" not in not_identified(table.reset_index())


def test_the_run_record_adds_up(recovery):
    problem, res = recovery
    g = res.generations
    assert list(g.columns) == ["t", "epsilon", "particles", "simulations", "acceptance_rate", "seconds"]
    assert list(g["t"]) == list(range(8)) and (g["particles"] == 200).all()
    assert res.total_simulations == res.calibration_simulations + g["simulations"].sum()
    assert np.allclose(g["acceptance_rate"], g["particles"] / g["simulations"])
    assert res.stop_reasons == ["max_populations"] and res.final_population_size == 200
    assert res.posterior["weight"].sum() == pytest.approx(1.0)
    assert set(res.posterior.columns) == {*TRUTH, "weight"}
    assert res.reproducible and res.sampler == "single"
    # the history is the database the caller named and holds the same final population
    df, w = res.history.get_distribution(m=0, t=res.history.max_t)
    assert len(df) == 200 and res.history.total_nr_simulations == res.total_simulations
    draws = res.draws(50, seed=1)
    assert len(draws) == 50 and all(isinstance(d["toy.batch_size"], int) for d in draws)


def small(problem, seed, **kw):
    return run_problem(problem, db="sqlite://", population_size=40, max_populations=2, seed=seed, **kw)


def test_single_core_runs_are_reproducible_and_seeded():
    problem = toy_problem()
    state = np.random.get_state()
    a, b, c = (small(problem, s, sampler="single").posterior for s in (5, 5, 6))
    assert a.equals(b)
    assert not a.equals(c)
    assert np.array_equal(np.random.get_state()[1], state[1]), "the caller's global state is restored"


def test_multicore_sampler_runs_and_says_it_is_not_reproducible():
    res = small(toy_problem(), 1, sampler="multicore", n_procs=2)
    assert res.final_population_size == 40 and not res.reproducible and res.sampler == "multicore (2)"


def test_population_schedule_ends_at_the_last_size():
    res = run_problem(
        toy_problem(), db="sqlite://", population_size=[20, 30], max_populations=3, sampler="single", seed=2
    )
    assert list(res.generations["particles"]) == [20, 30, 30]


class Noisy:
    """``x = theta + N(0, 0.2)`` (picklable)."""

    def __call__(self, params, seed):
        return {"x": params["theta"] + np.random.default_rng(seed).normal(0, 0.2)}


def test_a_bound_is_a_bound_in_the_distance():
    """A lower bound x >= 5 leaves theta free above 5; as an exact figure it would pin theta at 5."""
    prior = [Prior("theta", "uniform", 0.0, 10.0)]
    kw = dict(db="sqlite://", population_size=300, max_populations=4, sampler="single", seed=4)
    bound = run_abc(prior, Noisy(), {"x": 5.0}, kinds={"x": "lower_bound"}, **kw).posterior
    exact = run_abc(prior, Noisy(), {"x": 5.0}, kinds={"x": "exact"}, **kw).posterior
    q = weighted_quantile(bound["theta"], bound["weight"], [0.02, 0.5, 0.95])
    assert q[0] > 4.3 and 7.0 < q[1] < 8.0 and q[2] > 9.3, q  # uniform on about [5, 10]
    qe = weighted_quantile(exact["theta"], exact["weight"], [0.05, 0.95])
    assert 4.4 < qe[0] and qe[1] < 5.6, qe


def test_bound_statistics_are_clipped_and_keep_their_scale():
    ss = BoundSumstat({"lo": "lower_bound", "up": "upper_bound"})
    x0 = {"lo": 10.0, "up": 20.0, "pt": 1.0}
    ss.initialize(t=0, get_sample=lambda: None, x_0=x0, total_sims=0)
    assert list(ss({"lo": 15.0, "up": 12.0, "pt": 3.0})) == [10.0, 20.0, 3.0]
    assert list(ss({"lo": 7.0, "up": 25.0, "pt": 3.0})) == [7.0, 25.0, 3.0]
    d = pyabc.PNormDistance(p=2, sumstat=BoundSumstat({"lo": "lower_bound"}))
    d.initialize(t=0, get_sample=lambda: None, x_0={"lo": 10.0, "pt": 1.0}, total_sims=0)
    assert d({"lo": 50.0, "pt": 1.0}, {"lo": 10.0, "pt": 1.0}, t=0) == 0.0
    assert d({"lo": 7.0, "pt": 1.0}, {"lo": 10.0, "pt": 1.0}, t=0) == pytest.approx(3.0)
    # every particle meets the bound: the median absolute deviation is 0 but the bound keeps its scale
    samples = np.array([[10.0, 1.0], [10.0, 2.0], [10.0, 4.0]])
    scales = FixedForSomeScale({"lo": 1.5})(samples=samples, s0=np.array([10.0, 1.0]), s_ids=["lo", "pt"])
    assert list(scales) == [1.5, 1.0]


def test_the_simulator_must_return_every_finite_statistic():
    model = PyabcModel(lambda p, s: {"a": 1.0}, [Prior("x")], ["a", "b"])
    with pytest.raises(ValueError, match="'b'"):
        model({"x": 0.5})
    model = PyabcModel(lambda p, s: {"a": float("nan")}, [Prior("x")], ["a"])
    with pytest.raises(ValueError, match="'a' is nan"):
        model({"x": 0.5})


@pytest.mark.parametrize(
    "change,message",
    [
        ({"sampler": "threads"}, "sampler: one of"),
        ({"sampler": "dask"}, "give dask_client or scheduler_address"),
        ({"kinds": {"x": "lower"}}, r"kinds\['x'\]"),
        ({"distance": "fixed"}, "needs a scale for every statistic"),
        ({"scales": {"x": -1}}, r"scales\['x'\]"),
        ({"population_size": 1}, "population_size"),
        ({"observed": {"x": float("nan")}}, r"observed\['x'\]"),
        ({"n_procs": 0}, "n_procs"),
    ],
)
def test_bad_settings_are_refused_before_any_work(change, message):
    kw = {"db": "sqlite://", "sampler": "multicore", "observed": {"x": 1.0}, **change}
    observed = kw.pop("observed")
    with pytest.raises(ValueError, match=message):
        run_abc([Prior("theta")], Noisy(), observed, **kw)


def test_priors_are_checked_and_integers_rounded():
    with pytest.raises(ValueError, match="kind must be one of"):
        Prior("a", "gamma", 0, 1)
    with pytest.raises(ValueError, match="loguniform needs low > 0"):
        Prior("a", "loguniform", 0, 1)
    p = Prior("n", "uniform", 5, 80, integer=True)
    assert p.support == (4.5, 80.5) and p.model_value(29.6) == 30 and p.model_value(80.4) == 80
    t = Prior("s", "normal_truncated", 0, 4, mean=1, sd=1)
    assert t.frozen().cdf(0) == 0 and t.frozen().cdf(4) == pytest.approx(1) and t.frozen().median() > 1
    assert Prior("r", "loguniform", 0.01, 1).interval(0.9) == pytest.approx(
        (0.01 * 100**0.05, 0.01 * 100**0.95)
    )


def test_the_boxed_kernel_proposes_inside_the_priors_as_rejection_would():
    from scipy import stats

    from sim.analysis.abc import BoxedNormalTransition

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(0, 1, 50), "b": rng.uniform(0, 1, 50)})
    w = np.full(50, 1 / 50)
    boxed = BoxedNormalTransition({"a": (0.0, 1.0), "b": (0.0, 1.0)})
    boxed.fit(X, w)
    np.random.seed(1)
    draws = pd.DataFrame([dict(boxed.rvs_single()) for _ in range(1500)])
    assert ((draws >= 0) & (draws <= 1)).all().all()
    plain = BoxedNormalTransition(None)  # pyabc's own one-at-a-time proposals, rejected by hand
    plain.fit(X, w)
    kept = []
    while len(kept) < 1500:
        p = dict(plain.rvs_single())
        if 0 <= p["a"] <= 1 and 0 <= p["b"] <= 1:
            kept.append(p)
    kept = pd.DataFrame(kept)
    for c in ("a", "b"):
        assert stats.ks_2samp(draws[c], kept[c]).pvalue > 0.001
    assert np.allclose(boxed.cov, 2 * np.cov(X.to_numpy().T, ddof=0), rtol=0.05)  # twice the covariance


@pytest.mark.slow
def test_pyabc_recovers_known_parameters_of_the_real_model(tmp_path):
    """Synthetic record: the Belarus replay run at known values of two parameters (the rest at the config's
    base); ABC-SMC on the same replay and summaries puts the truth inside its 90 % interval and narrows the
    arrest scale well below its prior."""
    import dataclasses

    from sim.analysis.backtest import ReplaySimulator
    from sim.analysis.summaries import SummarySet
    from sim.edge.calibrate import prepare
    from sim.store.calibrations import load_config

    cfg = load_config("belarus")
    keep = ("regime.arrests_ref", "population.sentence_ordinary_years")
    priors = [p for p in cfg["priors"] if p.name in keep]
    truth = {"regime.arrests_ref": 35.0, "population.sentence_ordinary_years": 3.5}
    observed, summaries, events, sim = prepare(cfg)
    frame = sim.series(truth, 12345)  # the synthetic record, in the record's columns
    specs = [s for s in cfg["statistics"] if s.statistic != "figure"]
    synthetic = SummarySet([dataclasses.replace(s) for s in specs], frame)
    fit_sim = ReplaySimulator(cfg["base"], events, cfg["end"], cfg["replay_until"], synthetic)
    res = run_abc(
        priors, fit_sim, synthetic.observed, db=f"sqlite:///{tmp_path / 'abc.db'}", kinds=synthetic.kinds(),
        population_size=150, max_populations=4, sampler="multicore", n_procs=2, seed=3,
    )  # fmt: skip
    table = interval_table(res.posterior, priors).set_index("parameter")
    for name, value in truth.items():
        assert table.loc[name, "posterior_low"] <= value <= table.loc[name, "posterior_high"], name
    assert table.loc["regime.arrests_ref", "width_ratio"] < 0.7
