"""A saved state and the scenario a forward run starts from it. Pure.

A forward run that starts from a saved state (the end of a calibrated replay of the record) takes from the
state what history made: the prisoners held and their composition, the regime's learned prices and beliefs,
every counterpart's instruments and memory, the opposition, Russia's support. A scenario changes the rules
from then on (policies, values, costs, thresholds), and it may also change the *initial conditions* the state
holds: restore the aviation sanctions, open talks, start with a mobilised opposition. Those fields are
:data:`INITIAL_CONDITIONS`. One of them replaces the state's value when the scenario sets it to something
other
than the case file says, or when the user set it explicitly; otherwise the state's value stands (the case
file's value describes the same month the state does, but the state is what the replay arrived at).

``population.initial_stock`` is never applied: the saved registry is the stock.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from .params import ScenarioParams, flatten

#: Parameters a saved state holds its own value of, as (dotted-name pattern, where in the state).
#: ``*`` is a counterpart's name; ``*.instruments.<i>.level`` is matched by its last part.
INITIAL_CONDITIONS = (
    "<counterpart>.engaged",
    "<counterpart>.instruments.<instrument>.level",
    "opposition.initial_mobilisation",
    "russia.support",
)


def _conditions(params: ScenarioParams) -> dict[str, object]:
    """The initial-condition values of a parameter set, by dotted name."""
    flat = flatten(params)
    cps = params.counterparts()
    out: dict[str, object] = {}
    for name, cp in cps.items():
        out[f"{name}.engaged"] = bool(cp.engaged)
        for inst in cp.instruments:
            out[f"{name}.instruments.{inst}.level"] = float(flat[f"{name}.instruments.{inst}.level"])
    out["opposition.initial_mobilisation"] = float(params.opposition.initial_mobilisation)
    out["russia.support"] = float(params.russia.support)
    return out


def scenario_on_state(
    state: dict,
    case: ScenarioParams,
    scenario: ScenarioParams,
    explicit: Iterable[str] = (),
) -> tuple[dict, list[str]]:
    """The state a scenario's forward run starts from: the saved state with the scenario's initial conditions.

    Args:
        state: a saved state (:meth:`RepressionBargaining.snapshot`); not modified.
        case: the case's parameters as its file gives them (no scenario).
        scenario: the run's parameters (scenario, command line, calibration).
        explicit: dotted names set by the user; they are applied even when equal to the case file's value.

    Returns:
        The state to start from, and the dotted names whose scenario value replaced the state's.
    """
    before, after = _conditions(case), _conditions(scenario)
    explicit = set(explicit)
    changed = sorted(k for k, v in after.items() if k in explicit or before.get(k) != v)
    if not changed:
        return state, []
    out = copy.copy(state)
    out["counterparts"] = {k: dict(v) for k, v in state["counterparts"].items()}
    out["opposition"] = dict(state["opposition"])
    for key in changed:
        value = after[key]
        parts = key.split(".")
        if key == "opposition.initial_mobilisation":
            out["opposition"]["mobilisation"] = value
        elif key == "russia.support":
            out["russia_support"] = value
        elif parts[1] == "engaged":
            if parts[0] in out["counterparts"]:
                out["counterparts"][parts[0]]["engaged"] = value
        else:
            cs = out["counterparts"].get(parts[0])
            if cs is not None and parts[2] in cs["instruments"]:
                levels = list(cs["level"])
                levels[cs["instruments"].index(parts[2])] = value
                cs["level"] = levels
    return out, changed
