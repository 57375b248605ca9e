"""The bargaining rule: hand-worked cases, brute force, scipy, and properties (Axelrod-style)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from sim.core import bargaining as bg


def frontier_one(value: float, cost: float, z_max: float) -> bg.Frontier:
    return bg.relief_frontier(np.array([1.0]), np.array([value]), np.array([cost]), z_max)


def test_hand_worked_single_class_clipped():
    # One class: w = 2, v = 1, 100 held; one sector worth 100 to the regime, costing the US 50, all on offer.
    # For a fixed n the interior z would be 0.5*2n - 0.5*(0 - n)/2 = 1.25 n >= 50 for n >= 40, so the
    # clip z = 50 binds; then k* = 0.5*100/1 - 0.5*(0 - 50)/2 = 50 + 12.5 = 62.5 -> n in {62, 63}.
    # G_R = 100 - n, G_US = 2n - 50: n=62 -> 38*74 = 2812, n=63 -> 37*76 = 2812: a tie, the first wins.
    d = bg.nash_release(
        np.array([2.0]), np.array([1.0]), np.array([100]), frontier_one(100, 50, 50), alpha=0.5
    )
    assert d.released == 62
    assert math.isclose(d.relief_cost, 50.0)
    assert math.isclose(d.relief_value, 100.0)
    assert math.isclose(d.gain_regime, 38.0) and math.isclose(d.gain_us, 74.0)


def test_hand_worked_interior_relief():
    # 10 held, w = 10, v = 1, a sector worth 100 costing 100 (b = 1), up to 1000 on offer.
    # Surplus a + bW - V = 10n - n = 9n rises in n: all 10 released. Then z = 0.5*100 - 0.5*(0 - 10)/1 = 55,
    # G_R = 55 - 10 = 45, G_US = 100 - 55 = 45: the symmetric split of the surplus 90.
    d = bg.nash_release(
        np.array([10.0]), np.array([1.0]), np.array([10]), frontier_one(100, 100, 1000), alpha=0.5
    )
    assert d.released == 10
    assert math.isclose(d.relief_cost, 55.0)
    assert math.isclose(d.gain_regime, 45.0) and math.isclose(d.gain_us, 45.0)


def test_bargaining_power_shifts_the_split():
    args = (np.array([10.0]), np.array([1.0]), np.array([10]), frontier_one(100, 100, 1000))
    strong = bg.nash_release(*args, alpha=0.8)
    weak = bg.nash_release(*args, alpha=0.2)
    assert strong.gain_regime > weak.gain_regime
    assert math.isclose(strong.gain_regime, 0.8 * 90) and math.isclose(weak.gain_regime, 0.2 * 90)


def test_no_deal_when_holding_is_worth_more_than_any_relief():
    # the regime values each prisoner at 5 but the whole sector is worth 40 to it: nothing to agree on
    d = bg.nash_release(
        np.array([10.0]), np.array([50.0]), np.array([10]), frontier_one(40, 10, 40), alpha=0.5
    )
    assert not d.happened and d.released == 0


def test_reserve_high_value_classes_come_last():
    # ordinary: w/v = 2; reserve: w/v = 0.5. A small tranche buys only ordinary prisoners.
    w, v, m = np.array([1.0, 1.0]), np.array([0.5, 2.0]), np.array([100, 20])
    d = bg.nash_release(w, v, m, frontier_one(60, 30, 30), alpha=0.5)
    assert d.taken[0] > 0 and d.taken[1] == 0


def test_frontier_lifts_best_value_per_cost_first():
    fr = bg.relief_frontier(
        np.array([1.0, 1.0, 0.5]), np.array([100.0, 300.0, 50.0]), np.array([50.0, 100.0, 10.0]), z_max=1e9
    )
    assert list(fr.order) == [2, 1, 0]  # ratios 5, 3, 2
    assert math.isclose(float(fr.value(5.0)), 25.0)  # half of the 0.5-level third sector (worth 25 in all)
    assert np.allclose(fr.lifted(5.0 + 100.0), [1.0, 1.0, 0.0])


def test_expand_escalation_splits_and_rises():
    w, v, m, parent = bg.expand_escalation(
        np.array([1.0, 5.0]),
        np.array([1.0, 2.0]),
        np.array([3, 9]),
        np.array([False, True]),
        np.array([0.0, 1.0]),
        depth=4,
    )
    assert list(m) == [3, 1, 1, 1, 1, 5] and list(parent) == [0, 1, 1, 1, 1, 1]
    assert list(v[1:]) == [2.0, 3.0, 4.0, 5.0, 6.0]


def test_escalation_runs_across_escalating_classes():
    # two cells of symbols: the k-th symbol released in the deal costs more, whichever cell it comes from
    w, v, m, parent = bg.expand_escalation(
        np.array([10.0, 8.0, 1.0]),
        np.array([2.0, 2.0, 1.0]),
        np.array([2, 3, 7]),
        np.array([True, True, False]),
        np.array([1.0, 1.0, 0.0]),
        depth=4,
    )
    units = [(p_, vv, mm) for p_, vv, mm in zip(parent, v, m)]
    assert (2, 1.0, 7) in units  # the plain class is untouched
    singles = [(int(p_), float(vv)) for p_, vv, mm in units if p_ != 2 and mm == 1]
    assert singles[:4] == [(0, 2.0), (0, 3.0), (1, 4.0), (1, 5.0)]
    assert (1, 6.0, 1) in units and m.sum() == 12


def test_price_learning():
    assert math.isclose(bg.update_price(1.0, 300.0, 100.0, 0.5), 2.0)
    assert bg.update_price(1.0, 300.0, 0.0, 0.5) == 1.0


def test_sale_factor_and_annuity_by_hand():
    # one month left, a round every month: sold next month for sure, discounted once
    assert math.isclose(float(bg.sale_factor(1.0, 0.9, 1)), 0.9)
    # two months, h = 0.5, d = 0.9: 0.9 * 0.5 + 0.81 * 0.5 * 0.5 = 0.6525
    assert math.isclose(float(bg.sale_factor(0.5, 0.9, 2)), 0.6525)
    assert float(bg.sale_factor(0.0, 0.9, 10)) == 0.0
    assert math.isclose(float(bg.annuity(0.9, 2)), 1.9)  # 1 + 0.9
    from sim.core.numerics import sale_factor

    assert math.isclose(sale_factor(0.5, 0.9, 2), 0.6525)


def test_escalation_in_order_keeps_the_prefix_efficient():
    w = np.array([1.0, 2.0, 3.0])
    v = np.array([1.0, 1.0, 1.0])
    c = np.array([5, 0, 7])
    w2, v2, m2, parent = bg.escalate_in_order(w, v, c, 0.1, blocks=4)
    assert m2.sum() == 12 and list(parent) == [2, 2, 2, 0, 0]
    assert np.all(np.diff(w2 / v2) <= 0)  # offered in decreasing w/v: a prefix is still optimal
    assert np.allclose(v2, 1 + 0.1 * np.array([1.0, 4.0, 6.0, 7.5, 10.0]))


# ---------------------------------------------------------------- properties
classes = st.integers(min_value=1, max_value=5)


@st.composite
def rounds(draw):
    c = draw(classes)
    floats = lambda lo, hi: st.floats(lo, hi, allow_nan=False, allow_infinity=False)  # noqa: E731
    w = np.array(draw(st.lists(floats(0.1, 20), min_size=c, max_size=c)))
    v = np.array(draw(st.lists(floats(0.0, 10), min_size=c, max_size=c)))
    m = np.array(draw(st.lists(st.integers(0, 40), min_size=c, max_size=c)))
    s = draw(st.integers(1, 4))
    level = np.array(draw(st.lists(floats(0.0, 1.0), min_size=s, max_size=s)))
    value = np.array(draw(st.lists(floats(1.0, 300), min_size=s, max_size=s)))
    cost = np.array(draw(st.lists(floats(1.0, 150), min_size=s, max_size=s)))
    z_max = draw(floats(0.0, 300))
    alpha = draw(floats(0.05, 0.95))
    fixed = draw(st.sampled_from([0.0, 5.0, 25.0]))
    return w, v, m, level, value, cost, z_max, alpha, fixed


def brute_force(w, v, m, fr, alpha, fixed):
    """Best log Nash product over every prefix n and a fine z grid refined by scipy."""
    order = bg.release_order(w, v)
    ws, vs = np.repeat(w[order], m[order]), np.repeat(v[order], m[order])
    W, V = np.cumsum(ws), np.cumsum(vs)
    best = -np.inf
    for n in range(1, len(ws) + 1):

        def neg(z, n=n):
            gr = float(fr.value(z)) - V[n - 1] - fixed
            gu = W[n - 1] - z
            return (
                1e9
                if gr <= bg.MIN_GAIN or gu <= bg.MIN_GAIN
                else -(alpha * math.log(gr) + (1 - alpha) * math.log(gu))
            )

        grid = np.linspace(0, fr.z_max, 201)
        z0 = grid[int(np.argmin([neg(z) for z in grid]))]
        lo, hi = max(0.0, z0 - fr.z_max / 200), min(fr.z_max, z0 + fr.z_max / 200)
        res = minimize_scalar(neg, bounds=(lo, hi), method="bounded") if hi > lo else None
        val = -min(neg(z0), res.fun if res is not None else 1e9)
        best = max(best, val if val > -1e8 else -np.inf)
    return best


@settings(max_examples=150, deadline=None)
@given(rounds())
def test_closed_form_matches_brute_force(case):
    w, v, m, level, value, cost, z_max, alpha, fixed = case
    fr = bg.relief_frontier(level, value, cost, z_max)
    d = bg.nash_release(w, v, m, fr, alpha, fixed)
    best = brute_force(w, v, m, fr, alpha, fixed)
    if not d.happened:
        assert best == -np.inf or best < -1e8
    else:
        got = alpha * math.log(d.gain_regime) + (1 - alpha) * math.log(d.gain_us)
        assert got >= best - 1e-6


@settings(max_examples=300, deadline=None)
@given(rounds())
def test_no_deal_below_either_sides_reservation_value(case):
    w, v, m, level, value, cost, z_max, alpha, fixed = case
    fr = bg.relief_frontier(level, value, cost, z_max)
    d = bg.nash_release(w, v, m, fr, alpha, fixed)
    assert np.all(d.taken <= m) and d.taken.sum() == d.released
    if d.happened:
        # recompute both gains from what was agreed, independently of the solver's bookkeeping
        g_r = float(fr.value(d.relief_cost)) - float(np.dot(d.taken, v)) - fixed
        g_us = float(np.dot(d.taken, w)) - d.relief_cost
        assert g_r > 0 and g_us > 0
        assert 0 <= d.relief_cost <= fr.z_max + 1e-9


@settings(max_examples=200, deadline=None)
@given(rounds(), st.floats(1.0, 4.0))
def test_releases_monotone_in_relief_offered(case, factor):
    w, v, m, level, value, cost, z_max, alpha, fixed = case
    small = bg.nash_release(w, v, m, bg.relief_frontier(level, value, cost, z_max), alpha, fixed)
    large = bg.nash_release(w, v, m, bg.relief_frontier(level, value, cost, z_max * factor), alpha, fixed)
    assert large.released >= small.released


@settings(max_examples=200, deadline=None)
@given(rounds())
def test_grand_bargain_all_or_nothing(case):
    w, v, m, level, value, cost, z_max, alpha, fixed = case
    fr = bg.relief_frontier(level, value, cost, z_max)
    d = bg.take_it_or_leave_it(w, v, m, fr, fixed)
    assert d.released in (0, int(m.sum()))
    if d.happened:
        assert d.gain_regime > 0 and d.gain_us > 0
