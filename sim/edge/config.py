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
from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim.analysis.design import METHODS
from sim.analysis.text import clip, clip_repr
from sim.core.params import ParamError, ScenarioParams, describe
from sim.core.prisoners import month_index, month_text
from sim.store.paths import CONF_DIR

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
    progress_every: float = 30.0
    report: bool = True
    fail_on_purpose: bool = False
    design: DesignConfig = field(default_factory=DesignConfig)
    calibrated: str = ""
    parameter_uncertainty: bool = False

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
        if not self.progress_every > 0:
            raise ParamError(f"progress_every = {self.progress_every}: must be a positive number of seconds")
        check_calendar(self)
        if self.parameter_uncertainty and not self.calibrated:
            raise ParamError(
                "parameter_uncertainty = true: needs calibration=NAME_OR_PATH (its posterior is drawn from)"
            )
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
# Settings of a calibration config: (type, default, low, high); read by the checks and for the defaults.
CALIBRATION_SETTINGS = {
    "replicates": (int, 16, 1, 10_000),
    "maxiter": (int, 12, 1, 10_000),
    "popsize": (int, 6, 1, 1_000),
    "abc_draws": (int, 600, 1, 10_000_000),
    "abc_replicates": (int, 4, 1, 10_000),
    "abc_accept": (float, 0.05, 1e-9, 1.0),
    "seed": (int, 1, 0, 2**63 - 1),
}
TARGET_NUMBERS = {"tolerance": (0.1, 1e-9, 10.0), "weight": (1.0, 0.0, 1e6)}  # default, low, high


def _number(where: str, value, typ: type, lo: float, hi: float):
    """``value`` as ``typ`` within [lo, hi], or a one-line :class:`ParamError` naming ``where``."""
    allowed = f"an integer in [{lo:g}, {hi:g}]" if typ is int else f"a number in [{lo:g}, {hi:g}]"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(f"{where} = {clip_repr(value)}: must be {allowed}")
    if typ is int and not float(value).is_integer():
        raise ParamError(f"{where} = {clip_repr(value)}: must be {allowed}")
    if value != value or not lo <= value <= hi:
        raise ParamError(f"{where} = {clip_repr(value)}: must be {allowed}")
    return typ(value)


def schema_types() -> dict[str, type]:
    """The type of every model parameter, by dotted name, from the schema's defaults (one source)."""
    return {r["name"]: type(r["default"]) for r in describe() if r["default"] is not None}


def typed_value(name: str, value, where: str, types: dict[str, type] | None = None):
    """A parameter value read from a file, converted to the schema's type of ``name``.

    An integer parameter (e.g. ``population.initial_stock``) takes a whole number only (``10.5`` is refused);
    a float parameter written as ``2`` stays a float, so it never turns draws into integers.

    Raises:
        ParamError: naming ``where`` and the type allowed.
    """
    typ = (types or schema_types()).get(name)
    if typ is bool:
        if not isinstance(value, bool):
            raise ParamError(f"{where} = {clip_repr(value)}: must be true or false")
        return value
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
            raise ParamError(f"{where} = {clip_repr(value)}: must be a whole number ({name} is an integer)")
        return int(value)
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamError(f"{where} = {clip_repr(value)}: must be a number")
        return float(value)
    if typ is str:
        if not isinstance(value, str):
            raise ParamError(f"{where} = {clip_repr(value)}: must be text")
        return value
    return value


def calibration_path(name_or_path: str) -> Path:
    """``conf/calibration/<name>.yaml`` for a name, or the path itself."""
    p = Path(name_or_path)
    return p if p.suffix in (".yaml", ".yml") else CONF_DIR / "calibration" / f"{name_or_path}.yaml"


def _read_yaml(path: Path):
    """A YAML file through the store's safe reader; its errors become :class:`ParamError`."""
    from sim.store.untrusted import UntrustedFileError, load_yaml

    try:
        return load_yaml(path)
    except UntrustedFileError as exc:
        raise ParamError(str(exc)) from None


def load_calibration(name_or_path: str, figures) -> dict:
    """Read and check a calibration config; targets get their value and kind from the seeds table.

    Every setting is checked (type and range, :data:`CALIBRATION_SETTINGS`) before any work.

    Raises:
        ParamError: one line naming the field at fault and the allowed values.
    """
    from sim.analysis.calibration import STATISTICS, FreeParameter, Target
    from sim.core.params import MONTH_RE

    path = calibration_path(name_or_path)
    if not path.is_file():
        names = sorted(p.stem for p in (CONF_DIR / "calibration").glob("*.yaml"))
        raise ParamError(f"calibration={clip(name_or_path)}: no such file; known: {', '.join(names)}")
    cfg = _read_yaml(path)
    if not isinstance(cfg, dict):
        raise ParamError(f"{path}: must be a mapping with targets and free")
    unknown = {str(k) for k in cfg} - CALIBRATION_KEYS
    if unknown:
        raise ParamError(
            f"{path.name}: unknown key(s) {clip(', '.join(sorted(unknown)))}; allowed: "
            f"{', '.join(sorted(CALIBRATION_KEYS))}"
        )
    known = set(figures["id"])
    targets = []
    raw_targets = cfg.get("targets") or []
    if not isinstance(raw_targets, list):
        raise ParamError(f"{path.name} targets: must be a list of targets")
    for i, t in enumerate(raw_targets):
        where = f"{path.name} targets[{i}]"
        if not isinstance(t, dict) or "name" not in t:
            raise ParamError(f"{where}: must be a mapping with name, statistic, start")
        if not isinstance(t["name"], str) or t["name"] not in known:
            raise ParamError(
                f"{where}.name = {clip_repr(t['name'])}: not a figure in seeds/figures.csv; known: "
                f"{', '.join(sorted(known))}"
            )
        if t.get("statistic") not in STATISTICS:
            raise ParamError(
                f"{where}.statistic = {clip_repr(t.get('statistic'))}: must be one of {', '.join(STATISTICS)}"
            )
        for key in ("start", "end"):
            if key in t and not MONTH_RE.match(str(t[key])):
                raise ParamError(f"{where}.{key} = {clip_repr(t[key])}: must be a month YYYY-MM")
        if "start" not in t:
            raise ParamError(f"{where}.start: missing; must be a month YYYY-MM")
        numbers = {
            k: _number(f"{where}.{k}", t.get(k, d), float, lo, hi)
            for k, (d, lo, hi) in TARGET_NUMBERS.items()
        }
        if numbers["tolerance"] <= 0:
            raise ParamError(f"{where}.tolerance = {numbers['tolerance']}: must be above 0")
        row = figures[figures["id"] == t["name"]].iloc[0]
        targets.append(
            Target(
                name=t["name"],
                observed=float(row["value"]),
                kind=row["kind"],
                statistic=t["statistic"],
                start=str(t["start"]),
                end=str(t.get("end", "")),
                **numbers,
            )
        )
    if not targets:
        raise ParamError(f"{path.name}: targets: at least one target is needed")
    types = schema_types()
    free = []
    raw_free = cfg.get("free") or []
    if not isinstance(raw_free, list):
        raise ParamError(f"{path.name} free: must be a list of free parameters")
    for i, f in enumerate(raw_free):
        where = f"{path.name} free[{i}]"
        if not isinstance(f, dict) or f.get("name") not in types or types[f["name"]] not in (int, float):
            raise ParamError(
                f"{where}.name = {clip_repr(f.get('name') if isinstance(f, dict) else f)}: not a numeric "
                "model parameter (see `sim-run --cfg job`)"
            )
        integer = types[f["name"]] is int
        try:
            best, low, high = (
                typed_value(f["name"], f[k], f"{where}.{k}", types) for k in ("best", "low", "high")
            )
        except KeyError:
            raise ParamError(f"{where}: needs numbers best, low, high") from None
        if not low <= best <= high or low == high:
            raise ParamError(f"{where}: needs low <= best <= high and low < high (got {low}, {best}, {high})")
        free.append(FreeParameter(f["name"], float(best), float(low), float(high), integer))
    if not free:
        raise ParamError(f"{path.name}: free: at least one free parameter is needed")
    settings = {
        k: _number(f"{path.name} {k}", cfg.get(k, d), typ, lo, hi)
        for k, (typ, d, lo, hi) in CALIBRATION_SETTINGS.items()
    }
    backtest_only = cfg.get("backtest_only", ["population.initial_stock"])
    if not isinstance(backtest_only, list) or not all(b in types for b in backtest_only):
        raise ParamError(f"{path.name} backtest_only: must be a list of model parameter names")
    scenario = cfg.get("scenario", "backtest_2024")
    if not isinstance(scenario, str):
        raise ParamError(f"{path.name} scenario = {clip_repr(scenario)}: must be a scenario name")
    return {
        "path": path,
        "scenario": scenario,
        "targets": targets,
        "free": free,
        "backtest_only": list(backtest_only),
        **settings,
    }


def _calibrated_file(name_or_path: str) -> Path:
    p = Path(name_or_path)
    path = (
        p
        if p.suffix in (".yaml", ".yml") or p.is_dir()
        else CONF_DIR / "calibration" / "calibrated" / f"{name_or_path}.yaml"
    )
    return path / "calibrated.yaml" if path.is_dir() else path


def load_calibrated(name_or_path: str) -> tuple[dict, Path | None, Path]:
    """The parameters of a ``calibrated.yaml`` (by path, or by name in ``conf/calibration/calibrated/``)
    and its posterior, each value checked against the schema's type and range.

    Raises:
        ParamError: one line naming the file and the field at fault.
    """
    path = _calibrated_file(name_or_path)
    if not path.is_file():
        names = sorted(q.stem for q in (CONF_DIR / "calibration" / "calibrated").glob("*.yaml"))
        raise ParamError(
            f"calibration={clip(name_or_path)}: no calibrated.yaml there; known names: "
            f"{', '.join(names) or 'none'}"
        )
    stat = path.stat()
    return _load_calibrated(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _load_calibrated(path_text: str, mtime_ns: int, size: int) -> tuple[dict, Path | None, Path]:
    path = Path(path_text)
    data = _read_yaml(path) or {}
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict):
        raise ParamError(f"{path}: has no parameters mapping")
    types = schema_types()
    values = {}
    for name, value in data["parameters"].items():
        if name not in types:
            raise ParamError(f"{path.name} parameters: {clip_repr(name)} is not a model parameter")
        values[name] = typed_value(name, value, f"{path.name} parameters.{name}", types)
    try:
        ScenarioParams().replace(**values)  # ranges and cross-field rules, before any run uses them
    except ParamError as exc:
        raise ParamError(f"{path.name}: {exc}") from None
    posterior = data.get("posterior")
    if posterior is not None and not isinstance(posterior, str):
        raise ParamError(f"{path.name} posterior = {clip_repr(posterior)}: must be a file name")
    return values, (path.parent / posterior) if posterior else None, path


@functools.lru_cache(maxsize=4)
def _read_posterior(path_text: str, mtime_ns: int):
    import pandas as pd

    try:
        return pd.read_parquet(path_text)
    except Exception as exc:  # noqa: BLE001 - any damage reads the same way
        raise ParamError(f"{path_text}: unreadable posterior ({type(exc).__name__})") from None


def posterior_draws(rc: RunConfig, keep: dict, path: Path, posterior_path: Path | None):
    """The posterior table of a calibration and its columns that a run draws (``keep``'s names), typed."""
    from sim.store.paths import relative

    if posterior_path is None or not posterior_path.is_file():
        raise ParamError(f"parameter_uncertainty = true: {relative(path)} names no readable posterior")
    post = _read_posterior(str(posterior_path), posterior_path.stat().st_mtime_ns)
    cols = [c for c in post.columns if c in keep]
    if post.empty or not cols:
        raise ParamError(
            f"parameter_uncertainty = true: the posterior of {relative(path)} has no draws of forward "
            "parameters"
        )
    types = schema_types()
    for c in cols:
        if types.get(c) is int and not (post[c].dropna() % 1 == 0).all():
            raise ParamError(f"{relative(posterior_path)}: column {c} must hold whole numbers (an integer)")
    return post, cols


def calibrated_params(
    rc: RunConfig, explicit: set[str] = frozenset(), folder: Path | None = None
) -> tuple[list[ScenarioParams], str]:
    """The parameters of each replicate of a run, with its calibration applied, and a sentence saying how.

    Args:
        rc: the run configuration.
        explicit: dotted names set on the command line; a calibration never overrides them.
        folder: the run folder whose records quote the sentence (paths in it are written relative to the
            project, else to this folder); None: relative to the project or the current folder.

    Returns:
        One :class:`ScenarioParams` per replicate (all equal without parameter uncertainty), and the
        description of the uncertainty the replicates carry.
    """
    import numpy as np

    from sim.store.paths import in_record
    from sim.store.paths import relative as _relative

    def relative(p: Path) -> str:
        return in_record(p, folder) if folder is not None else _relative(p)

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
            f"stochastic variation only, at the calibrated parameters of {relative(path)} "
            f"(parameter uncertainty not included)"
        )
    post, cols = posterior_draws(rc, keep, path, posterior_path)
    types = schema_types()
    rows = np.random.default_rng(rc.seed).integers(0, len(post), rc.replicates)
    cache: dict[int, ScenarioParams] = {}
    out = []
    for i in rows:
        if i not in cache:
            cache[i] = base.replace(**{c: types[c](post[c].iloc[i]) for c in cols})
        out.append(cache[i])
    return out, (
        f"stochastic variation and parameter uncertainty: each replicate draws {', '.join(cols)} from the "
        f"posterior of {relative(path)} ({len(post)} draws)"
    )


def check_calibration(rc: RunConfig, explicit: set[str] = frozenset()) -> None:
    """Check, before any work, that a run's calibration applies: its values with the run's own, and with
    parameter uncertainty every distinct posterior draw (cross-field rules included).

    Raises:
        ParamError: naming the calibration, the draw and the rule broken.
    """
    from sim.store.paths import relative

    if not rc.calibrated:
        return
    values, posterior_path, path = load_calibrated(rc.calibrated)
    keep = {k: v for k, v in values.items() if k not in explicit}
    try:
        base = scenario_params(rc).replace(**keep)
    except ParamError as exc:
        raise ParamError(f"{exc} (with the calibrated values of {relative(path)})") from None
    if not rc.parameter_uncertainty:
        return
    post, cols = posterior_draws(rc, keep, path, posterior_path)
    types = schema_types()
    for i, row in enumerate(post[cols].drop_duplicates().itertuples(index=False)):
        try:
            base.replace(**{c: types[c](v) for c, v in zip(cols, row)})
        except (ParamError, ValueError) as exc:
            raise ParamError(f"{exc} (posterior draw {i} of {relative(path)})") from None
