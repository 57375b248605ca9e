"""The teacher pack (docs/teaching/): its exercises' expected answers, checked against the model's output.

Every exercise of ``docs/teaching/exercises.md`` follows a "thing to try" of the page's Info panel (same
title, same order) and states its expected answer in words. The check of each answer is here: it runs the
model as the page does (the scenario as sim-run composes it, levers found by their page key, never by
parameter name) over paired replicates with the page's default seed, and asserts what the text says, in the
median and in most pairs. When the model changes and an answer stops being true, its check fails and names
the exercise.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sim.core.metrics import outcomes
from sim.core.run import run_replicates
from sim.edge.page_run import LEVER_BY_KEY, PageRun, Settings, control, get, scenario
from sim.edge.page_text import EXPERIMENTS

TEACHING = Path(__file__).resolve().parents[1] / "docs" / "teaching"
REPLICATES = 30
MOST = 0.75  # "in most runs": the share of paired replicates in which the answer holds


def _exercises() -> dict[str, tuple[str, str]]:
    """Exercise id -> (title, text) from exercises.md (headings ``## E1. Title``)."""
    text = (TEACHING / "exercises.md").read_text(encoding="utf-8")
    parts = re.split(r"^## (E\d+)\. (.+)$", text, flags=re.M)
    return {parts[i]: (parts[i + 1].strip(), parts[i + 2]) for i in range(1, len(parts), 3)}


BASE = scenario("baseline")


def lever(key: str, value=None, *, end: str | None = None) -> dict:
    """A page lever's change by its page key: a value, or the slider's ``lo`` / ``hi`` end."""
    lv = LEVER_BY_KEY[key]
    if end is not None:
        c = control(lv, get(BASE.params, lv.name))
        value = c.lo if end == "lo" else c.hi
    return {lv.name: value}


def run(**changes):
    """Outcomes and monthly table of the baseline with page levers changed, paired by the page's seed."""
    params = BASE.params.replace(**changes)
    res = run_replicates(params, months=BASE.months, replicates=REPLICATES, seed=BASE.seed)
    return outcomes(res.timeseries, res.deals).set_index("replicate"), res.timeseries


@pytest.fixture(scope="module")
def baseline():
    return run()


def most(a, b=None) -> float:
    """Share of pairs in which ``a`` holds (a boolean Series), or in which a < b."""
    return float(np.mean(a if b is None else a < b))


def check_e1(baseline):
    out, _ = baseline
    fall = out["initial_stock"] - out["final_stock"]
    assert fall.median() < 0.5 * out["total_releases"].median()  # the stock falls by far less than releases
    assert out["total_releases"].median() >= 300 and out["total_arrests"].median() >= 300  # hundreds
    assert 0.5 <= out["revolving_door_ratio"].median() <= 1.5


def check_e2(baseline):
    out, _ = baseline
    mp, _ = run(**lever("us_policy", "maximum_pressure"))
    assert (mp["deals"] == 0).all() and (mp["released_deal"] == 0).all()
    assert mp["total_arrests"].median() < out["total_arrests"].median()
    assert most(mp["total_arrests"], out["total_arrests"]) >= MOST
    assert mp["learned_price_end"].median() < out["learned_price_end"].median()


def check_e3(baseline):
    out, _ = baseline
    cond, _ = run(**lever("us_policy", "conditional"))
    assert cond["total_arrests"].median() < out["total_arrests"].median()
    assert most(cond["total_arrests"], out["total_arrests"]) >= MOST
    assert cond["revolving_door_ratio"].median() < out["revolving_door_ratio"].median()
    full, _ = run(**lever("us_policy", "conditional"), **lever("restraint", end="hi"))
    none, _ = run(**lever("us_policy", "conditional"), **lever("restraint", end="lo"))
    assert most(full["total_arrests"], none["total_arrests"]) >= MOST
    assert full["revolving_door_ratio"].median() < none["revolving_door_ratio"].median()


def check_e4(baseline):
    out, _ = baseline
    opened, _ = run(**lever("transit", "open"))
    assert opened["released_deal"].median() > out["released_deal"].median()
    assert most(out["released_deal"], opened["released_deal"]) >= MOST


def check_e5(_baseline):
    low, _ = run(**lever("us_price", 0.5))
    high, _ = run(**lever("us_price", 3.0))
    assert low["released_deal"].median() > high["released_deal"].median()
    assert most(high["released_deal"], low["released_deal"]) >= MOST
    assert low["learned_price_end"].median() < high["learned_price_end"].median()
    assert low["revolving_door_ratio"].median() < high["revolving_door_ratio"].median()


def _jumps(ts) -> np.ndarray:
    """Change of the expected arrest rate from the month before a deal to the deal's month."""
    out = []
    for _, g in ts.groupby("replicate"):
        rate, deal = g["arrest_rate"].to_numpy(), g["deal"].to_numpy()
        out += [rate[i] - rate[i - 1] for i in np.flatnonzero(deal[1:] > 0) + 1]
    return np.asarray(out)


def check_e6(_baseline):
    _, zero = run(**lever("price_effect", end="lo"))
    _, top = run(**lever("price_effect", end="hi"))
    j0, j1 = _jumps(zero), _jumps(top)
    assert len(j0) > 20 and len(j1) > 20
    assert abs(np.median(j0)) < 1.0  # persons/month: it hardly moves (mobilisation still nudges it)
    assert np.median(j1) > 5.0 and np.mean(j1 > 0) >= MOST  # it jumps in the month of a deal


def check_e7(_baseline):
    def final(seed: int) -> tuple[int, list]:
        r = PageRun(Settings(BASE.name, (), seed, BASE.months))
        while r.step():
            pass
        ts, _ = r.tables()
        return int(ts["prisoners_held"].iloc[-1]), ts.drop(columns="seed").to_numpy().tolist()

    a, b = final(BASE.seed), final(BASE.seed)
    assert a == b  # the same seed gives the same run, month for month
    others = {final(BASE.seed + k)[0] for k in range(1, 6)}
    assert len(others | {a[0]}) > 1  # chance alone changes the final number held


def check_e8(baseline):
    out, _ = baseline
    rel, _ = run(**lever("eu_stance", "relaxed"))
    assert (rel["eu_sanctions_end"] < out["eu_sanctions_end"]).mean() >= MOST
    assert rel["regime_relief_end"].median() > out["regime_relief_end"].median()
    assert rel["released_deal"].median() <= 1.1 * out["released_deal"].median()  # not more releases


CHECKS = {f"E{i}": f for i, f in enumerate([check_e1, check_e2, check_e3, check_e4, check_e5, check_e6,
                                            check_e7, check_e8], 1)}  # fmt: skip


def test_the_exercises_follow_the_pages_things_to_try():
    ex = _exercises()
    assert [t for t, _ in ex.values()] == [e.title for e in EXPERIMENTS]
    assert set(ex) == set(CHECKS)
    for eid, (_title, text) in ex.items():
        assert "**Expected answer.**" in text and "**Do.**" in text and "**Questions.**" in text, eid


@pytest.mark.parametrize("eid", sorted(CHECKS))
def test_expected_answer_holds_in_the_model(eid, baseline):
    CHECKS[eid](baseline)


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
