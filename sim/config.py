"""Hydra edge, part 1: the run configuration schema and its conversion to model parameters.

The schema is :class:`RunConfig`: the model's :class:`~sim.params.ScenarioParams` plus run control. Hydra
checks types and key names while composing; ``OmegaConf.to_object`` then builds the dataclasses, whose
``__post_init__`` checks ranges and choices. Only this module and :mod:`sim.cli` import Hydra/OmegaConf.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from .design import METHODS
from .params import ParamError, ScenarioParams


@dataclass
class DesignConfig:
    """A sensitivity design run by a sweep of chunk jobs (``sim-run sweep=sobol`` / ``sweep=morris``).

    Attributes:
        method: none (an ordinary run), sobol (Saltelli design, first and total indices) or morris.
        samples: Sobol base sample size (a power of 2; points = samples x (factors + 2)) or Morris trajectories.
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
            raise ParamError(f"design.chunk = {self.chunk}: must be in [0, design.chunks - 1 = {self.chunks - 1}]")
        if self.levels < 2:
            raise ParamError(f"design.levels = {self.levels}: must be at least 2")

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"


@dataclass
class RunConfig(ScenarioParams):
    """A what-if run: a scenario's parameters plus run control.

    Attributes:
        description: the question the scenario answers (shown in the report).
        months: months to simulate from ``start``.
        replicates: independent replicates; their seeds are spawned from ``seed``.
        seed: root seed (a non-negative integer).
        overwrite: allow writing into a folder that already holds a run.
        progress: show a progress bar over replicates (when attached to a terminal).
        report: write report.md and figures for this run (sweeps turn it off: the sweep report replaces them).
        fail_on_purpose: make this job fail after validation (to test a sweep's failure handling).
        design: a sensitivity design's chunk run by this job (method none: an ordinary run).
    """

    description: str = ""
    months: int = 60
    replicates: int = 20
    seed: int = 20251213
    overwrite: bool = False
    progress: bool = True
    report: bool = True
    fail_on_purpose: bool = False
    design: DesignConfig = field(default_factory=DesignConfig)

    def __post_init__(self) -> None:
        if not 1 <= self.months <= 1200:
            raise ParamError(f"months = {self.months}: must be in [1, 1200]")
        if not 1 <= self.replicates <= 1_000_000:
            raise ParamError(f"replicates = {self.replicates}: must be in [1, 1000000]")
        if self.seed < 0:
            raise ParamError(f"seed = {self.seed}: must be a non-negative integer")
        super().__post_init__()


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


def load_scenario(name: str, overrides: list[str] | None = None) -> tuple[ScenarioParams, str]:
    """The parameters and question of a scenario in ``conf/scenario/`` (composed like ``sim-run`` does).

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
    return scenario_params(rc), rc.description
