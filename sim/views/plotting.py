"""Figures from run tables: DataFrames in, matplotlib Figures out. Never builds or steps a model.

Every figure has a title, axis labels with units, and dated x axes.
"""

from __future__ import annotations

import re

import matplotlib.colors as mcolors
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sim.core.metrics import monthly_bands
from sim.core.params import describe

from .numbers import fmt

COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]
_UNITS = {r["name"]: r["unit"] for r in describe()}


def with_unit(label: str, unit: str) -> str:
    """``label (unit)``, unless the label already says the unit (never "(arrests per release)
    (arrests/release)")."""
    words = [w for w in re.split(r"[^A-Za-z]+", unit or "") if w]
    if not unit or all(w.lower() in label.lower() for w in words):
        return label
    return f"{label} ({unit})"


def param_label(name: str) -> str:
    """A parameter's axis label: its dotted name and its unit from the schema."""
    unit = _UNITS.get(name, "")
    return name if unit in ("", "choice", "bool") else f"{name} ({unit})"


def integer_axis(axis) -> None:
    """Ticks at whole numbers only (for counts: replicates, draws, restricted dimensions)."""
    axis.set_major_locator(MaxNLocator(integer=True))


def integer_colours(values) -> dict:
    """``cmap`` and ``norm`` for whole-number values: one colour per integer (a colourbar then shows whole
    numbers, not 0.5 steps; tick it with :func:`integer_axis`)."""
    vals = np.asarray(values, float)
    lo = int(np.floor(np.nanmin(vals))) if vals.size else 0
    hi = int(np.ceil(np.nanmax(vals))) if vals.size else 1
    hi = max(hi, lo + 1)
    cmap = plt.get_cmap("viridis", hi - lo + 1)
    norm = mcolors.BoundaryNorm(np.arange(lo - 0.5, hi + 1.5), cmap.N)
    return {"cmap": cmap, "norm": norm}


def _dates(months) -> pd.DatetimeIndex:
    return pd.to_datetime(pd.Index(months).astype(str) + "-01")


def _date_axis(ax) -> None:
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=9))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_ha("right")
    ax.grid(alpha=0.3)


def fan(ax, ts: pd.DataFrame, column: str, color: str, label: str, inner: bool = True) -> None:
    """Median line with 90 % (and 50 %) bands across replicates."""
    b = monthly_bands(ts, column)
    x = _dates(b.index)
    ax.fill_between(x, b["p5"], b["p95"], color=color, alpha=0.18, lw=0, label=f"{label}: 90 % band")
    if inner:
        ax.fill_between(x, b["p25"], b["p75"], color=color, alpha=0.3, lw=0, label=f"{label}: 50 % band")
    ax.plot(x, b["p50"], color=color, lw=2, label=f"{label}: median")


def _subtitle(ts: pd.DataFrame) -> str:
    n = ts["replicate"].nunique()
    return f"{n} replicate{'s' if n != 1 else ''}"


def prisoners_fan(ts: pd.DataFrame, scenario: str, observed: list[dict] | None = None) -> Figure:
    """Fan chart of political prisoners held, with observed seed figures marked."""
    fig, ax = plt.subplots(figsize=(9, 5), constrained_layout=True)
    fan(ax, ts, "prisoners_held", COLORS[0], "held")
    for obs in observed or []:
        x = pd.Timestamp(obs["date"])
        marker = "^" if obs["kind"] == "lower_bound" else ("v" if obs["kind"] == "upper_bound" else "o")
        ax.plot(
            [x],
            [obs["value"]],
            marker=marker,
            color="black",
            ms=9,
            ls="none",
            label=f"{obs['label']} ({obs['kind'].replace('_', ' ')}, seeds)",
        )
    ax.set_title(f"Political prisoners held at month end: {scenario} ({_subtitle(ts)})")
    ax.set_ylabel("prisoners held (persons)")
    ax.set_xlabel("month")
    ax.set_ylim(bottom=0)
    _date_axis(ax)
    ax.legend(fontsize=8, loc="lower left")
    return fig


def revolving_door(ts: pd.DataFrame, scenario: str) -> Figure:
    """Arrests against releases each month, and cumulative arrests against cumulative releases."""
    ts = ts.copy()
    ts["releases"] = ts["released_deal"] + ts["released_pardon"] + ts["released_served"]
    ts = ts.sort_values(["replicate", "month"])
    ts["cum_arrests"] = ts.groupby("replicate")["arrests"].cumsum()
    ts["cum_releases"] = ts.groupby("replicate")["releases"].cumsum()
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(9, 8), sharex=True, constrained_layout=True)
    fan(a1, ts, "arrests", COLORS[3], "arrests", inner=False)
    fan(a1, ts, "releases", COLORS[2], "releases (all channels)", inner=False)
    a1.set_title(f"The revolving door: arrests and releases per month: {scenario} ({_subtitle(ts)})")
    a1.set_ylabel("persons per month")
    a1.legend(fontsize=8)
    _date_axis(a1)
    fan(a2, ts, "cum_arrests", COLORS[3], "cumulative arrests", inner=False)
    fan(a2, ts, "cum_releases", COLORS[2], "cumulative releases", inner=False)
    a2.set_title("Cumulative arrests and releases since the start")
    a2.set_ylabel("persons")
    a2.set_xlabel("month")
    a2.legend(fontsize=8)
    _date_axis(a2)
    return fig


def deal_timeline(ts: pd.DataFrame, deals: pd.DataFrame, scenario: str, max_rows: int = 20) -> Figure:
    """Share of replicates with a deal each month, and each deal of the first replicates, sized by
    releases."""
    fig, (a1, a2) = plt.subplots(
        2, 1, figsize=(9, 8), sharex=True, height_ratios=[1, 2], constrained_layout=True
    )
    share = ts.groupby("month")["deal"].mean()
    x = _dates(share.index)
    a1.bar(x, share.to_numpy(), width=25, color=COLORS[1])
    a1.set_ylim(0, 1)
    a1.set_ylabel("share of replicates")
    a1.set_title(f"Deals: when they happen and how big they are: {scenario} ({_subtitle(ts)})")
    _date_axis(a1)
    reps = sorted(ts["replicate"].unique())[:max_rows]
    d = deals[deals["replicate"].isin(reps)] if len(deals) else deals
    if len(d):
        xs = _dates(d["month"])
        colours = integer_colours(d["released_high_profile"])
        sc = a2.scatter(
            xs,
            d["replicate"],
            s=10 + 2.0 * d["released"].to_numpy(),
            c=d["released_high_profile"],
            alpha=0.8,
            edgecolors="black",
            linewidths=0.5,
            **colours,
        )
        cb = fig.colorbar(sc, ax=a2, label="high-profile prisoners in the deal (persons)")
        integer_axis(cb.ax.yaxis)
        for size in (25, 100):
            a2.scatter([], [], s=10 + 2.0 * size, color="grey", label=f"{size} released")
        a2.legend(fontsize=8, loc="upper right", title="marker size")
    else:
        a2.text(0.5, 0.5, "no deals in these replicates", transform=a2.transAxes, ha="center")
    a2.set_ylabel("replicate")
    integer_axis(a2.yaxis)
    a2.set_xlabel("month of the deal")
    a2.set_title(f"Each deal in the first {len(reps)} replicates (size = prisoners released)")
    a2.invert_yaxis()
    _date_axis(a2)
    a2.set_xlim(
        _dates([ts["month"].min()])[0] - pd.Timedelta(days=20),
        _dates([ts["month"].max()])[0] + pd.Timedelta(days=20),
    )
    return fig


def sanctions(ts: pd.DataFrame, scenario: str) -> Figure:
    """Sanctions in force: US total and by sector, and the EU, as medians with bands for the totals."""
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(9, 8), sharex=True, constrained_layout=True)
    fan(a1, ts, "us_sanctions", COLORS[0], "US (value-weighted)", inner=False)
    fan(a1, ts, "eu_sanctions", COLORS[4], "EU", inner=False)
    a1.set_ylim(-0.02, 1.02)
    a1.set_ylabel("share of sanctions in force")
    a1.set_title(f"Sanctions in force by actor: {scenario} ({_subtitle(ts)})")
    a1.legend(fontsize=8)
    _date_axis(a1)
    levels = [c for c in ts.columns if c.startswith("level_")]
    cmap = plt.get_cmap("tab20")
    for i, col in enumerate(levels):
        b = monthly_bands(ts, col, qs=(50,))
        who, _, name = col.removeprefix("level_").partition("_")
        a2.plot(_dates(b.index), b["p50"], lw=2, color=cmap(i % 20), label=f"{who} {name}")
    a2.set_ylim(-0.02, 1.02)
    a2.set_ylabel("share of the instrument in force (1 = closed)")
    a2.set_xlabel("month")
    a2.set_title("Each counterpart's instruments (median across replicates)")
    a2.legend(fontsize=8)
    _date_axis(a2)
    return fig


def price_and_opposition(ts: pd.DataFrame, scenario: str) -> Figure:
    """The regime's learned price and arrest rate; opposition mobilisation and fragmentation."""
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(9, 8), sharex=True, constrained_layout=True)
    fan(a1, ts, "learned_price", COLORS[1], "learned price", inner=False)
    a1.set_ylabel("relief units per ordinary-prisoner equivalent")
    a1.set_title(f"What a prisoner is worth to the regime: {scenario} ({_subtitle(ts)})")
    a1.legend(fontsize=8, loc="upper left")
    _date_axis(a1)
    fan(a2, ts, "mobilisation", COLORS[2], "mobilisation", inner=False)
    fan(a2, ts, "fragmentation", COLORS[5], "fragmentation", inner=False)
    a2.set_ylim(-0.02, 1.02)
    a2.set_ylabel("index (0-1)")
    a2.set_xlabel("month")
    a2.set_title("Opposition: mobilisation at home and fragmentation (1 - Herfindahl of centres)")
    a2.legend(fontsize=8)
    _date_axis(a2)
    return fig


def compare_fans(runs: dict[str, pd.DataFrame], column: str, ylabel: str, title: str) -> Figure:
    """Overlaid fan charts (median and 90 % band) of one column for several scenarios."""
    fig, ax = plt.subplots(figsize=(10, 5.5), constrained_layout=True)
    alpha = 0.12 if len(runs) <= 4 else 0.05
    for i, (name, ts) in enumerate(runs.items()):
        b = monthly_bands(ts, column)
        x = _dates(b.index)
        color = COLORS[i % len(COLORS)]
        ax.fill_between(x, b["p5"], b["p95"], color=color, alpha=alpha, lw=0)
        ax.plot(x, b["p50"], color=color, lw=2, label=name, ls="-" if i < len(COLORS) else "--")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("month")
    _date_axis(ax)
    ax.legend(fontsize=8, title="scenario (median, 90 % band)")
    return fig


def save(fig: Figure, path) -> None:
    """Save a figure as PNG (atomically) and close it."""
    from sim.store.tables import atomic_write

    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


def _param_values(df: pd.DataFrame, param: str):
    values = sorted(df[param].dropna().unique().tolist())
    numeric = pd.api.types.is_numeric_dtype(df[param])
    return values, numeric


def outcome_vs_param(df: pd.DataFrame, param: str, outcomes, units) -> Figure:
    """Headline outcomes against one swept parameter: median and 90 % band over the rows at each value."""
    values, numeric = _param_values(df, param)
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), constrained_layout=True)
    for ax, o in zip(axes.ravel(), outcomes):
        g = df.groupby(param)[o]
        med, lo, hi = (
            s.reindex(values).to_numpy(float) for s in (g.median(), g.quantile(0.05), g.quantile(0.95))
        )
        if numeric:  # a continuous parameter: a line through the values, with its band
            x = np.asarray(values, float)
            ax.fill_between(x, lo, hi, alpha=0.25, color=COLORS[0], lw=0, label="90 % band")
            ax.plot(x, med, marker="o", color=COLORS[0], lw=2, label="median")
        else:  # categories (scenarios): nothing lies between them, so no line joins them
            x = np.arange(len(values))
            ax.errorbar(
                x,
                med,
                yerr=[med - lo, hi - med],
                fmt="o",
                ms=7,
                color=COLORS[0],
                ecolor=COLORS[0],
                elinewidth=6,
                alpha=0.8,
                capsize=0,
                label="median and 90 % band",
            )
            ax.set_xticks(x, [str(v) for v in values], rotation=20, ha="right")
            ax.set_xlim(-0.5, len(values) - 0.5)
        if o == "revolving_door_ratio":
            ax.axhline(1.0, color="black", lw=1, ls="--", label="1 arrest per release")
        ax.set_xlabel(param_label(param))
        ax.set_ylabel(with_unit(units[o].label, units[o].unit), fontsize=8)
        ax.set_title(units[o].label, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"Outcomes against {param}")
    return fig


def _text_colour(cmap, norm, value: float) -> str:
    """Black on light cells, white on dark ones (by the cell colour's luminance)."""
    r, g, b, _ = cmap(norm(value))
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "white"


def heatmaps(df: pd.DataFrame, p1: str, p2: str, outcomes, units) -> Figure:
    """Median outcome over a grid of two swept parameters, one panel per outcome."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5), constrained_layout=True)
    for ax, o in zip(axes.ravel(), outcomes):
        grid = df.groupby([p2, p1])[o].median().unstack(p1).sort_index().sort_index(axis=1)
        im = ax.imshow(grid.to_numpy(float), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns], rotation=30)
        ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
        for (i, j), v in np.ndenumerate(grid.to_numpy(float)):
            if np.isfinite(v) and grid.size <= 144:
                ax.text(
                    j,
                    i,
                    fmt(v, units[o].unit),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=_text_colour(im.cmap, im.norm, v),
                )
        if o == "revolving_door_ratio" and grid.shape[0] > 1 and grid.shape[1] > 1:
            z = grid.to_numpy(float)
            if np.nanmin(z) < 1 < np.nanmax(z):
                ax.contour(
                    np.arange(grid.shape[1]),
                    np.arange(grid.shape[0]),
                    z,
                    levels=[1.0],
                    colors="red",
                    linewidths=2,
                )
                ax.legend(
                    handles=[Line2D([], [], color="red", lw=2, label="1 arrest per release")],
                    fontsize=7,
                    loc="upper right",
                    framealpha=0.9,
                )
        fig.colorbar(im, ax=ax, label=units[o].unit)
        ax.set_xlabel(param_label(p1))
        ax.set_ylabel(param_label(p2))
        ax.set_title(f"median {units[o].label}", fontsize=10)
    fig.suptitle(f"Median outcomes over {p1} and {p2}")
    return fig


def sensitivity_bars(idx: pd.DataFrame, method: str, label: str, top: int = 15) -> Figure:
    """Sobol (S1 and ST with 95 % intervals) or Morris (mu* with interval) indices, largest first."""
    key = "ST" if method == "sobol" else "mu_star"
    d = idx.sort_values(key, ascending=False).head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(d) + 1.8), constrained_layout=True)
    y = np.arange(len(d))
    if method == "sobol":
        ax.barh(y + 0.2, d["ST"], 0.4, xerr=d["ST_conf"], color=COLORS[0], label="total order ST")
        ax.barh(y - 0.2, d["S1"], 0.4, xerr=d["S1_conf"], color=COLORS[1], label="first order S1")
        ax.set_xlabel("Sobol index (share of output variance), 95 % bootstrap interval")
    else:
        # mu* is a mean of absolute values, never below 0: the interval is cut at 0
        conf = d["mu_star_conf"].to_numpy(float)
        mu = d["mu_star"].to_numpy(float)
        ax.barh(
            y,
            mu,
            0.6,
            xerr=[np.minimum(conf, mu), conf],
            color=COLORS[0],
            label="mu* (mean |elementary effect|)",
        )
        ax.set_xlim(left=0)
        ax.set_xlabel("Morris mu* (outcome units), 95 % bootstrap interval")
    ax.set_yticks(y, d["factor"], fontsize=8)
    ax.set_title(f"What drives: {label}")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def prim_trajectory(traj: pd.DataFrame) -> Figure:
    """PRIM's peeling trajectory: coverage against density, coloured by restricted dimensions."""
    fig, ax = plt.subplots(figsize=(7, 5), constrained_layout=True)
    colours = integer_colours(traj["res_dim"])
    sc = ax.scatter(traj["coverage"], traj["density"], c=traj["res_dim"], s=25, **colours)
    cb = fig.colorbar(sc, ax=ax, label="restricted parameters")
    integer_axis(cb.ax.yaxis)
    ax.set_xlabel("coverage (share of the cases of interest inside the box)")
    ax.set_ylabel("density (share of the box's runs that are cases of interest)")
    ax.set_title("PRIM peeling trajectory")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    return fig


def _panels(n: int, row_height: float, cols: int = 3):
    """A figure with ``n`` panels on a grid of ``cols`` columns (unused cells hidden); returns it and the
    axes."""
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(12, row_height * rows), constrained_layout=True, squeeze=False
    )
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()[:n]


def calibration_targets(fit: pd.DataFrame, samples: dict) -> Figure:
    """Each target's observed figure (a bound as a one-sided marker) against the simulated distribution."""
    fig, axes = _panels(len(fit), 3.2)
    for ax, r in zip(axes, fit.itertuples()):
        s = np.asarray(samples[r.target], float)
        ax.hist(
            s,
            bins=min(20, max(5, len(np.unique(s)))),
            color=COLORS[0],
            alpha=0.7,
            label="simulated (replicates)",
        )
        ax.axvline(r.simulated_median, color=COLORS[0], lw=2, label="simulated median")
        style = {
            "lower_bound": ("--", "observed (lower bound)"),
            "upper_bound": ("--", "observed (upper bound)"),
            "approximate": (":", "observed (approximate)"),
        }.get(r.kind, ("-", "observed"))
        ax.axvline(r.observed, color="black", lw=2, ls=style[0], label=style[1])
        lo, hi = r.observed * (1 - r.tolerance), r.observed * (1 + r.tolerance)
        if r.kind == "lower_bound":
            ax.axvspan(
                r.observed, max(hi, s.max() if len(s) else hi), color="green", alpha=0.08, label="accepted"
            )
        elif r.kind == "upper_bound":
            ax.axvspan(
                min(lo, s.min() if len(s) else lo), r.observed, color="green", alpha=0.08, label="accepted"
            )
        else:
            ax.axvspan(lo, hi, color="green", alpha=0.08, label="within tolerance")
        ax.set_title(f"{r.target} ({'met' if r.met else 'NOT met'})", fontsize=9)
        ax.set_xlabel(f"{r.statistic}, {r.window}", fontsize=8)
        ax.set_ylabel("replicates")
        integer_axis(ax.yaxis)
        ax.legend(fontsize=6)
    fig.suptitle("Calibration targets against the simulated distribution at the fitted parameters")
    return fig


def posterior_marginals(posterior: pd.DataFrame, free, best: dict) -> Figure:
    """Histograms of the accepted parameter draws within their prior bounds, with the optimum marked."""
    fig, axes = _panels(len(free), 3.0)
    for ax, f in zip(axes, free):
        ax.hist(
            posterior[f.name],
            bins=15,
            range=(f.low, f.high),
            color=COLORS[2],
            alpha=0.8,
            label="posterior draws",
        )
        ax.axvline(best[f.name], color="black", lw=2, label="optimum")
        ax.set_xlim(f.low, f.high)
        ax.set_title(f.name, fontsize=9)
        ax.set_xlabel("value (x axis spans the prior bounds)", fontsize=8)
        ax.set_ylabel("draws")
        integer_axis(ax.yaxis)
        ax.legend(fontsize=7)
    fig.suptitle("Posterior marginals (ABC rejection)")
    return fig
