"""Replaying a timeline: the record's events happen exactly as recorded, and only as facts when asked."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.run import run_replicates
from sim.store.cases import case_params
from sim.store.timelines import load_timeline


@pytest.fixture(scope="module")
def replay():
    events = load_timeline("belarus")
    params = case_params("belarus", "backtest_2024")
    return events, run_replicates(
        params, months=18, replicates=4, seed=2, events=events, replay_until="2025-12"
    )


def test_replayed_deals_and_pardons_are_exactly_the_record(replay):
    events, res = replay
    window = [e for e in events if "2024-07" <= e.month <= "2025-12"]
    deals = [e for e in window if e.type == "deal" and e.released]
    pardons = {}
    for e in window:
        if e.type == "pardon" and e.released:
            pardons[e.month] = pardons.get(e.month, 0) + e.released
    for r, d in res.deals.groupby("replicate"):
        assert d["replayed"].all()  # no deal of the actors' own while replaying
        got = sorted(zip(d["month"], d["counterpart"], d["released"]))
        assert got == sorted((e.month, e.counterpart, e.released) for e in deals)
        ts = res.timeseries[res.timeseries["replicate"] == r].set_index("month")
        assert {m: int(ts.loc[m, "released_pardon"]) for m in pardons} == pardons
        assert ts["released_pardon"].sum() == sum(pardons.values())  # no goodwill pardon of its own
    dec = res.deals[res.deals["month"] == "2025-12"]
    assert (dec["to_ua"] == 114).all() and (dec["to_lt"] == 9).all()  # seeds: 114 to Ukraine, 9 to Lithuania


def test_replayed_instrument_levels_are_the_record(replay):
    events, res = replay
    ts = res.timeseries
    last = {}  # the level an instrument ends a month at: the month's last event (records are in order)
    for e in events:
        if e.type == "instrument" and "2024-07" <= e.month <= "2025-12":
            last[(e.month, f"level_{e.counterpart}_{e.instrument}")] = e.level
    assert last
    for (month, col), level in last.items():
        assert np.allclose(ts.loc[ts["month"] == month, col], level), (month, col)


def test_free_mode_lets_the_actors_decide():
    events = load_timeline("belarus")
    params = case_params("belarus", "backtest_2024")
    free = run_replicates(params, months=18, replicates=4, seed=2, events=events, replay_until=None)
    assert not free.deals["replayed"].any() if len(free.deals) else True
    assert free.timeseries["released_pardon"].sum() != sum(
        e.released for e in events if e.type == "pardon" and e.released and "2024-07" <= e.month <= "2025-12"
    )
