"""Plain-language reports built from run folders: one run's report, or a side-by-side comparison.

Reads tables through :mod:`sim.store.tables`, draws through :mod:`sim.views.plotting`; never runs the model.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.core.metrics import HEADLINES, headlines_for, outcomes, summarise
from sim.core.params import describe
from sim.store.sources import DEFAULT_CASE, SeedsError, load_figures
from sim.store.tables import (
    find_runs,
    read_config,
    read_decisions,
    read_outcomes,
    read_run,
    write_json,
    write_text,
)

from . import plotting
from .comparison_report import compare_runs, comparison_lines
from .decisions_report import constant_note, decision_story
from .numbers import fmt, fmt_value, num, unit_of  # noqa: F401 - re-exported for the reports

FIGURES = {
    "prisoners_held.png": "Political prisoners held at the end of each month: median, 50 % and 90 % bands.",
    "revolving_door.png": "Arrests against releases each month, and cumulatively: the revolving door.",
    "deal_timeline.png": "When deals happen (share of replicates) and the size of each deal.",
    "sanctions.png": "Sanctions and other relief instruments in force, by counterpart and instrument.",
    "price_and_opposition.png": "The regime's learned price per prisoner; opposition mobilisation and "
    "fragmentation.",
}
COMPARE_COLUMNS = (
    "final_stock",
    "total_arrests",
    "released_deal",
    "revolving_door_ratio",
    "deals",
    "months_to_first_deal",
    "us_sanctions_end",
    "eu_sanctions_end",
    "price_per_prisoner",
)


def band(s: dict, unit: str | None = None) -> str:
    """``median (5th-95th percentile)`` of a summary entry."""
    unit = s.get("unit", "") if unit is None else unit
    if s.get("median") is None:
        return "n/a"
    sizes = [abs(float(s[k])) for k in ("median", "p5", "p95") if s.get(k) is not None and s[k] == s[k]]
    like = max(sizes) if sizes else None  # one number of decimals for the median and its band
    return f"{fmt(s['median'], unit, like)} ({fmt(s['p5'], unit, like)} to {fmt(s['p95'], unit, like)})"


def observed_points(ts: pd.DataFrame, case: str = DEFAULT_CASE) -> list[dict]:
    """Stock figures from ``seeds/<case>/figures.csv`` inside the run's months, for the fan chart."""
    try:
        figs = load_figures(case)
    except SeedsError:
        return []
    first, last = str(ts["month"].min()), str(ts["month"].max())
    out = []
    labels = {
        "prisoners_held_2025_12": "held after the Dec 2025 wave",
        "prisoners_remaining_envoy_2025_12": "remaining, per the US envoy",
    }
    for fid, label in labels.items():
        row = figs[figs["id"] == fid]
        if len(row) and first <= row.iloc[0]["date"][:7] <= last:
            out.append(
                {
                    "date": row.iloc[0]["date"],
                    "value": row.iloc[0]["value"],
                    "kind": row.iloc[0]["kind"],
                    "label": label,
                }
            )
    return out


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def changed_settings(run_dir: Path) -> list[tuple[str, object, object]]:
    """Parameters of a run's resolved configuration that differ from the model's defaults."""
    cfg = _flatten(read_config(run_dir))
    out = []
    for row in describe():
        if row["name"] in cfg and cfg[row["name"]] != row["default"]:
            out.append((row["name"], row["default"], cfg[row["name"]]))
    return out


def settings_rows(summary: dict, run_dir: Path) -> list[tuple[str, object, object, str]]:
    """(parameter, the case file's value, the value used, where it came from) for every parameter the run
    changed; from the run's record of what it used (older folders: its config against the defaults)."""
    if "settings" not in summary:
        return [(k, fmt_value(k, d), fmt_value(k, v), "") for k, d, v in changed_settings(run_dir)]
    out = []
    for row in summary["settings"]:
        sp = row.get("spread")
        name = row["name"]
        used = (
            f"{fmt_value(name, sp['median'])} [{fmt_value(name, sp['p5'])}, {fmt_value(name, sp['p95'])}] "
            "across replicates"
            if sp
            else fmt_value(name, row["used"])
        )
        out.append((name, fmt_value(name, row["case"]), used, row.get("origin", "")))
    return out


def build_run_report(run_dir: Path) -> Path:
    """Write ``report.md`` and ``figures/`` for a run folder from its tables; returns the report's path."""
    run_dir = Path(run_dir)
    ts, deals, summary = read_run(run_dir)
    scenario = str(summary.get("scenario", ts["scenario"].iloc[0]))
    fig_dir = run_dir / "figures"
    plotting.save(plotting.prisoners_fan(ts, scenario, observed_points(ts)), fig_dir / "prisoners_held.png")
    plotting.save(plotting.revolving_door(ts, scenario), fig_dir / "revolving_door.png")
    plotting.save(plotting.deal_timeline(ts, deals, scenario), fig_dir / "deal_timeline.png")
    plotting.save(plotting.sanctions(ts, scenario), fig_dir / "sanctions.png")
    plotting.save(plotting.price_and_opposition(ts, scenario), fig_dir / "price_and_opposition.png")
    path = run_dir / "report.md"
    story = decision_story(read_decisions(run_dir), deals, ts) + constant_note(
        summary.get("constant_outcomes", [])
    )
    write_text(path, run_report_text(summary, settings_rows(summary, run_dir), story))
    return path


def run_report_text(
    summary: dict, changed: list[tuple[str, object, object, str]], story: list[str] = ()
) -> str:
    """The plain-language report of one run, from its summary."""
    o = summary["outcomes"]
    lines = [f"# What-if report: `{summary['scenario']}`", ""]
    if summary.get("description"):
        lines += [f"**Question.** {summary['description']}", ""]
    lines += [
        f"**Run.** {summary['replicates']} replicates of {summary['months']} months, {summary['start']} to "
        f"{summary['end']}, root seed {summary['seed']}. Ranges in brackets are the 5th to 95th percentile "
        f"across "
        f"replicates; they show "
        f"{summary.get('uncertainty', 'stochastic variation only (parameters fixed)')}.",
        "",
        *_start_lines(summary),
        "## In short",
        "",
        f"- **Prisoners held** go from {fmt(o['initial_stock']['median'], 'persons')} at the start to "
        f"{band(o['final_stock'])} by {summary['end']} (change {band(o['stock_change'])}).",
        f"- **Arrests:** {band(o['total_arrests'])} new political prisoners, against **releases** of "
        f"{band(o['total_releases'])}: {fmt(o['released_deal']['median'], 'persons')} in deals, "
        f"{fmt(o['released_pardon']['median'], 'persons')} pardoned, "
        f"{fmt(o['released_served']['median'], 'persons')} "
        f"at the end of their term (medians); {fmt(o['died']['median'], 'persons')} die in custody.",
        f"- **Revolving door:** {band(o['revolving_door_ratio'])} arrests per release. "
        + (
            "Above 1, the regime arrests more people than it lets go: releases do not shrink the stock."
            if (o["revolving_door_ratio"]["median"] or 0) > 1
            else "Below 1, releases outpace arrests and the stock shrinks."
        ),
        f"- **Deals:** {band(o['deals'])} deals; {fmt(summary.get('share_with_deal', 0), 'share')} of "
        f"replicates "
        f"have at least one"
        + (
            f", the first after {band(o['months_to_first_deal'])} months."
            if o["months_to_first_deal"]["median"] is not None
            else "."
        ),
        f"- **High-profile prisoners:** {band(o['released_high_profile'])} released in deals; "
        f"{band(o['high_profile_held_end'])} still held at the end (the regime's reserve).",
        f"- **Price:** deals buy prisoners at {band(o['price_per_prisoner'])} relief units each; the "
        f"regime's "
        f"learned price ends at {band(o['learned_price_end'])} per ordinary-prisoner equivalent.",
        *_sanctions_line(o, summary.get("actors")),
        f"- **Opposition:** mobilisation {band(o['mobilisation_end'])}, fragmentation "
        f"{band(o['fragmentation_end'])} at the end; {fmt(o['expelled']['median'], 'persons')} released "
        f"prisoners "
        f"expelled abroad (median).",
        "",
        "Relief units (RU): 1 RU is "
        + summary.get(
            "relief_unit", "the relief value the regime obtained per prisoner in the reference deal"
        )
        + ".",
        "",
        *story,
        "## Figures",
        "",
    ]
    for name, caption in FIGURES.items():
        lines += [f"![{caption}](figures/{name})", "", f"*{caption}*", ""]
    lines += [
        "## Headline outcomes",
        "",
        "| outcome | unit | median | 5th pct | 95th pct |",
        "|---|---|---:|---:|---:|",
    ]
    for h in headlines_for(summary.get("actors")):
        s = o[h.name]
        lines.append(
            f"| {h.label} | {h.unit} | {fmt(s['median'], h.unit)} | {fmt(s['p5'], h.unit)} | "
            f"{fmt(s['p95'], h.unit)} |"
        )
    lines += ["", "## Settings that differ from the case file", ""]
    if changed:
        lines += ["| parameter | case file | this run | set by |", "|---|---|---|---|"]
        lines += [f"| `{k}` | {d} | {v} | {o} |" for k, d, v, o in changed]
    else:
        lines.append("None: this run uses the case file's values.")
    lines += [
        "",
        "## Files",
        "",
        "`timeseries.parquet` (one row per replicate and month), `deals.parquet` (one row per deal), "
        "`decisions.parquet` (one row per replicate, month, actor and decision, with what it compared), "
        "`summary.json` (these numbers), `config.yaml` (the configuration used, calibration applied), "
        "`replicates.parquet` (each replicate's seed, posterior particle and starting state), "
        "`outcomes.parquet` (each replicate's outcomes and parameters), `provenance.json` "
        "(commit, package versions, seed, command). Rebuild this report with `sim-report <this folder>`.",
        "",
    ]
    return "\n".join(lines)


def _spread_sentence(summaries: dict) -> str:
    """What the bands of several runs include (one sentence; each run's own when they differ)."""
    said = {s.get("uncertainty", "stochastic variation only") for s in summaries.values()}
    if len(said) == 1:
        return f"the bands show {said.pop()}."
    return (
        "the bands of each run show what its own report says (they differ: " + "; ".join(sorted(said)) + ")."
    )


def _sanctions_line(o: dict, actors) -> list[str]:
    """The sanctions at the end, for the sanctioning counterparts the case has (none: no line)."""
    parts = [
        f"{who} {band(o[key])}"
        for who, key, name in (("US", "us_sanctions_end", "us"), ("EU", "eu_sanctions_end", "eu"))
        if actors is None or name in actors
    ]
    if not parts:
        return []
    return [f"- **Sanctions at the end:** {' and '.join(parts)} of their pressure still in force."]


def _start_lines(summary: dict) -> list[str]:
    """Where the run started from: the calibration and the state, in a paragraph."""
    if "start_state" not in summary:
        return []
    cal = summary.get("calibration")
    if not cal:
        text = (
            f"**Start.** No calibration: the parameters are the case file's and the scenario's, and each "
            f"replicate starts from a synthetic stock of {summary.get('case', 'the case')}'s initial size."
        )
    else:
        how = summary["start_state"]
        text = (
            f"**Start.** Calibrated by `{cal}` (data through {summary.get('data_vintage')}); each replicate "
            f"starts from {how}."
        )
        if summary.get("initial_conditions_from_scenario"):
            text += (
                " The scenario sets its own "
                + ", ".join(f"`{c}`" for c in summary["initial_conditions_from_scenario"])
                + " on that state."
            )
    mode = summary.get("timeline")
    if mode == "replay" and summary.get("replay_until"):
        text += (
            f" The case's timeline is replayed as fact (deals, pardons, sanctions) up to "
            f"{summary['replay_until']}."
        )
    elif mode == "free":
        text += " After the start the actors decide deals, pardons and sanctions (`timeline=free`)."
    return [text, ""]


def build_comparison(multirun_dir: Path) -> Path:
    """Write ``comparison.md`` and ``figures/compare_*.png`` for the runs below a multirun folder."""
    multirun_dir = Path(multirun_dir)
    runs = find_runs(multirun_dir)
    if not runs:
        from sim.store.tables import RunFolderError

        raise RunFolderError(f"{multirun_dir}: no complete run folders (with summary.json) below it")
    loaded = [(r, *read_run(r)) for r in runs]
    names = [s["scenario"] for _, _, _, s in loaded]
    unique = len(set(names)) == len(names)  # label by scenario when that tells the runs apart
    tables, summaries, folders = {}, {}, {}
    for (r, ts, deals, summary), name in zip(loaded, names):
        label = name if unique else (str(r.relative_to(multirun_dir)) if r != multirun_dir else name)
        tables[label] = (ts, deals)
        summaries[label] = summary
        folders[label] = str(r.relative_to(multirun_dir)) if r != multirun_dir else "."
    fig_dir = multirun_dir / "figures"
    series = {k: v[0] for k, v in tables.items()}
    plotting.save(
        plotting.compare_fans(
            series, "prisoners_held", "prisoners held (persons)", "Political prisoners held, by scenario"
        ),
        fig_dir / "compare_prisoners_held.png",
    )
    plotting.save(
        plotting.compare_fans(
            series, "arrests", "arrests per month (persons)", "New political prisoners per month, by scenario"
        ),
        fig_dir / "compare_arrests.png",
    )
    plotting.save(
        plotting.compare_fans(
            series, "us_sanctions", "share of US sanctions in force", "US sanctions in force, by scenario"
        ),
        fig_dir / "compare_us_sanctions.png",
    )
    plotting.save(
        plotting.compare_fans(
            series,
            "learned_price",
            "RU per ordinary-prisoner equivalent",
            "The regime's learned price per prisoner, by scenario",
        ),
        fig_dir / "compare_learned_price.png",
    )
    units = {h.name: h for h in HEADLINES}
    lines = [
        "# Scenario comparison",
        "",
        f"{len(runs)} runs below this folder. Cells: median (5th to 95th percentile across replicates); "
        + _spread_sentence(summaries),
        "",
        "| run | question | " + " | ".join(units[c].label for c in COMPARE_COLUMNS) + " |",
        "|---|---|" + "---|" * len(COMPARE_COLUMNS),
    ]
    for label, s in summaries.items():
        recomputed = summarise(outcomes(*tables[label]))
        cells = [band(recomputed[c], units[c].unit) for c in COMPARE_COLUMNS]
        lines.append(
            f"| [`{label}`]({folders[label]}/report.md) | {s.get('description', '')} | "
            + " | ".join(cells)
            + " |"
        )
    lines += ["", "## Figures", ""]
    for name, cap in (
        ("compare_prisoners_held.png", "Prisoners held"),
        ("compare_arrests.png", "Arrests per month"),
        ("compare_us_sanctions.png", "US sanctions in force"),
        ("compare_learned_price.png", "Learned price per prisoner"),
    ):
        lines += [f"![{cap}](figures/{name})", "", f"*{cap}, by scenario: median and 90 % band.*", ""]
    lines += ["Each run's own report is `report.md` in its folder.", ""]
    result = compare_runs({k: read_outcomes(multirun_dir / folders[k]) for k in folders}, tables)
    write_json(multirun_dir / "comparison.json", result)
    lines[4:4] = comparison_lines(result)
    path = multirun_dir / "comparison.md"
    write_text(path, "\n".join(lines))
    return path
