"""The data dictionary of the run tables: what each column of ``timeseries`` and ``deals`` means, its unit.

The teaching page's export writes it beside the tables (``data_dictionary.csv``); the headline outcomes take
their label and unit from :data:`sim.core.metrics.HEADLINES`, the one place that defines them. The monthly
outputs (:data:`sim.core.model.OUTPUTS`) and the deal columns (:data:`sim.core.run.DEAL_COLUMNS`) carry no
unit in the core, so they are described here, and ``tests/test_page_run.py`` fails as soon as a column is
added, renamed or dropped in the core without being described here.
"""

from __future__ import annotations

from sim.core.metrics import HEADLINES
from sim.core.params import SECTORS

#: Columns that key every table (sim-run's long format).
KEYS = {
    "scenario": ("scenario name", "text"),
    "replicate": ("replicate number (the page runs one replicate: 0)", "count"),
    "seed": ("seed of this replicate, spawned from the run's root seed as sim-run spawns it", "integer"),
    "month": ("calendar month", "YYYY-MM"),
}

#: The monthly outputs: counts are within the month, stocks at its end.
TIMESERIES = {
    **KEYS,
    "prisoners_held": ("political prisoners held at the end of the month", "persons"),
    "arrests": ("new political prisoners arrested in the month", "persons"),
    "released_deal": ("prisoners released in a deal with the US in the month", "persons"),
    "released_pardon": ("prisoners pardoned unilaterally in the month", "persons"),
    "released_served": ("prisoners released at the end of their sentence in the month", "persons"),
    "died": ("prisoners who died in custody in the month", "persons"),
    "expelled": ("prisoners released in a deal and expelled abroad in the month", "persons"),
    "released_high_profile": ("high-profile symbols released in a deal in the month", "persons"),
    "us_sanctions": ("US sanctions in force, weighted by each sector's value to the regime", "share (0-1)"),
    "eu_sanctions": ("EU sanctions in force", "share (0-1)"),
    **{f"us_{s}": (f"US sanctions on the {s} sector still in force", "share (0-1)") for s in SECTORS},
    "learned_price": (
        "the regime's learned price of a prisoner (relief per ordinary-prisoner equivalent)",
        "RU/equivalent",
    ),
    "arrest_rate": (
        "expected arrests a month (the mean the month's arrests are drawn around)",
        "persons/month",
    ),
    "arrest_restraint": ("share by which a conditional deal's clause holds arrests down", "share (0-1)"),
    "regime_need": ("the regime's economic need (relief is worth 1 + need times its nominal value)", "ratio"),
    "regime_relief": ("value to the regime of all sanctions relief in force", "RU"),
    "mobilisation": ("opposition mobilisation at home", "0-1"),
    "exiles": ("released prisoners expelled abroad since the start", "persons"),
    "fragmentation": ("opposition fragmentation (1 - Herfindahl index over centres of legitimacy)", "0-1"),
    "opposition_centres": ("centres of legitimacy in the opposition", "count"),
    "transit_open": ("Baltic transit for potash open (1) or closed (0)", "indicator"),
    "high_profile_held": ("high-profile symbols held at the end of the month", "persons"),
    "reserve_held": ("prisoners tied to Lithuania or Poland held at the end of the month", "persons"),
    "us_round": ("a US bargaining round took place in the month (1) or not (0)", "indicator"),
    "deal": ("the round ended in a deal (1) or not (0)", "indicator"),
    "snapbacks": ("deals whose relief the US re-imposed in the month (snapback)", "count"),
}

#: One row per deal.
DEALS = {
    **KEYS,
    "month": ("calendar month of the deal", "YYYY-MM"),
    "counterpart": ("who the regime bargained with", "text"),
    "policy": ("the counterpart's policy at the time", "text"),
    "released": ("prisoners released", "persons"),
    "released_high_profile": ("high-profile symbols among them", "persons"),
    "released_reserve": ("prisoners tied to Lithuania or Poland among them", "persons"),
    "released_us_citizens": ("prisoners tied to the US among them", "persons"),
    "expelled": ("released prisoners expelled abroad", "persons"),
    "expelled_high_profile": ("high-profile symbols among the expelled", "persons"),
    "to_ua": ("expelled to Ukraine", "persons"),
    "to_lt": ("expelled to Lithuania", "persons"),
    "to_pl": ("expelled to Poland", "persons"),
    "stayed": ("released and allowed to stay in the country", "persons"),
    "ua_tied": ("released prisoners tied to Ukraine", "persons"),
    "relief": ("value of the relief to the regime", "RU"),
    "relief_cost_us": ("cost of the relief to the US", "RU"),
    "price_per_prisoner": ("relief value per prisoner released (implied price)", "RU/prisoner"),
    "sectors_lifted": ("US sectors in which sanctions were lifted", "text (comma-separated)"),
    **{f"lift_{s}": (f"share of the {s} sector's sanctions lifted", "share (0-1)") for s in SECTORS},
    "restraint_clause": ("the deal carried an arrest-restraint clause (conditional policy)", "true/false"),
    "snapped_back": ("the deal's relief was later re-imposed (snapback)", "true/false"),
    "gain_regime": ("the regime's gain from the deal (Nash bargaining)", "RU"),
    "gain_us": ("the US gain from the deal (Nash bargaining)", "RU"),
}

#: The headline outcomes of a run (one row per replicate), from :data:`sim.core.metrics.HEADLINES`.
OUTCOMES = {
    "scenario": KEYS["scenario"],
    "replicate": KEYS["replicate"],
    "seed": KEYS["seed"],
    **{o.name: (o.label, o.unit) for o in HEADLINES},
}

TABLES = {"timeseries.csv": TIMESERIES, "deals.csv": DEALS, "outcomes.csv": OUTCOMES}


def unit(column: str, table: str = "timeseries.csv") -> str:
    """The unit of a column of a table (``KeyError`` naming the column)."""
    return TABLES[table][column][1]


def rows() -> list[dict[str, str]]:
    """The dictionary as rows: file, column, meaning, unit."""
    return [
        {"file": f, "column": c, "meaning": m, "unit": u}
        for f, cols in TABLES.items()
        for c, (m, u) in cols.items()
    ]
