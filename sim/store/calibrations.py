"""Reading calibration configurations and the calibrations they produce; writing a calibration's files.

A *calibration config* (``conf/calibration/<case>.yaml``) says how a case is fitted: the state its record
starts
from, the summary statistics (figures named by their id in ``seeds/<case>/figures.csv``, never retyped), the
priors (bounds from the parameter schema's plausible ranges unless given) and the ABC-SMC settings.

A *calibration* (a folder written by ``sim-calibrate``, or installed as
``conf/calibration/calibrated/<case>.*``)
holds ``calibrated.yaml`` (the point parameters and where the rest is), ``posterior.parquet`` (the particles,
weighted), and the states at the end of the replay, one per saved particle: ``states.parquet`` (the registry's
rows, long format keyed by ``state``) and ``states.json`` (everything else).

Every file read here is untrusted: a malformed one is refused with one line naming the file and the field.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.analysis.priors import PRIOR_KINDS, Prior
from sim.analysis.summaries import StatisticSpec
from sim.core.calendar import MONTH_RE, month_index, month_text
from sim.core.model import RepressionBargaining
from sim.core.params import ParamError, ScenarioParams, describe, from_mapping

from .cases import case_mapping, cases
from .paths import CONF_DIR, relative
from .sources import SeedsError, load_figures
from .tables import write_json, write_table, write_text
from .untrusted import UntrustedFileError, load_yaml

CONFIG_KEYS = {
    "case",
    "record_through",
    "replay_until",
    "end",
    "states",
    "base",
    "statistics",
    "priors",
    "abc",
    "forecast",
    "validation",
}
VALIDATION_KEYS = {"origins", "horizons", "replicates", "baseline_window", "abc"}
ABC_KEYS = {
    "population": (list, int),
    "max_populations": int,
    "max_walltime_s": (int, float),
    "min_acceptance_rate": (int, float),
    "max_total_simulations": int,
    "seed": int,
}
MAX_BYTES = 1_000_000


class CalibrationError(ValueError):
    """A malformed calibration config or calibration folder (one line: file, field, allowed values)."""


def _read_yaml(path: Path, what: str) -> Any:
    """A YAML file through the store's safe reader (size, binary, alias bombs); one line on error."""
    try:
        return load_yaml(path, MAX_BYTES)
    except UntrustedFileError as exc:
        raise CalibrationError(f"{path.name}: not a readable {what} ({str(exc)[:160]})") from None


def config_path(name_or_path: str) -> Path:
    """``conf/calibration/<name>.yaml`` for a name, or the path itself."""
    p = Path(name_or_path)
    return p if p.suffix in (".yaml", ".yml") else CONF_DIR / "calibration" / f"{name_or_path}.yaml"


def _month(where: str, value: Any) -> str:
    if not isinstance(value, str) or not MONTH_RE.match(value):
        raise CalibrationError(f"{where} = {str(value)[:40]!r}: must be a month YYYY-MM")
    return value


def _number(where: str, value: Any, lo: float, hi: float, integer: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not lo <= value <= hi or (integer and int(value) != value):
        kind = "an integer" if integer else "a number"
        shown = repr(value[:40]) if isinstance(value, str) else str(value)[:40]
        raise CalibrationError(f"{where} = {shown}: must be {kind} in [{lo:g}, {hi:g}]")
    return int(value) if integer else float(value)


def load_config(name_or_path: str) -> dict:
    """Read and check a calibration config.

    Returns:
        ``path, case, record_through, replay_until, end, states, base`` (the case's parameters at the record's
        start), ``base_mapping``, ``statistics`` (specs), ``priors``, ``abc`` (settings).

    Raises:
        CalibrationError: one line naming the file, the field and the allowed values.
    """
    path = config_path(name_or_path)
    if not path.is_file():
        known = sorted(p.stem for p in (CONF_DIR / "calibration").glob("*.yaml"))
        raise CalibrationError(f"calibration={name_or_path}: no such file; known: {', '.join(known)}")
    cfg = _read_yaml(path, "calibration config")
    name = path.name
    if not isinstance(cfg, dict):
        raise CalibrationError(f"{name}: must be a mapping with case, base, statistics, priors and abc")
    unknown = sorted(set(map(str, cfg)) - CONFIG_KEYS)
    if unknown:
        raise CalibrationError(
            f"{name}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(CONFIG_KEYS))}"
        )
    case = cfg.get("case")
    if case not in cases():
        raise CalibrationError(f"{name} case = {str(case)[:40]!r}: must be one of {', '.join(cases())}")
    out: dict[str, Any] = {"path": path, "case": case}
    for key in ("record_through", "end"):
        out[key] = _month(f"{name} {key}", cfg.get(key))
    out["replay_until"] = (
        _month(f"{name} replay_until", cfg["replay_until"]) if cfg.get("replay_until") else None
    )
    out["states"] = _number(f"{name} states", cfg.get("states", 100), 0, 10_000, integer=True)
    base_map = cfg.get("base") or {}
    if not isinstance(base_map, dict):
        raise CalibrationError(f"{name} base: must be a mapping of parameters")
    try:
        out["base"] = from_mapping(base_map, from_mapping(case_mapping(case)))
    except ParamError as exc:
        raise CalibrationError(f"{name} base: {exc}") from None
    out["base_mapping"] = base_map
    if month_index(out["end"]) < month_index(out["base"].start):
        raise CalibrationError(
            f"{name} end = {out['end']}: must not be before base.start = {out['base'].start}"
        )
    out["statistics"] = _statistics(name, cfg.get("statistics"), case)
    out["priors"] = _priors(name, cfg.get("priors"), out["base"])
    out["abc"] = _abc(name, cfg.get("abc") or {})
    fc = cfg.get("forecast") or {}
    if not isinstance(fc, dict) or set(map(str, fc)) - {"abc"}:
        raise CalibrationError(f"{name} forecast: must be a mapping with abc (the refit's settings)")
    out["forecast"] = {"abc": {**out["abc"], **_abc(f"{name} forecast", fc.get("abc") or {}, partial=True)}}
    out["validation"] = _validation(name, cfg.get("validation") or {}, out)
    return out


def _validation(name: str, raw: Any, cfg: dict) -> dict:
    """The rolling-origin validation's settings (origins after the record's start and within it)."""
    where = f"{name} validation"
    if not isinstance(raw, dict):
        raise CalibrationError(f"{where}: must be a mapping")
    unknown = sorted(set(map(str, raw)) - VALIDATION_KEYS)
    if unknown:
        raise CalibrationError(
            f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(VALIDATION_KEYS))}"
        )
    origins = raw.get("origins") or []
    if not isinstance(origins, list):
        raise CalibrationError(f"{where}.origins: must be a list of months YYYY-MM")
    first, last = month_index(cfg["base"].start), month_index(cfg["record_through"])
    for o in origins:
        _month(f"{where}.origins", o)
        if not first < month_index(o) < last:
            raise CalibrationError(
                f"{where}.origins = {o}: must be after {cfg['base'].start} and before {cfg['record_through']}"
            )
    horizons = raw.get("horizons", [3, 6, 12])
    if not isinstance(horizons, list) or not horizons:
        raise CalibrationError(f"{where}.horizons: must be a list of months ahead")
    horizons = sorted({_number(f"{where}.horizons", h, 1, 120, integer=True) for h in horizons})
    return {
        "origins": list(origins),
        "horizons": horizons,
        "replicates": _number(f"{where}.replicates", raw.get("replicates", 100), 2, 100_000, integer=True),
        "baseline_window": (
            _number(f"{where}.baseline_window", raw["baseline_window"], 3, 1200, integer=True)
            if raw.get("baseline_window") is not None
            else None
        ),
        "abc": {**cfg["abc"], **_abc(where, raw.get("abc") or {}, partial=True)},
    }


def _statistics(name: str, raw: Any, case: str) -> list[StatisticSpec]:
    if not isinstance(raw, list) or not raw:
        raise CalibrationError(f"{name} statistics: must be a non-empty list of statistic specs")
    try:
        figures = load_figures(case).set_index("id")
    except SeedsError as exc:
        raise CalibrationError(f"{name}: {exc}") from None
    specs = []
    for i, item in enumerate(raw):
        where = f"{name} statistics[{i}]"
        if not isinstance(item, dict):
            raise CalibrationError(f"{where}: must be a mapping (name, statistic, column, ...)")
        item = dict(item)
        fig = item.pop("figure", None)
        if fig is not None:
            if fig not in figures.index:
                raise CalibrationError(
                    f"{where}.figure = {str(fig)[:40]!r}: not a row of seeds/{case}/figures.csv"
                )
            row = figures.loc[fig]
            item.update(value=float(row["value"]), kind=str(row["kind"]), source=f"seeds:{fig}")
        try:
            specs.append(StatisticSpec.from_dict(item))
        except (TypeError, ValueError) as exc:
            raise CalibrationError(f"{where}: {str(exc)[:200]}") from None
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise CalibrationError(f"{name} statistics: names must be unique")
    return specs


def _priors(name: str, raw: Any, base: ScenarioParams) -> list[Prior]:
    if not isinstance(raw, list) or not raw:
        raise CalibrationError(f"{name} priors: must be a non-empty list")
    rows = {r["name"]: r for r in describe(base)}
    out = []
    for i, item in enumerate(raw):
        where = f"{name} priors[{i}]"
        if not isinstance(item, dict) or item.get("name") not in rows:
            shown = item.get("name") if isinstance(item, dict) else item
            raise CalibrationError(f"{where}.name = {str(shown)[:60]!r}: not a parameter of the case")
        row = rows[item["name"]]
        if isinstance(row["default"], (bool, str)):
            raise CalibrationError(f"{where}.name = {item['name']!r}: not a number")
        kind = item.get("kind", "uniform")
        if kind not in PRIOR_KINDS:
            raise CalibrationError(
                f"{where}.kind = {str(kind)[:40]!r}: must be one of {', '.join(PRIOR_KINDS)}"
            )
        plausible = row["plausible"]
        if ("low" not in item or "high" not in item) and plausible is None:
            raise CalibrationError(
                f"{where}: {item['name']} has no plausible range in the schema; give low and high"
            )
        lo_ok = row["lo"] if row["lo"] is not None else -1e12
        hi_ok = row["hi"] if row["hi"] is not None else 1e12
        low = _number(f"{where}.low", item.get("low", plausible[0] if plausible else None), lo_ok, hi_ok)
        high = _number(f"{where}.high", item.get("high", plausible[1] if plausible else None), lo_ok, hi_ok)
        try:
            out.append(
                Prior(
                    item["name"],
                    kind,
                    low,
                    high,
                    integer=isinstance(row["default"], int) and not isinstance(row["default"], bool),
                )
            )
        except ValueError as exc:
            raise CalibrationError(f"{where}: {exc}") from None
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise CalibrationError(f"{name} priors: a parameter appears twice")
    return out


def _abc(name: str, raw: Any, partial: bool = False) -> dict:
    """ABC-SMC settings; ``partial``: only those given (to update another set)."""
    if not isinstance(raw, dict):
        raise CalibrationError(f"{name} abc: must be a mapping of settings")
    unknown = sorted(set(map(str, raw)) - set(ABC_KEYS))
    if unknown:
        raise CalibrationError(
            f"{name} abc: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(ABC_KEYS))}"
        )
    out: dict[str, Any] = {
        "population": [1000],
        "max_populations": 8,
        "max_walltime_s": 840.0,
        "min_acceptance_rate": 0.0,
        "max_total_simulations": None,
        "seed": 1,
    }
    if "population" in raw:
        pop = raw["population"]
        pop = pop if isinstance(pop, list) else [pop]
        if not pop:
            raise CalibrationError(f"{name} abc.population: must be a number of particles or a list of them")
        out["population"] = [_number(f"{name} abc.population", x, 10, 1_000_000, integer=True) for x in pop]
    limits = {
        "max_populations": (1, 100, True),
        "max_walltime_s": (1, 1e7, False),
        "min_acceptance_rate": (0, 1, False),
        "max_total_simulations": (1, 1e9, True),
        "seed": (0, 2**32 - 1, True),
    }
    for key, (lo, hi, integer) in limits.items():
        if key in raw and raw[key] is not None:
            out[key] = _number(f"{name} abc.{key}", raw[key], lo, hi, integer)
    return {k: v for k, v in out.items() if k in raw} if partial else out


# ------------------------------------------------------------------------------------------ calibration
# outputs
STATE_FILES = ("states.parquet", "states.json")


def write_states(folder: Path, states: list[dict], particles: pd.DataFrame) -> None:
    """Write the saved states: the registries as one long table keyed by ``state``, the rest as JSON."""
    rows = []
    for i, st in enumerate(states):
        reg = pd.DataFrame({k: np.asarray(v) for k, v in st["registry"].items()})
        reg.insert(0, "state", i)
        rows.append(reg)
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["state"])
    write_table(Path(folder) / "states.parquet", table)
    rest = [{k: v for k, v in st.items() if k != "registry"} for st in states]
    write_json(
        Path(folder) / "states.json", {"particles": particles.to_dict(orient="records"), "states": rest}
    )


def read_states(folder: Path) -> tuple[pd.DataFrame, list[dict]]:
    """The saved states of a calibration: (the particles they belong to, the states)."""
    folder = Path(folder)
    try:
        table = pd.read_parquet(folder / "states.parquet")
        meta = json.loads((folder / "states.json").read_text(encoding="utf-8"))
        particles = pd.DataFrame(meta["particles"])
        states = list(meta["states"])
    except Exception as exc:  # noqa: BLE001 - any damaged state file is reported the same way
        raise CalibrationError(f"{folder.name}: unreadable saved states ({type(exc).__name__})") from None
    cols = RepressionBargaining.STATE_COLUMNS
    if not set(cols) <= set(table.columns) or len(particles) != len(states):
        raise CalibrationError(f"{folder.name}: saved states do not match their particles")
    groups = dict(tuple(table.groupby("state")))
    for i, st in enumerate(states):
        g = groups.get(i, table.iloc[0:0])
        st["registry"] = {c: g[c].to_numpy() for c in cols}
    return particles, states


def write_calibrated(folder: Path, point: dict, info: dict, header: str, base: dict | None = None) -> Path:
    """Write ``calibrated.yaml``: the point parameters, where the posterior and the states are, the state the
    record's replay starts from (``base``, on top of the case file), provenance."""
    path = Path(folder) / "calibrated.yaml"
    body = {
        "calibration": info,
        "base": base or {},
        "parameters": point,
        "posterior": "posterior.parquet",
        "states": "states.parquet" if info.get("states") else None,
        "start": info.get("start"),
    }
    write_text(path, header + yaml.safe_dump(body, sort_keys=False))
    return path


def calibrated_path(name_or_path: str) -> Path:
    """The ``calibrated.yaml`` of a calibration given by case name (installed), folder or file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        return p
    if p.is_dir():
        return p / "calibrated.yaml"
    return CONF_DIR / "calibration" / "calibrated" / name_or_path / "calibrated.yaml"


def load_calibrated(name_or_path: str) -> dict:
    """A calibration's parameters and the paths of its posterior and states.

    Returns:
        ``path, folder, parameters, posterior`` (path or None), ``states`` (folder or None), ``start``,
        ``case``.
    """
    path = calibrated_path(name_or_path)
    if not path.is_file():
        root = CONF_DIR / "calibration" / "calibrated"
        known = (
            sorted(q.name for q in root.iterdir() if (q / "calibrated.yaml").is_file())
            if root.is_dir()
            else []
        )
        raise CalibrationError(
            f"calibration={name_or_path}: no calibrated.yaml there; installed: {', '.join(known) or 'none'}"
        )
    data = _read_yaml(path, "calibration")
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict):
        raise CalibrationError(f"{path.name}: has no parameters mapping")
    folder = path.parent
    post = data.get("posterior")
    start = data.get("start")
    if start is not None:
        _month(f"{path.name} start", start)
    info = data.get("calibration") or {}
    return {
        "path": path,
        "folder": folder,
        "parameters": data["parameters"],
        "posterior": folder / post if isinstance(post, str) else None,
        "states": folder if data.get("states") else None,
        "start": start,
        "case": info.get("case") if isinstance(info, dict) else None,
    }


def read_posterior(path: Path) -> pd.DataFrame:
    """A posterior table (particles, a column per parameter, ``weight``)."""
    try:
        post = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001
        raise CalibrationError(f"{Path(path).name}: unreadable posterior ({type(exc).__name__})") from None
    if post.empty or "weight" not in post.columns:
        raise CalibrationError(f"{Path(path).name}: a posterior needs particles and a weight column")
    return post


def next_month(month: str) -> str:
    """The month after ``month``."""
    return month_text(month_index(month) + 1)


def read_calibration(name_or_path: str, case: str):
    """A calibration as forward runs use it (:class:`sim.analysis.forward.Calibration`).

    Args:
        name_or_path: a case name (the installed calibration), a calibration folder or its calibrated.yaml.
        case: the run's case; a calibration of another case is refused.

    Raises:
        CalibrationError: a missing or malformed calibration, or one fitted to another case.
    """
    from sim.analysis.forward import Calibration

    cal = load_calibrated(name_or_path)
    name = cal["path"].name
    if cal["case"] != case:
        raise CalibrationError(
            f"calibration={name_or_path}: fitted to case {cal['case']}, the run is case {case}; a fit is "
            f"never "
            f"applied across cases"
        )
    data = _read_yaml(cal["path"], "calibration")
    base_map = data.get("base")
    if not isinstance(base_map, dict):
        raise CalibrationError(f"{name}: has no base mapping (the state its record starts from)")
    try:
        base = from_mapping(base_map, from_mapping(case_mapping(case)))
    except ParamError as exc:
        raise CalibrationError(f"{name} base: {exc}") from None
    rows = {r["name"]: r for r in describe(base)}
    point = {}
    for key, value in cal["parameters"].items():
        if key not in rows or isinstance(rows[key]["default"], (bool, str)):
            raise CalibrationError(f"{name} parameters.{str(key)[:60]}: not a numeric parameter of the case")
        integer = isinstance(rows[key]["default"], int)
        where = f"{name} parameters.{key}"
        point[key] = _number(where, value, -1e12, 1e12, integer=integer)  # a float written as 28 stays float
    try:
        base.replace(**point)
    except ParamError as exc:
        raise CalibrationError(f"{name}: {exc}") from None
    if cal["posterior"] is None or not Path(cal["posterior"]).is_file():
        raise CalibrationError(f"{name}: names no readable posterior")
    post = read_posterior(cal["posterior"])
    missing = [k for k in point if k not in post.columns]
    if missing:
        raise CalibrationError(f"{Path(cal['posterior']).name}: no column for {missing[0]}")
    info = data.get("calibration") or {}
    states, particles = [], None
    if cal["states"] is not None:
        particles, states = read_states(cal["states"])
        if any(k not in particles.columns for k in point):
            raise CalibrationError(f"{cal['folder'].name}: the saved states' particles lack a free parameter")
    record_end = info.get("end") or base.start
    vintage = info.get("data_vintage") or record_end
    for field_name, value in (("end", record_end), ("data_vintage", vintage)):
        _month(f"{name} calibration.{field_name}", value)
    return Calibration(
        case=case,
        source=relative(cal["path"]),
        point=point,
        posterior=post,
        base=base,
        record_end=record_end,
        states=states,
        state_particles=particles,
        data_vintage=vintage,
    )


def installed(case: str) -> bool:
    """Whether a case has an installed calibration
    (``conf/calibration/calibrated/<case>/calibrated.yaml``)."""
    return (CONF_DIR / "calibration" / "calibrated" / case / "calibrated.yaml").is_file()
