"""Reading cases and scenarios from ``conf/``: a case is data (``conf/case/<name>.yaml``).

``sim-run`` composes the same files through Hydra (:mod:`sim.edge.config`); this module reads them directly
for the core's tests, benchmarks and analysis code that need a case's parameters without Hydra. A test checks
that both give the same parameters for every scenario.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from sim.core.params import ParamError, ScenarioParams, changes_outside_case, from_mapping

from .paths import CONF_DIR

#: Keys of scenario files that are run control, not model parameters.
RUN_KEYS = {"description", "months", "replicates", "seed", "timeline", "origin"}


def cases() -> list[str]:
    """Names of the cases in ``conf/case/``."""
    return sorted(p.stem for p in (CONF_DIR / "case").glob("*.yaml"))


def scenarios() -> list[str]:
    """Names of the scenarios in ``conf/scenario/``."""
    return sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))


def _read(path: Path, what: str) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ParamError(f"{path.name}: unreadable {what} ({str(exc).splitlines()[0][:100]})") from None
    if not isinstance(data, dict):
        raise ParamError(f"{path.name}: a {what} file must be a mapping")
    data.pop("defaults", None)
    return data


def scenario_case(scenario: str) -> str | None:
    """The case a scenario belongs to: ``<case>_<question>.yaml`` belongs to ``<case>``; None for a scenario
    every case can run (``baseline``, ``us_conditional``...), as far as the case has what it sets."""
    return next((c for c in cases() if scenario.startswith(f"{c}_")), None)


def scenario_fits(case: str, scenario: str) -> str | None:
    """Why a scenario cannot run on a case (one line), or None when it can."""
    own = scenario_case(scenario)
    if own is not None and own != case:
        return f"scenario={scenario}: a scenario of case {own}, not of case {case}"
    try:
        case_params(case, scenario)
    except ParamError as exc:
        return str(exc)
    return None


def scenarios_for(case: str) -> list[str]:
    """The scenarios a case can run."""
    return [s for s in scenarios() if scenario_fits(case, s) is None]


def scenario_description(name: str) -> str:
    """A scenario's question (its ``description``), on one line."""
    return " ".join(str(scenario_mapping(name).get("description", "")).split())


def case_mapping(name: str) -> dict:
    """The raw mapping of a case file."""
    if name not in cases():
        raise ParamError(f"case={name}: unknown case; allowed: {', '.join(cases())}")
    return _read(CONF_DIR / "case" / f"{name}.yaml", "case")


def scenario_mapping(name: str) -> dict:
    """The raw mapping of a scenario file (run control included)."""
    if name not in scenarios():
        raise ParamError(f"scenario={name}: unknown scenario; allowed: {', '.join(scenarios())}")
    return _read(CONF_DIR / "scenario" / f"{name}.yaml", "scenario")


def case_params(case: str = "belarus", scenario: str | None = "baseline", **changes) -> ScenarioParams:
    """A case's parameters, with a scenario's changes and dotted-name ``changes`` on top (no calibration).

    Args:
        case: a case in ``conf/case/``.
        scenario: a scenario in ``conf/scenario/``, or None.
        changes: dotted names (``us__policy`` or ``us.policy``) to set last.
    """
    base = params = from_mapping(case_mapping(case))
    if scenario is not None:
        data = {k: v for k, v in scenario_mapping(scenario).items() if k not in RUN_KEYS}
        params = from_mapping(data, params)
    if changes:
        params = params.replace(**{k.replace("__", "."): v for k, v in changes.items()})
    outside = changes_outside_case(base, params)
    if outside:
        raise ParamError(f"scenario={scenario}: {outside[0]}")
    return params
