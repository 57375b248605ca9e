"""Experimental designs over the parameter schema: Sobol (Saltelli) and Morris, with SALib. No I/O.

The factors are read from the schema in :mod:`sim.core.params`, not retyped: every numeric parameter whose
role
is ``uncertainty`` (and, on request, ``lever``) and that declares a ``plausible`` range. A design is
deterministic given (method, samples, seed, include_levers), so every job of a sweep can rebuild it and
run its own chunk of points (:func:`chunk_points`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from sim.core.params import COUNTERPARTS, ScenarioParams, describe

METHODS = ("none", "sobol", "morris")


@dataclass(frozen=True)
class Factor:
    """One factor of a design: dotted parameter name, range, and whether it is an integer."""

    name: str
    lo: float
    hi: float
    integer: bool
    role: str


def factors(
    include_levers: bool = False, only: list[str] | None = None, params: ScenarioParams | None = None
) -> list[Factor]:
    """The design's factors, from the schema's roles and plausible ranges.

    Args:
        include_levers: also vary the levers (policy choices), not only the uncertainties.
        only: restrict to these dotted names (each must have a plausible range).
        params: the case's parameters; counterparts absent from the case and the case's own facts (its
            instruments, tie shares, destinations) are left out. Default: the schema's defaults.
    """
    rows = describe(params)
    absent = (
        {name for name in COUNTERPARTS if not getattr(params, name).present} if params is not None else set()
    )
    out = []
    for r in rows:
        head = r["name"].split(".")[0]
        if head in absent or any(k in r["name"] for k in (".instruments.", ".tie_shares.", ".destinations.")):
            continue
        if r["plausible"] is None or r["choices"] is not None or isinstance(r["default"], (bool, str)):
            continue
        if r["role"] == "lever" and not include_levers:
            continue
        if only is not None and r["name"] not in only:
            continue
        lo, hi = (float(x) for x in r["plausible"])
        if hi > lo:
            out.append(Factor(r["name"], lo, hi, isinstance(r["default"], int), r["role"]))
    if only is not None:
        unknown = sorted(set(only) - {f.name for f in out})
        if unknown:
            raise ValueError(f"design.factors: {', '.join(unknown)} have no plausible range in the schema")
    return out


def problem(fs: list[Factor]) -> dict:
    """The SALib problem dictionary of a list of factors."""
    return {"num_vars": len(fs), "names": [f.name for f in fs], "bounds": [[f.lo, f.hi] for f in fs]}


def sample(method: str, fs: list[Factor], samples: int, seed: int, levels: int = 4) -> np.ndarray:
    """The design matrix (points x factors).

    Args:
        method: ``sobol`` (Saltelli's scheme, first and total order: ``samples * (D + 2)`` points) or
            ``morris`` (``samples`` trajectories of ``D + 1`` points).
        fs: the factors.
        samples: base sample size (a power of 2 for Sobol) or number of Morris trajectories.
        seed: seed of the sampler.
        levels: Morris grid levels.
    """
    prob = problem(fs)
    if method == "sobol":
        x = sobol_sample.sample(prob, samples, calc_second_order=False, seed=seed)
    elif method == "morris":
        x = morris_sample.sample(prob, samples, num_levels=levels, seed=seed)
    else:
        raise ValueError(f"design.method = {method!r}: must be one of sobol, morris")
    for j, f in enumerate(fs):
        if f.integer:
            x[:, j] = np.rint(x[:, j])
    return x


def chunk_points(n_points: int, chunks: int, chunk: int) -> np.ndarray:
    """Indices of the points run by job ``chunk`` of ``chunks`` (round robin, so chunks are balanced)."""
    return np.arange(chunk, n_points, chunks)


def apply_point(base: ScenarioParams, fs: list, row: np.ndarray) -> ScenarioParams:
    """The scenario with the factors set to one point (integers rounded).

    Args:
        base: the scenario.
        fs: anything with ``name`` and ``integer``: design :class:`Factor` s, or calibration free parameters.
        row: one value per factor.
    """
    changes = {f.name: (int(round(v)) if f.integer else float(v)) for f, v in zip(fs, row)}
    return base.replace(**changes)


def sobol_indices(fs: list[Factor], y: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices with 95 % bootstrap intervals, one row per factor."""
    res = sobol_analyze.analyze(
        problem(fs),
        np.asarray(y, float),
        calc_second_order=False,
        conf_level=0.95,
        print_to_console=False,
        seed=seed,
    )
    return pd.DataFrame(
        {
            "factor": [f.name for f in fs],
            "S1": res["S1"],
            "S1_conf": res["S1_conf"],
            "ST": res["ST"],
            "ST_conf": res["ST_conf"],
        }
    )


def morris_indices(
    fs: list[Factor], x: np.ndarray, y: np.ndarray, levels: int = 4, seed: int = 0
) -> pd.DataFrame:
    """Morris elementary-effect statistics (mu*, its 95 % interval, sigma), one row per factor."""
    res = morris_analyze.analyze(
        problem(fs),
        np.asarray(x, float),
        np.asarray(y, float),
        conf_level=0.95,
        num_levels=levels,
        print_to_console=False,
        seed=seed,
    )
    return pd.DataFrame(
        {
            "factor": [f.name for f in fs],
            "mu_star": res["mu_star"],
            "mu_star_conf": res["mu_star_conf"],
            "sigma": res["sigma"],
            "mu": res["mu"],
        }
    )


def actor_screening(indices: dict[str, pd.DataFrame], threshold: float = 0.05) -> pd.DataFrame:
    """For each actor (the first part of a factor's dotted name), its most influential factor in a Morris
    screening: the largest ``mu*`` as a share of the largest ``mu*`` of any factor on the same outcome.

    Args:
        indices: Morris indices per outcome (:func:`morris_indices`).
        threshold: the share above which an effect counts as non-negligible.

    Returns:
        One row per actor: actor, factor, outcome, share, and whether the share clears ``threshold``.
    """
    rows = []
    for outcome, idx in indices.items():
        top = float(idx["mu_star"].max())
        if not np.isfinite(top) or top <= 0:
            continue
        for r in idx.itertuples():
            rows.append(
                {
                    "actor": r.factor.split(".")[0],
                    "factor": r.factor,
                    "outcome": outcome,
                    "share": float(r.mu_star) / top,
                }
            )
    table = pd.DataFrame(rows, columns=["actor", "factor", "outcome", "share"])
    if table.empty:
        return table.assign(matters=pd.Series(dtype=bool))
    best = table.loc[table.groupby("actor")["share"].idxmax()].sort_values("share", ascending=False)
    return best.assign(matters=best["share"] >= threshold).reset_index(drop=True)
