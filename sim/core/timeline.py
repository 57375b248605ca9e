"""Dated events of a case's history (the timeline), and their validation. Pure: no files, no YAML.

A timeline is a list of events, each a mapping with the common fields

* ``month`` -- ``YYYY-MM``, the calendar month the event falls in;
* ``type`` -- one of :data:`EVENT_TYPES`;
* ``source`` -- required text: the outlet and its date (``"AP, 2025-09-12"``), and/or a citation of the
  project's own data: ``seeds:<figure id>`` (a row of ``seeds/<case>/figures.csv``) or ``record:<row id>``
  (a row of the case's monitoring record, ``seeds/<case>/*.csv``). Several may be given, separated by
  ``;``. The loader in :mod:`sim.store.timelines` checks that every cited id exists;
* ``confidence`` -- one of :data:`CONFIDENCE`, as in the monitoring record: ``H`` the monitoring
  organisation's own figure or several agreeing outlets, ``M`` a single secondary outlet or a date read
  from context, ``L`` an undated or indirect attribution, ``inferred`` a reading or an arithmetic step by
  the project (the note says which);
* ``note`` -- optional text; required when a number is given as unknown (``null``).

and the fields of its type (:data:`EVENT_TYPES`):

* ``pardon`` -- a unilateral release batch: ``released`` (persons, or ``null`` when the size is not known),
  ``destinations`` ({destination: persons}, summing to ``released``; default: all ``stayed``), ``parole``
  (true when people are released inside the country with the sentence intact; default false).
* ``deal`` -- a release with a counterpart: ``counterpart``, ``released`` (persons or ``null``),
  ``destinations``, ``high_profile`` (persons among them who are symbols; absent = not stated),
  ``lifted`` ({instrument of the counterpart: share of the instrument lifted, 0..1}; default none),
  ``concession`` (text, ``"none acknowledged"`` allowed), ``denationalised`` (true when the released
  lose their nationality; default false), ``parole`` (default false).
* ``talks`` -- ``counterpart``, ``state`` ``open`` or ``closed``.
* ``instrument`` -- ``counterpart``, ``instrument`` (one of the counterpart's) and ``level``: the share of
  the instrument in force after the event, 0..1. Sanctions imposed raise it, lifted lower it; a licence
  granted lowers it (the sanction it relieves is less in force), a licence revoked raises it; a border or
  transit route closed sets it to 1, reopened to 0 (partial closures are the share of crossings closed).
* ``crackdown`` -- an exogenous arrest wave: ``multiplier`` (arrest-rate multiplier at onset, >= 1, or
  ``null``), ``half_life_months`` (months for the excess rate to halve, > 0, or ``null``), ``cause``
  (text, e.g. ``election``), and optionally ``floor`` (the multiplier the wave decays towards, >= 1, at most
  ``multiplier``; default 1: a full decompression). The multiplier a month after onset is ``floor +
  (multiplier - floor) x 0.5^(months / half_life)``: a floor above 1 is a wave that leaves a lasting higher
  rate (after Venezuela's 2024 election the rate stayed well above its earlier level).
* ``incident`` -- a security incident affecting a counterpart: ``counterpart``, ``severity`` 0..1 on the
  scale :data:`SEVERITY_SCALE`.

Counterpart, instrument and destination names are not fixed here: the caller passes them (:class:`Names`,
read from the case's configuration), and every event is checked against them. Bad input raises
:class:`TimelineError` with one line naming the event, the field and the allowed values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

CONFIDENCE = ("H", "M", "L", "inferred")
"""Confidence marks of a figure or an event (the monitoring record's convention, see module docstring)."""

TALK_STATES = ("open", "closed")

SEVERITY_SCALE = {
    0.0: "nothing happened",
    0.25: "a nuisance the counterpart handles routinely",
    0.5: "disrupts civil life in the counterpart (airports or border crossings closed)",
    0.75: "draws a military response (interceptions, shoot-downs, allied consultations)",
    1.0: "an armed attack on the counterpart",
}
"""Anchors of the ``incident`` severity scale; a severity between two anchors is a reading between them."""

COMMON = ("month", "type", "source", "confidence", "note")
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "pardon": ("released", "destinations", "parole"),
    "deal": (
        "counterpart",
        "released",
        "destinations",
        "high_profile",
        "lifted",
        "concession",
        "denationalised",
        "parole",
    ),
    "talks": ("counterpart", "state"),
    "instrument": ("counterpart", "instrument", "level"),
    "crackdown": ("multiplier", "half_life_months", "cause", "floor"),
    "incident": ("counterpart", "severity"),
}
"""The fields each event type may carry beside :data:`COMMON` (see the module docstring)."""

REQUIRED: dict[str, tuple[str, ...]] = {
    "pardon": ("released",),
    "deal": ("counterpart", "released", "concession"),
    "talks": ("counterpart", "state"),
    "instrument": ("counterpart", "instrument", "level"),
    "crackdown": ("multiplier", "half_life_months", "cause"),
    "incident": ("counterpart", "severity"),
}
"""Fields that must be present (``released``, ``multiplier`` and ``half_life_months`` may be ``null``)."""

NULLABLE = ("released", "multiplier", "half_life_months")

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_CITATION = re.compile(r"\b(seeds|record):([a-z0-9_]+)")


class TimelineError(ValueError):
    """A malformed timeline or event (one line: where, which field, what is allowed)."""


@dataclass(frozen=True)
class Names:
    """The names a case's events may use, given by the caller (the case's configuration).

    Attributes:
        counterparts: the outside actors (e.g. ``us``, ``eu``).
        instruments: for each counterpart, the instruments it controls (sanctions, licences, borders).
        destinations: where released people may go (``stayed`` for those who stay in the country).
    """

    counterparts: tuple[str, ...]
    instruments: Mapping[str, tuple[str, ...]]
    destinations: tuple[str, ...]

    @classmethod
    def from_mapping(cls, data: object, where: str = "names") -> Names:
        """Build from ``{counterparts: [...], instruments: {counterpart: [...]}, destinations: [...]}``."""
        if not isinstance(data, Mapping):
            raise TimelineError(f"{where}: must map counterparts, instruments and destinations to lists")
        unknown = sorted(set(data) - {"counterparts", "instruments", "destinations"})
        if unknown:
            raise TimelineError(
                f"{where}: unknown key(s) {', '.join(map(str, unknown))}; "
                "allowed: counterparts, instruments, destinations"
            )

        def names(value: object, what: str) -> tuple[str, ...]:
            if not isinstance(value, Sequence) or isinstance(value, str) or not value:
                raise TimelineError(f"{where}.{what}: must be a non-empty list of names")
            out = tuple(value)
            for v in out:
                if not isinstance(v, str) or not re.match(r"^[a-z][a-z0-9_]*$", v):
                    raise TimelineError(f"{where}.{what}: {v!r} is not a lower_snake_case name")
            if len(set(out)) != len(out):
                raise TimelineError(f"{where}.{what}: names repeat")
            return out

        counterparts = names(data.get("counterparts"), "counterparts")
        destinations = names(data.get("destinations"), "destinations")
        if "stayed" not in destinations:
            raise TimelineError(f"{where}.destinations: must include 'stayed' (released inside the country)")
        raw = data.get("instruments") or {}
        if not isinstance(raw, Mapping):
            raise TimelineError(f"{where}.instruments: must map each counterpart to a list of instruments")
        instruments = {}
        for cp, lst in raw.items():
            if cp not in counterparts:
                raise TimelineError(
                    f"{where}.instruments: {cp!r} is not a counterpart; known: {', '.join(counterparts)}"
                )
            instruments[cp] = names(lst, f"instruments.{cp}")
        return cls(counterparts, instruments, destinations)


@dataclass(frozen=True)
class Event:
    """One dated event of a case's history (fields as in the module docstring; unused ones are None).

    Units: ``released`` and ``high_profile`` and the values of ``destinations`` in persons; ``lifted``
    values and ``level`` are shares of an instrument (0..1); ``multiplier`` is a ratio of arrest rates;
    ``half_life_months`` in months; ``severity`` on :data:`SEVERITY_SCALE`.
    """

    month: str
    type: str
    source: str
    confidence: str
    note: str = ""
    released: int | None = None
    destinations: dict[str, int] | None = None
    parole: bool = False
    counterpart: str | None = None
    high_profile: int | None = None
    lifted: dict[str, float] = field(default_factory=dict)
    concession: str | None = None
    denationalised: bool = False
    state: str | None = None
    instrument: str | None = None
    level: float | None = None
    multiplier: float | None = None
    half_life_months: float | None = None
    floor: float = 1.0
    cause: str | None = None
    severity: float | None = None

    @property
    def citations(self) -> list[tuple[str, str]]:
        """The project data this event cites, as ``(kind, id)`` with kind ``seeds`` or ``record``."""
        return citations(self.source)


def citations(source: str) -> list[tuple[str, str]]:
    """``seeds:<id>`` and ``record:<id>`` citations in a source text, in order."""
    return _CITATION.findall(source)


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def validate_event(raw: object, names: Names, where: str = "event") -> Event:
    """Check one raw event (a mapping) against the schema and the case's names.

    Args:
        raw: the event as read from a file.
        names: the counterparts, instruments and destinations of the case.
        where: how the event is named in an error (e.g. ``"belarus.yaml event 3"``).

    Returns:
        The :class:`Event`, with defaults filled in (``destinations`` all ``stayed`` when not given).

    Raises:
        TimelineError: one line naming the event, the field and the allowed values.
    """
    if not isinstance(raw, Mapping):
        raise TimelineError(f"{where}: must be a mapping of fields")
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        raise TimelineError(f"{where}: type {kind!r} must be one of {', '.join(EVENT_TYPES)}")
    month = raw.get("month")
    where = f"{where} ({month} {kind})" if isinstance(month, str) else f"{where} ({kind})"
    if not isinstance(month, str) or not _MONTH.match(month):
        raise TimelineError(f"{where}: month {month!r} must be text YYYY-MM (quote it in YAML)")
    allowed = COMMON + EVENT_TYPES[kind]
    unknown = [k for k in raw if k not in allowed]
    if unknown:
        raise TimelineError(
            f"{where}: field(s) {', '.join(map(str, unknown))} not allowed for {kind}; allowed: "
            f"{', '.join(allowed)}"
        )
    missing = [k for k in REQUIRED[kind] if k not in raw]
    if missing:
        raise TimelineError(f"{where}: missing field(s) {', '.join(missing)} (required for {kind})")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise TimelineError(f"{where}: source must be non-empty text (outlet and date, or seeds:<id>)")
    confidence = raw.get("confidence")
    if confidence not in CONFIDENCE:
        raise TimelineError(f"{where}: confidence {confidence!r} must be one of {', '.join(CONFIDENCE)}")
    note = raw.get("note", "")
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise TimelineError(f"{where}: note must be text")
    for k in NULLABLE:
        if k in raw and raw[k] is None and not note.strip():
            raise TimelineError(f"{where}: {k} is null (unknown): a note must say what is known")

    out: dict = {"month": month, "type": kind, "source": source, "confidence": confidence, "note": note}

    def persons(k: str) -> int | None:
        v = raw.get(k)
        if v is None:
            return None
        if not _is_number(v) or v < 0 or float(v) != int(v):
            raise TimelineError(f"{where}: {k} {v!r} must be a whole number of persons >= 0")
        return int(v)

    def share(k: str, v: object, lo: float = 0.0, hi: float = 1.0) -> float:
        if not _is_number(v) or not lo <= v <= hi:
            raise TimelineError(f"{where}: {k} {v!r} must be a number in [{lo}, {hi}]")
        return float(v)

    def flag(k: str) -> bool:
        v = raw.get(k, False)
        if not isinstance(v, bool):
            raise TimelineError(f"{where}: {k} {v!r} must be true or false")
        return v

    def text(k: str) -> str:
        v = raw.get(k)
        if not isinstance(v, str) or not v.strip():
            raise TimelineError(f"{where}: {k} must be non-empty text")
        return v

    def counterpart() -> str:
        v = raw.get("counterpart")
        if v not in names.counterparts:
            raise TimelineError(f"{where}: counterpart {v!r} must be one of {', '.join(names.counterparts)}")
        return v

    def instrument_of(cp: str, v: object, k: str) -> str:
        known = names.instruments.get(cp, ())
        if v not in known:
            raise TimelineError(
                f"{where}: {k} {v!r} is not an instrument of {cp}; known: {', '.join(known) or 'none'}"
            )
        return v

    if kind in ("pardon", "deal"):
        released = persons("released")
        out["released"] = released
        dest = raw.get("destinations")
        if dest is None:
            out["destinations"] = None if released is None else {"stayed": released}
        else:
            if released is None:
                raise TimelineError(f"{where}: destinations given while released is null (unknown)")
            if not isinstance(dest, Mapping) or not dest:
                raise TimelineError(f"{where}: destinations must map destination to persons")
            clean = {}
            for d, n in dest.items():
                if d not in names.destinations:
                    raise TimelineError(
                        f"{where}: destination {d!r} must be one of {', '.join(names.destinations)}"
                    )
                if not _is_number(n) or n < 0 or float(n) != int(n):
                    raise TimelineError(f"{where}: destinations.{d} {n!r} must be a whole number >= 0")
                clean[d] = int(n)
            if sum(clean.values()) != released:
                raise TimelineError(
                    f"{where}: destinations sum to {sum(clean.values())}, not to released = {released}"
                )
            out["destinations"] = clean
        out["parole"] = flag("parole")
    if kind == "deal":
        cp = counterpart()
        out["counterpart"] = cp
        hp = persons("high_profile")
        if hp is not None and out["released"] is not None and hp > out["released"]:
            raise TimelineError(f"{where}: high_profile {hp} exceeds released {out['released']}")
        out["high_profile"] = hp
        lifted = raw.get("lifted") or {}
        if not isinstance(lifted, Mapping):
            raise TimelineError(f"{where}: lifted must map instrument to the share lifted (0..1)")
        out["lifted"] = {
            instrument_of(cp, k, "lifted instrument"): share(f"lifted.{k}", v) for k, v in lifted.items()
        }
        out["concession"] = text("concession")
        out["denationalised"] = flag("denationalised")
    elif kind == "talks":
        out["counterpart"] = counterpart()
        if raw.get("state") not in TALK_STATES:
            raise TimelineError(
                f"{where}: state {raw.get('state')!r} must be one of {', '.join(TALK_STATES)}"
            )
        out["state"] = raw["state"]
    elif kind == "instrument":
        cp = counterpart()
        out["counterpart"] = cp
        out["instrument"] = instrument_of(cp, raw.get("instrument"), "instrument")
        out["level"] = share("level", raw.get("level"))
    elif kind == "crackdown":
        m = raw.get("multiplier")
        out["multiplier"] = None if m is None else share("multiplier", m, 1.0, math.inf)
        h = raw.get("half_life_months")
        if h is not None and (not _is_number(h) or h <= 0):
            raise TimelineError(f"{where}: half_life_months {h!r} must be a number of months > 0, or null")
        out["half_life_months"] = None if h is None else float(h)
        out["cause"] = text("cause")
        if raw.get("floor") is not None:
            top = out["multiplier"] if out["multiplier"] is not None else math.inf
            out["floor"] = share("floor", raw.get("floor"), 1.0, top)
    elif kind == "incident":
        out["counterpart"] = counterpart()
        out["severity"] = share("severity", raw.get("severity"))
    return Event(**out)


def validate_events(raw: object, names: Names, where: str = "timeline") -> tuple[Event, ...]:
    """Check a list of raw events; they must be in calendar order (months never decrease).

    Raises:
        TimelineError: one line naming the first bad event (by its position, from 1), the field and the
            allowed values.
    """
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise TimelineError(f"{where}: events must be a list")
    events = tuple(validate_event(e, names, f"{where} event {i}") for i, e in enumerate(raw, start=1))
    for i in range(1, len(events)):
        if events[i].month < events[i - 1].month:
            raise TimelineError(
                f"{where} event {i + 1} ({events[i].month} {events[i].type}): out of order after "
                f"{events[i - 1].month}; list events by month"
            )
    return events


def monthly_releases(events: Sequence[Event]) -> dict[str, dict[str, int]]:
    """Persons released per month by channel, ``{month: {"pardon": n, "deal": n}}``.

    Events of unknown size (``released`` null) are left out; :func:`unknown_releases` lists them.
    """
    out: dict[str, dict[str, int]] = {}
    for e in events:
        if e.type in ("pardon", "deal") and e.released is not None:
            row = out.setdefault(e.month, {"pardon": 0, "deal": 0})
            row[e.type] += e.released
    return out


def unknown_releases(events: Sequence[Event]) -> list[Event]:
    """Release events whose size the sources do not give."""
    return [e for e in events if e.type in ("pardon", "deal") and e.released is None]
