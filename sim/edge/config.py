"""Hydra edge, part 1: the run configuration schema and its conversion to model parameters.

The schema is :class:`RunConfig`: the model's :class:`~sim.core.params.ScenarioParams` plus run control. Hydra
checks types and key names while composing; ``OmegaConf.to_object`` then builds the dataclasses, whose
``__post_init__`` checks ranges and choices. Only this module and :mod:`sim.edge.cli` import Hydra/OmegaConf.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim.analysis.design import METHODS
from sim.analysis.text import clip_repr
from sim.core.calendar import month_index, month_text
from sim.core.params import ParamError, ScenarioParams, changes_outside_case
from sim.store.paths import CONF_DIR

#: How a run uses its case's timeline (``timeline=...`` on the command line).
TIMELINE_MODES = ("free", "replay")
# The calendar a run may cover: from the first month of the record the project models (the 1990s, as the
# post-Soviet political prisoner records start) to the end of the century. Month arithmetic and dated axes
# are exact in this window; outside it a start month is almost certainly a typo (e.g. 9999-12, 0000-01).
START_BOUNDS = ("1990-01", "2100-12")
# A run's name becomes a folder name (results/runs/<name>/...): a short slug, never a path.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class DesignConfig:
    """A sensitivity design run by a sweep of chunk jobs (``sim-run sweep=sobol`` / ``sweep=morris``).

    Attributes:
        method: none (an ordinary run), sobol (Saltelli design, first and total indices) or morris.
        samples: Sobol base sample size (a power of 2; points = samples x (factors + 2)) or Morris
        trajectories.
        include_levers: also vary the levers (policy choices), not only the uncertainties.
        factors: restrict the design to these dotted parameter names (empty: all with a plausible range).
        chunks: number of jobs the points are split into; ``chunk`` is this job's share (0 .. chunks-1).
        seed: seed of the design sampler (the same for every job, so they share one design).
        levels: Morris grid levels.
    """

    method: str = "none"
    samples: int = 64
    include_levers: bool = False
    factors: list[str] = field(default_factory=list)
    chunks: int = 1
    chunk: int = 0
    seed: int = 1
    levels: int = 4

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ParamError(f"design.method = {self.method!r}: must be one of {', '.join(METHODS)}")
        if self.samples < 2:
            raise ParamError(f"design.samples = {self.samples}: must be at least 2")
        if self.chunks < 1 or not 0 <= self.chunk < self.chunks:
            raise ParamError(
                f"design.chunk = {self.chunk}: must be in [0, design.chunks - 1 = {self.chunks - 1}]"
            )
        if self.levels < 2:
            raise ParamError(f"design.levels = {self.levels}: must be at least 2")


@dataclass
class RunConfig(ScenarioParams):
    """A what-if run: a scenario's parameters plus run control.

    Attributes:
        description: the question the scenario answers (shown in the report).
        months: months to simulate from ``start``.
        replicates: independent replicates; their seeds are spawned from ``seed``.
        seed: root seed (a non-negative integer).
        overwrite: allow writing into a folder that already holds a run.
        progress: show progress over replicates: a bar on a terminal, else a log line every
            ``progress_every`` seconds (under nohup, in a log file, in CI).
        progress_every: seconds between progress lines when the output is not a terminal.
        report: write report.md and figures for this run (sweeps turn it off: the sweep report replaces them).
        fail_on_purpose: make this job fail after validation (to test a sweep's failure handling).
        design: a sensitivity design's chunk run by this job (method none: an ordinary run).
        calibrated: the calibration to start from: ``auto`` (the case's installed calibration in
            conf/calibration/calibrated/<case>/, if there is one), ``none``, or a calibration folder or its
            calibrated.yaml. Its values replace the case's for its free parameters, except those set on the
            command line; forward runs start from its saved states or its replay of the record. Typed as
            ``calibration=...`` on the command line (``sim-run`` maps it: ``conf/calibration/`` is the group
            of calibration setups).
        parameter_uncertainty: each replicate draws its parameters (and its starting state) from the
            calibration's posterior; false: the posterior medians, stochastic variation only.
        timeline_mode: ``free`` (the actors decide deals, pardons and instrument changes from the start;
            the timeline's talks, crackdowns and incidents still happen) or ``replay`` (the timeline's deals,
            pardons and instrument changes are facts up to its last event). Typed as ``timeline=...``.
    """

    description: str = ""
    months: int = 60
    replicates: int = 20
    seed: int = 20251213
    overwrite: bool = False
    progress: bool = True
    progress_every: float = 30.0
    report: bool = True
    fail_on_purpose: bool = False
    design: DesignConfig = field(default_factory=DesignConfig)
    calibrated: str = "auto"
    parameter_uncertainty: bool = True
    timeline_mode: str = "free"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME_RE.match(self.name) or ".." in self.name:
            raise ParamError(
                f"name = {clip_repr(self.name)}: must be a short name of letters, digits, '_', '-' or '.' "
                "(it becomes a folder name, never a path)"
            )
        if not 1 <= self.months <= 1200:
            raise ParamError(f"months = {self.months}: must be in [1, 1200]")
        if not 1 <= self.replicates <= 1_000_000:
            raise ParamError(f"replicates = {self.replicates}: must be in [1, 1000000]")
        if self.seed < 0:
            raise ParamError(f"seed = {self.seed}: must be a non-negative integer")
        if self.timeline_mode not in TIMELINE_MODES:
            raise ParamError(f"timeline = {self.timeline_mode!r}: must be one of {', '.join(TIMELINE_MODES)}")
        if not self.progress_every > 0:
            raise ParamError(f"progress_every = {self.progress_every}: must be a positive number of seconds")
        check_calendar(self)
        super().__post_init__()


def check_calendar(params: ScenarioParams) -> None:
    """The run's months lie in :data:`START_BOUNDS` (start) and its stock was arrested before it starts.

    Raises:
        ParamError: naming the field and the allowed months.
    """
    from sim.core.params import MONTH_RE

    start = params.start
    if isinstance(start, str) and MONTH_RE.match(start):
        lo, hi = START_BOUNDS
        if not month_index(lo) <= month_index(start) <= month_index(hi):
            raise ParamError(f"start = {start!r}: must be a month from {lo} to {hi}")
        first = params.population.first_arrest_month
        if isinstance(first, str) and MONTH_RE.match(first) and month_index(first) > month_index(start):
            raise ParamError(
                f"population.first_arrest_month = {first!r}: must be at or before start = {start!r} "
                "(the stock held at the start was arrested before it)"
            )


def end_month(params, months: int) -> str:
    """The last month of a run of ``months`` months from ``params.start``."""
    return month_text(month_index(params.start) + months - 1)


def register() -> None:
    """Store the schema as ``base_config`` for ``conf/config.yaml``'s defaults list."""
    ConfigStore.instance().store(name="base_config", node=RunConfig)


def to_run_config(cfg: DictConfig) -> RunConfig:
    """Convert a composed configuration to a checked :class:`RunConfig` (raises ``ParamError``)."""
    obj = OmegaConf.to_object(cfg)
    if not isinstance(obj, RunConfig):
        raise ParamError("configuration: does not follow the RunConfig schema")
    return obj


def scenario_params(rc: RunConfig) -> ScenarioParams:
    """The model parameters of a run configuration (run-control fields dropped)."""
    names = {f.name for f in dataclasses.fields(ScenarioParams)}
    return ScenarioParams(**{n: getattr(rc, n) for n in names})


def resolve_calibration(rc: RunConfig):
    """The calibration a run uses (:class:`sim.analysis.forward.Calibration`), or None.

    ``calibrated`` is ``auto`` (the case's installed calibration, if it has one), ``none``, a case name, a
    calibration folder or a calibrated.yaml. A fit is never applied to another case.

    Raises:
        ParamError: one line naming the calibration and what is wrong with it.
    """
    from sim.store.calibrations import CalibrationError, installed

    name, case = rc.calibrated, rc.case.name
    if name in ("", "none"):
        return None
    if name == "auto":
        if not installed(case):
            return None
        name = case
    try:
        from sim.store.calibrations import calibrated_path

        path = calibrated_path(name)
        stamp = path.stat().st_mtime_ns if path.is_file() else 0
        return _cached_calibration(name, case, stamp)
    except CalibrationError as exc:
        raise ParamError(str(exc)) from None


@functools.lru_cache(maxsize=8)
def _cached_calibration(name: str, case: str, stamp: int):
    """:func:`sim.store.calibrations.read_calibration`, read once per file version (the pre-check composes
    every variant of a sweep)."""
    from sim.store.calibrations import read_calibration

    return read_calibration(name, case)


def explicit_keys(overrides: list[str]) -> set[str]:
    """The dotted names a command line sets (a calibration never replaces them)."""
    return {o.split("=", 1)[0].lstrip("+~") for o in overrides if "=" in o}


def forward_setup(rc: RunConfig, explicit: set[str] = frozenset()):
    """Everything a forward run needs beyond its configuration (:class:`sim.analysis.forward.Forward`): each
    replicate's parameters and starting state, the case's timeline and how it is used.

    Raises:
        ParamError: one line naming the field at fault and the allowed values.
    """
    from sim.analysis.forward import Forward, ForwardError, plan
    from sim.core.timeline import TimelineError
    from sim.store.cases import case_params, cases, scenario_case
    from sim.store.timelines import TIMELINE_DIR, load_timeline

    scenario = scenario_params(rc)
    case = case_params(rc.case.name, scenario=None) if rc.case.name in cases() else scenario
    outside = changes_outside_case(case, scenario)
    if outside:
        raise ParamError(f"scenario={rc.name}: {outside[0]}")
    own = scenario_case(rc.name)
    if own is not None and own != rc.case.name:
        raise ParamError(f"scenario={rc.name}: a scenario of case {own}, not of case {rc.case.name}")
    cal = resolve_calibration(rc)
    uncertainty = rc.parameter_uncertainty and cal is not None
    try:
        reps, sentence = plan(scenario, rc.replicates, rc.seed, cal, uncertainty, set(explicit))
    except ForwardError as exc:
        raise ParamError(str(exc)) from None
    if cal is None and rc.calibrated == "auto":
        sentence += f" (case {rc.case.name} has no installed calibration)"
    events = []
    if (TIMELINE_DIR / f"{rc.case.name}.yaml").is_file():  # a case may have no dated events
        try:
            events = list(load_timeline(rc.case.name))
        except TimelineError as exc:
            raise ParamError(f"timeline of case {rc.case.name}: {exc}") from None
    replay_until = None
    if rc.timeline_mode == "replay" and events:
        replay_until = max((e.month for e in events), key=month_index)
    return Forward(
        replicates=reps,
        uncertainty=sentence,
        calibration=cal,
        case=case,
        events=events,
        replay_until=replay_until,
        timeline_mode=rc.timeline_mode,
        explicit=set(explicit),
    )


def load_scenario(name: str, overrides: list[str] | None = None) -> tuple[ScenarioParams, str]:
    """The parameters and question of a scenario in ``conf/scenario/``, composed as ``sim-run`` does, with the
    case's calibration at its point values (the page runs one replicate at a time).

    Raises:
        ParamError: for an unknown scenario, naming the allowed ones.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    names = sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))
    if name not in names:
        raise ParamError(f"scenario={name}: unknown scenario; allowed: {', '.join(names)}")
    register()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        rc = to_run_config(compose(config_name="config", overrides=[f"scenario={name}", *(overrides or [])]))
    GlobalHydra.instance().clear()
    params = scenario_params(rc)
    cal = resolve_calibration(rc)
    if cal is not None:
        params = params.replace(**cal.point)
    return params, rc.description
