"""The data dictionary of the run tables: what each column of ``timeseries``, ``deals``, ``decisions`` and
``outcomes`` means, and its unit.

The teaching page's export writes it beside the tables (``data_dictionary.csv``). The headline outcomes take
their label and unit from :data:`sim.core.metrics.HEADLINES`, the one place that defines them. The monthly
outputs (:data:`sim.core.model.BASE_OUTPUTS`, then one ``level_<counterpart>_<instrument>`` column per
instrument of the case), the deal columns (:data:`sim.core.run.DEAL_COLUMNS`, then ``to_<destination>`` and
``lift_<counterpart>_<instrument>``) and the decision columns (:data:`sim.core.run.DECISION_COLUMNS`) carry no
unit in the core, so they are described here, following docs/ODD.md (7.26); ``tests/test_page_run.py`` fails
as soon as a column is added, renamed or dropped in the core without being described here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sim.core.metrics import HEADLINES
from sim.core.params import COUNTERPARTS

_COUNTERPART = "(" + "|".join(COUNTERPARTS) + ")"

#: Columns that key every table (sim-run's long format).
KEYS = {
    "scenario": ("scenario name", "text"),
    "replicate": ("replicate number (the page runs one replicate: 0)", "count"),
    "seed": ("seed of this replicate, spawned from the run's root seed as sim-run spawns it", "integer"),
    "month": ("calendar month", "YYYY-MM"),
}

#: The monthly outputs: counts are within the month, stocks at its end. Where the case's monitor counts people
#: on parole, arrests and releases are the flows onto and off its list (docs/ODD.md 7.10).
TIMESERIES = {
    **KEYS,
    "prisoners_held": (
        "political prisoners the case's monitor counts at the end of the month (held in prison, plus people "
        "on parole if the monitor counts them)",
        "persons",
    ),
    "in_prison": ("political prisoners held in prison at the end of the month", "persons"),
    "arrests": ("arrests in the month: new political prisoners plus re-arrests", "persons"),
    "rearrests": ("people released inside the country and arrested again, in the month", "persons"),
    "released_deal": ("prisoners released in deals with a counterpart in the month", "persons"),
    "released_pardon": (
        "prisoners pardoned by the regime in the month (goodwill or decompression)",
        "persons",
    ),
    "released_served": ("prisoners released at the end of their sentence in the month", "persons"),
    "died": ("prisoners who died in custody in the month", "persons"),
    "paroled": (
        "people released on parole inside the country in the month (deals and pardons), sentence running",
        "persons",
    ),
    "expelled": ("prisoners released in a deal and expelled abroad in the month", "persons"),
    "released_high_profile": ("high-profile symbols released in deals in the month", "persons"),
    "us_sanctions": (
        "US sanctions in force: its instruments' levels weighted by their value to the regime",
        "share (0-1)",
    ),
    "eu_sanctions": (
        "EU sanctions in force: its instruments' levels weighted by their value to the regime",
        "share (0-1)",
    ),
    "learned_price": (
        "the regime's learned price of a prisoner in deals with the US (relief per ordinary-prisoner "
        "equivalent)",
        "RU/equivalent",
    ),
    "arrest_rate": (
        "arrests a month the regime chose (the mean the month's new arrests are drawn around)",
        "persons/month",
    ),
    "control_value": (
        "what one more ordinary prisoner is worth to the regime for control at home, over the sentence",
        "RU",
    ),
    "chip_value": ("what one more ordinary prisoner is worth to the regime as a bargaining chip", "RU"),
    "external_cost": (
        "the regime's expected cost of one more arrest from the counterparts' reactions (US designations "
        "and snapback, EU tightening)",
        "RU",
    ),
    "regime_need": ("the regime's economic need (relief is worth more when it is higher)", "dimensionless"),
    "russia_support": ("Russia's support of the regime", "0-1"),
    "regime_relief": (
        "relief gained since the start: what counterparts have lifted below their starting levels, valued "
        "by the regime now",
        "RU",
    ),
    "mobilisation": ("share of the opposition at home that is active", "share (0-1)"),
    "perceived_participation": ("participation the opposition perceived in the month", "share (0-1)"),
    "exiles": ("exiles abroad", "persons"),
    "lobbying": ("the exiles' lobbying of the EU", "0-1"),
    "fragmentation": ("opposition fragmentation (1 - Herfindahl index over centres of legitimacy)", "0-1"),
    "opposition_centres": ("centres of legitimacy in the opposition", "count"),
    "transit_open": ("a neighbour's transit route (Baltic ports for potash) open (1) or closed (0)", "0/1"),
    "high_profile_held": ("high-profile symbols held at the end of the month", "persons"),
    "tied_held": (
        "prisoners held with a tie some counterpart values (its citizens, its residents)",
        "persons",
    ),
    "rounds": ("counterparts that made a deal with the regime in the month", "count"),
    "deal": ("a deal was made in the month (1) or not (0)", "0/1"),
    "snapbacks": ("deals whose relief was re-imposed in the month (snapback or cheating detected)", "count"),
    "designations": ("new US designations (sanctions listings) in the month", "count"),
    "incidents": ("security incidents at the neighbours' borders in the month", "count"),
    "cheating": ("the regime cheated on a restraint clause in the month (1) or not (0)", "0/1"),
    "round_belief": ("the regime's belief that the US makes a deal in a given month", "1/month"),
    "revocation_belief": ("the regime's belief that relief from the US will be taken back", "share (0-1)"),
    "crackdown": ("crackdown multiplier of the arrest rate (1: no crackdown)", "ratio"),
}
#: Columns named after the case's counterparts, instruments and destinations: (pattern, meaning, unit); the
#: meaning's ``{0}``, ``{1}`` are the pattern's groups.
TIMESERIES_PATTERNS = (
    (
        rf"level_{_COUNTERPART}_([a-z0-9_]+)",
        "level in force of {0}'s instrument {1} (1 fully in force or closed, 0 lifted or open)",
        "share (0-1)",
    ),
)

#: One row per deal.
DEALS = {
    **KEYS,
    "month": ("calendar month of the deal", "YYYY-MM"),
    "counterpart": ("who the regime made the deal with", "text"),
    "policy": ("the counterpart's policy at the time (the US's; empty for others)", "text"),
    "replayed": (
        "a deal of the record replayed as a fact (true) or decided by the actors (false)",
        "true/false",
    ),
    "released": ("prisoners released", "persons"),
    "released_high_profile": ("high-profile symbols among them", "persons"),
    "released_notable": ("notable prisoners among them", "persons"),
    "released_tied": (
        "prisoners tied to this counterpart among them (its citizens, its residents)",
        "persons",
    ),
    "released_other_ties": ("prisoners tied to another counterpart or country among them", "persons"),
    "expelled": ("released prisoners expelled abroad", "persons"),
    "expelled_high_profile": ("high-profile symbols among the expelled", "persons"),
    "denationalised": ("expelled and stripped of their nationality", "persons"),
    "paroled": ("released on parole inside the country (sentence still running)", "persons"),
    "relief": ("value to the regime of the relief lifted", "RU"),
    "relief_cost": ("cost of the relief to the counterpart", "RU"),
    "price_per_prisoner": ("relief value per prisoner released (implied price)", "RU/prisoner"),
    "instruments_lifted": ("instruments lifted, each with the share lifted", "text (name:share, ...)"),
    "restraint_clause": ("the deal carried an arrest-restraint clause (conditional policy)", "true/false"),
    "snapped_back": ("the deal's relief was later re-imposed (snapback or cheating detected)", "true/false"),
    "gain_regime": ("the regime's gain from the deal (Nash bargaining)", "RU"),
    "gain_counterpart": ("the counterpart's gain from the deal (Nash bargaining)", "RU"),
}
DEAL_PATTERNS = (
    (r"to_([a-z0-9_]+)", "released prisoners who went to {0} (stayed: stayed in the country)", "persons"),
    (rf"lift_{_COUNTERPART}_([a-z0-9_]+)", "share of {0}'s instrument {1} lifted in the deal", "share (0-1)"),
)

#: One row per decision an actor took (docs/ODD.md 7.26 lists every kind, with its rule).
DECISIONS = {
    **KEYS,
    "month": ("calendar month of the decision", "YYYY-MM"),
    "actor": ("who decided: regime, opposition, or a counterpart (us, eu, lithuania, poland)", "text"),
    "decision": ("what was decided (arrests, round, renewal, transit, ...)", "text"),
    "choice": ("the choice made (arrest, hold, decline, pause, tighten, reopen, comply, cheat, ...)", "text"),
    "value": (
        "how much: e.g. the arrest rate chosen, the relief offered, the levels changed",
        "see docs/ODD.md",
    ),
    "compared": ("the name of the first quantity the decision weighed", "text"),
    "a": ("its value", "see docs/ODD.md 7.26 (RU, ratio, ...)"),
    "versus": ("the name of the quantity it was weighed against", "text"),
    "b": ("its value", "see docs/ODD.md 7.26 (RU, ratio, ...)"),
    "note": ("the decision in words", "text"),
}

#: The headline outcomes of a run (one row per replicate), from :data:`sim.core.metrics.HEADLINES`.
OUTCOMES = {
    "scenario": KEYS["scenario"],
    "replicate": KEYS["replicate"],
    "seed": KEYS["seed"],
    **{o.name: (o.label, o.unit) for o in HEADLINES},
}

TABLES = {
    "timeseries.csv": (TIMESERIES, TIMESERIES_PATTERNS),
    "deals.csv": (DEALS, DEAL_PATTERNS),
    "decisions.csv": (DECISIONS, ()),
    "outcomes.csv": (OUTCOMES, ()),
}


def describe(column: str, table: str = "timeseries.csv") -> tuple[str, str]:
    """The meaning and unit of a column of a table.

    Raises:
        KeyError: a column this dictionary does not describe (named).
    """
    exact, patterns = TABLES[table]
    if column in exact:
        return exact[column]
    for pattern, meaning, unit_ in patterns:
        m = re.fullmatch(pattern, column)
        if m:
            return meaning.format(*m.groups()), unit_
    raise KeyError(f"{table}: column {column!r} is not in the data dictionary (sim/edge/data_dictionary.py)")


def unit(column: str, table: str = "timeseries.csv") -> str:
    """The unit of a column of a table (``KeyError`` naming the column)."""
    return describe(column, table)[1]


def rows(columns: dict[str, Iterable[str]]) -> list[dict[str, str]]:
    """The dictionary of the given tables' columns (file name -> its columns), as rows: file, column, meaning,
    unit."""
    out = []
    for f, cols in columns.items():
        for c in cols:
            meaning, unit_ = describe(c, f)
            out.append({"file": f, "column": c, "meaning": meaning, "unit": unit_})
    return out
