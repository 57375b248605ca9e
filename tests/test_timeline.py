"""Timelines: the event schema (sim/core/timeline.py), the loader with its citation checks, four cases."""

from __future__ import annotations

import pytest

from sim.analysis.observed import monthly_series
from sim.core.timeline import (
    EVENT_TYPES,
    Event,
    Names,
    TimelineError,
    monthly_releases,
    unknown_releases,
    validate_event,
    validate_events,
)
from sim.store.sources import figure, load_figures, load_monitoring
from sim.store.timelines import TIMELINE_DIR, load_timeline

NAMES = Names.from_mapping(
    {
        "counterparts": ["us", "eu"],
        "instruments": {"us": ["potash", "aviation"], "eu": ["systemic"]},
        "destinations": ["stayed", "ua", "lt"],
    }
)
DEAL = {
    "month": "2025-12",
    "type": "deal",
    "counterpart": "us",
    "released": 10,
    "destinations": {"ua": 7, "lt": 3},
    "high_profile": 2,
    "lifted": {"potash": 1.0},
    "concession": "potash relief",
    "source": "AP, 2025-12-13",
    "confidence": "H",
}


def test_a_valid_deal_and_defaults():
    e = validate_event(DEAL, NAMES)
    assert isinstance(e, Event) and e.released == 10 and e.lifted == {"potash": 1.0}
    assert e.denationalised is False and e.parole is False
    p = validate_event(
        {"month": "2024-07", "type": "pardon", "released": 18, "source": "x", "confidence": "H"}, NAMES
    )
    assert p.destinations == {"stayed": 18}, "a pardon's released stay by default"
    u = validate_event(
        {
            "month": "2025-02",
            "type": "pardon",
            "released": None,
            "source": "x",
            "confidence": "M",
            "note": "size not given",
        },
        NAMES,
    )
    assert u.released is None and u.destinations is None and unknown_releases([u]) == [u]


def _bad(**changes):
    raw = {**DEAL, **changes}
    return {k: v for k, v in raw.items() if v is not ...}


@pytest.mark.parametrize(
    "raw,message",
    [
        (_bad(month="2025-13"), "month '2025-13' must be text YYYY-MM"),
        (_bad(type="ransom"), "type 'ransom' must be one of pardon, deal"),
        (_bad(price=3), "field(s) price not allowed for deal"),
        (_bad(concession=...), "missing field(s) concession"),
        (_bad(counterpart="russia"), "counterpart 'russia' must be one of us, eu"),
        (_bad(lifted={"systemic": 0.5}), "lifted instrument 'systemic' is not an instrument of us"),
        (_bad(lifted={"potash": 1.5}), "lifted.potash 1.5 must be a number in [0.0, 1.0]"),
        (_bad(destinations={"pl": 10}), "destination 'pl' must be one of stayed, ua, lt"),
        (_bad(destinations={"ua": 7}), "destinations sum to 7, not to released = 10"),
        (_bad(released=-1), "released -1 must be a whole number of persons >= 0"),
        (_bad(released=2.5), "released 2.5 must be a whole number"),
        (_bad(released=True), "released True must be a whole number"),
        (_bad(released=None, destinations=...), "released is null (unknown): a note must say what is known"),
        (_bad(released=None, destinations={"ua": 1}, note="n"), "destinations given while released is null"),
        (_bad(high_profile=11), "high_profile 11 exceeds released 10"),
        (_bad(confidence="sure"), "confidence 'sure' must be one of H, M, L, inferred"),
        (_bad(source=" "), "source must be non-empty text"),
        (_bad(denationalised="yes"), "denationalised 'yes' must be true or false"),
        (
            {
                "month": "2024-01",
                "type": "instrument",
                "counterpart": "eu",
                "instrument": "potash",
                "level": 1,
                "source": "x",
                "confidence": "H",
            },
            "instrument 'potash' is not an instrument of eu",
        ),
        (
            {
                "month": "2024-01",
                "type": "instrument",
                "counterpart": "us",
                "instrument": "potash",
                "level": 2,
                "source": "x",
                "confidence": "H",
            },
            "level 2 must be a number in [0.0, 1.0]",
        ),
        (
            {
                "month": "2024-07",
                "type": "crackdown",
                "multiplier": 0.5,
                "half_life_months": 1,
                "cause": "vote",
                "source": "x",
                "confidence": "H",
            },
            "multiplier 0.5 must be a number in [1.0, inf]",
        ),
        (
            {
                "month": "2024-07",
                "type": "crackdown",
                "multiplier": 2,
                "half_life_months": 0,
                "cause": "vote",
                "source": "x",
                "confidence": "H",
            },
            "half_life_months 0 must be a number of months > 0",
        ),
        (
            {
                "month": "2024-07",
                "type": "talks",
                "counterpart": "us",
                "state": "paused",
                "source": "x",
                "confidence": "H",
            },
            "state 'paused' must be one of open, closed",
        ),
        (
            {
                "month": "2024-07",
                "type": "incident",
                "counterpart": "eu",
                "severity": 1.2,
                "source": "x",
                "confidence": "H",
            },
            "severity 1.2 must be a number in [0.0, 1.0]",
        ),
    ],
)
def test_bad_events_get_one_line_naming_the_field(raw, message):
    with pytest.raises(TimelineError) as err:
        validate_event(raw, NAMES, "t.yaml event 4")
    text = str(err.value)
    assert message in text and text.startswith("t.yaml event 4") and "\n" not in text, text


def test_names_come_from_the_caller_not_the_validator():
    other = Names.from_mapping(
        {"counterparts": ["eu"], "instruments": {"eu": ["systemic"]}, "destinations": ["stayed", "ua", "lt"]}
    )
    validate_event(DEAL, NAMES)
    with pytest.raises(TimelineError, match="counterpart 'us' must be one of eu"):
        validate_event(DEAL, other)
    with pytest.raises(TimelineError, match="must include 'stayed'"):
        Names.from_mapping({"counterparts": ["us"], "destinations": ["ua"]})
    with pytest.raises(TimelineError, match="'uk' is not a counterpart"):
        Names.from_mapping({"counterparts": ["us"], "instruments": {"uk": ["x"]}, "destinations": ["stayed"]})


def test_events_must_be_in_calendar_order():
    later = {**DEAL, "month": "2025-12"}
    earlier = {**DEAL, "month": "2025-11"}
    assert len(validate_events([earlier, later], NAMES)) == 2
    with pytest.raises(TimelineError, match="event 2 .*out of order after 2025-12"):
        validate_events([later, earlier], NAMES)


def test_every_type_is_documented_and_used():
    used = {e.type for case in ("belarus", "nicaragua", "cuba", "venezuela") for e in load_timeline(case)}
    assert used == set(EVENT_TYPES)


@pytest.mark.parametrize("case", ["belarus", "nicaragua", "cuba", "venezuela"])
def test_each_case_timeline_loads_with_sources(case):
    events = load_timeline(case)
    assert events and all(e.source.strip() for e in events)
    assert all(e.note for e in events if e.confidence == "inferred"), "a reading says why"


def test_belarus_pardons_of_2024_match_the_monitoring_record_month_by_month():
    events = load_timeline("belarus")
    pardons = {
        m: r["pardon"] for m, r in monthly_releases(events).items() if m.startswith("2024") and r["pardon"]
    }
    obs = monthly_series(load_monitoring("belarus"), "2024-12").set_index("month")["released_pardon"]
    assert pardons == {m: int(v) for m, v in obs.items() if v > 0}
    assert sum(pardons.values()) == 227
    assert len([e for e in events if e.type == "pardon" and e.month.startswith("2024")]) == 8, "every batch"


def test_belarus_timeline_carries_the_events_the_issue_names():
    events = load_timeline("belarus")
    figs = load_figures()

    def value(fid):
        return int(figure(figs, fid)["value"])

    transit = [e for e in events if e.type == "instrument" and e.instrument == "transit"]
    assert transit[0].month == "2022-02" and transit[0].level == 1.0
    renewals = [e.month for e in events if e.type == "instrument" and e.counterpart == "eu"]
    assert renewals == [f"{y}-02" for y in range(2021, 2026)]
    talks = [e for e in events if e.type == "talks"]
    assert talks[0].month.startswith(str(value("us_talks_opened_2025"))) and talks[0].state == "open"
    assert "seeds:us_talks_opened_2025" in talks[0].source
    waves = [e for e in events if e.type == "deal" and e.counterpart == "us" and e.month.startswith("2025")]
    assert len(waves) == value("release_waves_2025")
    dec = waves[-1]
    assert (dec.month, dec.released, dec.high_profile) == (
        "2025-12",
        value("release_2025_12_total"),
        value("release_2025_12_high_profile"),
    )
    assert dec.destinations == {
        "ua": value("release_2025_12_to_ukraine"),
        "lt": value("release_2025_12_to_lithuania"),
    }
    assert dec.lifted == {"potash": float(value("us_relief_potash_2025_12"))}
    ankara = [e for e in events if e.type == "deal" and e.month == "2024-08"]
    assert ankara and "record:released_2024_08_01" in ankara[0].source


def test_other_cases_carry_their_mechanisms():
    nic = load_timeline("nicaragua")
    feb = next(e for e in nic if e.month == "2023-02" and e.type == "deal")
    assert feb.denationalised and feb.released == 222 and feb.destinations == {"us": 222}
    assert "none acknowledged" in feb.concession
    ven = load_timeline("venezuela")
    oil = [
        (e.month, e.lifted.get("oil_licence", e.level))
        for e in ven
        if "oil_licence" in (e.instrument, *e.lifted)
    ]
    assert oil == [("2023-10", 1.0), ("2024-04", 1.0)], "GL44 granted in a deal, then revoked (44A)"
    gold = [(e.month, e.level) for e in ven if e.instrument == "gold_licence"]
    assert gold == [("2023-10", 0.0), ("2024-01", 1.0)]
    saab = next(e for e in ven if e.month == "2023-12")
    assert saab.lifted == {"us_held_nationals": 1.0} and saab.destinations == {"us": 10, "stayed": 16}
    crack = next(e for e in ven if e.type == "crackdown")
    assert crack.month == "2024-07" and crack.multiplier > 1 and crack.half_life_months > 0
    cuba = load_timeline("cuba")
    jan = [e for e in cuba if e.month == "2025-01"]
    assert jan[0].parole and jan[0].lifted == {"sst_listing": 1.0} and jan[1].level == 1.0, "relief reversed"


def _copy_timeline(tmp_path, case="belarus"):
    path = tmp_path / f"{case}.yaml"
    path.write_text((TIMELINE_DIR / f"{case}.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "old,new,message",
    [
        (
            "seeds:us_talks_opened_2025;",
            "seeds:us_talks_opened_2026;",
            "cites seeds:us_talks_opened_2026, not a figure",
        ),
        (
            "record:pardon_batch_2024_07_03 (",
            "record:pardon_batch_2024_07_04 (",
            "not a row of the belarus record",
        ),
        (
            "    released: 18\n",
            "    released: 19\n",
            "released = 19 exceeds the 18 persons of the cited release rows",
        ),
        (
            '  - month: "2024-07"\n    type: pardon',
            '  - month: "2024-06"\n    type: pardon',
            "outside the event's month",
        ),
        ("case: belarus", "case: cuba", "does not match the case asked for"),
        ("(Babaryka, Kalesnikava, Bialiatski)", "(seeds:no_such_figure)", "seeds:no_such_figure"),
    ],
)
def test_citations_are_checked_against_the_case_data(tmp_path, old, new, message):
    path = _copy_timeline(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(TimelineError) as err:
        load_timeline("belarus", path=path)
    assert message in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_yaml_is_read_safely_and_errors_name_the_line(tmp_path):
    path = tmp_path / "belarus.yaml"
    path.write_text(
        "case: belarus\nevents: !!python/object/apply:os.system ['echo hacked']\n", encoding="utf-8"
    )
    with pytest.raises(TimelineError, match="unreadable"):
        load_timeline("belarus", path=path)
    path.write_text("case: belarus\nevents:\n  - month: '2024-07'\n    note: a: b\n", encoding="utf-8")
    with pytest.raises(TimelineError, match="at line 4"):
        load_timeline("belarus", path=path)
    with pytest.raises(TimelineError, match="case 'atlantis' is not known"):
        load_timeline("atlantis")


def test_caller_names_override_the_file(tmp_path):
    narrow = Names.from_mapping(
        {"counterparts": ["us"], "instruments": {"us": ["potash"]}, "destinations": ["stayed", "ua", "lt"]}
    )
    with pytest.raises(TimelineError, match="counterpart 'eu' must be one of us|not an instrument of us"):
        load_timeline("belarus", names=narrow)
