"""Reading and writing run folders (the only module that does): Parquet tables, JSON, YAML, atomically.

A run folder holds ``timeseries.parquet``, ``deals.parquet``, ``summary.json``, ``config.yaml``,
``provenance.json``, ``report.md`` and ``figures/``. Every file is written to a temporary name in the
same folder and renamed into place, and ``summary.json`` is written last: a folder with a summary is
complete, one without is not.
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

from .paths import ROOT

RUN_FILES = (
    "timeseries.parquet",
    "deals.parquet",
    "decisions.parquet",
    "summary.json",
    "config.yaml",
    "provenance.json",
)
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


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
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


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` holds a complete run (its summary and tables)."""
    path = Path(path)
    return all((path / f).is_file() for f in ("summary.json", "timeseries.parquet", "deals.parquet"))


def holds_results(path: Path) -> bool:
    """Whether ``path`` already holds any run output that a new run would overwrite."""
    path = Path(path)
    return path.is_dir() and any((path / f).exists() for f in (*RUN_FILES, "report.md"))


def read_run(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read a run folder's timeseries, deals and summary.

    Raises:
        RunFolderError: one line naming the folder and what is missing or unreadable.
    """
    path = Path(path)
    if not path.is_dir():
        raise RunFolderError(f"{path}: not a folder")
    missing = [f for f in ("timeseries.parquet", "deals.parquet", "summary.json") if not (path / f).is_file()]
    if missing:
        raise RunFolderError(f"{path}: not a complete run folder (missing {', '.join(missing)})")
    try:
        ts = pd.read_parquet(path / "timeseries.parquet")
        deals = pd.read_parquet(path / "deals.parquet")
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        raise RunFolderError(
            f"{path}: unreadable run folder ({type(exc).__name__}: {str(exc).splitlines()[0]})"
        ) from None
    need = {"scenario", "replicate", "seed", "month", "prisoners_held", "arrests"}
    if not need <= set(ts.columns):
        raise RunFolderError(f"{path}: timeseries.parquet lacks columns {sorted(need - set(ts.columns))}")
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
    """A run folder's ``summary.json``."""
    return json.loads((Path(path) / "summary.json").read_text(encoding="utf-8"))


def read_config(path: Path) -> dict:
    """A run folder's resolved configuration (``config.yaml``) as a nested mapping; empty when absent."""
    import yaml

    f = Path(path) / "config.yaml"
    return (yaml.safe_load(f.read_text(encoding="utf-8")) or {}) if f.is_file() else {}


def find_runs(root: Path) -> list[Path]:
    """Complete run folders at or below ``root`` (a multirun folder), sorted."""
    root = Path(root)
    return sorted(p.parent for p in root.rglob("summary.json") if is_run_folder(p.parent))


def provenance(seed: int, command: list[str], extra: dict | None = None) -> dict:
    """Git commit and state, package versions, seed, command line and time, for ``provenance.json``."""
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
        "command": command,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
        **(extra or {}),
    }


def job_folders(root: Path) -> list[Path]:
    """Folders of the jobs of a multirun (each has Hydra's ``.hydra/overrides.yaml``), sorted."""
    root = Path(root)
    return sorted(p.parent.parent for p in root.rglob(".hydra/overrides.yaml") if p.parent.parent != root)


def job_status(root: Path) -> pd.DataFrame:
    """One row per started job: folder, its overrides, and status (complete, failed, incomplete) with
    error."""
    import yaml

    rows = []
    for job in job_folders(root):
        overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text(encoding="utf-8")) or []
        error = job / "error.json"
        if (job / "outcomes.parquet").is_file() and is_run_folder(job):
            status, message = "complete", ""
        elif error.is_file():
            info = json.loads(error.read_text(encoding="utf-8"))
            status, message = "failed", f"{info.get('error')}: {info.get('message')}"
        else:
            status, message = "incomplete", "no outputs (still running, or killed)"
        rows.append(
            {
                "job": str(job.relative_to(root)),
                "overrides": [str(o) for o in overrides],
                "status": status,
                "error": message,
            }
        )
    return pd.DataFrame(rows, columns=["job", "overrides", "status", "error"])


def read_sweep(root: Path, jobs: list[str]) -> pd.DataFrame:
    """Every complete job's ``outcomes.parquet`` in one table, read as one pyarrow dataset.

    Args:
        root: the multirun folder.
        jobs: the complete jobs' folders relative to ``root``.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    files = [str(Path(root) / j / "outcomes.parquet") for j in jobs]
    if not files:
        return pd.DataFrame()
    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    return ds.dataset(files, format="parquet", schema=schema).to_table().to_pandas()


def multirun_overrides(root: Path) -> list[str] | None:
    """The overrides a multirun was started with (command line and config sweeps), from ``multirun.yaml``."""
    import yaml

    path = Path(root) / "multirun.yaml"
    if not path.is_file():
        return None
    cfg = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    hydra_cfg = cfg.get("hydra", {})
    task = list(hydra_cfg.get("overrides", {}).get("task", []) or [])
    params = (hydra_cfg.get("sweeper", {}) or {}).get("params", {}) or {}
    keys = {t.split("=", 1)[0] for t in task}
    return task + [f"{k}={v}" for k, v in params.items() if k not in keys]
