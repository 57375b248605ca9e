"""Figures of an ABC-SMC calibration: posterior predictive bands against the record, prior against posterior
intervals, weighted posterior marginals, posterior correlations, and the run's generations.

Tables in (from :mod:`sim.analysis.abc` and :mod:`sim.analysis.identifiability`), matplotlib Figures out;
saving is the caller's (``plotting.save``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.priors import Prior

from .plotting import COLORS, _date_axis, _dates, _panels, plt

LABELS = {
    "prisoners_held": "prisoners held (persons)",
    "arrests": "new prisoners (persons per month)",
    "released_pardon": "released by pardon (persons per month)",
    "released_deal": "released in deals (persons per month)",
}


def predictive_check(
    bands: pd.DataFrame,
    observed: pd.DataFrame,
    columns: Sequence[str] | None = None,
    record_end: str | None = None,
) -> Figure:
    """Posterior predictive 90 % and 50 % bands and median per month (from
    :func:`~sim.analysis.identifiability.predictive_bands`), with the observed months as points."""
    columns = list(columns or dict.fromkeys(bands["column"]))
    fig, axes = _panels(len(columns), 3.4, cols=min(2, len(columns)))
    for ax, c in zip(axes, columns):
        b = bands[bands["column"] == c].sort_values("month")
        x = _dates(b["month"])
        ax.fill_between(
            x, b["q05"], b["q95"], color=COLORS[0], alpha=0.18, lw=0, label="90 % predictive band"
        )
        ax.fill_between(x, b["q25"], b["q75"], color=COLORS[0], alpha=0.3, lw=0, label="50 % predictive band")
        ax.plot(x, b["q50"], color=COLORS[0], lw=1.8, label="predictive median")
        if c in observed.columns:
            o = observed[["month", c]].dropna()
            ax.plot(_dates(o["month"]), o[c], "o", color="black", ms=3.5, label="observed")
        if record_end:
            ax.axvline(_dates([record_end])[0], color="grey", ls=":", lw=1, label="end of the record")
        ax.set_ylabel(LABELS.get(c, c), fontsize=8)
        ax.set_title(LABELS.get(c, c).split(" (")[0], fontsize=9)
        _date_axis(ax)
        ax.legend(fontsize=7)
    fig.suptitle("Posterior predictive check: simulated bands against the record")
    return fig


def _unit(table_row) -> tuple[float, float]:
    lo, hi = table_row.prior_low, table_row.prior_high
    return (np.log(lo), np.log(hi)) if table_row.scale == "log" else (lo, hi)


def prior_posterior_intervals(table: pd.DataFrame) -> Figure:
    """Each parameter's posterior 90 % interval and median inside its prior 90 % interval (scaled to 0..1 on
    the prior's scale), with the width ratio; parameters not identified in red."""
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(table) + 1.6), constrained_layout=True)
    for i, r in enumerate(table.itertuples()):
        lo, hi = _unit(r)

        def pos(v, lo=lo, hi=hi, log=r.scale == "log"):
            return ((np.log(v) if log else v) - lo) / (hi - lo)

        color = COLORS[0] if r.identified else "tab:red"
        ax.plot([0, 1], [i, i], color="lightgrey", lw=8, solid_capstyle="butt")
        ax.plot(
            [pos(r.posterior_low), pos(r.posterior_high)], [i, i], color=color, lw=4, solid_capstyle="butt"
        )
        ax.plot([pos(r.posterior_median)], [i], "|", color="black", ms=12)
        ax.text(1.02, i, f"{r.width_ratio:.2f}", va="center", fontsize=8, color=color)
    ax.set_yticks(range(len(table)), table["parameter"], fontsize=8)
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.set_xlim(-0.02, 1.12)
    ax.set_xlabel("position within the prior 90 % interval (log scale for log-uniform priors)")
    ax.set_title(
        "Prior (grey) against posterior (colour) 90 % intervals; number: width ratio; red: not identified"
    )
    ax.grid(axis="x", alpha=0.3)
    return fig


def posterior_marginals(
    posterior: pd.DataFrame, priors: Sequence[Prior], truth: Mapping[str, float] | None = None
) -> Figure:
    """Weighted histograms of the final population over each prior's support, with the prior density (and
    the true value when the record is synthetic)."""
    fig, axes = _panels(len(priors), 3.0)
    w = posterior["weight"].to_numpy(float)
    for ax, p in zip(axes, priors):
        lo, hi = p.support
        log = p.kind == "loguniform"
        bins = np.geomspace(lo, hi, 25) if log else np.linspace(lo, hi, 25)
        ax.hist(
            posterior[p.name],
            bins=bins,
            weights=w,
            density=True,
            color=COLORS[2],
            alpha=0.75,
            label="posterior",
        )
        grid = np.geomspace(lo, hi, 200) if log else np.linspace(lo, hi, 200)
        ax.plot(grid, p.frozen().pdf(grid), color="grey", lw=1.5, label="prior")
        if truth and p.name in truth:
            ax.axvline(truth[p.name], color="black", lw=2, label="true value")
        if log:
            ax.set_xscale("log")
        ax.set_title(p.name, fontsize=9)
        ax.set_xlabel("value (axis spans the prior)", fontsize=8)
        ax.set_ylabel("density")
        ax.legend(fontsize=7)
    fig.suptitle("Posterior marginals (ABC-SMC final population, weighted)")
    return fig


def correlation_matrix(corr: pd.DataFrame) -> Figure:
    """Weighted posterior correlations as a heat map with the values written in."""
    n = len(corr)
    fig, ax = plt.subplots(figsize=(1.0 * n + 3, 0.8 * n + 2), constrained_layout=True)
    im = ax.imshow(corr.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{corr.iloc[i, j]:.2f}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(n), corr.columns, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(n), corr.index, fontsize=8)
    fig.colorbar(im, ax=ax, label="correlation")
    ax.set_title("Posterior correlations (weighted; log scale for log-uniform priors)")
    return fig


def generations(gens: pd.DataFrame) -> Figure:
    """Epsilon and acceptance rate by generation."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.4), constrained_layout=True)
    a.plot(gens["t"], gens["epsilon"], "o-", color=COLORS[0])
    a.set_yscale("log")
    a.set_xlabel("generation")
    a.set_ylabel("epsilon (distance units)")
    a.set_title("Acceptance threshold")
    b.plot(gens["t"], gens["acceptance_rate"], "o-", color=COLORS[1])
    b.set_xlabel("generation")
    b.set_ylabel("accepted / simulated")
    b.set_title("Acceptance rate")
    for ax in (a, b):
        ax.grid(alpha=0.3)
    fig.suptitle(f"ABC-SMC: {int(gens['simulations'].sum())} simulations over {len(gens)} generations")
    return fig
