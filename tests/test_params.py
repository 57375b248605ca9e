"""Parameters: defaults valid, ranges enforced with the field's name, every field documented and sourced."""

from __future__ import annotations

import dataclasses

import pytest

from sim.core.params import ParamError, ScenarioParams, describe
from sim.store.sources import load_figures


def test_defaults_are_valid():
    ScenarioParams()


@pytest.mark.parametrize(
    "name,value,field",
    [
        ("regime.arrests_ref", -1.0, "regime.arrests_ref"),
        ("population.tie_lt", 1.5, "population.tie_lt"),
        ("us.relief_per_round", 2.0, "us.relief_per_round"),
        ("us.policy", "appeasement", "us.policy"),
        ("eu.transit", "half", "eu.transit"),
        ("eu.transit_reopen_month", "June", "eu.transit_reopen_month"),
        ("start", "2025/12", "start"),
        ("us.potash.level", 1.2, "us.potash.level"),
        ("regime.bargaining_power", 1.0, "regime.bargaining_power"),
    ],
)
def test_out_of_range_names_the_field(name, value, field):
    with pytest.raises(ParamError) as err:
        ScenarioParams().replace(**{name: value})
    assert str(err.value).startswith(field)
    assert "\n" not in str(err.value)


def test_unknown_parameter():
    with pytest.raises(ParamError, match="us.prise: unknown parameter"):
        ScenarioParams().replace(**{"us.prise": 1.0})


def test_replace_leaves_the_original_untouched():
    base = ScenarioParams()
    new = base.replace(**{"us.potash.level": 0.1, "us.policy": "conditional"})
    assert base.us.potash.level == 0.5 and base.us.policy == "transactional"
    assert new.us.potash.level == 0.1 and new.us.policy == "conditional"


def test_every_parameter_has_unit_role_and_source():
    rows = describe()
    assert len(rows) > 60
    for r in rows:
        assert r["unit"], r["name"]
        assert r["role"] in ("lever", "uncertainty"), r["name"]
        assert r["source"], r["name"]
    levers = {r["name"] for r in rows if r["role"] == "lever"}
    assert {"us.policy", "us.price_per_prisoner", "eu.stance", "eu.transit"} <= levers


def test_seed_sources_exist_in_the_seeds_table():
    ids = set(load_figures()["id"])
    cited = {
        r["source"].split()[0].removeprefix("seeds:") for r in describe() if r["source"].startswith("seeds:")
    }
    assert cited and cited <= ids, cited - ids


def test_defaults_match_seed_figures():
    figs = load_figures().set_index("id")["value"]
    p = ScenarioParams()
    assert p.regime.arrests_ref == figs["new_political_prisoners_2025_11"]
    assert p.population.initial_stock > figs["prisoners_held_2025_12"]  # a lower bound: "more than 1100"
    assert p.regime.dest_ua == pytest.approx(
        figs["release_2025_12_to_ukraine"] / figs["release_2025_12_total"]
    )
    assert p.regime.dest_lt == pytest.approx(
        figs["release_2025_12_to_lithuania"] / figs["release_2025_12_total"]
    )
    assert p.population.sentence_symbol_years == pytest.approx(
        (figs["sentence_bialiatski"] + figs["sentence_kalesnikava"]) / 2
    )


def test_params_are_plain_mutable_dataclasses():
    # Hydra schemas cannot be frozen dataclasses (composition fails with ReadonlyConfigError)
    assert not ScenarioParams.__dataclass_params__.frozen
    assert all(
        not type(getattr(ScenarioParams(), f.name)).__dataclass_params__.frozen
        for f in dataclasses.fields(ScenarioParams)
        if dataclasses.is_dataclass(getattr(ScenarioParams(), f.name))
    )
