"""Which mechanism moves a case's stock: flows by channel and the motive behind arrests, from run tables.
Pure.

From a forward run's monthly table (one row per replicate and month) this module measures, per replicate and
then as medians across replicates:

* **inflow**: new political prisoners, and of them re-arrests of people released inside the country;
* **outflow by channel**: deals, unilateral pardons, terms served, deaths in custody; of deal releases, the
  share expelled abroad;
* **the motive behind arrests**: the chip share of the regime's marginal value of an arrest, ``chip / (control
  + chip)`` averaged over months (:meth:`sim.core.regime.Regime.decide_arrests` records both terms): near 0
  the
  regime arrests to control, near 1 to hold chips for sale;
* **the revolving door**: arrests per release.

:func:`dominant` names the mechanism that moves the stock most, in words, from those numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CHANNELS = {
    "released_deal": "deals",
    "released_pardon": "unilateral pardons",
    "released_served": "terms served",
    "died": "deaths in custody",
}


def flows(timeseries: pd.DataFrame) -> dict[str, float]:
    """Medians across replicates of each replicate's totals over the run (persons) and its shares."""
    g = timeseries.groupby("replicate")
    tot = g[["arrests", *CHANNELS, "expelled"]].sum()
    re = g["rearrests"].sum() if "rearrests" in timeseries else pd.Series(0.0, index=tot.index)
    out_total = tot[list(CHANNELS)].sum(axis=1)
    marginal = timeseries["control_value"] + timeseries["chip_value"]
    chip_share = (
        (timeseries["chip_value"] / marginal.where(marginal > 0)).groupby(timeseries["replicate"]).mean()
    )
    first = g["prisoners_held"].first()  # held at the end of the first month
    res = {
        "arrests": float(tot["arrests"].median()),
        "rearrests": float(re.median()),
        "releases": float(out_total.median()),
        "revolving_door": float((tot["arrests"] / out_total.where(out_total > 0)).median()),
        "chip_share": float(chip_share.median()) if chip_share.notna().any() else float("nan"),
        "expelled_share_of_deals": float(
            (tot["expelled"] / tot["released_deal"].where(tot["released_deal"] > 0)).median()
        ),
        "held_start": float(first.median()),
        "held_end": float(g["prisoners_held"].last().median()),
    }
    for col in CHANNELS:
        res[col] = float(tot[col].median())
        res[f"{col}_share"] = float((tot[col] / out_total.where(out_total > 0)).median())
    return res


def dominant(f: dict[str, float]) -> list[str]:
    """Sentences naming what moves the stock: the main way out, the motive behind arrests, the balance."""
    shares = {CHANNELS[c]: f[f"{c}_share"] for c in CHANNELS if np.isfinite(f[f"{c}_share"])}
    lines = []
    if shares:
        top = max(shares, key=shares.get)
        lines.append(f"most releases come through {top} ({100 * shares[top]:.0f} % of releases)")
    if np.isfinite(f["chip_share"]):
        motive = "to hold chips for sale" if f["chip_share"] >= 0.5 else "to control"
        lines.append(
            f"the regime arrests mainly {motive}: chips are {100 * f['chip_share']:.0f} % of the marginal "
            "value of an arrest"
        )
    if np.isfinite(f["revolving_door"]):
        verb = (
            "refill the stock faster than releases empty it"
            if f["revolving_door"] > 1
            else "fall behind releases"
        )
        lines.append(f"arrests {verb} ({f['revolving_door']:.2f} arrests per release)")
    if f["rearrests"] > 0.05 * max(f["arrests"], 1):
        lines.append(
            f"re-arrests of released people are {100 * f['rearrests'] / f['arrests']:.0f} % of arrests"
        )
    return lines
