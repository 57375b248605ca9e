"""Each actor's decision of the month in a sentence, for the teaching page.

A decision row is a row of ``decisions.parquet`` (:data:`sim.core.run.DECISION_COLUMNS` without scenario,
replicate and seed): month, actor, decision, choice, value, compared (``a``), versus (``b``), note.
docs/ODD.md (7.26) lists every kind the model can record and the rule behind it; :data:`SENTENCES` has one
sentence per kind, and ``tests/test_page_run.py`` checks that it covers the ODD's list. A kind it does not
know (a new decision in the core) is still shown, in the table's own words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sim.core.calendar import month_text

#: How actors are named in a sentence.
ACTOR_NAMES = {
    "regime": "The regime",
    "opposition": "The opposition",
    "us": "The US",
    "eu": "The EU",
    "lithuania": "Lithuania",
    "poland": "Poland",
    "holy_see": "The Holy See",
}


def _about(rate: float) -> str:
    n = round(rate)
    return f"about {n} arrest" + ("" if n == 1 else "s")


def _designate(who: str, v: float, c: str, a: float, b: float, note: str) -> str:
    if c == "arrest_ratio":
        return (
            f"{who} added designations (+{100 * v:.0f} % of the listings it can add) after an arrest spike: "
            f"arrests at {a:.2f} times their level before the talks, against its threshold of {b:.2f}."
        )
    return (
        f"{who} added designations (+{100 * v:.0f} % of the listings) to have something left to trade: the "
        f"releases they would buy are worth {a:.1f} RU to it, more than they cost it ({b:.1f} RU)."
    )


#: (decision, choice) -> sentence(actor's name, value, compared, a, b, note).
SENTENCES: dict[tuple[str, str], Callable[[str, float, str, float, float, str], str]] = {
    ("arrests", "arrest"): lambda who, v, c, a, b, note: (
        f"{who} chose {_about(v)} a month: one more arrest is worth {a:.2f} RU to it ({note}), "
        f"against {b:.2f} RU of sanctions it expects the arrest to provoke."
    ),
    ("compliance", "comply"): lambda who, v, c, a, b, note: (
        f"{who} kept to the restraint clause ({_about(v)} a month): cheating would gain it {a:.1f} "
        f"RU, less than the penalty it expects if caught ({b:.1f} RU)."
    ),
    ("compliance", "cheat"): lambda who, v, c, a, b, note: (
        f"{who} cheated on the restraint clause ({_about(v)} a month): cheating gains it {a:.1f} "
        f"RU, more than the penalty it expects if caught ({b:.1f} RU)."
    ),
    ("decompression", "release"): lambda who, v, c, a, b, note: (
        f"{who} released {v:.0f} prisoners it no longer valued holding (the lowest holding value was "
        f"{a:.2f} RU, below {b:.0f})."
    ),
    ("round", "suspended"): lambda who, v, c, a, b, note: (
        f"{who} had a contact, but rounds are suspended after a revoked deal (until {month_text(int(b))})."
    ),
    ("round", "no_deal"): lambda who, v, c, a, b, note: (
        f"{who} talked with the regime, but no deal would have left both sides better off."
    ),
    ("round", "decline"): lambda who, v, c, a, b, note: (
        f"{who} declined a round: its gain ({a:.1f} RU) was not worth the cost of a round ({b:.1f} RU); "
        f"{note}."
    ),
    ("round", "hold"): lambda who, v, c, a, b, note: (
        f"{who} made a deal, since its gain ({a:.1f} RU) beat the cost of a round ({b:.1f} RU): it {note}."
    ),
    ("round", "pause"): lambda who, v, c, a, b, note: (
        f"{who} paused the talks: arrests ran at {a:.2f} times their level before the talks, above its limit "
        f"of {b:.2f}."
    ),
    ("designation", "designate"): _designate,
    ("snapback", "reimpose"): lambda who, v, c, a, b, note: (
        f"{who} re-imposed the sanctions it lifted in a deal: {a:.0f} arrests since the deal reached the "
        f"critical count of {b:.0f} ({note})."
    ),
    ("snapback", "keep"): lambda who, v, c, a, b, note: (
        f"{who} kept the relief of a deal: {a:.0f} arrests since the deal, below the critical count of "
        f"{b:.0f} ({note})."
    ),
    ("verification", "revoke"): lambda who, v, c, a, b, note: (
        f"{who} caught the regime cheating on the restraint clause: it took the relief back and suspends "
        f"rounds for {b:.0f} months."
    ),
    ("renewal", "tighten"): lambda who, v, c, a, b, note: (
        f"{who} tightened its sanctions at the yearly renewal: its index ({a:+.2f}: {note}) was above "
        f"{b:+.2f}."
    ),
    ("renewal", "relax"): lambda who, v, c, a, b, note: (
        f"{who} relaxed its sanctions at the yearly renewal: its index ({a:+.2f}: {note}) was below {b:+.2f}."
    ),
    ("renewal", "hold"): lambda who, v, c, a, b, note: (
        f"{who} kept its sanctions as they are at the yearly renewal (index {a:+.2f}: {note})."
    ),
    ("border", "close"): lambda who, v, c, a, b, note: (
        f"{who} closed {v:.0f} border crossing(s) after a security incident of severity {a:.2f} (it closes "
        f"from {b:.2f})."
    ),
    ("transit", "reopen"): lambda who, v, c, a, b, note: (
        f"{who} reopened its ports to potash transit: the revenue ({a:.1f} RU a month) beats its security "
        f"and EU-alignment costs ({b:.1f} RU)."
    ),
    ("transit", "close"): lambda who, v, c, a, b, note: (
        f"{who} closed its ports to potash transit: the security cost of incidents ({b:.1f} RU a month) "
        f"outweighs the revenue ({a:.1f} RU)."
    ),
    ("mobilisation", "mobilise"): lambda who, v, c, a, b, note: (
        f"{who}: {100 * v:.1f} % active this month (it saw {100 * a:.1f} % taking part)."
    ),
}


def sentence(row: Sequence[Any]) -> str:
    """A decision row (month, actor, decision, choice, value, compared, a, versus, b, note) in a sentence."""
    _month, actor, decision, choice, value, compared, a, versus, b, note = row
    who = ACTOR_NAMES.get(actor, actor)
    make = SENTENCES.get((decision, choice))
    if make is None:  # a decision this page does not know yet: in the table's words
        return f"{who}: {decision} - {choice} ({compared} {float(a):.2f} against {versus} {float(b):.2f})" + (
            f"; {note}." if note else "."
        )
    return make(who, float(value), str(compared), float(a), float(b), str(note))
