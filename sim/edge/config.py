"""Hydra edge, part 1: the run configuration schema and its conversion to model parameters.

The schema is :class:`RunConfig`: the model's :class:`~sim.core.params.ScenarioParams` plus run control. Hydra
checks types and key names while composing; ``OmegaConf.to_object`` then builds the dataclasses, whose
``__post_init__`` checks ranges and choices. Only this module and :mod:`sim.edge.cli` import Hydra/OmegaConf.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim.analysis.design import METHODS
from sim.core.params import ParamError, ScenarioParams
from sim.store.paths import CONF_DIR


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
        progress: show a progress bar over replicates (when attached to a terminal).
        report: write report.md and figures for this run (sweeps turn it off: the sweep report replaces them).
        fail_on_purpose: make this job fail after validation (to test a sweep's failure handling).
        design: a sensitivity design's chunk run by this job (method none: an ordinary run).
        calibrated: a calibrated.yaml to take fitted parameter values from (a name in
        conf/calibration/calibrated/, a
            path, or empty for none); values set on the command line still win. Typed as ``calibration=...``
            on the command line (``sim-run`` maps it: ``conf/calibration/`` is the group of calibration
            setups).
        parameter_uncertainty: each replicate draws its parameters from the calibration's posterior.
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
    calibrated: str = ""
    parameter_uncertainty: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.months <= 1200:
            raise ParamError(f"months = {self.months}: must be in [1, 1200]")
        if not 1 <= self.replicates <= 1_000_000:
            raise ParamError(f"replicates = {self.replicates}: must be in [1, 1000000]")
        if self.seed < 0:
            raise ParamError(f"seed = {self.seed}: must be a non-negative integer")
        if self.parameter_uncertainty and not self.calibrated:
            raise ParamError(
                "parameter_uncertainty = true: needs calibration=NAME_OR_PATH (its posterior is drawn from)"
            )
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
    """The parameters and question of a scenario in ``conf/scenario/``, composed as ``sim-run`` does (with the
    configured calibration applied: ``calibrated`` in ``conf/config.yaml``).

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
    rc.replicates, rc.parameter_uncertainty = 1, False
    return calibrated_params(rc)[0][0], rc.description


CALIBRATION_KEYS = {
    "scenario",
    "targets",
    "free",
    "replicates",
    "maxiter",
    "popsize",
    "abc_draws",
    "abc_replicates",
    "abc_accept",
    "seed",
    "backtest_only",
}


def calibration_path(name_or_path: str) -> Path:
    """``conf/calibration/<name>.yaml`` for a name, or the path itself."""
    p = Path(name_or_path)
    return p if p.suffix in (".yaml", ".yml") else CONF_DIR / "calibration" / f"{name_or_path}.yaml"


def load_calibration(name_or_path: str, figures) -> dict:
    """Read and check a calibration config; targets get their value and kind from the seeds table.

    Raises:
        ParamError: one line naming the field at fault and the allowed values.
    """
    import yaml

    from sim.analysis.calibration import STATISTICS, FreeParameter, Target
    from sim.core.params import MONTH_RE, describe

    path = calibration_path(name_or_path)
    if not path.is_file():
        names = sorted(p.stem for p in (CONF_DIR / "calibration").glob("*.yaml"))
        raise ParamError(f"calibration={name_or_path}: no such file; known: {', '.join(names)}")
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParamError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(cfg, dict):
        raise ParamError(f"{path}: must be a mapping with targets and free")
    unknown = set(cfg) - CALIBRATION_KEYS
    if unknown:
        raise ParamError(
            f"{path.name}: unknown key(s) {', '.join(sorted(unknown))}; allowed: "
            f"{', '.join(sorted(CALIBRATION_KEYS))}"
        )
    known = set(figures["id"])
    targets = []
    for i, t in enumerate(cfg.get("targets") or []):
        where = f"{path.name} targets[{i}]"
        if not isinstance(t, dict) or "name" not in t:
            raise ParamError(f"{where}: must be a mapping with name, statistic, start")
        if t["name"] not in known:
            raise ParamError(
                f"{where}.name = {t['name']!r}: not a figure in seeds/belarus/figures.csv; known: "
                f"{', '.join(sorted(known))}"
            )
        if t.get("statistic") not in STATISTICS:
            raise ParamError(
                f"{where}.statistic = {t.get('statistic')!r}: must be one of {', '.join(STATISTICS)}"
            )
        for key in ("start", "end"):
            if key in t and not MONTH_RE.match(str(t[key])):
                raise ParamError(f"{where}.{key} = {t[key]!r}: must be a month YYYY-MM")
        if not 0 < float(t.get("tolerance", 0.1)) <= 10:
            raise ParamError(f"{where}.tolerance = {t.get('tolerance')!r}: must be in (0, 10]")
        row = figures[figures["id"] == t["name"]].iloc[0]
        targets.append(
            Target(
                name=t["name"],
                observed=float(row["value"]),
                kind=row["kind"],
                statistic=t["statistic"],
                start=str(t["start"]),
                end=str(t.get("end", "")),
                tolerance=float(t.get("tolerance", 0.1)),
                weight=float(t.get("weight", 1.0)),
            )
        )
    if not targets:
        raise ParamError(f"{path.name}: targets: at least one target is needed")
    params = {r["name"]: r for r in describe()}
    free = []
    for i, f in enumerate(cfg.get("free") or []):
        where = f"{path.name} free[{i}]"
        if not isinstance(f, dict) or f.get("name") not in params:
            raise ParamError(
                f"{where}.name = {f.get('name') if isinstance(f, dict) else f!r}: not a model parameter"
            )
        try:
            best, low, high = float(f["best"]), float(f["low"]), float(f["high"])
        except (KeyError, TypeError, ValueError):
            raise ParamError(f"{where}: needs numbers best, low, high") from None
        if not low <= best <= high or low == high:
            raise ParamError(f"{where}: needs low <= best <= high and low < high (got {low}, {best}, {high})")
        free.append(FreeParameter(f["name"], best, low, high, bool(f.get("integer", False))))
    if not free:
        raise ParamError(f"{path.name}: free: at least one free parameter is needed")
    settings = {
        k: cfg.get(k, d)
        for k, d in (
            ("replicates", 16),
            ("maxiter", 12),
            ("popsize", 6),
            ("abc_draws", 600),
            ("abc_replicates", 4),
            ("abc_accept", 0.05),
            ("seed", 1),
        )
    }
    backtest_only = list(cfg.get("backtest_only", ["population.initial_stock"]))
    return {
        "path": path,
        "scenario": cfg.get("scenario", "backtest_2024"),
        "targets": targets,
        "free": free,
        "backtest_only": backtest_only,
        **settings,
    }


def load_calibrated(name_or_path: str) -> tuple[dict, Path | None, Path]:
    """The parameters of a ``calibrated.yaml`` (by path, or by name in ``conf/calibration/calibrated/``)
    and its posterior."""
    import yaml

    p = Path(name_or_path)
    path = (
        p
        if p.suffix in (".yaml", ".yml") or p.is_dir()
        else CONF_DIR / "calibration" / "calibrated" / f"{name_or_path}.yaml"
    )
    if path.is_dir():
        path = path / "calibrated.yaml"
    if not path.is_file():
        names = sorted(q.stem for q in (CONF_DIR / "calibration" / "calibrated").glob("*.yaml"))
        raise ParamError(
            f"calibration={name_or_path}: no calibrated.yaml there; known names: {', '.join(names) or 'none'}"
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data.get("parameters"), dict):
        raise ParamError(f"{path}: has no parameters mapping")
    posterior = data.get("posterior")
    return data["parameters"], (path.parent / posterior) if posterior else None, path


def calibrated_params(rc: RunConfig, explicit: set[str] = frozenset()) -> tuple[list[ScenarioParams], str]:
    """The parameters of each replicate of a run, with its calibration applied, and a sentence saying how.

    Args:
        rc: the run configuration.
        explicit: dotted names set on the command line; a calibration never overrides them.

    Returns:
        One :class:`ScenarioParams` per replicate (all equal without parameter uncertainty), and the
        description of the uncertainty the replicates carry.
    """
    import numpy as np
    import pandas as pd

    base = scenario_params(rc)
    if not rc.calibrated:
        return [
            base
        ] * rc.replicates, "stochastic variation only (parameters fixed at the configuration's values)"
    values, posterior_path, path = load_calibrated(rc.calibrated)
    keep = {k: v for k, v in values.items() if k not in explicit}
    base = base.replace(**keep)
    if not rc.parameter_uncertainty:
        return [base] * rc.replicates, (
            f"stochastic variation only, at the calibrated parameters of {path} "
            f"(parameter uncertainty not included)"
        )
    if posterior_path is None or not posterior_path.is_file():
        raise ParamError(f"parameter_uncertainty = true: {path} names no readable posterior")
    post = pd.read_parquet(posterior_path)
    cols = [c for c in post.columns if c in keep]
    if post.empty or not cols:
        raise ParamError(
            f"parameter_uncertainty = true: the posterior of {path} has no draws of forward parameters"
        )
    rows = np.random.default_rng(rc.seed).integers(0, len(post), rc.replicates)
    out = [
        base.replace(
            **{
                c: (int(post[c].iloc[i]) if isinstance(keep[c], int) else float(post[c].iloc[i]))
                for c in cols
            }
        )
        for i in rows
    ]
    return out, (
        f"stochastic variation and parameter uncertainty: each replicate draws {', '.join(cols)} from the "
        f"posterior of {path} ({len(post)} draws)"
    )
