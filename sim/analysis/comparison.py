"""Policy comparisons with their certainty: paired replicates, and the parameters that flip a ranking.

Scenario runs started with the same root seed share their replicate seeds (common random numbers) and, with
parameter uncertainty, the same posterior draw for each replicate, so replicate ``r`` of scenario A and
replicate ``r`` of scenario B differ only by the scenario. For each pair and each headline outcome with a
direction (fewer prisoners is better, more releases is better ...), ``p_a_better`` is the share of paired
replicates in which A beats B (a tie counts half). Where the replicates' parameters vary, PRIM (EMA workbench)
finds the box of parameters in which A beats B most often: the assumptions that flip the ranking.
"""

from __future__ import annotations

import itertools
import logging
import warnings

import numpy as np
import pandas as pd

from sim.core.metrics import HEADLINES

DIRECTED = tuple(h for h in HEADLINES if h.better)


def paired(
    a: pd.DataFrame, b: pd.DataFrame, outcome: str, better: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per paired replicate: whether A beats B (1, 0.5 for a tie, 0), A minus B, and the replicate; pairs
    with a missing value dropped."""
    x = a.set_index("replicate")[outcome].astype(float)
    y = b.set_index("replicate")[outcome].astype(float)
    both = x.index.intersection(y.index)
    x, y = x.loc[both].to_numpy(), y.loc[both].to_numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y, reps = x[ok], y[ok], np.asarray(both)[ok]
    sign = 1.0 if better == "higher" else -1.0
    d = sign * (x - y)
    return np.where(d > 0, 1.0, np.where(d < 0, 0.0, 0.5)), x - y, reps


def pairwise(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """For every pair of scenarios and every directed headline outcome: the share of paired replicates in
    which A beats B, how many pairs it rests on, and the median difference A - B."""
    rows = []
    for a, b in itertools.combinations(sorted(tables), 2):
        for h in DIRECTED:
            if h.name not in tables[a] or h.name not in tables[b]:
                continue
            wins, diff, _ = paired(tables[a], tables[b], h.name, h.better)
            rows.append({
                "a": a, "b": b, "outcome": h.name, "better": h.better, "n": int(len(wins)),
                "p_a_better": float(wins.mean()) if len(wins) else None,
                "median_difference": float(np.median(diff)) if len(diff) else None,
            })  # fmt: skip
    return rows


def varying_parameters(a: pd.DataFrame, names: set[str]) -> list[str]:
    """Parameter columns of an outcomes table that vary across its replicates (drawn from a posterior)."""
    cols = [c for c in a.columns if c in names and pd.api.types.is_numeric_dtype(a[c])]
    return [c for c in cols if a[c].nunique() > 1]


def flips(a: pd.DataFrame, b: pd.DataFrame, outcome: str, better: str, factors: list[str]) -> dict:
    """PRIM on the indicator "A beats B" over the replicates' parameters: the box where A wins most often.

    Returns:
        ``{"base_rate", "box": [{parameter, low, high}], "coverage", "density", "note"}``; a note instead of a
        box when no parameter varies or one side always wins.
    """
    wins, _, reps = paired(a, b, outcome, better)
    base = float(wins.mean()) if len(wins) else float("nan")
    out = {"base_rate": base, "box": [], "coverage": None, "density": None, "note": ""}
    if not factors:
        out["note"] = "no parameter varies across replicates (run with parameter uncertainty to find flips)"
        return out
    y = wins >= 1.0
    if y.all() or not y.any():
        out["note"] = f"A {'always' if y.all() else 'never'} beats B: nothing flips the ranking here"
        return out
    x = a.set_index("replicate").loc[reps, factors].reset_index(drop=True).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("EMA").setLevel(logging.ERROR)
        from ema_workbench.analysis import prim

        box = prim.Prim(x, y, peel_alpha=0.1, mass_min=0.1).find_box()
    traj = box.peeling_trajectory
    ok = traj[traj["coverage"] >= 0.5]
    i = int(ok["density"].idxmax()) if len(ok) else int(traj.index[-1])
    lims, init = box.box_lims[i], box.box_lims[0]
    for c in lims.columns:
        lo, hi = float(lims[c].iloc[0]), float(lims[c].iloc[1])
        if not np.isclose(lo, float(init[c].iloc[0])) or not np.isclose(hi, float(init[c].iloc[1])):
            out["box"].append({"parameter": c, "low": lo, "high": hi})
    out.update(coverage=float(traj.loc[i, "coverage"]), density=float(traj.loc[i, "density"]))
    return out
