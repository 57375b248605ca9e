"""Forward runs from a calibration: the saved state, the scenario's initial conditions, each replicate's
particle, and what the run record says."""

from __future__ import annotations

import numpy as np
import pytest
from calibration_fixture import make_calibration

from sim.analysis.forward import Calibration, ForwardError, plan, replay_seed, start_state
from sim.core.handoff import scenario_on_state
from sim.core.model import RepressionBargaining
from sim.core.params import flatten
from sim.core.timeline import Event
from sim.store.calibrations import read_calibration
from sim.store.cases import case_params
from sim.store.timelines import load_timeline


@pytest.fixture(scope="module")
def cal(tmp_path_factory) -> Calibration:
    return read_calibration(str(make_calibration(tmp_path_factory.mktemp("cal") / "c")), "belarus")


def test_the_calibration_reads_back_with_its_states(cal):
    assert cal.state_month == "2026-01" and len(cal.states) == len(cal.state_particles) == 6
    assert set(cal.point) == set(cal.state_particles.columns)
    assert cal.base.start == "2020-08" and cal.data_vintage == "2025-12"


def test_a_scenario_sets_its_initial_conditions_on_the_saved_state(cal):
    case = case_params("belarus", None)
    state = cal.states[0]
    same, changed = scenario_on_state(state, case, case_params("belarus", "baseline"))
    assert same is state and changed == []
    pressure = case_params("belarus", "us_maximum_pressure")
    new, changed = scenario_on_state(state, case, pressure)
    assert changed == ["us.instruments.aviation.level", "us.instruments.potash.level"]
    us_old, us_new = state["counterparts"]["us"], new["counterparts"]["us"]
    for inst, old, now in zip(us_old["instruments"], us_old["level"], us_new["level"]):
        assert now == (1.0 if inst in ("aviation", "potash") else old)
    assert us_old["level"] != us_new["level"]  # the saved state itself is not modified
    assert state["counterparts"]["us"]["level"] == us_old["level"]
    # set explicitly to the case file's own value: still applied (the user asked for it)
    _, changed = scenario_on_state(state, case, case, explicit={"eu.instruments.systemic.level"})
    assert changed == ["eu.instruments.systemic.level"]


def test_each_replicate_takes_a_particle_with_its_own_saved_state(cal):
    scenario = case_params("belarus", "baseline")
    reps, sentence = plan(scenario, 10, 5, cal, uncertainty=True)
    assert "parameter uncertainty" in sentence
    assert len({r.particle for r in reps}) > 1
    for r in reps:
        assert r.state is cal.states[r.particle]
        values = flatten(r.params)
        for name, v in cal.state_particles.iloc[r.particle].items():
            assert values[name] == pytest.approx(v)


def test_values_set_by_the_user_are_never_replaced(cal):
    scenario = case_params("belarus", "baseline", regime__arrests_ref=12.0)
    reps, _ = plan(scenario, 5, 5, cal, uncertainty=True, explicit={"regime.arrests_ref"})
    assert all(r.params.regime.arrests_ref == 12.0 for r in reps)
    reps, _ = plan(scenario, 5, 5, cal, uncertainty=False, explicit={"regime.arrests_ref"})
    assert all(r.params.regime.arrests_ref == 12.0 for r in reps)


def test_without_parameter_uncertainty_every_replicate_has_the_point_values(cal):
    reps, sentence = plan(case_params("belarus", "baseline"), 4, 5, cal, uncertainty=False)
    assert "not included" in sentence
    for r in reps:
        assert r.particle == -1 and r.state is None and r.replay is not None
        for name, v in cal.point.items():
            assert flatten(r.params)[name] == pytest.approx(v)
            assert flatten(r.replay)[name] == pytest.approx(v)


def test_a_fit_is_never_applied_across_cases_nor_before_its_record(cal):
    scenario = case_params("belarus", "baseline")
    other = Calibration(**{**cal.__dict__, "case": "nicaragua"})
    with pytest.raises(ForwardError, match="never applied across cases"):
        plan(scenario, 2, 1, other, True)
    with pytest.raises(ForwardError, match="start = 2020-08"):
        plan(
            scenario.replace(start="2020-08", **{"population.first_arrest_month": "2019-01"}), 2, 1, cal, True
        )


def test_a_replayed_start_uses_no_event_after_the_month_before_the_start(cal):
    scenario = case_params("belarus", "backtest_2024")
    (rep,) = plan(scenario, 1, 3, cal, uncertainty=True)[0]
    assert rep.state is None and rep.replay is not None  # 2024-07 is not the saved states' month
    case = case_params("belarus", None)
    events = list(load_timeline("belarus"))
    later = Event(month="2024-07", type="pardon", source="test", confidence="H", released=500)
    a, _ = start_state(rep, case, events, 9)
    b, _ = start_state(rep, case, [*events, later], 9)
    assert a["month"] == "2024-07"
    for col in a["registry"]:
        assert np.array_equal(a["registry"][col], b["registry"][col])
    early = Event(month="2024-06", type="pardon", source="test", confidence="H", released=500)
    c, _ = start_state(rep, case, [*events, early], 9)
    assert len(c["registry"]["arrest"]) != len(a["registry"]["arrest"])  # an event before the start counts


def test_a_run_from_a_saved_state_continues_its_stock(cal):
    scenario = case_params("belarus", "baseline")
    (rep,) = plan(scenario, 1, 3, cal, uncertainty=True)[0]
    state, _ = start_state(rep, case_params("belarus", None), [], replay_seed(1))
    held = int((np.asarray(state["registry"]["status"]) == 0).sum())
    m = RepressionBargaining(rep.params, months=1, rng=1, state=state).run()
    out = m.out
    released = (
        out["released_deal"][0] + out["released_pardon"][0] + out["released_served"][0] + out["died"][0]
    )
    assert out["prisoners_held"][0] == held + out["arrests"][0] - released
