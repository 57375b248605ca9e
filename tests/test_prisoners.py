"""The prisoner registry: bookkeeping, synthesis and the thinning draws."""

from __future__ import annotations

import numpy as np

from sim.core.params import PopulationParams
from sim.core.prisoners import (
    N_CLASSES,
    Registry,
    Status,
    draw_profiles_and_ties,
    month_index,
    month_text,
    synthesise_stock,
)


def test_month_text_round_trip():
    for text in ("2025-12", "2026-01", "1999-06"):
        assert month_text(month_index(text)) == text
    assert month_index("2026-01") - month_index("2025-12") == 1


def test_add_remove_counts_and_due_buckets():
    reg = Registry(capacity=4)  # forces growth
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
    assert reg.class_counts.sum() == reg.held and len(reg.class_counts) == N_CLASSES


def test_synthesised_stock_shares_and_length_bias():
    pop = PopulationParams(initial_stock=20000)
    reg = Registry()
    rng = np.random.default_rng(0)
    start = month_index("2025-12")
    synthesise_stock(rng, pop, start, reg)
    assert reg.held == 20000
    prof = reg.profile[: reg.n]
    assert abs((prof == 2).mean() - pop.share_symbol) < 0.005
    assert abs((prof == 1).mean() - pop.share_notable) < 0.01
    assert abs(((reg.ties[: reg.n] & 1) != 0).mean() - pop.tie_lt) < 0.006
    sentence = reg.due[: reg.n] - reg.arrest[: reg.n]
    ordinary = sentence[prof == 0]
    # a stock seen at one date over-represents long sentences: its median exceeds the drawn median
    assert np.median(ordinary) > pop.sentence_ordinary_years * 12


def test_thinning_rate_matches_probability():
    reg = Registry()
    rng = np.random.default_rng(1)
    k = 50000
    reg.add(
        np.zeros(k, np.int32), np.full(k, 100), np.zeros(k, np.int8), np.zeros(k, np.int8), np.zeros(k, bool)
    )
    hits = [len(reg.thin(rng, 0.01)) for _ in range(50)]
    assert abs(np.mean(hits) - 500) < 15
    half = [len(reg.thin(rng, 0.01, accept=lambda c: np.full(len(c), 0.5))) for _ in range(50)]
    assert abs(np.mean(half) - 250) < 10


def test_profile_draw_shares():
    rng = np.random.default_rng(2)
    prof, ties = draw_profiles_and_ties(rng, 100000, PopulationParams(), share_symbol=0.1, share_notable=0.2)
    assert abs((prof == 2).mean() - 0.1) < 0.005 and abs((prof == 1).mean() - 0.2) < 0.005
