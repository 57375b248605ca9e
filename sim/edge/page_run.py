"""The run behind the teaching page, without the page: its levers, scenarios, seeds, readouts and export.

* **Levers.** :data:`LEVERS` is the one list of the parameters the page lets a class change, by dotted name.
  Everything about a lever that the schema knows (default, unit, allowed and plausible range, choices,
  source) is read from :func:`sim.core.params.describe`; only its short label and a sentence in plain words
  live here. When a parameter is renamed in the core, this list is the one place to change.
* **Scenarios** are composed exactly as ``sim-run`` composes them (Hydra, ``conf/config.yaml`` with the
  scenario, then the configured calibration), so the page starts from the same values as ``sim-run
  scenario=NAME``; the page's changes are applied on top, as command-line values are.
* **Seeds** are whole numbers from 0 to :data:`SEED_MAX`. Text is refused rather than hashed, so every seed
  the page shows can be typed into ``sim-run seed=N`` and gives the same run.
* A page run with seed ``N`` is replicate 0 of ``sim-run scenario=... seed=N replicates=1``: its random
  stream is the replicate seed ``sim-run`` spawns from ``N``, so the export's command reproduces it.

Nothing here draws or serves a page (:mod:`sim.edge.app` does); the tests drive it directly.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import math
import re
import threading
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.core.metrics import RELEASE_CHANNELS, outcomes
from sim.core.model import OUTPUTS, RepressionBargaining
from sim.core.params import ParamError, ScenarioParams, describe, flatten
from sim.core.prisoners import month_text
from sim.core.run import COUNT_COLUMNS, DEAL_COLUMNS, spawn_seeds
from sim.store.paths import CONF_DIR
from sim.store.tables import provenance

from . import data_dictionary

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
        "How the United States bargains: transactional (relief for each release), conditional (relief only "
        "if new political arrests stop while it is verified), snapback (lifted sanctions come back if "
        "arrests spike after a deal), maximum_pressure (no deals) or grand_bargain (most sanctions for all "
        "prisoners at once).",
    ),
    Lever(
        "us_price",
        "us.price_per_prisoner",
        "US price per prisoner",
        "The most sanctions relief the US would give up to free one ordinary prisoner. A higher value means "
        "the US values each release more: it pays more per prisoner, and the regime learns a higher price.",
    ),
    Lever(
        "restraint",
        "us.restraint",
        "Arrest restraint demanded",
        "Under the conditional policy: how much the regime must cut new political arrests while a deal is "
        "being verified (100 % = no new arrests at all).",
    ),
    Lever(
        "eu_stance",
        "eu.stance",
        "EU stance",
        "The European Union's sanctions: firm (relaxed only if political persecution ends) or relaxed "
        "(they follow US relief part of the way at each yearly renewal).",
    ),
    Lever(
        "transit",
        "eu.transit",
        "Baltic transit",
        "Whether Belarusian potash may pass through Lithuanian and Polish ports. While transit is closed, "
        "US relief on potash is worth much less to the regime.",
    ),
    Lever(
        "price_effect",
        "regime.arrest_elasticity_price",
        "Price effect on arrests",
        "How strongly the regime's arrests respond to the price it has learned prisoners fetch: 0.5 means "
        "that when the learned price doubles, arrests rise by half. Studies of hostage-taking report 26-87 % "
        "more kidnappings after concessions.",
    ),
    Lever(
        "arrests",
        "regime.arrests_ref",
        "Arrests a month",
        "New political prisoners a month before any bargaining changes it (33 were counted in November 2025; "
        "the calibration fits it to the figures of 2024-2025).",
    ),
)
LEVER_BY_KEY = {lv.key: lv for lv in LEVERS}

RU_EXPLAINED = (
    "RU (relief unit) measures sanctions relief: one RU is what the regime got for each prisoner released in "
    "the December 2025 deal (123 prisoners for lifting US sanctions on the potash firm Belaruskali)."
)


# --------------------------------------------------------------------------------------------- the schema
SCHEMA: dict[str, dict[str, Any]] = {r["name"]: r for r in describe(ScenarioParams)}


@dataclass(frozen=True)
class Control:
    """How the page shows one lever: a choice, or a slider with its range, step and unit (from the schema).

    Slider range: from the schema's floor (``lo``, e.g. 0: no price, no price effect) to twice the top of the
    plausible range (capped at the schema's ``hi``), widened to hold the scenario's value: the plausible range
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
        return f"{float(value):,.{digits}f} {self.unit}"

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
    """The control of a lever, from the schema's row, holding ``value`` (the scenario's value).

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
    """The value of a dotted parameter name."""
    obj: Any = params
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


# ------------------------------------------------------------------------------------------ the scenarios
@dataclass(frozen=True)
class Scenario:
    """A scenario as ``sim-run scenario=NAME`` composes it.

    Attributes:
        name: the scenario's name in ``conf/scenario/``.
        params: its parameters with the configured calibration applied.
        question: the question it asks (its description).
        months: months ``sim-run`` simulates for it by default.
        seed: ``sim-run``'s default root seed.
        calibration: the calibration applied (a name or path), or empty.
        calibrated: the dotted names whose values come from the calibration.
    """

    name: str
    params: ScenarioParams
    question: str
    months: int
    seed: int
    calibration: str
    calibrated: frozenset[str] = field(default_factory=frozenset)


def scenario_names() -> list[str]:
    """The scenarios of ``conf/scenario/``."""
    return sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))


_HYDRA = threading.Lock()  # Hydra's global state is one per process: page sessions compose one at a time


@functools.cache
def scenario(name: str) -> Scenario:
    """Compose a scenario as ``sim-run`` does (once per process; the result is never changed in place).

    Raises:
        ParamError: an unknown scenario, naming the known ones.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from .config import calibrated_params, load_calibrated, register, to_run_config

    names = scenario_names()
    if name not in names:
        raise ParamError(f"scenario={name}: unknown scenario; allowed: {', '.join(names)}")
    with _HYDRA:
        register()
        GlobalHydra.instance().clear()
        try:
            with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
                rc = to_run_config(compose(config_name="config", overrides=[f"scenario={name}"]))
        finally:
            GlobalHydra.instance().clear()
    months, seed = rc.months, rc.seed
    rc.replicates, rc.parameter_uncertainty = 1, False
    params = calibrated_params(rc)[0][0]
    calibrated = frozenset(load_calibrated(rc.calibrated)[0]) if rc.calibrated else frozenset()
    return Scenario(name, params, rc.description, months, seed, rc.calibrated, calibrated)


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
    """What a page run is built from.

    Attributes:
        scenario: the scenario's name.
        changes: the page's lever values that differ from the scenario's (dotted name -> value).
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


class PageRun:
    """One run of the model on the page: built from settings, stepped a month at a time.

    Args:
        settings: scenario, changed levers, seed and length.

    Raises:
        ParamError: a setting outside its range (one line naming it).
    """

    def __init__(self, settings: Settings) -> None:
        settings.check()
        self.settings = settings
        self.scenario = scenario(settings.scenario)
        self.params = copy.deepcopy(self.scenario.params).replace(**dict(settings.changes))
        self.replicate_seed = spawn_seeds(settings.seed, 1)[0]
        self.model = RepressionBargaining(self.params, months=settings.months, rng=self.replicate_seed)
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
        """A monthly output so far (before the first step: its value at the start, where one exists)."""
        m = self.model
        if m.recorded:
            return m.out[name][: m.recorded]
        start = {"prisoners_held": m.registry.held, "learned_price": m.regime.price}
        return np.array([start.get(name, 0.0)], dtype=float)

    def readouts(self) -> dict[str, tuple[str, str]]:
        """The monitors: label -> (value as text, unit), from the tables' data dictionary."""
        m, n = self.model, self.model.recorded
        last = n - 1
        unit = data_dictionary.unit
        arrests = m.out["arrests"][:n]
        releases = sum(m.out[c][:n] for c in RELEASE_CHANNELS) if n else np.zeros(0)
        total_rel = float(np.sum(releases))
        ratio = f"{float(np.sum(arrests)) / total_rel:.2f}" if total_rel > 0 else "–"
        held = int(m.out["prisoners_held"][last]) if n else int(m.registry.held)
        ratio_unit = data_dictionary.unit("revolving_door_ratio", "outcomes.csv")
        return {
            "Month": (self.month(), f"month {n} of {m.months}" if n else f"start; {m.months} months to run"),
            "Prisoners held": (f"{held:,}", unit("prisoners_held")),
            "Arrests this month": (f"{int(arrests[last]):,}" if n else "–", unit("arrests")),
            "Releases this month": (f"{int(releases[last]):,}" if n else "–", unit("released_deal")),
            "Revolving-door ratio": (ratio, f"{ratio_unit}, since the start"),
            "Learned price": (f"{m.regime.price:.2f}", unit("learned_price")),
            "Deals so far": (f"{len(m.deals)}", "count"),
        }

    def question(self) -> str:
        """The scenario's question, with the page's changes to it."""
        q = self.scenario.question.strip()
        if not self.settings.changes:
            return q
        return f"{q} Changed on the page: {change_text(self.scenario, dict(self.settings.changes))}."

    # ------------------------------------------------------------------ the export
    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The run so far in sim-run's table format: monthly rows (counts as integers) and deals."""
        m, n = self.model, self.model.recorded
        ts = pd.DataFrame(
            {
                "scenario": self.params.name,
                "replicate": 0,
                "seed": np.full(n, self.replicate_seed, dtype=np.int64),
                "month": [month_text(m.t0 + i) for i in range(n)],
                **{k: m.out[k][:n] for k in OUTPUTS},
            }
        )
        counts = [c for c in OUTPUTS if c in COUNT_COLUMNS]
        ts[counts] = ts[counts].round().astype(np.int64)
        deals = pd.DataFrame(
            [
                {"scenario": self.params.name, "replicate": 0, "seed": self.replicate_seed, **d}
                for d in m.deals
            ],
            columns=DEAL_COLUMNS,
        )
        return ts, deals

    def command(self) -> str:
        """The ``sim-run`` command whose replicate 0 is this run (up to the months simulated so far)."""
        s = self.settings
        parts = [
            f"scenario={s.scenario}",
            f"seed={s.seed}",
            "replicates=1",
            f"months={max(self.recorded, 1)}",
        ]
        parts += [f"{k}={_cli_value(v)}" for k, v in s.changes]
        return "sim-run " + " ".join(parts)

    def settings_table(self) -> pd.DataFrame:
        """Every setting of the run: run control, then each parameter with its unit and where it came from."""
        s, sc = self.settings, self.scenario
        changed = dict(s.changes)
        rows = [
            ("run.scenario", s.scenario, "name", "page", "the scenario in conf/scenario/"),
            ("run.seed", s.seed, "integer", "page", "root seed (sim-run seed=)"),
            ("run.replicate_seed", self.replicate_seed, "integer", "derived", "spawned from run.seed"),
            ("run.months_planned", s.months, "months", "page", "length of the run on the page"),
            ("run.months_simulated", self.recorded, "months", "page", "months simulated when exported"),
            ("run.calibration", sc.calibration, "name", "conf/config.yaml", "calibration applied by sim-run"),
        ]
        for name, value in flatten(self.params).items():
            row = SCHEMA.get(name, {})
            origin = (
                "changed on the page"
                if name in changed
                else "calibrated"
                if name in sc.calibrated
                else "scenario or schema default"
            )
            rows.append((name, value, row.get("unit", ""), origin, row.get("source", "")))
        return pd.DataFrame(rows, columns=["setting", "value", "unit", "origin", "source"])

    def export_zip(self) -> bytes:
        """The run as a zip of CSV files, with its settings, seed, data dictionary and provenance."""
        ts, deals = self.tables()
        table = outcomes(ts, deals) if len(ts) else pd.DataFrame(columns=list(data_dictionary.OUTCOMES))
        table = table[[c for c in data_dictionary.OUTCOMES if c in table.columns]]
        files = {
            "README.txt": self.readme(len(ts)),
            "timeseries.csv": ts.to_csv(index=False),
            "deals.csv": deals.to_csv(index=False),
            "outcomes.csv": table.to_csv(index=False),
            "settings.csv": self.settings_table().to_csv(index=False),
            "data_dictionary.csv": pd.DataFrame(data_dictionary.rows()).to_csv(index=False),
            "provenance.json": json.dumps(
                provenance(self.settings.seed, ["sim-app", self.command()]), indent=2, default=str
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
        """What the export holds and how to repeat the run."""
        s, sc = self.settings, self.scenario
        changes = change_text(sc, dict(s.changes)) or "none"
        return "\n".join(
            [
                "Bargaining chips: one run of the teaching page, exported as CSV tables.",
                "",
                f"Scenario: {s.scenario} - {sc.question.strip()}",
                f"Changed on the page: {changes}",
                f"Seed: {s.seed} (replicate seed {self.replicate_seed}); months simulated: {rows} of "
                f"{s.months}" + (f" ({month_text(self.model.t0)} to {self.month()})" if rows else ""),
                f"Calibration applied: {sc.calibration or 'none'} (as sim-run applies it)",
                "",
                "Files:",
                "  timeseries.csv       one row per month (counts are whole numbers)",
                "  deals.csv            one row per deal",
                "  outcomes.csv         the run's headline outcomes",
                "  settings.csv         every setting: run control, seed, and every parameter with its unit",
                "                       and origin (scenario or schema default, calibrated, changed on the",
                "                       page)",
                "  data_dictionary.csv  what each column means, and its unit",
                "  provenance.json      model version (git commit), package versions, time",
                "",
                "Repeat this run from the project folder (replicate 0 is this run, month for month):",
                f"  .venv/bin/{self.command()}",
                "or on the page: choose the scenario, set the changed levers, type the seed, press Reset and",
                f"step {rows} months.",
                "",
            ]
        )


def _cli_value(v: Any) -> str:
    return repr(v) if isinstance(v, float) else str(v)


def change_text(sc: Scenario, changes: dict[str, Any]) -> str:
    """The page's changes in words: ``label value (scenario: value)``, in the order of :data:`LEVERS`."""
    parts = []
    for lv in LEVERS:
        if lv.name in changes:
            was = get(sc.params, lv.name)
            c = control(lv, was)
            parts.append(f"{lv.label} {c.text(changes[lv.name])} (scenario: {c.text(was)})")
    return "; ".join(parts)
