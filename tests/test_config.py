"""The Hydra edge: every scenario composes and converts; bad input is one line, before any work."""

from __future__ import annotations

import dataclasses

import pytest
from hydra import compose, initialize_config_dir

from sim.edge.cli import UserError, precheck, scenarios
from sim.edge.config import CONF_DIR, scenario_params, to_run_config

EXPECTED = {
    "baseline",
    "us_conditional",
    "us_snapback",
    "us_maximum_pressure",
    "us_grand_bargain",
    "eu_relaxes",
    "eu_transit_reopens",
    "no_external_deals",
    "economic_squeeze",
    "opposition_surge",
}


def test_scenario_library_is_complete():
    assert EXPECTED <= set(scenarios())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_scenario_composes_states_its_question_and_differs(name):
    text = (CONF_DIR / "scenario" / f"{name}.yaml").read_text()
    assert text.splitlines()[1].startswith("# Question:")  # after "# @package _global_"
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        rc = to_run_config(compose(config_name="config", overrides=[f"scenario={name}"]))
    assert rc.name == name and rc.description
    params = scenario_params(rc)
    if name != "baseline":
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            base = scenario_params(to_run_config(compose(config_name="config")))
        assert params != dataclasses.replace(
            base, name=name
        )  # the scenario changes something besides its name


def test_command_line_wins_over_scenario():
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        rc = to_run_config(
            compose(
                config_name="config", overrides=["scenario=us_conditional", "us.policy=snapback", "months=7"]
            )
        )
    assert rc.us.policy == "snapback" and rc.months == 7


@pytest.mark.parametrize(
    "argv,starts",
    [
        (["us.value_per_prisoner=-1"], "us.value_per_prisoner = -1.0: must be in"),
        (["population.tie_shares.pl=1.2"], "population.tie_shares.pl = 1.2: must be in [0.0, 1.0]"),
        (["scenario=nope"], "scenario=nope: unknown scenario; allowed: backtest_2024, baseline"),
        (["us.polcy=1"], "us.polcy: unknown key; allowed:"),
        (["months=abc"], "months = 'abc': must be a whole number"),
        (["months=0"], "months = 0: must be in [1, 1200]"),
        (["start=2025-13"], "start = '2025-13': must be a month as text YYYY-MM"),
        (["eu.stance=soft"], "eu.stance = 'soft': must be one of firm, relaxed"),
        (["-m", "us.value_per_prisoner=1,2,-3"], "us.value_per_prisoner = -3.0"),
        (["-m", "scenario=baseline,nope"], "scenario=nope: unknown scenario"),
        (["-m", "scenario=glob(zz*)"], "scenario=glob(zz*): matches no scenario"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(argv, starts):
    with pytest.raises(UserError) as err:
        precheck(argv)
    msg = str(err.value)
    assert msg.startswith(starts), msg
    assert "\n" not in msg


def test_existing_run_folder_is_not_overwritten(tmp_path):
    (tmp_path / "summary.json").write_text("{}")
    with pytest.raises(UserError, match="already holds a run"):
        precheck([f"hydra.run.dir={tmp_path}"])
    precheck([f"hydra.run.dir={tmp_path}", "overwrite=true"])  # explicit consent


def test_good_input_passes():
    precheck(["scenario=us_snapback", "replicates=3", "months=12", "seed=5"])
    precheck(["-m", "scenario=baseline,us_conditional", "us.value_per_prisoner=1,2"])
    precheck(["-m", "scenario=glob(us_*)", "us.leverage_value=range(0.1,0.4,0.1)"])
    # every scenario includes other cases' own scenarios, which a Belarus sweep refuses before any work
    with pytest.raises(UserError, match="a scenario of case"):
        precheck(["-m", "scenario=glob(*)"])
