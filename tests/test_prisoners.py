"""The prisoner registry: bookkeeping, classes, counts by remaining sentence, synthesis and thinning."""

from __future__ import annotations

import numpy as np

from sim.core.calendar import month_index, month_text
from sim.core.params import PopulationParams
from sim.core.prisoners import (
    BIN_EDGES,
    N_BINS,
    ClassMap,
    Registry,
    Status,
    draw_profiles_and_ties,
    synthesise_stock,
)


def test_month_text_round_trip():
    for text in ("2025-12", "2026-01", "1999-06"):
        assert month_text(month_index(text)) == text
    assert month_index("2026-01") - month_index("2025-12") == 1


def test_classes_split_only_on_valued_ties():
    cm = ClassMap(valued=0b101)  # ties 0 and 2 are valued, tie 1 is not
    assert cm.n == 3 * 4 * 2
    a = cm.code(np.array([1, 1]), np.array([0b010, 0b000]), np.array([False, False]))
    assert a[0] == a[1]  # an unvalued tie does not change the class
    b = cm.code(np.array([1]), np.array([0b100]), np.array([True]))[0]
    assert cm.profile[b] == 1 and cm.ties[b] == 0b100 and cm.poor[b]


def test_add_remove_counts_and_due_buckets():
    reg = Registry(ClassMap(0b111), base=0, capacity=4)  # forces growth
    reg.add(
        np.array([10, 10, 11]),
        np.array([5, 1, 3]),
        np.array([0, 2, 1]),
        np.array([0, 1, 4]),
        np.zeros(3, bool),
    )
    assert reg.held == 3 and reg.n == 3
    assert list(reg.due_now(11)) == [1]  # arrested 10, sentence 1
    reg.remove(np.array([0]), Status.DEAL, 12, dest=1)
    assert reg.held == 2 and reg.status[0] == Status.DEAL and reg.dest[0] == 1
    assert list(reg.due_now(15)) == []  # prisoner 0 was due in 15 but already left
    big = reg.add(
        np.full(600, 20),
        np.full(600, 12),
        np.zeros(600, np.int8),
        np.zeros(600, np.int8),
        np.zeros(600, bool),
    )
    assert reg.held == 602 and len(reg.due_now(32)) == 600 and big[-1] == 602
    assert reg.class_counts.sum() == reg.held


def test_counts_by_bin_agree_with_a_scan():
    rng = np.random.default_rng(3)
    reg = Registry(ClassMap(0b11), base=0)
    k = 3000
    reg.add(
        rng.integers(0, 50, k),
        rng.integers(1, 200, k),
        rng.integers(0, 3, k).astype(np.int8),
        rng.integers(0, 4, k).astype(np.int16),
        rng.random(k) < 0.2,
    )
    month = 60
    for m in range(61):
        reg.remove(reg.due_now(m), Status.SERVED, m)
    counts, left = reg.counts_by_bin(month)
    held = reg.held_mask()
    rem = reg.due[: reg.n][held] - month
    cls = reg.cls[: reg.n][held]
    edges = [*BIN_EDGES, 10**9]
    for b in range(N_BINS):
        sel = (rem > edges[b]) & (rem <= edges[b + 1])
        assert np.array_equal(counts[:, b], np.bincount(cls[sel], minlength=reg.classes.n))
        c = cls[sel][0]
        assert np.isclose(left[c, b], rem[sel][cls[sel] == c].mean())
    assert counts.sum() == reg.held


def test_fall_ill_moves_class_and_keeps_counts():
    reg = Registry(ClassMap(0), base=0)
    reg.add(
        np.zeros(5, np.int32), np.full(5, 30), np.zeros(5, np.int8), np.zeros(5, np.int16), np.zeros(5, bool)
    )
    before = reg.class_counts.copy()
    reg.fall_ill(np.array([0, 1]))
    assert reg.class_counts.sum() == 5 and not np.array_equal(before, reg.class_counts)
    assert np.array_equal(np.bincount(reg.cls[:5], minlength=reg.classes.n), reg.class_counts)


def test_synthesised_stock_shares_and_length_bias():
    pop = PopulationParams(initial_stock=20000)
    reg = Registry(ClassMap(0b1), base=month_index("2025-12"))
    rng = np.random.default_rng(0)
    start = month_index("2025-12")
    synthesise_stock(rng, pop, np.array([0.04]), start, reg)
    assert reg.held == 20000
    prof = reg.profile[: reg.n]
    assert abs((prof == 2).mean() - pop.share_symbol) < 0.005
    assert abs((prof == 1).mean() - pop.share_notable) < 0.01
    assert abs(((reg.ties[: reg.n] & 1) != 0).mean() - 0.04) < 0.006
    sentence = reg.due[: reg.n] - reg.arrest[: reg.n]
    # a stock seen at one date over-represents long sentences: its median exceeds the drawn median
    assert np.median(sentence[prof == 0]) > pop.sentence_ordinary_years * 12


def test_thinning_rate_matches_probability():
    reg = Registry(ClassMap(0), base=0)
    rng = np.random.default_rng(1)
    k = 50000
    reg.add(
        np.zeros(k, np.int32), np.full(k, 100), np.zeros(k, np.int8), np.zeros(k, np.int16), np.zeros(k, bool)
    )
    hits = [len(reg.thin(rng, 0.01)) for _ in range(50)]
    assert abs(np.mean(hits) - 500) < 15


def test_profile_and_tie_draw_shares():
    rng = np.random.default_rng(2)
    profile, ties = draw_profiles_and_ties(rng, 100000, np.array([0.1, 0.3]), 0.02, 0.1)
    assert abs((profile == 2).mean() - 0.02) < 0.003 and abs((profile == 1).mean() - 0.1) < 0.005
    assert abs(((ties & 1) != 0).mean() - 0.1) < 0.005 and abs(((ties & 2) != 0).mean() - 0.3) < 0.005


def test_released_inside_are_rearrested_as_new_spells_of_the_same_person():
    reg = Registry(ClassMap(0), base=0)
    reg.add(
        np.zeros(4, np.int32), np.full(4, 30), np.zeros(4, np.int8), np.zeros(4, np.int16), np.zeros(4, bool)
    )
    reg.remove(np.array([0, 1]), Status.PARDON, 5, dest=0)
    reg.remove(np.array([2]), Status.DEAL, 5, dest=1)  # expelled: cannot be re-arrested at home
    rng = np.random.default_rng(0)
    idx = reg.released_inside(rng, 1.0)
    assert sorted(idx.tolist()) == [0, 1]
    reg.add(
        np.full(2, 6, np.int32),
        np.full(2, 12),
        reg.profile[idx],
        reg.ties[idx],
        reg.poor[idx],
        person=reg.person[idx],
    )
    assert reg.held == 3 and list(reg.person[4:6]) == list(reg.person[idx])
    assert sorted(reg.released_inside(rng, 1.0).tolist()) == []  # their latest spell is held now
