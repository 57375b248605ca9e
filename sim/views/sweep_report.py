"""The sweep report: aggregate a multirun's jobs and say what drives the outcomes.

``sim-report SWEEP_DIR`` writes, in the sweep folder:

* ``sweep.parquet`` -- one row per job, design point and replicate: parameters and headline outcomes;
* ``sweep.md`` and ``figures/sweep_*.png`` -- outcomes against one swept parameter (median and 90 % band),
  heatmaps of the median outcome over two, the best and worst parameter points of each headline outcome,
  Sobol or Morris indices for a sensitivity design, PRIM boxes for a yes/no outcome, and the jobs that
  failed (with their error) or are missing;
* for a sweep over scenarios, also the side-by-side comparison (:func:`sim.views.report.build_comparison`).

It works on a partial sweep: what is missing is listed, and indices that need every design point are not
computed until all are there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis import design
from sim.analysis.conditions import ConditionError
from sim.analysis.conditions import evaluate as evaluate_condition
from sim.analysis.conditions import parse as parse_condition
from sim.analysis.text import clip
from sim.core.metrics import HEADLINES
from sim.core.params import describe
from sim.store.tables import (
    RunFolderError,
    clean_stray_tmp,
    job_status,
    read_summary,
    read_sweep,
    write_table,
    write_text,
)

from . import plotting
from .numbers import fmt, fmt_value, num
from .report import band, build_comparison
from .screening import actor_lines

KEY_OUTCOMES = ("final_stock", "total_arrests", "released_deal", "revolving_door_ratio")
PARAM_NAMES = {r["name"] for r in describe()} | {"scenario", "start"}
_UNITS = {h.name: h for h in HEADLINES}


class SweepError(ValueError):
    """Bad input to the sweep report (e.g. a PRIM expression it cannot evaluate)."""


def _as_dict(overrides: list[str]) -> dict[str, str]:
    out = {}
    for o in overrides:
        k, _, v = o.partition("=")
        out[k.lstrip("+~")] = v
    return out


def _canonical(value: str) -> str:
    """A swept value's text in one form (``2`` and ``2.0`` alike; quotes dropped)."""
    try:
        return repr(float(value))
    except ValueError:
        return str(value).strip("'\"")


def missing_jobs(expected: list[dict[str, str]], started: list[list[str]]) -> list[dict[str, str]]:
    """Expected combinations that no started job ran (a set lookup per combination, so a large sweep costs
    little)."""
    if not expected:
        return []
    keys = sorted(expected[0])
    seen = set()
    for s in started:
        d = _as_dict(s)
        if all(k in d for k in keys):
            seen.add(tuple(_canonical(d[k]) for k in keys))
    return [e for e in expected if tuple(_canonical(e[k]) for k in keys) not in seen]


def swept(df: pd.DataFrame) -> list[str]:
    """Parameter columns that vary across the sweep's jobs (design factors excluded: they vary by
    construction). A parameter that varies within a job -- drawn per replicate from a posterior under
    parameter uncertainty -- is not swept."""
    if df.empty:
        return []
    cols = [c for c in df.columns if c in PARAM_NAMES and df[c].nunique(dropna=False) > 1]
    if "job" in df.columns:
        within = df.groupby("job", dropna=False)[cols].nunique(dropna=False).max()
        cols = [c for c in cols if within[c] <= 1]
    return sorted(cols, key=lambda c: (c != "scenario", c))


def point_stats(df: pd.DataFrame, params: list[str], outcomes=KEY_OUTCOMES) -> pd.DataFrame:
    """Median, 5th and 95th percentile of outcomes at each combination of ``params``."""
    g = df.groupby(params, dropna=False)
    parts = {}
    for o in outcomes:
        parts[(o, "median")] = g[o].median()
        parts[(o, "p5")] = g[o].quantile(0.05)
        parts[(o, "p95")] = g[o].quantile(0.95)
    out = pd.DataFrame(parts)
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out


def point_label(params: list[str], ix) -> str:
    """``a=1, b=0.5`` for a parameter point (values formatted by the schema's type)."""
    return ", ".join(f"{p}={fmt_value(p, v)}" for p, v in zip(params, ix if isinstance(ix, tuple) else (ix,)))


def _points_at(series: pd.Series, value: float, params: list[str]) -> str:
    """The points where ``series`` equals ``value``: one named, or how many tie (never one point twice)."""
    hits = series.index[np.isclose(series.to_numpy(float), value, rtol=1e-12, atol=1e-12)]
    if len(hits) == 1:
        return point_label(params, hits[0])
    shown = "; ".join(point_label(params, ix) for ix in hits[:2])
    return f"{len(hits)} points tie ({shown}{'; ...' if len(hits) > 2 else ''})"


def best_and_worst(df: pd.DataFrame, params: list[str]) -> list[tuple[str, str, str, str, str]]:
    """For each headline outcome: the parameter points with the lowest and the highest median.

    Ties are named as ties, and an outcome that is the same at every point says so instead of naming one
    point as both the lowest and the highest.
    """
    rows = []
    med = df.groupby(params, dropna=False)[[h.name for h in HEADLINES]].median()
    for h in HEADLINES:
        col = med[h.name].dropna()
        if h.name == "initial_stock" or col.empty:
            continue
        lo, hi = float(col.min()), float(col.max())
        if np.isclose(lo, hi, rtol=1e-12, atol=1e-12):
            rows.append(
                (h.label, fmt(lo, h.unit), "every point (no difference)", fmt(hi, h.unit), "every point")
            )
            continue
        rows.append(
            (
                h.label,
                fmt(lo, h.unit),
                _points_at(col, lo, params),
                fmt(hi, h.unit),
                _points_at(col, hi, params),
            )
        )
    return rows


def design_indices(
    root: Path, df: pd.DataFrame, jobs: list[str], outcomes=KEY_OUTCOMES
) -> tuple[str, dict, dict[str, pd.DataFrame], str]:
    """Sensitivity indices of a design sweep: (method, design info, indices per outcome, note)."""
    info = read_summary(Path(root) / jobs[0])["design"]
    prob = info["problem"]
    fs = [
        design.Factor(n, lo, hi, integer, "")
        for n, (lo, hi), integer in zip(prob["names"], prob["bounds"], info["integer"])
    ]
    outcomes = [o for o in outcomes if o in df.columns]
    means = df.groupby("point")[outcomes].mean().sort_index()
    have, need = len(means), info["n_points"]
    if have < need:
        return (
            info["method"],
            info,
            {},
            f"{need - have} of {need} design points are missing: indices need them all.",
        )
    out = {}
    for o in outcomes:
        y = means[o].to_numpy(dtype=float)
        if not np.isfinite(y).any():
            continue
        if not np.all(np.isfinite(y)):  # e.g. a ratio with no release: fill with the mean, and say so
            y = np.where(np.isfinite(y), y, np.nanmean(y[np.isfinite(y)]))
        if info["method"] == "sobol":
            out[o] = design.sobol_indices(fs, y)
        else:
            x = design.sample("morris", fs, info["samples"], info["seed"], info["levels"])
            out[o] = design.morris_indices(fs, x, y, info["levels"])
    return info["method"], info, out, ""


def prim_condition(df: pd.DataFrame, expr: str) -> pd.Series:
    """The yes/no outcome of a ``--prim`` condition on ``sweep.parquet``'s rows, through the whitelist parser
    of :mod:`sim.analysis.conditions` (never ``eval``: user text runs no code).

    Raises:
        SweepError: one line naming what was refused, or why the condition cannot be evaluated.
    """
    try:
        return evaluate_condition(parse_condition(expr, df.columns), df)
    except ConditionError as exc:
        raise SweepError(f"--prim {clip(repr(expr))}: cannot evaluate: {exc}") from None


def prim_boxes(
    df: pd.DataFrame, expr: str, factors: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, float, str]:
    """PRIM (EMA workbench) on a yes/no outcome: the peeling trajectory, the chosen box's limits, base rate.

    The chosen box is the densest on the trajectory that still covers at least half of the cases.
    """
    import logging
    import warnings

    y = prim_condition(df, expr)
    x = df[factors].apply(pd.to_numeric, errors="coerce")
    x = x.loc[:, x.notna().all()]
    if x.shape[1] == 0:
        raise SweepError("--prim: the sweep has no numeric parameters to find boxes in")
    yv = y.to_numpy(dtype=bool)
    base = float(yv.mean())
    if yv.all() or not yv.any():
        return (
            pd.DataFrame(),
            pd.DataFrame(),
            base,
            f"the condition holds in {'all' if yv.all() else 'no'} cases",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("EMA").setLevel(logging.ERROR)
        from ema_workbench.analysis import prim

        box = prim.Prim(x.reset_index(drop=True), yv, peel_alpha=0.05, mass_min=0.05).find_box()
    traj = box.peeling_trajectory
    ok = traj[traj["coverage"] >= 0.5]
    i = int(ok["density"].idxmax()) if len(ok) else int(traj.index[-1])
    box.select(i)
    lims = box.box_lims[i]
    init = box.box_lims[0]
    restricted = [
        c for c in lims.columns if not np.allclose(lims[c].to_numpy(float), init[c].to_numpy(float))
    ]
    limits = pd.DataFrame(
        {
            "parameter": restricted,
            "low": [lims[c].iloc[0] for c in restricted],
            "high": [lims[c].iloc[1] for c in restricted],
            "range_in_sweep": [
                f"{fmt_value(c, init[c].iloc[0])} to {fmt_value(c, init[c].iloc[1])}" for c in restricted
            ],
        }
    )
    chosen = traj.loc[[i], ["coverage", "density", "mass", "res_dim"]]
    return (
        traj,
        limits.assign(
            coverage=float(chosen["coverage"].iloc[0]),
            density=float(chosen["density"].iloc[0]),
            mass=float(chosen["mass"].iloc[0]),
        ),
        base,
        "",
    )


def build_sweep_report(
    root: Path,
    prim_expr: str | None = None,
    expected: list[dict[str, str]] | None = None,
    note: str = "",
) -> list[Path]:
    """Write ``sweep.parquet``, ``sweep.md`` and figures for a multirun folder (and ``comparison.md`` when
    scenarios are swept); returns the paths of the reports written.

    Damaged jobs (an unreadable ``outcomes.parquet``, ``overrides.yaml`` or ``error.json``) are listed as
    ``unreadable`` or ``failed`` and the report goes on without them. A ``--prim`` condition is checked before
    anything is written.

    Args:
        root: the multirun folder.
        prim_expr: a yes/no condition for PRIM, or None.
        expected: every combination of swept values the multirun was to run (key -> value text), from the
            command line's overrides (the edge expands them with Hydra's parser); None when unknown.
        note: a sentence for the top of the report (e.g. why the jobs never started cannot be listed).
    """
    root = Path(root)
    clean_stray_tmp(root)  # left by a report killed while writing
    status = job_status(root)
    if status.empty:
        raise RunFolderError(f"{root}: no sweep jobs (folders with .hydra/overrides.yaml) below it")
    df, unreadable = read_sweep(root, list(status.loc[status["status"] == "complete", "job"]))
    for job, why in unreadable.items():
        status.loc[status["job"] == job, ["status", "error"]] = ["unreadable", why]
    complete = status[status["status"] == "complete"]
    if prim_expr:
        if df.empty:
            raise SweepError(f"--prim {clip(repr(prim_expr))}: no complete job to evaluate it on")
        prim_condition(df, prim_expr)  # refused before anything is written
    missing = missing_jobs(expected, list(status["overrides"])) if expected else []
    if not df.empty:
        write_table(root / "sweep.parquet", df)
    fig_dir = root / "figures"
    is_design = not df.empty and "point" in df and (df["point"] >= 0).any()
    params = [p for p in swept(df) if not is_design]
    n_expected = len(status) + len(missing)
    counts = status["status"].value_counts()
    written: list[Path] = []
    lines = [
        "# Sweep report",
        "",
        f"This sweep folder: {len(complete):,} of {n_expected:,} jobs complete"
        + "".join(
            f", {int(counts[k]):,} {k}" for k in ("failed", "unreadable", "incomplete") if counts.get(k)
        )
        + (f", {len(missing):,} not started" if missing else "")
        + f". `sweep.parquet` holds {len(df):,} rows (one per job, design point and replicate).",
        "",
    ]
    if note:
        lines += [f"*Note: {note}.*", ""]
    if len(complete) < n_expected:
        lines += ["**This sweep is partial**: the figures and tables below use only the complete jobs.", ""]

    if not df.empty and params:
        lines += [
            "## Swept parameters",
            "",
            ", ".join(f"`{p}` ({df[p].nunique()} values)" for p in params),
            "",
        ]
        if "scenario" in params:
            comp = build_comparison(root)
            written.append(comp)
            lines += [f"Scenarios side by side: [{comp.name}]({comp.name}).", ""]
        numeric = [p for p in params if p != "scenario" and pd.api.types.is_numeric_dtype(df[p])]
        for p in params:
            name = f"sweep_{p.replace('.', '_')}.png"
            plotting.save(plotting.outcome_vs_param(df, p, KEY_OUTCOMES, _UNITS), fig_dir / name)
            lines += [
                f"![Outcomes against {p}](figures/{name})",
                "",
                f"*Headline outcomes against `{p}`: median and 90 % band over replicates"
                + (" and the other swept parameters" if len(params) > 1 else "")
                + ".*",
                "",
            ]
        if len(numeric) >= 2:
            p1, p2 = numeric[:2]
            name = f"heatmap_{p1.replace('.', '_')}__{p2.replace('.', '_')}.png"
            plotting.save(plotting.heatmaps(df, p1, p2, KEY_OUTCOMES, _UNITS), fig_dir / name)
            lines += [
                f"![Heatmaps over {p1} and {p2}](figures/{name})",
                "",
                f"*Median outcome over `{p1}` and `{p2}`"
                + (" (other swept parameters pooled)" if len(numeric) > 2 else "")
                + ". The line on the revolving-door panel marks 1 arrest per release: beyond it the regime "
                "re-arrests more than it releases.*",
                "",
            ]
        lines += [
            "## Best and worst parameter points",
            "",
            "| outcome | lowest median | at | highest median | at |",
            "|---|---:|---|---:|---|",
        ]
        lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in best_and_worst(df, params)]
        lines += [""]
        stats = point_stats(df, params)
        lines += [
            "## Every parameter point",
            "",
            "| "
            + " | ".join(f"`{p}`" for p in params)
            + " | "
            + " | ".join(_UNITS[o].label for o in KEY_OUTCOMES)
            + " |",
            "|" + "---|" * (len(params) + len(KEY_OUTCOMES)),
        ]
        for ix, row in stats.iterrows():
            ix = ix if isinstance(ix, tuple) else (ix,)
            cells = [
                band(
                    {"median": row[(o, "median")], "p5": row[(o, "p5")], "p95": row[(o, "p95")]},
                    _UNITS[o].unit,
                )
                for o in KEY_OUTCOMES
            ]
            lines.append(
                "| "
                + " | ".join(fmt_value(p, v) for p, v in zip(params, ix))
                + " | "
                + " | ".join(cells)
                + " |"
            )
        lines += [""]

    factors_for_prim = params
    if is_design:
        method, info, indices, note = design_indices(root, df, list(complete["job"]))
        if method == "morris" and not note:
            every = [h.name for h in HEADLINES if h.name != "initial_stock"]
            _, _, all_indices, _ = design_indices(root, df, list(complete["job"]), every)
            lines += actor_lines(design.actor_screening(all_indices), _UNITS)
        factors_for_prim = info["problem"]["names"]
        lines += [
            f"## Sensitivity: {'Sobol indices' if method == 'sobol' else 'Morris screening'}",
            "",
            f"{info['n_points']:,} design points over {len(info['problem']['names'])} factors "
            f"({'uncertainties and levers' if info['include_levers'] else 'uncertainties'}, over the "
            f"plausible "
            f"ranges of the parameter schema), each run with the same replicate seeds (common random "
            f"numbers); "
            f"outcomes are averaged over replicates before the indices are computed.",
            "",
        ]
        if note:
            lines += [f"**{note}**", ""]
        for o, idx in indices.items():
            name = f"sensitivity_{o}.png"
            plotting.save(plotting.sensitivity_bars(idx, method, _UNITS[o].label), fig_dir / name)
            write_table(root / f"sensitivity_{o}.parquet", idx)
            key = "ST" if method == "sobol" else "mu_star"
            top = idx.sort_values(key, ascending=False).head(8)
            lines += [f"### {_UNITS[o].label}", "", f"![{method} indices for {o}](figures/{name})", ""]
            if method == "sobol":
                total, width = idx["S1"].sum(), float(np.sqrt((idx["S1_conf"] ** 2).sum()))
                if total - width > 1 or width > 0.5:
                    remark = (
                        f"the intervals are wide (±{width:.2f} on the sum): the base sample is too small "
                        f"for precise "
                        f"indices; raise design.samples (now {info['samples']})"
                    )
                else:
                    remark = "the remainder of the variance is due to interactions and replicate noise"
                lines += [
                    f"Sum of first-order indices: {total:.2f}; {remark}.",
                    "",
                    "| factor | first order S1 | 95 % interval | total ST | 95 % interval |",
                    "|---|---:|---:|---:|---:|",
                ]
                lines += [
                    f"| `{r.factor}` | {r.S1:.3f} | ±{r.S1_conf:.3f} | {r.ST:.3f} | ±{r.ST_conf:.3f} |"
                    for r in top.itertuples()
                ]
            else:
                lines += ["| factor | mu* | 95 % interval | sigma |", "|---|---:|---:|---:|"]
                lines += [
                    f"| `{r.factor}` | {num(r.mu_star)} | ±{num(r.mu_star_conf)} | {num(r.sigma)} |"
                    for r in top.itertuples()
                ]
            lines += [""]

    if prim_expr:
        traj, limits, base, note = prim_boxes(df, prim_expr, [f for f in factors_for_prim if f != "scenario"])
        lines += [
            f"## Scenario discovery (PRIM): where `{prim_expr}`",
            "",
            f"The condition holds in {100 * base:.0f} % of the {len(df):,} replicate runs.",
        ]
        if note:
            lines += ["", f"No box to find: {note}.", ""]
        else:
            plotting.save(plotting.prim_trajectory(traj), fig_dir / "prim_trajectory.png")
            r = limits.iloc[0] if len(limits) else None
            if r is not None:
                lines[-1] += (
                    f" PRIM (EMA workbench) finds a box covering {100 * r['coverage']:.0f} % of those cases "
                    f"with "
                    f"density {100 * r['density']:.0f} % (share of runs in the box where it holds) and mass "
                    f"{100 * r['mass']:.0f} % (share of all runs in the box):"
                )
                lines += ["", "| parameter | low | high | range in sweep |", "|---|---:|---:|---|"]
                lines += [
                    f"| `{x.parameter}` | {fmt_value(x.parameter, x.low)} | "
                    f"{fmt_value(x.parameter, x.high)} | {x.range_in_sweep} |"
                    for x in limits.itertuples()
                ]
            lines += [
                "",
                "![PRIM peeling trajectory](figures/prim_trajectory.png)",
                "",
                "*PRIM's peeling trajectory: each point a box, coverage against density.*",
                "",
            ]

    bad = status[status["status"] != "complete"]
    lines += ["## Failed, incomplete and missing jobs", ""]
    if bad.empty and not missing:
        lines += ["None: every job of the sweep completed.", ""]
    else:
        lines += ["| job | status | error |", "|---|---|---|"]
        lines += [
            f"| `{r.job}` | {r.status} | {clip(str(r.error).splitlines()[0], 200) if r.error else ''} |"
            for r in bad.itertuples()
        ]
        lines += [f"| `{', '.join(f'{k}={v}' for k, v in m.items())}` | not started | |" for m in missing]
        lines += [
            "",
            "Re-run the same command with the same `hydra.sweep.dir` to complete the sweep: complete jobs "
            "are "
            "skipped.",
            "",
        ]
    path = root / "sweep.md"
    write_text(path, "\n".join(lines))
    return [path, *written]
