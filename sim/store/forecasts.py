"""Forecast records: ``forecast.parquet`` and ``forecast.json``, written atomically and verifiable later.

A forecast folder holds

* ``forecast.parquet`` -- one row per replicate (ensemble member) and month, with at least
  :data:`FORECAST_COLUMNS` (persons; ``month`` as ``YYYY-MM`` text, every month after the origin);
* ``forecast.json`` -- the registration: the case, the origin (the last month the forecast may know), the
  data vintage (the date of the last observation used, never after the origin), the months and replicates
  covered, the configuration, the git commit (and whether the tree was dirty), the provenance of the run
  (:func:`sim.store.tables.provenance`) and the sha256 of the parquet file.

A forecast written today can so be scored honestly later: :func:`verify_forecast` recomputes the hash, so
any change to the table after its registration shows. The parquet is written first and the JSON last (a
folder with a parquet and no JSON is an incomplete forecast); both through the atomic writer of
:mod:`sim.store.tables`. An existing forecast is never replaced unless asked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from sim.analysis.quantities import PeriodError, date_span

from .paths import relative
from .sources import DEFAULT_CASE, sha256_of
from .tables import provenance, write_json, write_table

FORECAST_FILE = "forecast.parquet"
RECORD_FILE = "forecast.json"
SCHEMA = 1
FORECAST_COLUMNS = (
    "month",
    "replicate",
    "prisoners_held",
    "arrests",
    "released_deal",
    "released_pardon",
    "released_served",
)
RECORD_KEYS = (
    "schema",
    "case",
    "origin",
    "data_vintage",
    "months",
    "replicates",
    "config",
    "commit",
    "files",
)
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ForecastRecordError(ValueError):
    """A forecast that cannot be written, or a record that does not verify (one line: folder and reason)."""


def check_forecast_table(table: pd.DataFrame, origin: str) -> None:
    """Check a forecast table before anything is written.

    Raises:
        ForecastRecordError: missing columns, months not ``YYYY-MM`` or not after the origin, negative or
            missing values, replicate numbers that are not whole numbers >= 0, or repeated (replicate, month).
    """
    missing = [c for c in FORECAST_COLUMNS if c not in table.columns]
    if missing:
        raise ForecastRecordError(
            f"forecast table lacks column(s) {', '.join(missing)}; needs {', '.join(FORECAST_COLUMNS)}"
        )
    if table.empty:
        raise ForecastRecordError("forecast table is empty")
    months = table["month"].astype(str)
    bad = months[~months.str.match(_MONTH)]
    if len(bad):
        raise ForecastRecordError(f"forecast month {bad.iloc[0]!r} must be YYYY-MM")
    if (months <= origin).any():
        raise ForecastRecordError(
            f"forecast month {months[months <= origin].min()} is not after the origin {origin}"
        )
    rep = pd.to_numeric(table["replicate"], errors="coerce")
    if rep.isna().any() or (rep < 0).any() or (rep != rep.round()).any():
        raise ForecastRecordError("replicate must be a whole number >= 0 in every row")
    values = table[list(FORECAST_COLUMNS[2:])].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any() or (values < 0).any().any():
        column = next(c for c in values.columns if values[c].isna().any() or (values[c] < 0).any())
        raise ForecastRecordError(f"forecast column {column} must be a number >= 0 in every row (persons)")
    if table.duplicated(["replicate", "month"]).any():
        raise ForecastRecordError("forecast table repeats a (replicate, month) row")


def write_forecast(
    out_dir: Path,
    table: pd.DataFrame,
    *,
    origin: str,
    data_vintage: str,
    config: dict,
    case: str = DEFAULT_CASE,
    seed: int | None = None,
    command: list[str] | None = None,
    extra: dict | None = None,
    overwrite: bool = False,
) -> dict:
    """Write and register a forecast.

    Args:
        out_dir: the forecast folder (created if needed).
        table: one row per replicate and month (:func:`check_forecast_table`).
        origin: ``YYYY-MM``, the last month whose observations the forecast may use.
        data_vintage: the date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) of the last observation used; it may
            not end after the origin.
        config: the resolved configuration (JSON-serialisable).
        case: the case forecast.
        seed: the seed of the run, for the provenance.
        command: the command line, for the provenance.
        extra: more fields for the record.
        overwrite: replace a forecast already in ``out_dir`` (otherwise refused, leaving it intact).

    Returns:
        The record written to ``forecast.json``.

    Raises:
        ForecastRecordError: before anything is written, on a bad table, origin, vintage or an existing
            forecast.
    """
    out_dir = Path(out_dir)
    if not isinstance(origin, str) or not _MONTH.match(origin):
        raise ForecastRecordError(f"origin {origin!r} must be a month YYYY-MM")
    try:
        vintage_end = date_span(str(data_vintage))[1]
    except PeriodError:
        raise ForecastRecordError(
            f"data_vintage {data_vintage!r} must be YYYY, YYYY-MM or YYYY-MM-DD"
        ) from None
    if vintage_end > date_span(origin)[1]:
        raise ForecastRecordError(
            f"data_vintage {data_vintage} is after the origin {origin}: data would leak"
        )
    check_forecast_table(table, origin)
    existing = [f for f in (FORECAST_FILE, RECORD_FILE) if (out_dir / f).exists()]
    if existing and not overwrite:
        raise ForecastRecordError(
            f"{relative(out_dir)} already holds a forecast ({', '.join(existing)}); "
            "pass overwrite to replace it"
        )
    try:
        json.dumps(config)
    except (TypeError, ValueError) as exc:
        raise ForecastRecordError(f"config is not JSON-serialisable ({exc})") from None
    (out_dir / RECORD_FILE).unlink(
        missing_ok=True
    )  # until the new record is written, the folder is incomplete
    table = table.sort_values(["replicate", "month"]).reset_index(drop=True)
    table["month"] = table["month"].astype("string")
    write_table(out_dir / FORECAST_FILE, table)
    prov = provenance(seed, command or [])
    months = sorted(table["month"].astype(str).unique())
    record = {
        "schema": SCHEMA,
        "case": case,
        "origin": origin,
        "data_vintage": str(data_vintage),
        "months": {"first": months[0], "last": months[-1], "count": len(months)},
        "replicates": int(table["replicate"].nunique()),
        "config": config,
        "commit": prov["commit"],
        "dirty": prov["dirty"],
        "files": {
            FORECAST_FILE: {
                "sha256": sha256_of(out_dir / FORECAST_FILE),
                "rows": len(table),
                "bytes": (out_dir / FORECAST_FILE).stat().st_size,
            }
        },
        "provenance": prov,
        **(extra or {}),
    }
    write_json(out_dir / RECORD_FILE, record)
    return record


def verify_forecast(out_dir: Path) -> dict:
    """Check a forecast folder: its record is complete and the parquet's sha256 is the one registered.

    Returns:
        The record.

    Raises:
        ForecastRecordError: one line naming the folder and what does not verify.
    """
    out_dir = Path(out_dir)
    where = relative(out_dir)
    path = out_dir / RECORD_FILE
    if not path.is_file():
        raise ForecastRecordError(f"{where}: no {RECORD_FILE} (not a forecast, or an incomplete one)")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ForecastRecordError(f"{where}: {RECORD_FILE} unreadable ({type(exc).__name__})") from None
    if not isinstance(record, dict):
        raise ForecastRecordError(f"{where}: {RECORD_FILE} must hold a mapping")
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        raise ForecastRecordError(f"{where}: {RECORD_FILE} lacks {', '.join(missing)}")
    expected = (record["files"].get(FORECAST_FILE) or {}).get("sha256")
    table = out_dir / FORECAST_FILE
    if not table.is_file():
        raise ForecastRecordError(f"{where}: {FORECAST_FILE} is missing")
    actual = sha256_of(table)
    if actual != expected:
        raise ForecastRecordError(
            f"{where}: {FORECAST_FILE} sha256 {actual[:12]}... is not the registered "
            f"{str(expected)[:12]}...; the table changed after it was recorded"
        )
    return record


def read_forecast(out_dir: Path) -> tuple[pd.DataFrame, dict]:
    """A verified forecast's table and record."""
    record = verify_forecast(out_dir)
    return pd.read_parquet(Path(out_dir) / FORECAST_FILE), record
