"""Hydra edge, part 1: the run configuration schema and its conversion to model parameters.

The schema is :class:`RunConfig`: the model's :class:`~sim.params.ScenarioParams` plus run control. Hydra
checks types and key names while composing; ``OmegaConf.to_object`` then builds the dataclasses, whose
``__post_init__`` checks ranges and choices. Only this module and :mod:`sim.cli` import Hydra/OmegaConf.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from .params import ParamError, ScenarioParams

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
    """

    description: str = ""
    months: int = 60
    replicates: int = 20
    seed: int = 20251213
    overwrite: bool = False
    progress: bool = True

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
