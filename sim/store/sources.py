"""Reading a case's source data in ``seeds/<case>/`` (the only module that does), with validation.

Each case has a folder ``seeds/<case>/`` (``belarus`` is the default case):

* ``sources.yaml`` -- provenance. ``documents`` describes seed texts (Belarus: the five documents under
  ``../shared/seeds/``); ``records`` describes each record file copied into the folder: the original file's
  name and sha256, the date copied, the monitoring organisation and its definition of a political prisoner,
  the cut-off (the data stop at 2024-12 on purpose) and the changes made in copying.
* ``figures.csv`` (Belarus only, for now) -- figures from the seed documents: ``id, value, unit, kind,
  date, period_start, source_file, measures``.
* ``monitoring.csv`` -- the monitoring organisation's record: ``id, date, quantity, value, unit, channel,
  source, confidence, note`` (vocabulary in :mod:`sim.analysis.quantities`). Other record files with the
  same columns (Belarus's ``exchanges.csv``, ``seeds/iran/record.csv``, ``seeds/studies/findings.csv``) are
  read by :func:`load_record`.

A malformed file is rejected with one line naming the file, the row and the field, before any work.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import yaml

from sim.analysis.quantities import (
    CHANNELS,
    CONFIDENCE,
    COUNT_UNITS,
    QUANTITIES,
    UNITS,
    PeriodError,
    date_span,
    parse_number,
    row_period,
)

from .paths import SEEDS_DIR

DEFAULT_CASE = "belarus"
COLUMNS = ("id", "value", "unit", "kind", "date", "period_start", "source_file", "measures")
KINDS = ("exact", "lower_bound", "upper_bound", "approximate")
RECORD_COLUMNS = ("id", "date", "quantity", "value", "unit", "channel", "source", "confidence", "note")
PROVENANCE_KEYS = (
    "original_file",
    "original_sha256",
    "original_rows",
    "copied",
    "organisation",
    "definition",
    "cut_off",
    "changes",
)
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class SeedsError(ValueError):
    """A malformed seeds file, or an unknown case."""


def cases(seeds_dir: Path | None = None) -> list[str]:
    """The cases that have a folder with a ``sources.yaml`` under ``seeds/``."""
    root = Path(seeds_dir) if seeds_dir else SEEDS_DIR
    return sorted(p.parent.name for p in root.glob("*/sources.yaml"))


def case_dir(case: str = DEFAULT_CASE, seeds_dir: Path | None = None) -> Path:
    """``seeds/<case>/``, after checking the name (untrusted input) against the folders present."""
    known = cases(seeds_dir)
    if not isinstance(case, str) or not _ID.match(case) or case not in known:
        raise SeedsError(f"case {case!r} is not known; known: {', '.join(known)}")
    return (Path(seeds_dir) if seeds_dir else SEEDS_DIR) / case


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SeedsError(f"{path}: unreadable ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise SeedsError(f"{path}: must be a mapping with documents and/or records")
    return data


def load_sources(case: str = DEFAULT_CASE, *, path: Path | None = None) -> dict[str, dict]:
    """The seed documents described in a case's ``sources.yaml`` (``documents``), keyed by file name.

    Args:
        case: the case's folder under ``seeds/``.
        path: a ``sources.yaml`` to read instead (tests).
    """
    path = Path(path) if path else case_dir(case) / "sources.yaml"
    data = _read_yaml(path)
    docs = data.get("documents") or {}
    if not isinstance(docs, dict) or not all(isinstance(v, dict) for v in docs.values()):
        raise SeedsError(f"{path}: documents must map each seed file name to its description")
    return docs


def load_provenance(case: str = DEFAULT_CASE, *, path: Path | None = None) -> dict[str, dict]:
    """The provenance of each record file of a case (``records`` in ``sources.yaml``), checked.

    Each entry names the original file and its sha256, the rows taken, the date copied, the monitoring
    organisation and its definition of a political prisoner, the cut-off month and the changes made.

    Raises:
        SeedsError: one line naming the file, the record and the missing or malformed key.
    """
    path = Path(path) if path else case_dir(case) / "sources.yaml"
    data = _read_yaml(path)
    records = data.get("records") or {}
    if not isinstance(records, dict):
        raise SeedsError(f"{path}: records must map each record file to its provenance")
    for name, prov in records.items():
        where = f"{path.name} records.{name}"
        if not isinstance(prov, dict):
            raise SeedsError(f"{where}: must be a mapping with {', '.join(PROVENANCE_KEYS)}")
        missing = [k for k in PROVENANCE_KEYS if not prov.get(k)]
        if missing:
            raise SeedsError(f"{where}: missing {', '.join(missing)}")
        if not _SHA.match(str(prov["original_sha256"])):
            raise SeedsError(f"{where}: original_sha256 must be 64 lowercase hex digits")
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", str(prov["copied"])):
            raise SeedsError(f"{where}: copied {prov['copied']!r} must be a date YYYY-MM-DD (quoted)")
        if not _MONTH.match(str(prov["cut_off"])):
            raise SeedsError(f"{where}: cut_off {prov['cut_off']!r} must be a month YYYY-MM (quoted)")
    return records


def load_figures(
    case: str = DEFAULT_CASE, *, path: Path | None = None, sources: dict[str, dict] | None = None
) -> pd.DataFrame:
    """Load and check a case's ``figures.csv``.

    Args:
        case: the case's folder under ``seeds/`` (default ``belarus``).
        path: a CSV to read instead (default ``seeds/<case>/figures.csv``).
        sources: the seed documents (default: ``sources.yaml`` beside the CSV).

    Returns:
        One row per figure, ``value`` as float, indexed by position; ids are unique.

    Raises:
        SeedsError: one line naming the file, row and field at fault and the allowed values.
    """
    path = Path(path) if path else case_dir(case) / "figures.csv"
    if sources is None:
        sources = load_sources(path=path.parent / "sources.yaml")
    df = _read_csv(path)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise SeedsError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    seen: set[str] = set()
    for i, row in df.iterrows():
        where = f"{path.name} row {i + 2} (id={row['id']!r})"
        if not _ID.match(row["id"]):
            raise SeedsError(f"{where}: id must be lower_snake_case")
        if row["id"] in seen:
            raise SeedsError(f"{where}: duplicate id")
        seen.add(row["id"])
        try:
            float(row["value"])
        except ValueError:
            raise SeedsError(f"{where}: value {row['value']!r} is not a number") from None
        if row["kind"] not in KINDS:
            raise SeedsError(f"{where}: kind {row['kind']!r} must be one of {', '.join(KINDS)}")
        if not _DATE.match(row["date"]):
            raise SeedsError(f"{where}: date {row['date']!r} must be YYYY-MM or YYYY-MM-DD")
        if row["period_start"] and not _DATE.match(row["period_start"]):
            raise SeedsError(
                f"{where}: period_start {row['period_start']!r} must be empty, YYYY-MM or YYYY-MM-DD"
            )
        if row["source_file"] not in sources:
            raise SeedsError(f"{where}: source_file {row['source_file']!r} is not described in sources.yaml")
        if not row["unit"] or not row["measures"]:
            raise SeedsError(f"{where}: unit and measures must not be empty")
    df["value"] = df["value"].astype(float)
    return df


def figure(figures: pd.DataFrame, fig_id: str) -> dict:
    """One figure as a dict, by id (``KeyError`` naming the id and the known ones)."""
    hit = figures[figures["id"] == fig_id]
    if hit.empty:
        raise KeyError(f"seeds figure {fig_id!r} not found; known: {', '.join(figures['id'])}")
    return hit.iloc[0].to_dict()


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SeedsError(f"{path}: unreadable CSV ({str(exc).splitlines()[0]})") from None


def load_monitoring(case: str = DEFAULT_CASE) -> pd.DataFrame:
    """A case's monitoring record, ``seeds/<case>/monitoring.csv``, checked (see :func:`load_record`)."""
    return load_record(case, "monitoring.csv")


def load_record(
    case: str = DEFAULT_CASE, name: str = "monitoring.csv", *, path: Path | None = None
) -> pd.DataFrame:
    """Load and check one record file of a case (its provenance must be in the case's ``sources.yaml``).

    Checks, row by row: the columns; a unique lower_snake_case ``id``; ``date`` as ``YYYY``, ``YYYY-MM``
    or ``YYYY-MM-DD`` and not after the file's cut-off; a ``quantity`` of the vocabulary
    (:data:`sim.analysis.quantities.QUANTITIES`) with one of its units; a plain number where the unit is
    a count (persons), >= 0 for stocks, inflows and releases; ``confidence`` one of H, M, L, inferred; a
    non-empty ``source``; a ``channel`` (:data:`~sim.analysis.quantities.CHANNELS`) on every release row and
    on no other; a readable ``period=`` in the note that ends by the row's date; one stock figure per date
    and one inflow figure per period.

    Values that are not plain numbers in a unit other than a count (``~20%``, ``-60%``, ``halted``, a
    concession in words, a range such as ``64-87``) are kept, as text: their ``number`` is NaN and
    ``excluded`` says why they are left out of numeric use. Nothing else is ever dropped.

    Args:
        case: the case's folder under ``seeds/``.
        name: the record file in it (``monitoring.csv``, ``exchanges.csv``, ``record.csv``, ...).
        path: a CSV to read instead (tests); its provenance is read from ``sources.yaml`` beside it, under
            ``name``.

    Returns:
        The rows as text, plus ``number`` (float or NaN), ``role`` (of the quantity), ``period_start`` and
        ``period_end`` (``YYYY-MM-DD``, see :func:`sim.analysis.quantities.row_period`) and ``excluded``
        (empty, or the reason a value is not numeric). ``attrs`` carries ``case``, ``file`` (relative to
        ``seeds/``) and ``provenance``.

    Raises:
        SeedsError: one line naming the file, the row (as a line number and id) and the field at fault.
    """
    if path is None:
        folder = case_dir(case)
        path = folder / name
    path = Path(path)
    prov_all = load_provenance(path=path.parent / "sources.yaml")
    if name not in prov_all:
        raise SeedsError(f"{path.parent / 'sources.yaml'}: no provenance for {name} under records")
    prov = prov_all[name]
    cut_off = date_span(str(prov["cut_off"]))[1]
    df = _read_csv(path)
    missing = [c for c in RECORD_COLUMNS if c not in df.columns]
    if missing:
        raise SeedsError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(RECORD_COLUMNS)}"
        )
    numbers, roles, starts, ends, excluded = [], [], [], [], []
    seen: set[str] = set()
    stock_dates: dict[tuple[str, str], str] = {}
    inflow_periods: dict[tuple[str, str, str], str] = {}
    for i, row in df.iterrows():
        where = f"{path.name} row {i + 2} (id={row['id']!r})"
        if not _ID.match(row["id"]):
            raise SeedsError(f"{where}: id must be lower_snake_case")
        if row["id"] in seen:
            raise SeedsError(f"{where}: duplicate id")
        seen.add(row["id"])
        try:
            first, last = date_span(row["date"])
        except PeriodError:
            raise SeedsError(f"{where}: date {row['date']!r} must be YYYY, YYYY-MM or YYYY-MM-DD") from None
        if last > cut_off:
            raise SeedsError(f"{where}: date {row['date']} is after the cut-off {prov['cut_off']}")
        spec = QUANTITIES.get(row["quantity"])
        if spec is None:
            raise SeedsError(
                f"{where}: quantity {row['quantity']!r} is not in the vocabulary "
                "(sim/analysis/quantities.py QUANTITIES)"
            )
        if row["unit"] not in spec.units:
            raise SeedsError(
                f"{where}: unit {row['unit']!r} must be {' or '.join(spec.units)} for {row['quantity']} "
                f"(units known: {', '.join(UNITS)})"
            )
        if row["confidence"] not in CONFIDENCE:
            raise SeedsError(
                f"{where}: confidence {row['confidence']!r} must be one of {', '.join(CONFIDENCE)}"
            )
        if not row["source"].strip():
            raise SeedsError(f"{where}: source must not be empty")
        if spec.role == "release":
            if row["channel"] not in CHANNELS:
                raise SeedsError(
                    f"{where}: channel {row['channel']!r} must be one of {', '.join(CHANNELS)} "
                    "on a release row"
                )
        elif row["channel"]:
            raise SeedsError(f"{where}: channel {row['channel']!r} is only for release rows; leave it empty")
        number = parse_number(row["value"])
        reason = ""
        if number is None:
            if row["unit"] in COUNT_UNITS:
                raise SeedsError(f"{where}: value {row['value']!r} is not a number (unit {row['unit']})")
            reason = (
                "text: an event stated in words"
                if row["unit"] == "text"
                else f"{row['value']!r} is not a plain number ({row['unit']}); kept as text"
            )
        elif spec.role in ("stock", "inflow", "release") and number < 0:
            raise SeedsError(f"{where}: value {row['value']} must be >= 0 for a {spec.role}")
        try:
            start, end = row_period(row["date"], row["note"], row["quantity"])
        except PeriodError as exc:
            raise SeedsError(f"{where}: {exc}") from None
        if spec.role == "stock":
            key = (row["quantity"], row["date"])
            if key in stock_dates:
                raise SeedsError(
                    f"{where}: a second stock figure for {row['date']} (first: {stock_dates[key]})"
                )
            stock_dates[key] = row["id"]
        if spec.role == "inflow":
            key = (row["quantity"], start.isoformat(), end.isoformat())
            if key in inflow_periods:
                raise SeedsError(
                    f"{where}: a second inflow figure for {start}..{end} (first: {inflow_periods[key]})"
                )
            inflow_periods[key] = row["id"]
        numbers.append(float("nan") if number is None else number)
        roles.append(spec.role)
        starts.append(start.isoformat())
        ends.append(end.isoformat())
        excluded.append(reason)
    df["number"] = pd.Series(numbers, index=df.index, dtype=float)
    df["role"] = roles
    df["period_start"] = starts
    df["period_end"] = ends
    df["excluded"] = excluded
    try:
        rel = path.relative_to(SEEDS_DIR).as_posix()
    except ValueError:
        rel = path.name
    df.attrs = {"case": case, "file": rel, "provenance": dict(prov)}
    return df


def sha256_of(path: Path) -> str:
    """The sha256 of a file's bytes, as lowercase hex."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
