"""Reading the source figures in ``seeds/`` (the only module that does), with validation.

``seeds/figures.csv`` holds one figure a row: ``id, value, unit, kind, date, period_start, source_file,
measures``; ``seeds/sources.yaml`` describes each seed document named in ``source_file``. A malformed file
is rejected with one line naming the file, the row and the field.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import yaml

from .paths import SEEDS_DIR

COLUMNS = ("id", "value", "unit", "kind", "date", "period_start", "source_file", "measures")
KINDS = ("exact", "lower_bound", "upper_bound", "approximate")
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class SeedsError(ValueError):
    """A malformed seeds file."""


def load_sources(path: Path | None = None) -> dict[str, dict]:
    """The seed documents described in ``sources.yaml``, keyed by file name."""
    path = Path(path) if path else SEEDS_DIR / "sources.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SeedsError(f"{path}: unreadable ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise SeedsError(f"{path}: must map each seed file name to its description")
    return data


def load_figures(path: Path | None = None, sources: dict[str, dict] | None = None) -> pd.DataFrame:
    """Load and check ``figures.csv``.

    Args:
        path: the CSV (default ``seeds/figures.csv``).
        sources: the seed documents (default: ``sources.yaml`` beside the CSV).

    Returns:
        One row per figure, ``value`` as float, indexed by position; ids are unique.

    Raises:
        SeedsError: one line naming the file, row and field at fault and the allowed values.
    """
    path = Path(path) if path else SEEDS_DIR / "figures.csv"
    if sources is None:
        sources = load_sources(path.parent / "sources.yaml")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SeedsError(f"{path}: unreadable CSV ({str(exc).splitlines()[0]})") from None
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
