"""Reading and writing run folders (the only module that does): Parquet tables, JSON, YAML, atomically.

A run folder holds ``timeseries.parquet``, ``deals.parquet``, ``outcomes.parquet``, ``summary.json``,
``config.yaml``, ``provenance.json``, ``sim-run.log``, ``report.md`` and ``figures/``. Every file is written
to a temporary name in the same folder and renamed into place, with the permissions the user's umask gives
(as any other program's files), and ``summary.json`` is written last: a folder with a summary is complete,
one without is not. Files a tool reads back go through :mod:`sim.store.untrusted` (sizes and YAML aliases
capped, one-line errors), so a damaged folder is reported, never crashed on.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.text import clip

from .paths import ROOT, in_record
from .untrusted import UntrustedFileError, load_json, load_yaml

RUN_FILES = (
    "timeseries.parquet",
    "deals.parquet",
    "decisions.parquet",
    "outcomes.parquet",
    "replicates.parquet",
    "summary.json",
    "config.yaml",
    "provenance.json",
    "error.json",
)
# Outputs a run (re)writes: with overwrite=true they are removed before the new run starts, so a folder
# never mixes an old report or figures with new tables.
RUN_OUTPUTS = (*RUN_FILES, "report.md", "figures")
TMP_SUFFIX = ".tmp"
PACKAGES = (
    "bargaining-chips",
    "mesa",
    "hydra-core",
    "omegaconf",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "matplotlib",
)


class RunFolderError(ValueError):
    """A folder that is not a readable run folder."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() would give a new file under the user's umask


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    The file gets the mode an ordinary new file gets under the user's umask (``mkstemp`` alone gives 0600,
    which colleagues on a shared file system could not read).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write text atomically."""
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (NaN and infinities become null)."""
    write_text(path, json.dumps(_json_safe(obj), indent=2, sort_keys=False) + "\n")


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if hasattr(obj, "item"):  # numpy scalars
        return _json_safe(obj.item())
    return obj


def write_table(path: Path, df: pd.DataFrame) -> None:
    """Write a DataFrame to Parquet atomically."""
    atomic_write(path, lambda p: df.to_parquet(p, index=False, engine="pyarrow"))


def write_run(
    out_dir: Path,
    timeseries: pd.DataFrame,
    deals: pd.DataFrame,
    summary: dict,
    config_yaml: str,
    provenance: dict,
    decisions: pd.DataFrame | None = None,
) -> None:
    """Write a run folder's tables, configuration and provenance; the summary goes last."""
    out_dir = Path(out_dir)
    write_table(out_dir / "timeseries.parquet", timeseries)
    write_table(out_dir / "deals.parquet", deals)
    if decisions is not None:
        write_table(out_dir / "decisions.parquet", decisions)
    write_text(out_dir / "config.yaml", config_yaml)
    write_json(out_dir / "provenance.json", provenance)
    write_json(out_dir / "summary.json", summary)


def clean_stray_tmp(folder: Path) -> list[Path]:
    """Remove temporary files that a killed writer left in ``folder`` and its ``figures/`` (names made by
    :func:`atomic_write`: ``.<name>.<random>.tmp``); returns what was removed. Call it only on a folder this
    process has claimed (:mod:`sim.store.claims`)."""
    removed = []
    for d in (Path(folder), Path(folder) / "figures"):
        if not d.is_dir():
            continue
        for p in d.glob(f".*{TMP_SUFFIX}"):
            if p.is_file():
                p.unlink(missing_ok=True)
                removed.append(p)
    return removed


def remove_outputs(folder: Path) -> None:
    """Remove a run's outputs (summary first, so the folder reads as incomplete from the first step on)."""
    import shutil

    folder = Path(folder)
    for name in ("summary.json", *RUN_OUTPUTS):
        p = folder / name
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)
    clean_stray_tmp(folder)


def holds_sweep(path: Path) -> bool:
    """Whether ``path`` holds (or is) a sweep: a ``multirun.yaml`` or job folders with Hydra's overrides."""
    path = Path(path)
    if not path.is_dir():
        return False
    if (path / "multirun.yaml").is_file():
        return True
    return any(p.parent.parent != path for p in path.glob("*/**/.hydra/overrides.yaml"))


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` holds a complete run (its summary and tables)."""
    path = Path(path)
    return all((path / f).is_file() for f in ("summary.json", "timeseries.parquet", "deals.parquet"))


def holds_results(path: Path) -> bool:
    """Whether ``path`` already holds any run output that a new run would overwrite."""
    path = Path(path)
    return path.is_dir() and any((path / f).exists() for f in RUN_OUTPUTS)


SUMMARY_KEYS = {"scenario": str, "replicates": int, "months": int, "start": str, "end": str, "outcomes": dict}
OUTCOME_KEYS = ("median", "p5", "p95")


def check_summary(summary: Any, where: str) -> dict:
    """Check that a ``summary.json`` has what the reports read (raises :class:`RunFolderError`)."""
    if not isinstance(summary, dict):
        raise RunFolderError(f"{where}: not a sim-run summary (a JSON object is expected)")
    for key, typ in SUMMARY_KEYS.items():
        value = summary.get(key)
        if not isinstance(value, typ) or isinstance(value, bool):
            raise RunFolderError(
                f"{where}: not a sim-run summary ({key} missing or not {typ.__name__}: "
                f"{clip(repr(value) if not isinstance(value, (dict, list)) else type(value).__name__)})"
            )
    from sim.core.metrics import HEADLINES

    missing = [h.name for h in HEADLINES if h.name not in summary["outcomes"]]
    if missing:
        raise RunFolderError(
            f"{where}: lacks the outcome(s) {clip(', '.join(missing))} (written by another version?); "
            "re-run the run"
        )
    for name, entry in summary["outcomes"].items():
        if not isinstance(entry, dict) or not all(
            entry.get(k) is None or (isinstance(entry[k], (int, float)) and not isinstance(entry[k], bool))
            for k in OUTCOME_KEYS
        ):
            raise RunFolderError(f"{where}: outcome {clip(name)!r} is not a median/p5/p95 record")
    return summary


def read_run(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read a run folder's timeseries, deals and summary, and check them before anything is drawn.

    Raises:
        RunFolderError: one line naming the folder and what is missing, empty or unreadable.
    """
    path = Path(path)
    if not path.is_dir():
        raise RunFolderError(f"{path}: not a folder")
    missing = [f for f in ("timeseries.parquet", "deals.parquet", "summary.json") if not (path / f).is_file()]
    if missing:
        raise RunFolderError(f"{path}: not a complete run folder (missing {', '.join(missing)})")
    try:
        summary = check_summary(load_json(path / "summary.json"), f"{path / 'summary.json'}")
    except UntrustedFileError as exc:
        raise RunFolderError(str(exc)) from None
    try:
        ts = pd.read_parquet(path / "timeseries.parquet")
        deals = pd.read_parquet(path / "deals.parquet")
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        first = next(iter(str(exc).splitlines()), "")
        raise RunFolderError(f"{path}: unreadable run folder ({type(exc).__name__}: {clip(first)})") from None
    need = {"scenario", "replicate", "seed", "month", "prisoners_held", "arrests"}
    if not need <= set(ts.columns):
        raise RunFolderError(f"{path}: timeseries.parquet lacks columns {sorted(need - set(ts.columns))}")
    if ts.empty:
        raise RunFolderError(f"{path}: timeseries.parquet has no rows; re-run it")
    need_deals = {"replicate", "month", "released", "released_high_profile"}
    if len(deals) and not need_deals <= set(deals.columns):
        raise RunFolderError(f"{path}: deals.parquet lacks columns {sorted(need_deals - set(deals.columns))}")
    return ts, deals, summary


def read_outcomes(path: Path) -> pd.DataFrame | None:
    """A run folder's ``outcomes.parquet`` (one row per replicate: outcomes and the parameters used), or
    None."""
    f = Path(path) / "outcomes.parquet"
    if not f.is_file():
        return None
    try:
        return pd.read_parquet(f)
    except Exception:  # noqa: BLE001 - an unreadable optional table is reported as absent
        return None


def read_decisions(path: Path) -> pd.DataFrame | None:
    """A run folder's ``decisions.parquet``, or None when it has none or it cannot be read."""
    f = Path(path) / "decisions.parquet"
    if not f.is_file():
        return None
    try:
        return pd.read_parquet(f)
    except Exception:  # noqa: BLE001 - an unreadable optional table is reported as absent
        return None


def read_summary(path: Path) -> dict:
    """A run folder's ``summary.json`` (checked; raises :class:`RunFolderError`)."""
    f = Path(path) / "summary.json"
    try:
        return check_summary(load_json(f), str(f))
    except UntrustedFileError as exc:
        raise RunFolderError(str(exc)) from None


def read_config(path: Path) -> dict:
    """A run folder's resolved configuration (``config.yaml``) as a nested mapping; empty when absent or
    unreadable (it only names the settings that differ from the defaults)."""
    f = Path(path) / "config.yaml"
    if not f.is_file():
        return {}
    try:
        data = load_yaml(f)
    except UntrustedFileError:
        return {}
    return data if isinstance(data, dict) else {}


def find_runs(root: Path) -> list[Path]:
    """Complete run folders at or below ``root`` (a multirun folder), sorted."""
    root = Path(root)
    return sorted(p.parent for p in root.rglob("summary.json") if is_run_folder(p.parent))


def record_command(command: list[str], folder: Path) -> list[str]:
    """A command line as recorded in ``folder``: absolute paths in ``key=PATH``, ``--opt=PATH`` or ``PATH``
    arguments are written with :func:`~sim.store.paths.in_record` (relative to the project, else to
    ``folder``), never as this machine's absolute paths."""
    out = []
    for arg in command:
        key, sep, value = arg.partition("=")
        if sep and value.startswith("/"):
            out.append(f"{key}={in_record(value, folder)}")
        elif not sep and arg.startswith("/"):
            out.append(in_record(arg, folder))
        else:
            out.append(arg)
    return out


def provenance(seed: int, command: list[str], extra: dict | None = None, folder: Path | None = None) -> dict:
    """Git commit and state, package versions, seed, command line and time, for ``provenance.json``.

    Args:
        seed: the root seed.
        command: the command that reproduces the run (its paths are written relative, see
            :func:`record_command`).
        extra: more entries.
        folder: the folder the record is kept in (default: the current folder).
    """
    repo = ROOT

    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10)
            return r.stdout.strip() if r.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            return None

    status = git("status", "--porcelain")
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": None if status is None else bool(status),
        "seed": seed,
        "command": record_command(command, folder if folder is not None else Path.cwd()),
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.system(),  # no host name: the record is shared
        "packages": versions,
        **(extra or {}),
    }


def job_folders(root: Path) -> list[Path]:
    """Folders of the jobs of a multirun (each has Hydra's ``.hydra/overrides.yaml``), sorted."""
    root = Path(root)
    return sorted(p.parent.parent for p in root.rglob(".hydra/overrides.yaml") if p.parent.parent != root)


JOB_STATUSES = ("complete", "failed", "incomplete", "unreadable")


def _error_message(path: Path) -> str:
    """The one-line error of a failed job's ``error.json`` (its SLURM state too, when SLURM ended it)."""
    try:
        info = load_json(path)
    except UntrustedFileError as exc:
        return f"error.json unreadable ({clip(str(exc).replace(str(path), 'error.json'))})"
    if not isinstance(info, dict):
        return "error.json unreadable (not a JSON object)"
    text = f"{info.get('error', 'error')}: {info.get('message', '')}"
    if info.get("slurm_state"):
        text += f" (SLURM state {info['slurm_state']})"
    first = next((ln for ln in str(text).splitlines() if ln.strip()), "")
    return clip(first, 200)


def job_status(root: Path) -> pd.DataFrame:
    """One row per started job: folder, its overrides, and status with error.

    Status is ``complete`` (outputs written and readable), ``failed`` (an ``error.json``), ``incomplete``
    (still running, or killed before it wrote its summary) or ``unreadable`` (a damaged ``overrides.yaml``
    or ``outcomes.parquet``): a damaged job is listed, never crashed on.
    """
    import pyarrow.parquet as pq

    rows = []
    for job in job_folders(root):
        status, message, overrides = None, "", []
        try:
            data = load_yaml(job / ".hydra" / "overrides.yaml")
            if not isinstance(data, list) or not all(isinstance(o, str) for o in data):
                raise UntrustedFileError("overrides.yaml: not a list of overrides")
            overrides = data
        except UntrustedFileError as exc:
            status, message = "unreadable", clip(str(exc).replace(str(job / ".hydra") + "/", ""), 200)
        if status is None and (job / "outcomes.parquet").is_file() and is_run_folder(job):
            try:
                pq.read_schema(job / "outcomes.parquet")
                status = "complete"
            except Exception as exc:  # noqa: BLE001 - any damage reads the same way
                status, message = "unreadable", f"outcomes.parquet unreadable ({type(exc).__name__})"
        if status is None and (job / "error.json").is_file():
            status, message = "failed", _error_message(job / "error.json")
        if status is None:
            status, message = "incomplete", "no outputs (still running, or killed)"
        rows.append(
            {
                "job": job.relative_to(root).as_posix(),
                "overrides": [str(o) for o in overrides],
                "status": status,
                "error": message,
            }
        )
    return pd.DataFrame(rows, columns=["job", "overrides", "status", "error"])


def read_sweep(root: Path, jobs: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Every complete job's ``outcomes.parquet`` in one table.

    Args:
        root: the multirun folder.
        jobs: the complete jobs' folders relative to ``root``.

    Returns:
        The table (columns unified across jobs), and the jobs whose file could not be read, with the reason.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables, unreadable = [], {}
    for j in jobs:
        try:
            tables.append(pq.read_table(Path(root) / j / "outcomes.parquet"))
        except Exception as exc:  # noqa: BLE001 - a damaged file is listed and the report goes on
            unreadable[j] = f"outcomes.parquet unreadable ({type(exc).__name__})"
    if not tables:
        return pd.DataFrame(), unreadable
    schema = pa.unify_schemas([t.schema for t in tables], promote_options="permissive")
    table = pa.concat_tables([t.cast(schema) if t.schema != schema else t for t in _widen(tables, schema)])
    return table.to_pandas(), unreadable


def _widen(tables: list, schema) -> list:
    """Each table with the unified schema's columns (missing ones as nulls), in its order."""
    import pyarrow as pa

    out = []
    for t in tables:
        for field in schema:
            if field.name not in t.column_names:
                t = t.append_column(field.name, pa.nulls(len(t), type=field.type))
        out.append(t.select(schema.names))
    return out


def multirun_overrides(root: Path) -> list[str] | None:
    """The overrides a multirun was started with (command line and config sweeps), from ``multirun.yaml``;
    None when the folder has none.

    Raises:
        RunFolderError: ``multirun.yaml`` is damaged (one line; the sweep report goes on without it).
    """
    path = Path(root) / "multirun.yaml"
    if not path.is_file():
        return None
    try:
        cfg = load_yaml(path)
    except UntrustedFileError as exc:
        raise RunFolderError(str(exc).replace(str(path), "multirun.yaml")) from None
    hydra_cfg = cfg.get("hydra") if isinstance(cfg, dict) else None
    overrides = hydra_cfg.get("overrides") if isinstance(hydra_cfg, dict) else None
    task = overrides.get("task") if isinstance(overrides, dict) else None
    sweeper = hydra_cfg.get("sweeper") if isinstance(hydra_cfg, dict) else None
    params = (sweeper or {}).get("params") if isinstance(sweeper, dict) else None
    if not isinstance(task, list) or not all(isinstance(t, str) for t in task):
        raise RunFolderError("multirun.yaml: hydra.overrides.task is not a list of overrides")
    if params is not None and (
        not isinstance(params, dict) or not all(isinstance(v, (str, int, float)) for v in params.values())
    ):
        raise RunFolderError("multirun.yaml: hydra.sweeper.params is not a mapping of key to values")
    keys = {t.split("=", 1)[0] for t in task}
    return task + [f"{k}={v}" for k, v in (params or {}).items() if k not in keys]
