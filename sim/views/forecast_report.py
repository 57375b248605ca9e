"""A forecast's report: ``forecast.md`` and its fan chart, from the registered table and record."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sim.core.metrics import monthly_bands
from sim.store.tables import write_text

from .plotting import COLORS, _date_axis, fan, save

SERIES = {
    "prisoners_held": "political prisoners held (persons)",
    "arrests": "new political prisoners (persons/month)",
}


def forecast_figure(table: pd.DataFrame, origin: str, case: str):
    """The held stock and the monthly inflow after the origin: medians with 50 % and 90 % bands."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for ax, (col, label), color in zip(axes, SERIES.items(), COLORS):
        fan(ax, table, col, color, col.replace("_", " "))
        ax.set_ylabel(label)
        ax.set_xlabel("month")
        ax.set_title(f"{case}: {col.replace('_', ' ')} after {origin}")
        _date_axis(ax)
        ax.legend(fontsize=7)
    return fig


def forecast_text(table: pd.DataFrame, record: dict) -> str:
    """The report's text: what was forecast, from what, and the bands month by month."""
    bands = {c: monthly_bands(table, c) for c in SERIES}
    lines = [
        f"# Forecast: {record['case']}, origin {record['origin']}, {record['horizon']} months",
        "",
        f"Registered {record['provenance'].get('time', '')} at commit `{str(record['commit'])[:12]}`"
        f"{' (uncommitted changes)' if record.get('dirty') else ''}; `forecast.parquet` sha256 "
        f"`{record['files']['forecast.parquet']['sha256'][:16]}…` (checked by "
        f"`sim.store.forecasts.verify_forecast`).",
        "",
        f"- **Known at the origin:** the monitoring record and the timeline through {record['origin']}; "
        f"the last observation used is dated {record['data_vintage']}.",
        f"- **Scenario:** `{record['scenario']}`; **calibration:** {record['calibration']}.",
        f"- **Members:** {record['replicates']} replicates; their spread shows {record['uncertainty']}.",
        f"- **Start:** each replicate starts from {record['start_state']}.",
        "",
        "![forecast](figures/forecast.png)",
        "",
        "| month | held: median | held: 90 % band | new: median | new: 90 % band |",
        "|---|---:|---|---:|---|",
    ]
    h, a = bands["prisoners_held"], bands["arrests"]
    for m in h.index:
        lines.append(
            f"| {m} | {h.loc[m, 'p50']:,.0f} | {h.loc[m, 'p5']:,.0f} to {h.loc[m, 'p95']:,.0f} | "
            f"{a.loc[m, 'p50']:,.0f} | {a.loc[m, 'p5']:,.0f} to {a.loc[m, 'p95']:,.0f} |"
        )
    lines += [
        "",
        "Score it later against the record with the months after the origin: the table has one row per "
        "replicate and month (`prisoners_held` counts what the case's monitor counts; `in_prison` the people "
        "physically held).",
        "",
    ]
    return "\n".join(lines)


def write_forecast_report(out: Path, table: pd.DataFrame, record: dict) -> Path:
    """Write ``forecast.md`` and ``figures/forecast.png``; returns the report's path."""
    out = Path(out)
    save(forecast_figure(table, record["origin"], record["case"]), out / "figures" / "forecast.png")
    path = out / "forecast.md"
    write_text(path, forecast_text(table, record))
    return path
