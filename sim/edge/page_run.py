"""The run behind the teaching page, without the page: its levers, scenarios, seeds, readouts and export.

* **Levers.** :data:`LEVERS` is the one list of the parameters the page lets a class change, by dotted name.
  Everything about a lever that the schema knows (unit, allowed and plausible range, choices, source) is read
  from :func:`sim.core.params.describe` of the case; only its short label and a sentence in plain words live
  here. When a parameter is renamed in the core, this list is the one place to change.
* **A page run is replicate 0 of** ``sim-run scenario=NAME seed=N replicates=1 <the page's changes>``, built
  by the same code: Hydra composes the configuration from those command-line values, and
  :func:`sim.edge.config.forward_setup` gives the replicate's parameters and the state it starts from (with
  the installed calibration and parameter uncertainty, as ``sim-run`` has them by default: the replicate draws
  a posterior particle from the root seed and starts from that particle's saved state). The page's lever
  changes are explicit command-line values, so the calibration never replaces them. The page steps the model
  a month at a time where ``sim-run`` runs it to the end; ``tests/test_page_run.py`` checks that the months
  are the same.
* **Scenarios** are the case's (:func:`sim.store.cases.scenarios_for`): the page shows the Belarus case.
* **Seeds** are whole numbers from 0 to :data:`SEED_MAX`. Text is refused rather than hashed, so every seed
  the page shows can be typed into ``sim-run seed=N`` and gives the same run.

Nothing here draws or serves a page (:mod:`sim.edge.app` does); the tests drive it directly.
"""

from __future__ import annotations

import functools
import io
import json
import math
import re
import threading
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.core.calendar import month_text
from sim.core.handoff import INITIAL_CONDITIONS
from sim.core.metrics import RELEASE_CHANNELS, case_actors, headlines_for, outcomes
from sim.core.model import COUNT_OUTPUTS, RepressionBargaining
from sim.core.params import ParamError, ScenarioParams, describe, flatten
from sim.core.run import DEAL_COLUMNS, DECISION_COLUMNS, monthly_decisions, run_replicates, spawn_seeds
from sim.store.cases import case_params, scenario_mapping, scenarios_for
from sim.store.paths import CONF_DIR
from sim.store.tables import provenance

from . import data_dictionary

#: The case whose scenarios the page offers.
CASE = "belarus"
SEED_MAX = 2**32 - 1
#: Longest run the page offers (months); the default is the scenario's own, as sim-run composes it.
MONTHS_MAX = 240
DEFAULT_SCENARIO = "baseline"


@dataclass(frozen=True)
class Lever:
    """A parameter the page lets the class change.

    Attributes:
        key: the page's own short id (the Info panel's experiments refer to levers by it).
        name: the dotted parameter name in the schema (:func:`sim.core.params.describe`).
        label: a short label for the control.
        plain: what it means, in plain words, for the Info panel.
    """

    key: str
    name: str
    label: str
    plain: str


#: The page's levers, in the order of the controls. The ONLY place that names the parameters the page uses.
LEVERS: tuple[Lever, ...] = (
    Lever(
        "us_policy",
        "us.policy",
        "US policy",
        "How the United States bargains: transactional (relief for releases, round after round), "
        "conditional (each deal also demands that the regime hold its arrests down while the deal is "
        "verified), snapback (lifted sanctions come back if arrests spike after a deal), maximum_pressure "
        "(no talks, no deals) or grand_bargain (most of its sanctions for all prisoners at once, take it or "
        "leave it).",
    ),
    Lever(
        "us_value",
        "us.value_per_prisoner",
        "US value of a release",
        "What freeing one ordinary prisoner is worth to the United States, in relief units. In a round the "
        "US weighs the releases it can buy at this value against what lifting sanctions costs it: the higher "
        "the value, the more relief it puts on the table for more prisoners. Calibrated: unless you move it, "
        "each seed draws its value from the fit (Belarus's record leaves it uncertain).",
    ),
    Lever(
        "restraint",
        "us.restraint",
        "Arrest restraint demanded",
        "Only under the conditional policy: how far a deal requires the regime to cut its arrests while the "
        "deal is verified (100 % = no new arrests). The regime then complies or cheats, whichever it expects "
        "to cost it less; the US catches cheating with some chance each month and takes the relief back.",
    ),
    Lever(
        "eu_stance",
        "eu.stance",
        "EU stance",
        "The European Union reviews its sanctions once a year. Firm: it relaxes only if the number of "
        "prisoners has fallen to about half of what it was at the start, and it does not bargain for "
        "prisoners. Relaxed: it follows US relief part of the way and bargains for releases itself. Either "
        "way, a surge of arrests can make it tighten.",
    ),
    Lever(
        "transit",
        "lithuania.instruments.transit.level",
        "Baltic transit closed at the start",
        "Whether Lithuania's ports are closed to Belarusian potash when the run starts (100 % closed, 0 % "
        "open). While transit is closed, US relief on potash is worth half as much to the regime. Lithuania "
        "reviews it every month: it reopens a closed route only if the transit revenue beats its security "
        "and EU-alignment costs, and closes an open one after security incidents.",
    ),
    Lever(
        "russia",
        "russia.support",
        "Russia's support",
        "How far Russia props up the regime when the run starts (0 none, 1 full). Russia is the regime's "
        "outside option: the more support, the less Western relief is worth to it.",
    ),
    Lever(
        "elasticity",
        "regime.arrest_elasticity",
        "Arrest elasticity",
        "How strongly the regime's arrests follow what an arrest is worth to it (its control at home plus "
        "its value as a bargaining chip, less the sanctions it expects): at 1, an arrest worth twice as much "
        "means twice the arrests; at 0, the regime arrests at one rate whatever an arrest is worth. "
        "Calibrated: unless you move it, each seed draws its value from the fit (Belarus's record leaves it "
        "uncertain).",
    ),
    Lever(
        "arrests",
        "regime.arrests_ref",
        "Reference arrests a month",
        "The scale of repression: the monthly arrests at which the last arrest costs the regime, at home, "
        "what an arrest is worth in the reference state (33 new political prisoners were counted in November "
        "2025). Calibrated: unless you move it, each seed draws its value from the fit (Belarus's record "
        "leaves it uncertain).",
    ),
)
LEVER_BY_KEY = {lv.key: lv for lv in LEVERS}

RU_EXPLAINED = (
    "RU (relief unit) measures sanctions relief: one RU is what the regime got for each prisoner released in "
    "the December 2025 deal (123 prisoners for lifting US sanctions on the potash firm Belaruskali)."
)


# --------------------------------------------------------------------------------------------- the schema
#: The schema's rows for the case: every parameter with its unit, ranges and source, and the case's dict
#: entries (instruments, tie shares) with the case file's values.
SCHEMA: dict[str, dict[str, Any]] = {r["name"]: r for r in describe(case_params(CASE, scenario=None))}


@dataclass(frozen=True)
class Control:
    """How the page shows one lever: a choice, or a slider with its range, step and unit (from the schema).

    Slider range: from the schema's floor (``lo``, e.g. 0: no value, no elasticity) to twice the top of the
    plausible range (capped at the schema's ``hi``), widened to hold the run's value: the plausible range
    plus the extremes a class wants to try. Step: 1 for whole numbers, else the round number (1, 2 or 5 times
    a power of ten) that cuts the range into at most 100 steps.
    """

    lever: Lever
    unit: str
    source: str
    choices: tuple[str, ...] | None = None
    lo: float = 0.0
    hi: float = 1.0
    step: float = 1.0
    integer: bool = False

    @property
    def decimals(self) -> int:
        """Decimals that show the step."""
        return 0 if self.integer else max(0, -math.floor(math.log10(self.step) + 1e-9))

    def text(self, value: Any) -> str:
        """The value with its unit, as the page shows it (shares as percentages)."""
        if self.choices is not None:
            return str(value)
        if self.unit == "share":
            return f"{100 * float(value):.{max(0, self.decimals - 2)}f} %"
        digits = self.decimals
        if not self.integer and abs(float(value) - round(float(value), digits)) > 1e-12:
            digits += 2  # a calibrated value off the slider's grid shows its own digits
        unit = {"dimensionless": "", "0-1": "on a 0-1 scale"}.get(self.unit, self.unit)
        return f"{float(value):,.{digits}f} {unit}".rstrip()

    def range_text(self) -> str:
        """The slider's range with its unit, once: ``0.0 to 6.0 RU/prisoner``, ``0 % to 100 %``."""
        if self.unit == "share":
            return f"{self.text(self.lo)} to {self.text(self.hi)}"
        bare = Control(
            self.lever, "dimensionless", "", lo=self.lo, hi=self.hi, step=self.step, integer=self.integer
        )
        return f"{bare.text(self.lo)} to {self.text(self.hi)}"

    def snap(self, value: float) -> float | int:
        """A slider position as a parameter value (whole numbers stay whole)."""
        return int(round(value)) if self.integer else round(float(value), self.decimals)


def _nice_step(span: float) -> float:
    raw = span / 100
    exp = math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * 10**exp >= raw - 1e-12:
            return m * 10**exp
    return 10 ** (exp + 1)


def control(lever: Lever, value: Any) -> Control:
    """The control of a lever, from the schema's row, holding ``value`` (the run's value).

    Raises:
        ParamError: the lever names no parameter of the schema, or one the page cannot offer.
    """
    row = SCHEMA.get(lever.name)
    if row is None:
        raise ParamError(f"page lever {lever.name}: not a parameter of the schema (update LEVERS)")
    if row["choices"] is not None:
        return Control(lever, row["unit"], row["source"], choices=tuple(row["choices"]))
    plausible = row["plausible"]
    if plausible is None or row["lo"] is None:
        raise ParamError(f"page lever {lever.name}: needs a floor (lo) and a plausible range in the schema")
    lo = float(row["lo"])
    hi = 2 * float(plausible[1])
    if row["hi"] is not None:
        hi = min(hi, float(row["hi"]))
    lo, hi = min(lo, float(value)), max(hi, float(value))
    integer = isinstance(row["default"], int) and not isinstance(row["default"], bool)
    step = 1.0 if integer else _nice_step(hi - lo)
    hi = lo + math.ceil((hi - lo) / step - 1e-9) * step
    return Control(lever, row["unit"], row["source"], lo=lo, hi=hi, step=step, integer=integer)


def get(params: ScenarioParams, name: str) -> Any:
    """The value of a dotted parameter name (through nested parameters and dict entries)."""
    obj: Any = params
    for part in name.split("."):
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return obj


def is_initial_condition(name: str, counterparts) -> bool:
    """Whether a dotted name is an initial condition (:data:`sim.core.handoff.INITIAL_CONDITIONS`) of a run
    whose counterparts are ``counterparts``."""
    head, *rest = name.split(".")
    if head in counterparts:
        return rest == ["engaged"] or (len(rest) == 3 and rest[0] == "instruments" and rest[2] == "level")
    return name in INITIAL_CONDITIONS


def start_value(model: RepressionBargaining, name: str) -> Any:
    """The value a parameter has when the model starts.

    An initial condition (:data:`sim.core.handoff.INITIAL_CONDITIONS`: a counterpart's talks and instrument
    levels, the opposition's mobilisation, Russia's support) is read from the model's state at the start,
    because a run from a saved state starts from the state's value, not the case file's, unless the scenario
    or the user changes it. Any other parameter is the run's own value.
    """
    head, *rest = name.split(".")
    c = model.counterparts.get(head)
    if c is not None and len(rest) == 3 and rest[0] == "instruments" and rest[2] == "level":
        return float(c.level[c.inst.index(rest[1])])
    if c is not None and rest == ["engaged"]:
        return bool(c.engaged)
    if name in INITIAL_CONDITIONS:  # the two that are not a counterpart's: the opposition's, Russia's
        return float(model.opposition.mobilisation if head == "opposition" else model.russia_support)
    return get(model.params, name)


# ------------------------------------------------------------------------------------------ the scenarios
@dataclass(frozen=True)
class Scenario:
    """A scenario of the page's case, as ``sim-run scenario=NAME`` composes it.

    Attributes:
        name: the scenario's name in ``conf/scenario/``.
        question: the question it asks (its description).
        months: months ``sim-run`` simulates for it by default.
        seed: ``sim-run``'s default root seed.
        start: its first month (YYYY-MM).
    """

    name: str
    question: str
    months: int
    seed: int
    start: str


@functools.cache
def scenario_names() -> tuple[str, ...]:
    """The scenarios the page's case can run."""
    return tuple(scenarios_for(CASE))


_HYDRA = threading.Lock()  # Hydra's global state is one per process: page sessions compose one at a time


@functools.lru_cache(maxsize=256)
def run_config(overrides: tuple[str, ...]):
    """The checked :class:`sim.edge.config.RunConfig` that Hydra composes from ``sim-run``'s command-line
    values (``conf/config.yaml``, the case, the scenario, then the values), as ``sim-run`` composes it. The
    result is shared: never change it in place.

    Raises:
        ParamError: a value the schema refuses (one line).
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from .config import register, to_run_config

    with _HYDRA:
        register()
        GlobalHydra.instance().clear()
        try:
            with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
                return to_run_config(compose(config_name="config", overrides=list(overrides)))
        except (HydraException, OmegaConfBaseException) as exc:
            raise ParamError(str(exc).strip().splitlines()[0]) from None
        finally:
            GlobalHydra.instance().clear()


@functools.cache
def scenario(name: str) -> Scenario:
    """A scenario of the page's case, as ``sim-run scenario=NAME`` composes it (once per process).

    Raises:
        ParamError: an unknown scenario, or one the case cannot run, naming the allowed ones.
    """
    names = scenario_names()
    if name not in names:
        raise ParamError(f"scenario={name}: not a scenario of case {CASE}; allowed: {', '.join(names)}")
    scenario_mapping(name)  # an unreadable file is refused in one line
    rc = run_config((f"scenario={name}",))
    return Scenario(name, rc.description, rc.months, rc.seed, rc.start)


# ----------------------------------------------------------------------------------------------- the seed
class SeedError(ValueError):
    """A seed the page refuses, with a one-line reason for the box."""


_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def parse_seed(text: Any) -> int:
    """A seed typed in the page's box: a whole number from 0 to :data:`SEED_MAX` (spaces around it ignored).

    Raises:
        SeedError: one line saying what is allowed.
    """
    s = "" if text is None else str(text).strip()
    allowed = f"a whole number from 0 to {SEED_MAX}"
    if not s:
        raise SeedError(f"Seed: type {allowed}.")
    if not _DIGITS.fullmatch(s):
        what = "a negative number" if s.startswith("-") else "not a whole number"
        if re.search(r"[^\W\d_]", s) and not re.fullmatch(r"[0-9.eE+-]+", s):
            what = "text is not accepted, so that every run can be repeated with sim-run seed=N"
        return _refuse(s, what, allowed)
    if len(s) > len(str(SEED_MAX)) or int(s) > SEED_MAX:
        return _refuse(s, "too large", allowed)
    return int(s)


def _refuse(s: str, what: str, allowed: str) -> int:
    shown = s if len(s) <= 24 else s[:21] + "..."
    raise SeedError(f"Seed {shown!r}: {what}; type {allowed}.")


# -------------------------------------------------------------------------------------------- a page run
@dataclass(frozen=True)
class Settings:
    """What a page run is built from: the values of a ``sim-run`` command line.

    Attributes:
        scenario: the scenario's name.
        changes: the levers the page set (dotted name -> value), in the order of :data:`LEVERS`: explicit
            command-line values, which the calibration never replaces.
        seed: the root seed (sim-run's ``seed=``).
        months: months the run lasts.
    """

    scenario: str = DEFAULT_SCENARIO
    changes: tuple[tuple[str, Any], ...] = ()
    seed: int = 0
    months: int = 60

    @classmethod
    def default(cls, name: str = DEFAULT_SCENARIO) -> Settings:
        """The scenario's settings with nothing changed: sim-run's default seed and months."""
        sc = scenario(name)
        return cls(name, (), sc.seed, min(sc.months, MONTHS_MAX))

    def check(self) -> None:
        """Raises ``ParamError`` (one line) for months outside [1, MONTHS_MAX] or a seed out of range."""
        if not 1 <= int(self.months) <= MONTHS_MAX:
            raise ParamError(f"months = {self.months}: must be in [1, {MONTHS_MAX}]")
        if not 0 <= int(self.seed) <= SEED_MAX:
            raise ParamError(f"seed = {self.seed}: must be a whole number from 0 to {SEED_MAX}")

    def overrides(self, months: int | None = None) -> tuple[str, ...]:
        """The ``sim-run`` command-line values of these settings (``months`` replaces the run's length)."""
        return (
            f"scenario={self.scenario}",
            f"seed={self.seed}",
            "replicates=1",
            f"months={self.months if months is None else months}",
            *(f"{k}={_cli_value(v)}" for k, v in self.changes),
        )


def _cli_value(v: Any) -> str:
    return repr(v) if isinstance(v, float) else str(v)


class PageRun:
    """One run of the model on the page: replicate 0 of ``sim-run`` with the page's settings, stepped a month
    at a time.

    Args:
        settings: scenario, changed levers, seed and length.

    Raises:
        ParamError: a setting outside its range, or one the case or the calibration refuses (one line naming
            it).
    """

    def __init__(self, settings: Settings) -> None:
        from .config import explicit_keys, forward_setup

        settings.check()
        self.settings = settings
        self.scenario = scenario(settings.scenario)
        overrides = settings.overrides()
        self.config = run_config(overrides)
        #: calibration, starting state and timeline, exactly as sim-run sets them up for this command line
        self.forward = forward_setup(self.config, explicit_keys(list(overrides)))
        self.replicate_seed = spawn_seeds(settings.seed, 1)[0]
        state = self.forward.starts(0, self.replicate_seed)
        self.params = self.forward.params[0]
        self.model = RepressionBargaining(
            self.params,
            months=settings.months,
            rng=self.replicate_seed,
            events=self.forward.events,
            replay_until=self.forward.replay_until,
            state=state,
        )
        #: each lever's value when the run starts (an initial condition from the state it starts from)
        self.start = {lv.name: start_value(self.model, lv.name) for lv in LEVERS}
        self._initial_conditions = {
            name: start_value(self.model, name)
            for name in flatten(self.params)
            if is_initial_condition(name, self.model.counterparts)
        }
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ stepping
    @property
    def recorded(self) -> int:
        """Months simulated so far."""
        return self.model.recorded

    @property
    def finished(self) -> bool:
        """All the run's months are simulated."""
        return self.model.recorded >= self.model.months

    def step(self) -> bool:
        """Simulate one month; False (and nothing done) when the run is over."""
        with self._lock:
            if self.finished:
                return False
            self.model.step()
            return True

    # ------------------------------------------------------------------ what the page shows
    def month(self) -> str:
        """The last simulated month (``YYYY-MM``), or the start month before the first step."""
        m = self.model
        return month_text(m.t0 + max(m.recorded, 1) - 1)

    def months(self) -> list[str]:
        """The simulated months (the start month alone before the first step)."""
        m = self.model
        return [month_text(m.t0 + i) for i in range(max(m.recorded, 1))]

    def end_month(self) -> str:
        """The run's last month."""
        return month_text(self.model.t0 + self.model.months - 1)

    def series(self, name: str) -> np.ndarray:
        """A monthly output so far (before the first step: its value when the run starts, 0 for a flow)."""
        m = self.model
        if m.recorded:
            return m.out[name][: m.recorded]
        return np.array([self._initial(name)], dtype=float)

    def _initial(self, name: str) -> float:
        """An output's value at the start (the state the run starts from), for the charts before step 1."""
        m, rg, op = self.model, self.model.regime, self.model.opposition
        held = m.registry.held
        us, eu = m.counterparts.get("us"), m.counterparts.get("eu")
        stocks = {
            "prisoners_held": held + (m.registry.on_parole(m.t) if m.params.case.counts_parole else 0),
            "in_prison": held,
            "learned_price": rg.price.get("us", max(rg.price.values(), default=0.0)),
            "arrest_rate": rg.arrest_rate,
            "control_value": rg.last["control"],
            "chip_value": rg.last["chip"],
            "external_cost": rg.last["external"],
            "us_sanctions": us.pressure() if us is not None else 0.0,
            "eu_sanctions": eu.pressure() if eu is not None else 0.0,
            "mobilisation": op.mobilisation,
            "lobbying": op.lobbying(),
            "fragmentation": op.fragmentation(),
            "russia_support": m.russia_support,
        }
        for n, c in m.counterparts.items():
            for j, inst in enumerate(c.inst):
                stocks[f"level_{n}_{inst}"] = float(c.level[j])
        return float(stocks.get(name, 0.0))

    def counterpart_outputs(self, counterpart: str) -> list[tuple[str, str]]:
        """The instrument levels of a counterpart of the case: (output column, instrument name)."""
        c = self.model.counterparts.get(counterpart)
        return [] if c is None else [(f"level_{counterpart}_{i}", i) for i in c.inst]

    def readouts(self) -> dict[str, tuple[str, str]]:
        """The monitors: label -> (value as text, unit), units from the tables' data dictionary."""
        m, n = self.model, self.model.recorded
        last = n - 1
        unit = data_dictionary.unit
        arrests = m.out["arrests"][:n]
        releases = sum(m.out[c][:n] for c in RELEASE_CHANNELS) if n else np.zeros(0)
        total_rel = float(np.sum(releases))
        ratio = f"{float(np.sum(arrests)) / total_rel:.2f}" if total_rel > 0 else "–"
        held = int(self.series("prisoners_held")[-1])
        ratio_unit = unit("revolving_door_ratio", "outcomes.csv")
        return {
            "Month": (self.month(), f"month {n} of {m.months}" if n else f"start; {m.months} months to run"),
            "Prisoners held": (f"{held:,}", unit("prisoners_held")),
            "Arrests this month": (f"{int(arrests[last]):,}" if n else "–", unit("arrests")),
            "Releases this month": (f"{int(releases[last]):,}" if n else "–", unit("released_deal")),
            "Revolving-door ratio": (ratio, f"{ratio_unit}, since the start"),
            "Learned price": (f"{self.series('learned_price')[-1]:.2f}", unit("learned_price")),
            "Chip value": (f"{self.series('chip_value')[-1]:.2f}", unit("chip_value")),
            "Relief gained": (f"{self.series('regime_relief')[-1]:,.0f}", unit("regime_relief")),
            "Deals so far": (f"{len(m.deals)}", "count"),
        }

    def decisions_now(self) -> list[tuple]:
        """The decision rows of the last simulated month, as ``decisions.parquet`` has them (without the
        scenario, replicate and seed): the decisions that fired, then the regime's arrests and the
        opposition's mobilisation."""
        m = self.model
        if not m.recorded:
            return []
        t = m.t0 + m.recorded - 1
        fired = [r for r in m.decisions if r[0] == t]
        monthly = [r for r in monthly_decisions(m) if r[0] == t]
        return [(month_text(r[0]), *r[1:]) for r in (*fired, *monthly)]

    def question(self) -> str:
        """The scenario's question, with the page's changes to it."""
        q = self.scenario.question.strip()
        if not self.settings.changes:
            return q
        return f"{q} Changed on the page: {change_text(self.start_values_without_changes(), self.settings)}."

    def start_values_without_changes(self) -> dict[str, Any]:
        """Each lever's value at the start of the run without the page's changes (same scenario and seed)."""
        s = self.settings
        return self.start if not s.changes else start_values(s.scenario, s.seed)

    # ------------------------------------------------------------------ the export
    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The run so far in sim-run's table format: monthly rows (counts as integers), deals, decisions."""
        m, n = self.model, self.model.recorded
        name, seed = self.params.name, self.replicate_seed
        ts = pd.DataFrame(
            {
                "scenario": pd.Series([name] * n, dtype="string"),
                "replicate": np.zeros(n, dtype=np.int64),
                "seed": np.full(n, seed, dtype=np.int64),
                "month": pd.Series([month_text(m.t0 + i) for i in range(n)], dtype="string"),
                **{k: m.out[k][:n] for k in m.outputs},
            }
        )
        counts = [c for c in m.outputs if c in COUNT_OUTPUTS]
        ts[counts] = ts[counts].astype(np.int64)
        rows = [{"scenario": name, "replicate": 0, "seed": seed, **d} for d in m.deals]
        extra = [c for c in (rows[0] if rows else {}) if c not in DEAL_COLUMNS]
        deals = pd.DataFrame(rows, columns=[*DEAL_COLUMNS, *extra])
        dec = [(name, 0, seed, month_text(r[0]), *r[1:]) for r in (*m.decisions, *monthly_decisions(m))]
        decisions = pd.DataFrame(dec, columns=DECISION_COLUMNS)
        decisions["scenario"] = decisions["scenario"].astype("string")
        return ts, deals, decisions

    def command(self) -> str:
        """The ``sim-run`` command whose replicate 0 is this run (up to the months simulated so far)."""
        return "sim-run " + " ".join(self.settings.overrides(months=max(self.recorded, 1)))

    def record(self) -> dict[str, Any]:
        """What sim-run's run folder says about the calibration and the starting state
        (:meth:`sim.analysis.forward.Forward.record`), with this replicate's particle and start."""
        fw, rep = self.forward, self.forward.replicates[0]
        return {
            **fw.record(),
            "uncertainty": fw.uncertainty,
            "parameter_uncertainty": bool(self.config.parameter_uncertainty and fw.calibration is not None),
            "particle": rep.particle,
            "replicate_start": rep.origin,
        }

    def settings_table(self) -> pd.DataFrame:
        """Every setting of the run: run control, calibration and start, each parameter with its unit and
        where its value came from, and the initial conditions the run started from."""
        s, rec = self.settings, self.record()
        changed = dict(s.changes)
        free = set(rec["free_parameters"])
        case = flatten(self.forward.case)
        rows: list[tuple] = [
            ("run.case", CASE, "name", "page", "the case whose scenarios the page offers"),
            ("run.scenario", s.scenario, "name", "page", "the scenario in conf/scenario/"),
            ("run.seed", s.seed, "integer", "page", "root seed (sim-run seed=)"),
            ("run.replicate_seed", self.replicate_seed, "integer", "derived", "spawned from run.seed"),
            ("run.months_planned", s.months, "months", "page", "length of the run on the page"),
            ("run.months_simulated", self.recorded, "months", "page", "months simulated when exported"),
            ("run.calibration", rec["calibration"] or "none", "path", "conf/config.yaml", "calibration used"),
            ("run.data_vintage", rec["data_vintage"] or "", "YYYY-MM", "calibration", "last data it fitted"),
            ("run.parameter_uncertainty", rec["parameter_uncertainty"], "bool", "conf/config.yaml", ""),
            ("run.particle", rec["particle"], "integer", "derived", "posterior particle drawn from run.seed"),
            ("run.start_state", rec["replicate_start"], "text", "derived", rec["start_state"]),
            ("run.timeline", rec["timeline"], "name", "conf/config.yaml", "free: the actors decide"),
        ]
        for name, value in flatten(self.params).items():
            row = SCHEMA.get(name, {})
            if name in changed:
                origin = "changed on the page (a sim-run command-line value)"
            elif name in free:
                origin = (
                    f"calibration: posterior particle {rec['particle']}"
                    if rec["particle"] >= 0
                    else "calibration: posterior median"
                )
            elif case.get(name) != value:
                origin = "scenario"
            else:
                origin = "case file or schema default"
            rows.append((name, value, row.get("unit", ""), origin, row.get("source", "")))
        for name, value in self.initial_conditions().items():
            row = SCHEMA.get(name, {})
            origin = (
                "changed on the page"
                if name in changed
                else "scenario"
                if name in rec["initial_conditions_from_scenario"]
                else "start state"
            )
            rows.append((f"start.{name}", value, row.get("unit", ""), origin, rec["replicate_start"]))
        return pd.DataFrame(rows, columns=["setting", "value", "unit", "origin", "source"])

    def initial_conditions(self) -> dict[str, Any]:
        """The initial conditions the run started from (:data:`sim.core.handoff.INITIAL_CONDITIONS`), by
        dotted name: from the saved state, unless the scenario or the page changed them."""
        return dict(self._initial_conditions)

    def export_zip(self) -> bytes:
        """The run as a zip of CSV files, with its settings, seed, data dictionary and provenance."""
        ts, deals, decisions = self.tables()
        heads = ["scenario", "replicate", "seed", *(o.name for o in headlines_for(case_actors(self.params)))]
        table = outcomes(ts, deals) if len(ts) else pd.DataFrame(columns=heads)
        table = table[heads]
        files = {
            "README.txt": self.readme(len(ts)),
            "timeseries.csv": ts.to_csv(index=False),
            "deals.csv": deals.to_csv(index=False),
            "decisions.csv": decisions.to_csv(index=False),
            "outcomes.csv": table.to_csv(index=False),
            "settings.csv": self.settings_table().to_csv(index=False),
            "data_dictionary.csv": pd.DataFrame(
                data_dictionary.rows(
                    {
                        "timeseries.csv": ts.columns,
                        "deals.csv": deals.columns,
                        "decisions.csv": decisions.columns,
                        "outcomes.csv": table.columns,
                    }
                )
            ).to_csv(index=False),
            "provenance.json": json.dumps(
                provenance(self.settings.seed, ["sim-app", self.command()], {"run": self.record()}),
                indent=2,
                default=str,
            ),
        }
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, text in files.items():
                z.writestr(f"{self.export_stem()}/{name}", text)
        return buf.getvalue()

    def export_stem(self) -> str:
        """The export's file name without ``.zip``: scenario and seed (its README gives the months)."""
        return f"bargaining-chips_{self.settings.scenario}_seed{self.settings.seed}"

    def readme(self, rows: int) -> str:
        """What the export holds, what the run started from, and how to repeat it."""
        s, sc, rec = self.settings, self.scenario, self.record()
        changes = change_text(self.start_values_without_changes(), s) or "none"
        cal = rec["calibration"]
        from_scenario = ", ".join(rec["initial_conditions_from_scenario"]) or "none"
        return "\n".join(
            [
                "Bargaining chips: one run of the teaching page, exported as CSV tables.",
                "",
                f"Case: {CASE}. Scenario: {s.scenario} - {sc.question.strip()}",
                f"Changed on the page: {changes}",
                f"Seed: {s.seed} (replicate seed {self.replicate_seed}); months simulated: {rows} of "
                f"{s.months}" + (f" ({month_text(self.model.t0)} to {self.month()})" if rows else ""),
                "",
                "Calibration and starting state (as sim-run's run folder records them):",
                f"  calibration: {cal or 'none'}"
                + (f" (fitted to data through {rec['data_vintage']})" if cal else ""),
                f"  parameter uncertainty: {'on' if rec['parameter_uncertainty'] else 'off'}; "
                + rec["uncertainty"],
                f"  this run's posterior particle: {rec['particle'] if rec['particle'] >= 0 else 'none'}",
                f"  free parameters (drawn unless changed on the page): "
                f"{', '.join(rec['free_parameters']) or 'none'}",
                f"  start state: {rec['start_state']}; this run: {rec['replicate_start']}",
                f"  initial conditions set by the scenario or the page: {from_scenario}",
                f"  timeline: {rec['timeline']} (replayed as facts until: {rec['replay_until'] or 'none'})",
                "",
                "Files:",
                "  timeseries.csv       one row per month (counts are whole numbers)",
                "  deals.csv            one row per deal",
                "  decisions.csv        one row per decision an actor took, with what it weighed",
                "  outcomes.csv         the run's headline outcomes",
                "  settings.csv         every setting: run control, seed, calibration and start, every",
                "                       parameter with its unit and origin (case file or schema default,",
                "                       scenario, calibration, changed on the page), and the initial",
                "                       conditions the run started from",
                "  data_dictionary.csv  what each column means, and its unit",
                "  provenance.json      model version (git commit), package versions, time, calibration",
                "",
                "Repeat this run from the project folder (replicate 0 is this run, month for month):",
                f"  .venv/bin/{self.command()}",
                "or on the page: choose the scenario, set the changed levers, type the seed, press Reset and",
                f"step {rows} months.",
                "",
            ]
        )


def sim_run(*overrides: str):
    """What ``sim-run <overrides>`` computes, without writing a run folder: the tables of its replicates and
    its forward set-up (calibration, each replicate's particle and start state), composed and run by the same
    functions ``sim-run`` uses (for the teacher pack's checks and the notebooks).

    Returns:
        ``(RunResult, Forward)``.

    Raises:
        ParamError: a value the schema, the case or the calibration refuses (one line).
    """
    from .config import explicit_keys, forward_setup

    rc = run_config(tuple(overrides))
    fw = forward_setup(rc, explicit_keys(list(overrides)))
    res = run_replicates(
        fw.params,
        rc.months,
        rc.replicates,
        rc.seed,
        events=fw.events,
        replay_until=fw.replay_until,
        starts=fw.starts,
    )
    return res, fw


@functools.lru_cache(maxsize=128)
def start_values(name: str, seed: int) -> dict[str, Any]:
    """Each lever's value when a run of scenario ``name`` with root seed ``seed`` and no page changes starts:
    what the controls show before a lever is moved (a calibrated value is the seed's posterior draw, an
    initial condition the state's)."""
    return PageRun(Settings(name, (), seed, 1)).start


def change_text(before: dict[str, Any], settings: Settings) -> str:
    """The page's changes in words: ``label value (without: value)``, in the order of :data:`LEVERS`."""
    changes = dict(settings.changes)
    parts = []
    for lv in LEVERS:
        if lv.name in changes:
            was = before[lv.name]
            c = control(lv, was)
            parts.append(f"{lv.label} {c.text(changes[lv.name])} (otherwise {c.text(was)})")
    return "; ".join(parts)
