"""The mechanisms the seed documents describe, as decision-level checks on replicated runs.

Each compares settings with the same root seed (common random numbers) over many replicates and asserts a
difference larger than the replicate noise (a two-standard-error margin), or checks a property of every deal.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import replicated
from sim.core.model import RepressionBargaining
from sim.core.prisoners import Status


def per_replicate(res, column, months=None):
    ts = res.timeseries
    if months is not None:
        ts = ts[ts["month"].isin(sorted(ts["month"].unique())[months])]
    return ts.groupby("replicate")[column].sum().to_numpy(dtype=float)


def clearly_greater(a, b):
    diff = a.mean() - b.mean()
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return diff > 2 * se, diff, se


@pytest.fixture(scope="module")
def transactional():
    return replicated(months=36, replicates=40)


def test_releases_follow_relief(transactional):
    # seeds: every 2025 wave came with relief; no relief, no deal
    d = transactional.deals
    assert len(d) > 0
    assert (d["relief"] > 0).all() and (d["released"] > 0).all() and (d["instruments_lifted"] != "").all()


def test_december_2025_potash_relief_sold_while_transit_closed(transactional):
    # seed 003: Belaruskali relief bought releases although Baltic transit was closed
    d = transactional.deals
    ts = transactional.timeseries
    us = d[(d["counterpart"] == "us") & (d["lift_us_potash"] > 0)].merge(ts, on=["replicate", "month"])
    assert len(us) > 0 and (us["level_lithuania_transit"] == 1.0).any()


def test_closed_transit_lowers_what_potash_relief_is_worth(belarus):
    closed = RepressionBargaining(belarus, months=1, rng=0)
    opened = RepressionBargaining(
        belarus.replace(**{"lithuania.instruments.transit.level": 0.0}), months=1, rng=0
    )
    j = closed.counterparts["us"].inst.index("potash")
    assert closed.counterparts["us"].relief_values()[j] < opened.counterparts["us"].relief_values()[j]


def test_expelled_prisoners_leave_and_are_not_rearrested_at_home(belarus):
    m = RepressionBargaining(belarus.replace(**{"regime.rearrest_hazard": 0.05}), months=36, rng=3).run()
    reg = m.registry
    deal = reg.status[: reg.n] == Status.DEAL
    assert deal.any() and (reg.dest[: reg.n][deal] > 0).all()  # every deal in Belarus expels (seeds)
    persons = reg.person[: reg.n]
    last_spell = {p: i for i, p in enumerate(persons.tolist())}  # rows are in time order
    for row in np.flatnonzero(deal):
        assert last_spell[persons[row]] == row, persons[row]  # no spell after an expulsion
    assert m.out["rearrests"].sum() > 0  # people released inside the country were arrested again


def test_arrests_continue_after_releases(transactional):
    ts = transactional.timeseries.sort_values(["replicate", "month"])
    after = ts.groupby("replicate")["deal"].shift(1).fillna(0) > 0
    assert (ts.loc[after, "arrests"] > 0).mean() > 0.9


def test_unconditional_payment_keeps_chips_valuable_and_arrests_higher(transactional):
    # "repression itself becomes a bargaining tool" (seed 000): the regime keeps expecting to sell
    none = replicated(months=36, replicates=40, us__policy="maximum_pressure")
    later = slice(12, 36)
    ok, diff, se = clearly_greater(
        per_replicate(transactional, "arrests", later), per_replicate(none, "arrests", later)
    )
    assert ok, (diff, se)
    assert transactional.timeseries["chip_value"].mean() > none.timeseries["chip_value"].mean()


def test_the_reserve_is_kept_for_its_own_counterpart():
    # seed 003: prisoners important to Poland and Lithuania are kept in reserve -- because they are worth more
    # in a trade with their own counterpart: without those counterparts, the US buys them like anyone else
    with_them = replicated(months=36, replicates=30)
    without = replicated(
        months=36,
        replicates=30,
        lithuania__present=False,
        poland__present=False,
        us__instruments__potash__complement="",
    )

    def tied_share(res):
        us = res.deals[res.deals["counterpart"] == "us"]
        return us["released_other_ties"].sum() / max(us["released"].sum(), 1)

    assert tied_share(with_them) < tied_share(without)


def test_notables_are_traded_when_their_value_warrants_it():
    low = replicated(months=36, replicates=20, us__worth_notable=1.0)
    high = replicated(months=36, replicates=20, us__worth_notable=6.0)
    share = [r.deals["released_notable"].sum() / max(r.deals["released"].sum(), 1) for r in (low, high)]
    assert share[1] > share[0] and share[1] > 0


def test_releases_found_new_centres_and_fragment_the_opposition():
    none = replicated(months=36, replicates=20, opposition__new_centre_probability=0.0)
    many = replicated(months=36, replicates=20, opposition__new_centre_probability=0.9)
    assert many.timeseries["fragmentation"].mean() > none.timeseries["fragmentation"].mean()
    assert many.timeseries["lobbying"].mean() < none.timeseries["lobbying"].mean()
