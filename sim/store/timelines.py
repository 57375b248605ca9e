"""Reading a case's timeline, ``conf/timeline/<case>.yaml`` (safe YAML), and checking what it cites.

The file holds ``case`` and ``events`` (the schema is in :mod:`sim.core.timeline`). The counterparts,
instruments and destinations its events may use are the case's, read from ``conf/case/<case>.yaml`` (one
source of truth; a caller may pass its own :class:`Names`); a file that lists its own is refused. Beyond the
schema, the loader checks the citations against the case's data: every ``seeds:<id>`` must be a row of
``seeds/<case>/figures.csv`` and every ``record:<id>`` a row of one of the case's record files; a pardon or
deal that cites release rows of the record must fall in their month and release no more persons than they sum
to (a citation may cover more than the event, e.g. an exchange in which other states' prisoners were also
freed).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from sim.analysis.quantities import month_of
from sim.core.timeline import Event, Names, TimelineError, citations, validate_events

from .paths import CONF_DIR
from .sources import DEFAULT_CASE, SeedsError, case_dir, load_figures, load_provenance, load_record

TIMELINE_DIR = CONF_DIR / "timeline"
#: The keys of a timeline file.
TIMELINE_KEYS = ("case", "events")


def timeline_path(case: str = DEFAULT_CASE) -> Path:
    """``conf/timeline/<case>.yaml`` for a known case (the name is checked against ``seeds/``)."""
    try:
        case_dir(case)
    except SeedsError as exc:
        raise TimelineError(str(exc)) from None
    path = TIMELINE_DIR / f"{case}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in TIMELINE_DIR.glob("*.yaml"))
        raise TimelineError(f"case {case!r} has no timeline ({path.name}); timelines: {', '.join(known)}")
    return path


def read_timeline_file(path: Path) -> dict:
    """The raw mapping of a timeline file (safe YAML), or one line saying why it cannot be read."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise TimelineError(f"{path}: unreadable ({type(exc).__name__}{at})") from None
    if not isinstance(data, dict) or "events" not in data:
        raise TimelineError(f"{path}: must be a mapping with case and events")
    unknown = sorted(str(k) for k in data if k not in TIMELINE_KEYS)
    if unknown:
        extra = " (the names events may use come from conf/case/<case>.yaml)" if "names" in unknown else ""
        raise TimelineError(
            f"{path.name}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(TIMELINE_KEYS)}{extra}"
        )
    return data


def case_records(case: str) -> pd.DataFrame:
    """Every record file of a case (``monitoring.csv`` and the others its ``sources.yaml`` lists), as one."""
    frames = [load_record(case, name) for name in load_provenance(case)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def case_names(case: str) -> Names:
    """The names a case's timeline may use, read from its case file (one source of truth)."""
    from sim.core.params import ParamError

    from .cases import case_params

    try:
        params = case_params(case, None)
    except ParamError as exc:
        raise TimelineError(f"case {case!r}: {exc}") from None
    present = params.counterparts()
    return Names(
        counterparts=(*present, *params.case.outside),
        instruments={n: tuple(c.instruments) for n, c in present.items()},
        destinations=tuple(params.case.destinations),
    )


def load_timeline(
    case: str = DEFAULT_CASE,
    *,
    names: Names | None = None,
    path: Path | None = None,
    check_citations: bool = True,
) -> tuple[Event, ...]:
    """Load, validate and cross-check a case's timeline.

    Args:
        case: the case (its seeds folder gives the data that citations are checked against).
        names: the counterparts, instruments and destinations allowed (default: the case's, from
            ``conf/case/<case>.yaml``: its counterparts present and its ``outside`` actors, their instruments,
            its destinations).
        path: a timeline file to read instead of ``conf/timeline/<case>.yaml`` (tests).
        check_citations: check ``seeds:`` and ``record:`` citations against the case's data.

    Returns:
        The events, in calendar order.

    Raises:
        TimelineError: one line naming the file, the event (position from 1, month and type) and the field.
    """
    path = Path(path) if path else timeline_path(case)
    data = read_timeline_file(path)
    if data.get("case") != case:
        raise TimelineError(
            f"{path.name}: case {data.get('case')!r} does not match the case asked for, {case!r}"
        )
    if names is None:
        names = case_names(case)
    events = validate_events(data["events"], names, path.name)
    if check_citations:
        check_timeline_citations(events, case, path.name)
    return events


def check_timeline_citations(events: tuple[Event, ...], case: str, where: str = "timeline") -> None:
    """Check every ``seeds:`` and ``record:`` citation (in source and note) against the case's data.

    Raises:
        TimelineError: one line naming the event and the citation at fault.
    """
    figures: set[str] | None = None
    records = case_records(case).set_index("id")
    for i, e in enumerate(events, start=1):
        at = f"{where} event {i} ({e.month} {e.type})"
        cited_release = []
        in_source = set(e.citations)
        for kind, ident in [*e.citations, *citations(e.note)]:
            if kind == "seeds":
                if figures is None:
                    try:
                        figures = set(load_figures(case)["id"])
                    except SeedsError:
                        figures = set()
                if ident not in figures:
                    raise TimelineError(
                        f"{at}: source cites seeds:{ident}, not a figure of seeds/{case}/figures.csv"
                    )
            else:
                if ident not in records.index:
                    raise TimelineError(f"{at}: source cites record:{ident}, not a row of the {case} record")
                row = records.loc[ident]
                if row["role"] == "release" and (kind, ident) in in_source:
                    cited_release.append((ident, row))
        if e.type in ("pardon", "deal") and cited_release:
            for ident, row in cited_release:
                if month_of(row["date"]) != e.month:
                    raise TimelineError(
                        f"{at}: cites record:{ident} dated {row['date']}, outside the event's month"
                    )
            total = sum(float(row["number"]) for _, row in cited_release)
            if e.released is not None and e.released > total:
                raise TimelineError(
                    f"{at}: released = {e.released} exceeds the {total:g} persons of the cited release rows"
                )
