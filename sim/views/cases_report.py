"""``docs/cases.md``: the cases side by side (fitted parameters, the dominant mechanism, skill)."""

from __future__ import annotations

import math
from pathlib import Path

from sim.store.tables import write_text

from .numbers import fmt_value


def _f(x, digits: int = 2) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def cases_text(entries: list[dict], settings) -> str:
    """The report's text."""
    names = [e["case"] for e in entries]
    lines = [
        "# The cases side by side",
        "",
        f"Made by `sim-cases` from each case's installed calibration and latest validation. Cases: "
        f"{', '.join(names)}. The mechanism measures come from the baseline run forward from each "
        f"calibration "
        f"({settings.replicates} replicates of {settings.months} months, seed {settings.seed}, parameter "
        "uncertainty included). Each case counts what its own monitor counts; see its case file.",
        "",
        "## Which mechanism moves the stock",
        "",
        "| case | held at start | held at end | arrests | re-arrests | deals | pardons | terms served | "
        "arrests per release | chip share of an arrest's value |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in entries:
        f = e.get("flows")
        if f is None:
            lines.append(f"| {e['case']} | " + " | ".join(["n/a"] * 9) + " |")
            continue
        lines.append(
            f"| {e['case']} | {f['held_start']:,.0f} | {f['held_end']:,.0f} | {f['arrests']:,.0f} | "
            f"{f['rearrests']:,.0f} | {f['released_deal']:,.0f} | {f['released_pardon']:,.0f} | "
            f"{f['released_served']:,.0f} | {_f(f['revolving_door'])} | {_f(100 * f['chip_share'], 0)} % |"
        )
    lines += ["", "Medians across replicates of totals over the run (persons).", ""]
    for e in entries:
        if e.get("dominant"):
            lines.append(f"- **{e['case']}** (from {e['start']}): " + "; ".join(e["dominant"]) + ".")
    lines += ["", "## Skill against persistence", ""]
    lines += [
        "CRPS skill of the model's forecasts against a persistence forecast fitted on the same data "
        "(`sim-validate`; above 0 the model is better). A case whose record has too few observations after "
        "an origin has fewer scored months.",
        "",
        "| case | target | within (months) | scored months | skill |",
        "|---|---|---:|---:|---:|",
    ]
    for e in entries:
        for r in e.get("skill", []):
            lines.append(f"| {e['case']} | {r['target']} | {r['horizon']} | {r['n']} | {_f(r['skill'])} |")
    verdicts = []
    for e in entries:
        rows = [r for r in e.get("skill", []) if r["horizon"] >= 6 and r["n"] > 0]
        if rows:
            beats = [r for r in rows if r["skill"] > 0]
            verdicts.append(
                f"- **{e['case']}**: beats persistence in {len(beats)} of {len(rows)} target-horizon pairs "
                f"at 6 "
                "months and beyond" + ("." if beats else "; it does **not** beat persistence there.")
            )
    lines += ["", *verdicts, "", "## Fitted parameters", ""]
    for e in entries:
        if not e.get("parameters"):
            continue
        lines += [
            f"### {e['case']}",
            "",
            f"Calibration `{e['calibration']}`. Posterior median and 90 % interval against the prior's 90 % "
            "interval; identified when the posterior is at most 0.7 of the prior's width.",
            "",
            "| parameter | prior 90 % | posterior median | posterior 90 % | identified |",
            "|---|---|---:|---|---|",
        ]
        for r in e["parameters"]:
            n = r["parameter"]
            lines.append(
                f"| `{n}` | {fmt_value(n, r['prior_low'])} to {fmt_value(n, r['prior_high'])} | "
                f"{fmt_value(n, r['posterior_median'])} | {fmt_value(n, r['posterior_low'])} to "
                f"{fmt_value(n, r['posterior_high'])} | {'yes' if r['identified'] else '**no**'} |"
            )
        lines.append("")
    missing = [(e["case"], m) for e in entries for m in e["missing"]]
    if missing:
        lines += ["## Missing", ""] + [f"- {c}: {m}" for c, m in missing] + [""]
    return "\n".join(lines)


def write_cases(out: Path, entries: list[dict], settings) -> Path:
    """Write the report; returns its path."""
    write_text(Path(out), cases_text(entries, settings))
    return Path(out)
