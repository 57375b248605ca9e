"""Parameters: defaults valid, ranges enforced with the field's name, every field documented and sourced,
cases and scenarios compose the same way with or without Hydra."""

from __future__ import annotations

import dataclasses

import pytest
from hydra import compose, initialize_config_dir

from sim.core.params import ParamError, ScenarioParams, describe, from_mapping
from sim.edge.config import register, scenario_params, to_run_config
from sim.store.cases import case_params, cases, scenarios_for
from sim.store.paths import CONF_DIR
from sim.store.sources import load_figures


def test_defaults_are_valid():
    ScenarioParams()
    case_params("belarus", "baseline")


@pytest.mark.parametrize(
    "name,value,field",
    [
        ("regime.arrests_ref", -1.0, "regime.arrests_ref"),
        ("population.tie_shares.lt", 1.5, "population.tie_shares.lt"),
        ("us.policy", "appeasement", "us.policy"),
        ("eu.stance", "half", "eu.stance"),
        ("us.engagement_from", "June", "us.engagement_from"),
        ("start", "2025/12", "start"),
        ("start", "1900-01", "start"),
        ("us.instruments.potash.level", 1.2, "us.instruments.potash.level"),
        ("regime.bargaining_power", 1.0, "regime.bargaining_power"),
        ("us.value_per_prisoner", -1.0, "us.value_per_prisoner"),
        ("us.destinations.ua", 0.5, "us.destinations"),
        ("us.tie", "martians", "us.tie"),
        ("population.first_arrest_month", "2026-01", "population.first_arrest_month"),
    ],
)
def test_out_of_range_names_the_field(belarus, name, value, field):
    with pytest.raises(ParamError) as err:
        belarus.replace(**{name: value})
    assert str(err.value).startswith(field)
    assert "\n" not in str(err.value)


def test_unknown_parameter(belarus):
    with pytest.raises(ParamError, match="us.prise: unknown parameter"):
        belarus.replace(**{"us.prise": 1.0})
    with pytest.raises(ParamError, match="us.instruments.gold"):
        belarus.replace(**{"us.instruments.gold.level": 1.0})


def test_replace_leaves_the_original_untouched(belarus):
    new = belarus.replace(**{"us.instruments.potash.level": 0.1, "us.policy": "conditional"})
    assert belarus.us.instruments["potash"].level == 0.5 and belarus.us.policy == "transactional"
    assert new.us.instruments["potash"].level == 0.1 and new.us.policy == "conditional"


def test_every_parameter_has_unit_role_and_source(belarus):
    rows = describe(belarus)
    assert len(rows) > 100
    for r in rows:
        assert r["unit"], r["name"]
        assert r["role"] in ("lever", "uncertainty"), r["name"]
        assert r["source"], r["name"]
    levers = {r["name"] for r in rows if r["role"] == "lever"}
    assert {"us.policy", "us.value_per_prisoner", "eu.stance", "us.detection", "us.restraint"} <= levers
    assert "us.instruments.potash.value" in {r["name"] for r in rows}  # a case's instruments are listed


def test_seed_sources_exist_in_the_seeds_table(belarus):
    ids = set(load_figures()["id"])
    cited = {
        r["source"].split()[0].removeprefix("seeds:")
        for r in describe(belarus)
        if r["source"].startswith("seeds:")
    }
    assert cited and cited <= ids, cited - ids


def test_defaults_match_seed_figures(belarus):
    figs = load_figures().set_index("id")["value"]
    assert belarus.regime.arrests_ref == figs["new_political_prisoners_2025_11"]
    assert belarus.population.initial_stock > figs["prisoners_held_2025_12"]  # "more than 1100"
    assert belarus.us.destinations["ua"] == pytest.approx(
        figs["release_2025_12_to_ukraine"] / figs["release_2025_12_total"], abs=0.005
    )
    assert belarus.population.sentence_symbol_years == pytest.approx(
        (figs["sentence_bialiatski"] + figs["sentence_kalesnikava"]) / 2
    )


def test_params_are_plain_mutable_dataclasses():
    # Hydra schemas cannot be frozen dataclasses (composition fails with ReadonlyConfigError)
    assert not ScenarioParams.__dataclass_params__.frozen
    for f in dataclasses.fields(ScenarioParams):
        value = getattr(ScenarioParams(), f.name)
        if dataclasses.is_dataclass(value):
            assert not type(value).__dataclass_params__.frozen


def test_a_case_names_only_ties_and_destinations_it_has():
    with pytest.raises(ParamError, match="not a tie of the case"):
        from_mapping({"population": {"tie_shares": {"lt": 0.1}}})
    with pytest.raises(ParamError, match="destinations.ua: not a destination"):
        from_mapping({"us": {"present": True, "tie": "", "destinations": {"ua": 1.0}}})


@pytest.mark.parametrize("case, name", [(c, s) for c in cases() for s in scenarios_for(c)])
def test_hydra_and_the_store_compose_the_same_parameters(case, name):
    """One source of truth: sim-run (Hydra) and sim.store.cases read the same files into the same values."""
    register()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        rc = to_run_config(compose(config_name="config", overrides=[f"case={case}", f"scenario={name}"]))
    assert scenario_params(rc) == case_params(case, name)
