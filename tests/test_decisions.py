"""Each actor's decision moves the way its rule says (docs/ODD.md, section 7).

Every test compares the same decision under two settings of what the rule looks at; each fails when the rule
is
switched off (checked by hand: removing the chip term from the arrest decision, the detection term from the
compliance decision, the table choice, the arrest term of the EU index, the threshold dynamics of
mobilisation).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import replicated
from sim.core.model import RepressionBargaining
from sim.store.cases import case_params


def model(params=None, **changes):
    p = params if params is not None else case_params("belarus", "baseline")
    return RepressionBargaining(p.replace(**changes) if changes else p, months=36, rng=1)


# ------------------------------------------------------------------ the regime
def test_regime_arrests_more_when_chips_are_worth_more():
    # relief enough to pay the tripled price for every prisoner, so that exhaustion does not cap the chip
    # value at what the relief can buy (price x exhaustion = min(price, relief / equivalents))
    m = model(**{"us.instruments.banking.value": 1e5})
    assert m.counterparts["us"].exhaustion(3 * m.regime.price["us"]) == 1.0
    base = m.regime.decide_arrests()
    chip = m.regime.last["chip"]
    m.regime.price["us"] *= 3.0  # the going price of a prisoner triples
    m.epoch += 1
    dearer = m.regime.decide_arrests()
    assert m.regime.last["chip"] > chip and dearer > base
    m.regime.round_belief = dict.fromkeys(m.regime.round_belief, 0.0)  # nobody is expected to buy
    none = m.regime.decide_arrests()
    assert m.regime.last["chip"] == 0.0 and none < base


def test_chips_are_worth_less_when_relief_runs_out_or_can_be_revoked():
    m = model()
    m.regime.decide_arrests()
    chip = m.regime.last["chip"]
    us = m.counterparts["us"]
    us.set_levels(us.level * 0.2)  # little relief left on the table: exhaustion
    m.regime.decide_arrests()
    exhausted = m.regime.last["chip"]
    us.set_levels(us.level / 0.2)
    m.regime.revocation["us"] = 0.8  # relief proved revocable
    m.epoch += 1
    m.regime.decide_arrests()
    assert exhausted < chip and m.regime.last["chip"] < chip


def _cheat_share(detection: float, draws: int = 400) -> float:
    m = model(**{"us.policy": "conditional", "us.detection": detection})
    lam = m.regime.decide_arrests()
    m.regime.clause = {
        "counterpart": "us",
        "month": m.t,
        "until": m.t + 6,
        "cap": 0.2 * lam,
        "at_stake": 20.0,
        "lifted": np.zeros(len(m.counterparts["us"].level)),
    }
    cheats = 0
    for _ in range(draws):
        m.regime.decide_arrests()
        cheats += m.regime.cheating
    return cheats / draws


def test_regime_cheats_when_detection_is_unlikely():
    assert _cheat_share(0.02) > _cheat_share(0.9) + 0.2


def test_cheating_is_detected_and_revoked_by_the_us():
    res = replicated(months=36, replicates=30, us__policy="conditional", us__detection=0.01)
    d = res.decisions
    cheat = d[(d["decision"] == "compliance") & (d["choice"] == "cheat")]
    assert len(cheat) > 0
    strict = replicated(months=36, replicates=30, us__policy="conditional", us__detection=0.95)
    s = strict.decisions
    assert (s["choice"] == "cheat").sum() < len(cheat)


# ------------------------------------------------------------------ the US
def test_us_offers_more_and_frees_more_when_value_per_prisoner_rises():
    low, high = model(**{"us.value_per_prisoner": 1.0}), model(**{"us.value_per_prisoner": 3.0})
    d_low, _ = low.counterparts["us"].solve()
    d_high, _ = high.counterparts["us"].solve()
    assert d_high.released >= d_low.released and d_high.relief_cost >= d_low.relief_cost


def test_raising_value_per_prisoner_never_lowers_expected_releases():
    """Over paired replicates (common seeds), releases in deals never fall by more than noise as the US values
    a release more: a US that values releases more also rebuilds more leverage to trade (rebuild_leverage)."""
    releases = []
    for value in (0.5, 1.0, 1.5, 3.0):
        ts = replicated(months=36, replicates=40, us__value_per_prisoner=value).timeseries
        releases.append(ts.groupby("replicate")["released_deal"].sum().to_numpy(dtype=float))
    for lower, higher in zip(releases, releases[1:]):
        diff = higher - lower
        assert diff.mean() > -2 * diff.std(ddof=1) / np.sqrt(len(diff)), (diff.mean(), diff.std())
    assert releases[-1].mean() > releases[0].mean()


@pytest.mark.parametrize("policy", ["transactional", "conditional", "snapback", "grand_bargain"])
def test_us_pauses_after_an_arrest_spike_under_any_policy(policy):
    m = model(**{"us.policy": policy, "us.contact_hazard_envoy": 1.0})
    us = m.counterparts["us"]
    m._cum["arrests"] = [0.0, 1000.0, 2000.0, 3000.0]  # three months at 1,000 arrests
    assert us.act() is None
    assert any(r[1] == "us" and r[3] == "pause" for r in m.decisions)


def test_us_adds_designations_when_arrests_rise():
    m = model(**{"us.designation_threshold": 1.5})
    us = m.counterparts["us"]
    j = us.inst.index("designations")
    m.t += 1
    m._cum["arrests"] = [0.0, 500.0, 1000.0, 1500.0]
    us.designate_after_spike()
    assert us.level[j] > 0 and any(r[2] == "designation" for r in m.decisions)
    calm = model()
    calm.t += 1
    ref = calm.counterparts["us"].reference
    calm._cum["arrests"] = [0.0, ref, 2 * ref, 3 * ref]
    calm.counterparts["us"].designate_after_spike()
    assert calm.counterparts["us"].level[j] == 0


def test_reimposed_relief_is_not_simply_sold_again():
    m = model()
    us = m.counterparts["us"]
    before = us.relief_values().copy()
    lifted = np.zeros(len(us.level))
    lifted[us.inst.index("banking")] = 0.5
    us.set_levels(us.level - lifted)
    us.reimpose(lifted)
    after = us.relief_values()
    j = us.inst.index("banking")
    assert after[j] < before[j] and m.regime.revocation["us"] > m.params.regime.revocation_prior


def test_snapback_is_rarely_triggered_by_noise():
    res = replicated(months=48, replicates=30, us__policy="snapback")
    d = res.decisions
    checks = d[d["decision"] == "snapback"]
    assert len(checks) > 10
    assert (checks["choice"] == "reimpose").mean() < 0.2


# ------------------------------------------------------------------ the EU and the neighbours
def _tighten_share(spike: float, lobbying: float = 0.5, draws: int = 300) -> float:
    m = model(**{"opposition.lobbying": lobbying})
    eu = m.counterparts["eu"]
    ref = eu.reference
    m._cum["arrests"] = list(np.cumsum([0.0] + [ref * spike] * 12))
    share = 0
    for _ in range(draws):
        eu.set_levels(np.array([0.85]))
        eu.renew()
        share += eu.level[0] > 0.85
    return share / draws


def test_eu_tightens_after_an_arrest_spike():
    assert _tighten_share(3.0) > _tighten_share(1.0) + 0.3


def test_exiles_lobbying_holds_the_eu_firmer():
    assert _tighten_share(1.5, lobbying=1.0) > _tighten_share(1.5, lobbying=0.0)


def test_lithuania_reopens_transit_when_revenue_beats_security_and_alignment():
    m = model(**{"lithuania.transit_revenue": 5.0, "lithuania.alignment_cost": 1.0})
    lt = m.counterparts["lithuania"]
    j = lt.inst.index("transit")
    m.t += 1
    lt.review_transit()
    assert lt.level[j] == 0.0
    hard = model()
    hard.t += 1
    hard.counterparts["lithuania"].review_transit()
    assert hard.counterparts["lithuania"].level[j] == 1.0


# ------------------------------------------------------------------ the opposition
def test_mobilisation_tips_above_its_threshold():
    m = model()
    op = m.opposition
    ends = {}
    for start in (0.12, 0.2):
        op.mobilisation = start
        for _ in range(24):
            op.mobilise(0, 0, 0)
        ends[start] = op.mobilisation
    assert ends[0.12] < 0.1 and ends[0.2] > 0.8


def test_releases_bring_hope_and_expelled_leaders_loss():
    m = model()
    op = m.opposition
    op.mobilisation = 0.05
    hopeful = op.mobilise(0, 300, 0)
    op.mobilisation = 0.05
    bereft = op.mobilise(0, 300, 5)
    assert hopeful > bereft
