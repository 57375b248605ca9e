"""Named outcomes computed from run tables: per-replicate headline outcomes and their summary bands.

Pure functions of DataFrames; no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

RELEASE_CHANNELS = ("released_deal", "released_pardon", "released_served")


@dataclass(frozen=True)
class Outcome:
    """A headline outcome: column name in the outcomes table, label for people, unit, which way is better
    for someone who wants fewer political prisoners (``lower``, ``higher``, or ``""`` when neither), and the
    actor it needs (``us``, ``eu``, ``transit``: a case without it has no such outcome to report)."""

    name: str
    label: str
    unit: str
    better: str = ""
    needs: str = ""


HEADLINES = (
    Outcome("initial_stock", "political prisoners held at the start", "persons"),
    Outcome("final_stock", "political prisoners held at the end", "persons", "lower"),
    Outcome("stock_change", "change in prisoners held", "persons", "lower"),
    Outcome("total_arrests", "new political prisoners (arrests)", "persons", "lower"),
    Outcome("released_deal", "released in deals", "persons", "higher"),
    Outcome("released_pardon", "pardoned unilaterally", "persons", "higher"),
    Outcome("released_served", "released at the end of their term", "persons"),
    Outcome("died", "died in custody", "persons", "lower"),
    Outcome("total_releases", "released through all channels", "persons", "higher"),
    Outcome("revolving_door_ratio", "revolving-door ratio (arrests per release)", "arrests/release", "lower"),
    Outcome("deals", "deals", "count"),
    Outcome("months_to_first_deal", "months to the first deal (replicates with a deal)", "months"),
    Outcome("released_high_profile", "high-profile prisoners released", "persons", "higher"),
    Outcome("high_profile_held_end", "high-profile prisoners still held at the end", "persons", "lower"),
    Outcome("expelled", "released prisoners expelled abroad", "persons"),
    Outcome(
        "paroled", "released on parole inside the country (still on the list)", "persons", needs="parole"
    ),
    Outcome(
        "in_prison_end",
        "people in prison at the end (the list less those on parole)",
        "persons",
        "lower",
        needs="parole",
    ),
    Outcome("us_sanctions_end", "US sanctions in force at the end", "share", needs="us"),
    Outcome("eu_sanctions_end", "EU sanctions in force at the end", "share", needs="eu"),
    Outcome("price_per_prisoner", "implied price per prisoner over all deals", "RU/prisoner"),
    Outcome("learned_price_end", "regime's learned price at the end", "RU/equivalent"),
    Outcome("chip_value_mean", "chip value of a new prisoner to the regime (mean)", "RU"),
    Outcome("regime_relief_end", "relief in force for the regime at the end", "RU"),
    Outcome("snapbacks", "deals revoked (snapback or detected cheating)", "count", needs="us"),
    Outcome("designations", "new US designations", "count", needs="us"),
    Outcome("cheating_months", "months the regime cheated on a restraint clause", "months"),
    Outcome("eu_change", "change in EU sanctions in force", "share", needs="eu"),
    Outcome("transit_open_months", "months with transit open", "months", needs="transit"),
    Outcome("mobilisation_end", "opposition mobilisation at the end", "0-1"),
    Outcome("mobilisation_max", "highest opposition mobilisation", "0-1"),
    Outcome("lobbying_end", "exiles' lobbying at the end", "0-1"),
    Outcome("fragmentation_end", "opposition fragmentation at the end", "0-1"),
)


def outcomes(timeseries: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """One row per (scenario, replicate) with every headline outcome.

    Args:
        timeseries: the run's monthly table (contract of ``timeseries.parquet``).
        deals: the run's deals table.

    Returns:
        The outcomes table, keyed by ``scenario`` and ``replicate``.
    """
    ts = timeseries.sort_values(["scenario", "replicate", "month"])
    g = ts.groupby(["scenario", "replicate"], sort=True)
    first, last, total, mean, top = (
        g.first(),
        g.last(),
        g.sum(numeric_only=True),
        g.mean(numeric_only=True),
        g.max(numeric_only=True),
    )
    out = pd.DataFrame(index=first.index)
    out["seed"] = first["seed"]
    out["initial_stock"] = (
        first["prisoners_held"] - first["arrests"] + first[list(RELEASE_CHANNELS)].sum(axis=1) + first["died"]
    )
    out["final_stock"] = last["prisoners_held"]
    out["stock_change"] = out["final_stock"] - out["initial_stock"]
    out["total_arrests"] = total["arrests"]
    for c in (*RELEASE_CHANNELS, "died", "released_high_profile", "expelled"):
        out[c] = total[c]
    out["total_releases"] = total[list(RELEASE_CHANNELS)].sum(axis=1)
    out["revolving_door_ratio"] = out["total_arrests"] / out["total_releases"].where(
        out["total_releases"] > 0
    )
    out["deals"] = total["deal"].astype(int)
    month_no = g.cumcount()
    first_deal = month_no[ts["deal"] > 0].groupby([ts["scenario"], ts["replicate"]]).min()
    out["months_to_first_deal"] = first_deal.reindex(out.index).astype(float)
    out["high_profile_held_end"] = last["high_profile_held"]
    # tables written before the list and the prisons were told apart have neither column
    out["paroled"] = total["paroled"] if "paroled" in total else 0
    out["in_prison_end"] = last["in_prison"] if "in_prison" in last else last["prisoners_held"]
    out["us_sanctions_end"] = last["us_sanctions"]
    out["eu_sanctions_end"] = last["eu_sanctions"]
    if len(deals):
        d = deals.groupby(["scenario", "replicate"])[["relief", "released"]].sum()
        price = (d["relief"] / d["released"].where(d["released"] > 0)).reindex(out.index)
    else:
        price = pd.Series(np.nan, index=out.index)
    out["price_per_prisoner"] = price
    out["learned_price_end"] = last["learned_price"]
    out["chip_value_mean"] = mean["chip_value"]
    out["regime_relief_end"] = last["regime_relief"]
    out["snapbacks"] = total["snapbacks"]
    out["designations"] = total["designations"]
    out["cheating_months"] = total["cheating"]
    out["eu_change"] = last["eu_sanctions"] - first["eu_sanctions"]
    out["transit_open_months"] = total["transit_open"]
    out["mobilisation_end"] = last["mobilisation"]
    out["mobilisation_max"] = top["mobilisation"]
    out["lobbying_end"] = last["lobbying"]
    out["fragmentation_end"] = last["fragmentation"]
    return out.reset_index()


def headlines_for(actors) -> tuple[Outcome, ...]:
    """The headline outcomes of a case whose actors are ``actors`` (counterparts present, and ``transit`` when
    a neighbour controls a transit route); None: all."""
    if actors is None:
        return HEADLINES
    actors = set(actors)
    return tuple(o for o in HEADLINES if not o.needs or o.needs in actors)


def case_actors(params) -> list[str]:
    """The actors a case's headline outcomes can speak of: its counterparts present, ``transit``, and
    ``parole`` when the case's monitor keeps parolees on its list."""
    present = params.counterparts()
    out = list(present)
    if any(getattr(c, "transit_instrument", "") for c in present.values()):
        out.append("transit")
    if params.case.counts_parole:
        out.append("parole")
    return out


def constant_outcomes(table: pd.DataFrame, actors=None) -> list[str]:
    """Headline outcomes with the same value in every replicate (where at least two are finite)."""
    out = []
    for o in headlines_for(actors):
        v = pd.to_numeric(table[o.name], errors="coerce")
        v = v[np.isfinite(v)]
        if len(v) >= 2 and v.nunique() == 1:
            out.append(o.name)
    return out


def _clean(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


def bands(values: pd.Series) -> dict[str, float | int | None]:
    """Median, 5th and 95th percentile and mean of finite values, with the count they rest on."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"median": None, "p5": None, "p95": None, "mean": None, "n": 0}
    p5, med, p95 = np.percentile(v, [5, 50, 95])
    return {
        "median": _clean(med),
        "p5": _clean(p5),
        "p95": _clean(p95),
        "mean": _clean(v.mean()),
        "n": int(v.size),
    }


def summarise(table: pd.DataFrame) -> dict[str, dict]:
    """Bands of every headline outcome over the rows of an outcomes table (one scenario)."""
    return {o.name: {"label": o.label, "unit": o.unit, **bands(table[o.name])} for o in HEADLINES}


def monthly_bands(timeseries: pd.DataFrame, column: str, qs=(5, 25, 50, 75, 95)) -> pd.DataFrame:
    """Percentiles of a monthly column across replicates, one row per month (columns ``p5`` ...)."""
    piv = timeseries.pivot_table(index="month", columns="replicate", values=column, aggfunc="first")
    arr = piv.to_numpy(dtype=float)
    pct = np.nanpercentile(arr, qs, axis=1) if arr.size else np.zeros((len(qs), 0))
    return pd.DataFrame({f"p{q}": pct[i] for i, q in enumerate(qs)}, index=piv.index)
