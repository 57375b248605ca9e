"""The rolling-origin validation's report: ``validation.md`` with its figures, from the scores."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis.baselines import TARGETS
from sim.analysis.validation import MODEL
from sim.store.tables import write_text

from .plotting import COLORS, _date_axis, _dates, save

LABELS = {"prisoners_held": "held stock", "arrests": "new political prisoners a month"}


def _f(x: float, digits: int = 1) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def pit_figure(summary: dict):
    """PIT histograms of the model, one panel per target: flat for a calibrated forecast."""
    fig, axes = plt.subplots(1, len(TARGETS), figsize=(10, 3.6), constrained_layout=True)
    for ax, target in zip(np.atleast_1d(axes), TARGETS):
        h = summary["pit"].get(target)
        if not h or sum(h["counts"]) == 0:
            ax.text(0.5, 0.5, "no observed months", ha="center", va="center", transform=ax.transAxes)
        else:
            edges, counts = np.asarray(h["edges"]), np.asarray(h["counts"], float)
            ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=COLORS[0], edgecolor="white")
            ax.axhline(counts.sum() / len(counts), color="k", ls="--", lw=1, label="flat (calibrated)")
            ax.legend(fontsize=7)
        ax.set_xlabel("PIT value")
        ax.set_ylabel("observed months")
        ax.set_title(f"PIT: {LABELS[target]}")
    return fig


def origins_figure(scores: pd.DataFrame, truth: pd.DataFrame):
    """Each forecaster's median and the model's 90 % interval at every scored month, against the record."""
    fig, axes = plt.subplots(len(TARGETS), 1, figsize=(10, 7), constrained_layout=True)
    for ax, target in zip(np.atleast_1d(axes), TARGETS):
        t = truth.dropna(subset=[target])
        ax.plot(_dates(t["month"]), t[target], "ko", ms=3, label="record")
        st = scores[scores["target"] == target]
        for i, (_, g) in enumerate(st[st["forecaster"] == MODEL].groupby("origin")):
            g = g.sort_values("month")
            x = _dates(g["month"])
            ax.fill_between(x, g["lower90"], g["upper90"], color=COLORS[0], alpha=0.15, lw=0)
            ax.plot(
                x,
                g["median"],
                color=COLORS[0],
                lw=1.5,
                label="model: median, 90 % interval" if i == 0 else None,
            )
        for j, name in enumerate(n for n in st["forecaster"].unique() if n != MODEL):
            g = st[st["forecaster"] == name]
            for k, (_, gg) in enumerate(g.groupby("origin")):
                gg = gg.sort_values("month")
                ax.plot(
                    _dates(gg["month"]), gg["median"], color=COLORS[(j + 1) % len(COLORS)], lw=1, ls="--",
                    label=f"{name}: median" if k == 0 else None,
                )  # fmt: skip
        ax.set_ylabel(LABELS[target])
        ax.set_xlabel("month")
        ax.set_title(f"Forecasts from each origin: {LABELS[target]}")
        _date_axis(ax)
        ax.legend(fontsize=7)
    return fig


def verdict(summary: dict, horizons) -> list[str]:
    """Plain sentences: does the model beat persistence at each horizon, for each target?"""
    out = []
    for target in TARGETS:
        for h in horizons:
            row = next(
                (
                    r
                    for r in summary["skill"]
                    if r["target"] == target and r["horizon"] == h and r["baseline"] == "persistence"
                ),
                None,
            )
            if row is None or row["n"] == 0:
                out.append(f"- {LABELS[target]}, within {h} months: no month both forecasts scored.")
                continue
            s = row["skill"]
            word = "beats" if s > 0 else "does **not** beat"
            out.append(
                f"- {LABELS[target]}, within {h} months: the model {word} persistence (CRPS skill {_f(s, 2)} "
                f"over {row['n']} observed months)."
            )
    return out


def validation_text(body: dict) -> str:
    """The report's text."""
    hz = body["horizons"]
    lines = [
        f"# Validation: {body['case']}, rolling origins",
        "",
        f"Forecasts from {len(body['origins'])} origins ({', '.join(body['origins'])}), each fitted by "
        f"ABC-SMC "
        f"on the data through its origin only (the record and the timeline cut there), {body['replicates']} "
        f"members each, with parameter uncertainty; scored against the monitoring record through "
        f"{body['record_through']}. Baselines are fitted on the same data"
        + (f" (the last {body['baseline_window']} months)" if body.get("baseline_window") else "")
        + '. A score "within h months" pools the observed months at leads 1 to h: the record counts the '
        "stock in some months only, and monthly new prisoners only from 2023.",
        "",
        "## Does the model beat persistence?",
        "",
        *verdict(body, hz),
        "",
        "## CRPS and interval coverage",
        "",
        "CRPS in persons (lower is better; the fair ensemble estimator). Coverage: the share of observed "
        "months inside the central 50 % and 90 % intervals (0.5 and 0.9 for a calibrated forecast).",
        "",
        "| target | within | forecaster | months | CRPS | 50 % coverage | 90 % coverage |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in body["crps"]:
        lines.append(
            f"| {LABELS[r['target']]} | {r['horizon']} | {r['forecaster']} | {r['n']} | {_f(r['crps'])} | "
            f"{_f(r['coverage50'], 2)} | {_f(r['coverage90'], 2)} |"
        )
    lines += [
        "",
        "## Skill against each baseline",
        "",
        "CRPS skill `1 - CRPS(model) / CRPS(baseline)` over the months both scored: above 0 the model is "
        "better, below 0 worse.",
        "",
        "| target | within | baseline | months | CRPS model | CRPS baseline | skill |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in body["skill"]:
        lines.append(
            f"| {LABELS[r['target']]} | {r['horizon']} | {r['baseline']} | {r['n']} | "
            f"{_f(r['crps_model'])} | {_f(r['crps_baseline'])} | {_f(r['skill'], 2)} |"
        )
    lines += [
        "",
        "## A release batch of 20 or more within 3 months",
        "",
        "Brier score of the forecast probability (lower is better; 0.25 is a coin's). The model's "
        "probability "
        "is the share of members with a month of pardon and deal releases of at least 20; *persistence* "
        "carries the last 3 months' outcome forward, *climatology* is the share of 3-month windows in the "
        "fit window that held one.",
        "",
        "| forecaster | origins | Brier |",
        "|---|---:|---:|",
    ]
    for r in body["brier"]:
        lines.append(f"| {r['forecaster']} | {r['n']} | {_f(r['brier'], 3)} |")
    if not body["brier"]:
        lines.append("| (no origin whose next 3 months lie in the record) | 0 | n/a |")
    lines += [
        "",
        "## Calibration of the forecast distribution",
        "",
        "![PIT histograms](figures/pit.png)",
        "",
        "![forecasts and the record](figures/forecasts.png)",
        "",
        "## The fits",
        "",
        "| origin | data through | statistics | simulations | particles | seconds |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for f in body["fits"]:
        lines.append(
            f"| {f['origin']} | {f['data_vintage']} | {len(f['statistics'])} | {f['simulations']:,} | "
            f"{f['particles']:,} | {f['seconds']:,.0f} |"
        )
    if body.get("skipped_baselines"):
        lines += ["", "Baselines that could not be fitted (too few observations by the origin):", ""]
        lines += [f"- {s}" for s in body["skipped_baselines"]]
    lines += [
        "",
        "## Files",
        "",
        "`scores.parquet` (one row per origin, forecaster, target and scored month), `events.parquet` (the "
        "release-batch event), `forecasts.parquet` (the model's members), `validation.json` (these tables), "
        "`fits/` (each origin's ABC database).",
        "",
    ]
    return "\n".join(lines)


def write_validation(out: Path, body: dict, scores: pd.DataFrame, truth: pd.DataFrame) -> Path:
    """Write ``validation.md`` and its figures; returns the report's path."""
    out = Path(out)
    save(pit_figure(body), out / "figures" / "pit.png")
    save(origins_figure(scores, truth), out / "figures" / "forecasts.png")
    path = out / "validation.md"
    write_text(path, validation_text(body))
    return path
