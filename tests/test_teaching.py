"""The teacher pack (docs/teaching/): its exercises' expected answers, checked against the model's output.

Every exercise of ``docs/teaching/exercises.md`` follows a "thing to try" of the page's Info panel (same
title, same order) and states its expected answer in words. The check of each answer is here: it runs what the
page runs, ``sim-run`` with the page's default scenario and seed (the installed calibration, a posterior
particle and its saved start state per replicate), with thirty replicates, so that replicate *r* of two
settings shares its particle and start (paired), and levers found by their page key, never by parameter name.
It asserts what the text says, in the median and in most pairs. When the model changes and an answer stops
being true, its check fails and names the exercise.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.core.metrics import outcomes
from sim.edge.page_run import LEVER_BY_KEY, PageRun, Settings, control, sim_run, start_values
from sim.edge.page_text import EXPERIMENTS

TEACHING = Path(__file__).resolve().parents[1] / "docs" / "teaching"
REPLICATES = 30
MOST = 0.75  # "in most runs": the share of paired replicates in which the answer holds
BASE = Settings.default()


def _exercises() -> dict[str, tuple[str, str]]:
    """Exercise id -> (title, text) from exercises.md (headings ``## E1. Title``)."""
    text = (TEACHING / "exercises.md").read_text(encoding="utf-8")
    parts = re.split(r"^## (E\d+)\. (.+)$", text, flags=re.M)
    return {parts[i]: (parts[i + 1].strip(), parts[i + 2]) for i in range(1, len(parts), 3)}


def lever(key: str, value=None, *, end: str | None = None) -> tuple[str, ...]:
    """A page lever's change by its page key, as sim-run's command-line value: a value, or a slider's end."""
    lv = LEVER_BY_KEY[key]
    if end is not None:
        c = control(lv, start_values(BASE.scenario, BASE.seed)[lv.name])
        value = c.lo if end == "lo" else c.hi
    return (f"{lv.name}={value}",)


@functools.cache
def run(*changes: str, scenario: str = BASE.scenario) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Outcomes, monthly table and decisions of ``sim-run scenario=... seed=<the page's> replicates=30`` with
    the page's levers changed."""
    overrides = [
        f"scenario={scenario}",
        f"seed={BASE.seed}",
        f"replicates={REPLICATES}",
        f"months={BASE.months}",
    ]
    res, _ = sim_run(*overrides, *changes)
    out = outcomes(res.timeseries, res.deals).set_index("replicate")
    deals = res.deals.groupby(["replicate", "counterpart"])["released"].sum().unstack(fill_value=0)
    out = out.join(deals.add_prefix("released_by_"), how="left").fillna(
        {f"released_by_{c}": 0 for c in deals}
    )
    return out, res.timeseries, res.decisions


def most(a, b=None) -> float:
    """Share of pairs in which ``a`` holds (a boolean Series), or in which a < b."""
    return float(np.mean(a if b is None else a < b))


def check_e1():
    out, _, _ = run()
    fall = out["initial_stock"] - out["final_stock"]
    assert most(fall < 0.5 * out["total_releases"]) >= MOST  # the stock falls by far less than releases
    assert out["total_releases"].median() >= 300 and out["total_arrests"].median() >= 300  # hundreds
    assert most(out["released_deal"] > 0.5 * out["total_releases"]) >= MOST  # most of them in deals
    assert 0.5 <= out["revolving_door_ratio"].median() < 1.0  # a little below 1
    assert most(out["revolving_door_ratio"] > 0.5) >= MOST


def check_e2():
    out, _, _ = run()
    mp, ts, _ = run(*lever("us_policy", "maximum_pressure"))
    assert "released_by_us" not in mp or (mp["released_by_us"] == 0).all()  # no deal with the US
    neighbours = mp.filter(like="released_by_").sum(axis=1)
    assert most(neighbours > 0) >= 0.5  # Lithuania and Poland still buy their own
    assert mp["released_deal"].median() < 0.25 * out["released_deal"].median()
    assert most(mp["total_arrests"], out["total_arrests"]) >= MOST  # fewer arrests...
    assert mp["total_arrests"].median() > 0.85 * out["total_arrests"].median()  # ...but only a few fewer
    assert most(out["final_stock"], mp["final_stock"]) >= MOST  # more held at the end
    spread = ts.groupby("replicate")["learned_price"].agg(lambda x: x.max() - x.min())
    assert (spread == 0).all()  # the learned price stays where it started: nothing new to learn


def check_e3():
    out, _, _ = run()
    cond, _, _ = run(*lever("us_policy", "conditional"))
    assert most(cond["total_arrests"], out["total_arrests"]) >= MOST
    assert cond["total_arrests"].median() < 2 / 3 * out["total_arrests"].median()  # a third or more fewer
    assert cond["revolving_door_ratio"].median() < out["revolving_door_ratio"].median()
    assert most(cond["released_deal"], out["released_deal"]) >= MOST  # the price: fewer released in deals
    assert most(cond["deals"], out["deals"]) >= MOST  # and fewer deals
    assert cond["cheating_months"].median() == 0  # the regime complies
    full, _, _ = run(*lever("us_policy", "conditional"), *lever("restraint", end="hi"))
    none, _, _ = run(*lever("us_policy", "conditional"), *lever("restraint", end="lo"))
    assert most(full["total_arrests"], none["total_arrests"]) >= MOST
    assert full["revolving_door_ratio"].median() < none["revolving_door_ratio"].median()


def check_e4():
    out, _, _ = run()
    opened, _, decisions = run(*lever("transit", 0.0))
    assert most(out["transit_open_months"], opened["transit_open_months"]) >= MOST  # open for longer...
    assert opened["transit_open_months"].median() < 0.5 * BASE.months  # ...but not for long
    closed = decisions[
        (decisions["actor"] == "lithuania")
        & (decisions["decision"] == "transit")
        & (decisions["choice"] == "close")
    ]
    assert closed["replicate"].nunique() >= MOST * REPLICATES  # Lithuania closes it again, for security
    assert (closed["b"] > closed["a"]).all()  # the security cost outweighs the revenue
    reopens, _, _ = run(scenario="eu_transit_reopens")
    assert most(reopens["transit_open_months"] >= 0.9 * BASE.months) >= MOST  # open (nearly) throughout


def check_e5():
    low, _, _ = run(*lever("us_value", 0.5))
    high, _, _ = run(*lever("us_value", 3.0))
    assert most(low["price_per_prisoner"], high["price_per_prisoner"]) >= MOST  # it pays more per prisoner
    assert most(low["learned_price_end"], high["learned_price_end"]) >= MOST  # and the regime learns it
    ratio = high["released_deal"].median() / low["released_deal"].median()
    assert 0.8 < ratio < 1.25  # about as many are released


def check_e6():
    _, flat, _ = run(*lever("elasticity", 0.0))
    _, base, _ = run()
    _, steep, _ = run(*lever("elasticity", 3.0))

    def variation(ts, of="arrest_rate"):  # how much the chosen arrest rate moves over the run
        g = (ts[of] if isinstance(of, str) else of).groupby(ts["replicate"])
        return g.std() / g.mean()

    # at 0 the regime arrests at one rate whatever an arrest is worth: the rate moves only with the crackdown
    # multiplier of the past (a wave still fading in the start state)
    assert (variation(flat, flat["arrest_rate"] / flat["crackdown"]) < 1e-9).all()
    assert most(variation(base), variation(steep)) >= MOST  # at 3 it follows the value of an arrest more
    for ts in (flat, base, steep):  # control at home is worth far more than the chip
        means = ts.groupby("replicate")[["control_value", "chip_value"]].mean()
        assert most(means["chip_value"] < 0.2 * means["control_value"]) >= MOST


def check_e7():
    def final(seed: int) -> tuple[int, list]:
        r = PageRun(Settings(BASE.scenario, (), seed, BASE.months))
        while r.step():
            pass
        ts, _, _ = r.tables()
        return int(ts["prisoners_held"].iloc[-1]), ts.drop(columns="seed").to_numpy().tolist()

    a, b = final(BASE.seed), final(BASE.seed)
    assert a == b  # the same seed gives the same run, month for month
    others = {final(BASE.seed + k)[0] for k in range(1, 6)}
    assert len(others | {a[0]}) > 1  # chance alone changes the final number held


def check_e8():
    out, _, _ = run()
    rel, _, _ = run(*lever("eu_stance", "relaxed"))
    assert most(rel["eu_sanctions_end"], out["eu_sanctions_end"]) >= MOST
    assert most(out["regime_relief_end"], rel["regime_relief_end"]) >= MOST
    assert rel["regime_relief_end"].median() > 1.5 * out["regime_relief_end"].median()
    assert most(rel["released_by_eu"] > 0) >= 0.5  # the EU now makes deals of its own
    assert rel["released_by_us"].median() < out["released_by_us"].median()  # the US buys fewer
    ratio = rel["released_deal"].median() / out["released_deal"].median()
    assert 0.85 < ratio < 1.15  # in all, about as many released in deals


def check_e9():
    none, _, _ = run(*lever("russia", end="lo"))
    full, _, _ = run(*lever("russia", end="hi"))
    assert most(full["released_deal"], none["released_deal"]) >= MOST
    assert most(full["regime_relief_end"], none["regime_relief_end"]) >= MOST


CHECKS = {f"E{i}": f for i, f in enumerate([check_e1, check_e2, check_e3, check_e4, check_e5, check_e6,
                                            check_e7, check_e8, check_e9], 1)}  # fmt: skip


def test_the_exercises_follow_the_pages_things_to_try():
    ex = _exercises()
    assert [t for t, _ in ex.values()] == [e.title for e in EXPERIMENTS]
    assert set(ex) == set(CHECKS)
    for eid, (_title, text) in ex.items():
        assert "**Expected answer.**" in text and "**Do.**" in text and "**Questions.**" in text, eid


@pytest.mark.parametrize("eid", sorted(CHECKS))
def test_expected_answer_holds_in_the_model(eid):
    CHECKS[eid]()


def test_the_lesson_plan_and_the_limits_page_are_there():
    plan = (TEACHING / "lesson-plan.md").read_text(encoding="utf-8")
    assert "50 minutes" in plan and "Learning objectives" in plan
    minutes = [int(m) for m in re.findall(r"^\| (\d+) min", plan, re.M)]
    assert sum(minutes) == 50, minutes
    limits = (TEACHING / "assumptions-and-limits.md").read_text(encoding="utf-8")
    assert "RU" in limits and "not a forecast" in limits
    readme = (TEACHING / "README.md").read_text(encoding="utf-8")
    for f in ("lesson-plan.md", "exercises.md", "assumptions-and-limits.md"):
        assert f in readme
