"""Forecast scores against values worked by hand on small cases (sim/analysis/scoring.py)."""

from __future__ import annotations

import numpy as np
import pytest
import scoringrules as sr
from scipy import stats

from sim.analysis import scoring


def test_crps_of_a_two_member_ensemble_by_hand():
    # Members {0, 2}, observation 1. E|X - y| = (1 + 1) / 2 = 1. Over all ordered pairs of members (a member
    # with itself included) E|X - X'| = (0 + 2 + 2 + 0) / 4 = 1, so the ensemble's own CRPS is 1 - 1/2 = 0.5.
    # The fair estimator averages |X - X'| over distinct pairs only: (2 + 2) / 2 = 2, so 1 - 2/2 = 0.
    ens = np.array([[0.0], [2.0]])
    assert scoring.crps([1.0], ens, estimator="nrg") == pytest.approx([0.5])
    assert scoring.crps([1.0], ens) == pytest.approx([0.0])
    # Observation 3: E|X - y| = (3 + 1) / 2 = 2; nrg 2 - 0.5 = 1.5; fair 2 - 1 = 1.
    assert scoring.crps([3.0], ens, estimator="nrg") == pytest.approx([1.5])
    assert scoring.crps([3.0], ens) == pytest.approx([1.0])


def test_crps_per_month_and_missing_observations():
    ens = np.array([[5.0, 0.0], [5.0, 2.0]])
    out = scoring.crps([7.0, np.nan], ens, estimator="nrg")
    assert out[0] == pytest.approx(2.0), "a point ensemble scores its absolute error"
    assert np.isnan(out[1])
    assert scoring.mean_score(out) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="members x horizon with horizon 3"):
        scoring.crps([1.0, 2.0, 3.0], ens)
    with pytest.raises(ValueError, match="fair CRPS needs at least 2 members"):
        scoring.crps([1.0], [[1.0]])


def test_intervals_coverage_and_interval_score():
    ens = np.arange(101, dtype=float)[:, None]  # members 0..100: quantiles are the percentages themselves
    lo, hi = scoring.central_interval(ens, 0.5)
    assert (lo[0], hi[0]) == (25.0, 75.0)
    lo, hi = scoring.central_interval(ens, 0.9)
    assert (lo[0], hi[0]) == (pytest.approx(5.0), pytest.approx(95.0))
    assert scoring.covered([50.0], ens, 0.5)[0] == 1.0
    assert scoring.covered([80.0], ens, 0.5)[0] == 0.0
    assert scoring.covered([80.0], ens, 0.9)[0] == 1.0
    assert np.isnan(scoring.covered([np.nan], ens, 0.9)[0])
    # [25, 75] at alpha 0.5, observation 80: width 50 + (2 / 0.5) * (80 - 75) = 70
    assert scoring.interval_score([80.0], ens, 0.5) == pytest.approx([70.0])
    assert scoring.interval_score([50.0], ens, 0.5) == pytest.approx([50.0])


def test_weighted_interval_score_by_hand():
    # Members {0, 1, 2}, observation 3; median 1. 50 % interval [0.5, 1.5]: IS = 1 + (2/0.5)(3 - 1.5) = 7,
    # weight 0.25 -> 1.75. 90 % interval [0.1, 1.9]: IS = 1.8 + (2/0.1)(3 - 1.9) = 23.8, weight 0.05 -> 1.19.
    # Median term 0.5 * |3 - 1| = 1. WIS = (1 + 1.75 + 1.19) / (2 + 0.5) = 1.576.
    ens = np.array([[0.0], [1.0], [2.0]])
    assert scoring.weighted_interval_score([3.0], ens) == pytest.approx([1.576])


def test_scoringrules_wis_still_needs_the_workaround():
    """scoringrules 0.11.0 adds w_median * median instead of w_median * |obs - median| in its WIS.

    Hand value for obs 3, median 1, interval [0.5, 1.5] at alpha 0.5: (0.25 * 7 + 0.5 * 2) / 1.5 = 1.8333.
    If this test fails, the library is fixed: use it directly in scoring.weighted_interval_score.
    """
    lib = float(sr.weighted_interval_score(3.0, 1.0, np.array([0.5]), np.array([1.5]), np.array([0.5])))
    assert lib != pytest.approx(11 / 6)
    ours = scoring.weighted_interval_score([3.0], np.array([[0.5], [1.0], [1.5]]), levels=(0.5,))
    # members {0.5, 1, 1.5}: median 1, 50 % interval [0.75, 1.25]: IS = 0.5 + 4 * 1.75 = 7.5
    assert ours == pytest.approx([(0.25 * 7.5 + 0.5 * 2) / 1.5])


def test_pit_extremes_and_ties():
    rng = np.random.default_rng(0)
    ens = np.array([[0.0], [1.0], [1.0], [2.0]])
    assert scoring.pit([5.0], ens, rng)[0] == 1.0
    assert scoring.pit([-1.0], ens, rng)[0] == 0.0
    vals = [scoring.pit([1.0], ens, rng)[0] for _ in range(200)]
    assert min(vals) >= 0.25 and max(vals) <= 0.75, "within the CDF's jump at the tie: [F(1-), F(1)]"
    assert np.std(vals) > 0.1, "randomised, not a point"
    assert np.isnan(scoring.pit([np.nan], ens, rng)[0])


def test_randomised_pit_is_uniform_for_a_calibrated_count_forecast():
    """Observations and members both Poisson(3): the randomised PIT is uniform (a plain F(y) is not)."""
    rng = np.random.default_rng(42)
    months = 2000
    obs = rng.poisson(3.0, size=months).astype(float)
    ens = rng.poisson(3.0, size=(400, months)).astype(float)
    counts, edges = scoring.pit_histogram(scoring.pit(obs, ens, rng), bins=10)
    assert counts.sum() == months and edges[0] == 0.0 and edges[-1] == 1.0
    assert stats.chisquare(counts).pvalue > 0.01
    plain = (ens <= obs).mean(axis=0)  # the PIT without randomisation piles up at the jumps
    assert stats.chisquare(np.histogram(plain, bins=10, range=(0, 1))[0]).pvalue < 1e-6


def test_brier_and_the_release_batch_event():
    assert scoring.brier([0.2], [1]) == pytest.approx([0.64])
    assert scoring.brier([0.7, 0.0], [0, 0]) == pytest.approx([0.49, 0.0])
    with pytest.raises(ValueError, match="outcomes 0 or 1"):
        scoring.brier([0.5], [2])
    members = np.array([[0, 25, 0, 30], [10, 10, 10, 50], [20, 0, 0, 0]], dtype=float)
    events = scoring.release_batch_event(members)
    assert events.tolist() == [1.0, 0.0, 1.0], "a month of >= 20 in the first 3 months"
    assert scoring.event_probability(events) == pytest.approx(2 / 3)
    observed = scoring.release_batch_event(np.array([18.0, 19.0, 0.0, 99.0]))
    assert float(observed) == 0.0
    # probability 2/3 against an outcome 0: (2/3)^2
    assert scoring.brier(scoring.event_probability(events), observed) == pytest.approx(4 / 9)


def test_skill_and_summary():
    assert scoring.skill(2.0, 4.0) == 0.5
    assert scoring.skill(6.0, 4.0) == -0.5
    assert np.isnan(scoring.skill(1.0, 0.0))
    rng = np.random.default_rng(1)
    ens = rng.normal(100, 10, size=(500, 6))
    out = scoring.score_ensemble(np.full(6, 100.0), ens, rng)
    assert set(out) == {"crps", "wis", "coverage", "pit"}
    assert out["coverage"] == {0.5: 1.0, 0.9: 1.0}
    assert out["crps"] < 3 and out["pit"].shape == (6,)
