"""Scenario comparisons with their certainty: ``comparison.json`` and the lines of ``comparison.md`` that say,
in plain words, how often one policy beats another over paired replicates and what flips the ranking."""

from __future__ import annotations

import pandas as pd

from sim.analysis.comparison import flips, pairwise, varying_parameters
from sim.core.metrics import HEADLINES, outcomes
from sim.core.params import describe

#: The outcomes whose pairwise comparison is spelled out in comparison.md (all are in comparison.json).
SPELLED = ("final_stock", "total_arrests", "released_deal", "revolving_door_ratio")
_LABELS = {h.name: h for h in HEADLINES}
_PARAMS = {r["name"] for r in describe()}


def compare_runs(per_run: dict[str, pd.DataFrame | None], tables: dict[str, tuple]) -> dict:
    """``comparison.json``: the pairwise shares for every pair and directed outcome, and for the spelled-out
    outcomes the parameter boxes (PRIM) in which A beats B.

    Args:
        per_run: each run's outcomes table with the parameters of each replicate (``outcomes.parquet``), or
            None for runs written without it (outcomes are then recomputed and no flips are searched).
        tables: each run's (timeseries, deals).
    """
    out_tables = {}
    for label, (ts, deals) in tables.items():
        t = per_run.get(label)
        out_tables[label] = t if t is not None else outcomes(ts, deals)
    names = set(_PARAMS) | {c for t in out_tables.values() for c in t.columns if "." in c}
    result = {"pairwise": pairwise(out_tables), "flips": [], "paired_on": "replicate (common seeds)"}
    for row in result["pairwise"]:
        if row["outcome"] not in SPELLED:
            continue
        a, b = out_tables[row["a"]], out_tables[row["b"]]
        factors = varying_parameters(a, names)
        f = flips(a, b, row["outcome"], row["better"], factors)
        result["flips"].append({"a": row["a"], "b": row["b"], "outcome": row["outcome"], **f})
    return result


def _sentence(row: dict) -> str:
    h = _LABELS[row["outcome"]]
    p = row["p_a_better"]
    if p is None:
        return f"- {h.label}: no paired replicates to compare."
    more = "fewer" if h.better == "lower" else "more"
    word = {
        "final_stock": "prisoners held at the end",
        "total_arrests": "new arrests",
        "released_deal": "releases in deals",
        "revolving_door_ratio": "arrests per release",
    }.get(row["outcome"], h.label)
    verdict = (
        f"`{row['a']}` is better"
        if p >= 0.6
        else f"`{row['b']}` is better"
        if p <= 0.4
        else "neither is clearly better"
    )
    return (
        f"- **{h.label}**: in {100 * p:.0f} % of {row['n']} paired replicates `{row['a']}` gives "
        f"{more} {word} "
        f"than `{row['b']}` (median difference {row['median_difference']:+,.1f} {h.unit}): {verdict}."
    )


def comparison_lines(result: dict) -> list[str]:
    """Markdown lines for comparison.md: the certainty of each ranking, and what flips it."""
    lines = [
        "## Which policy is better, and how sure",
        "",
        "Replicate *r* of every run shares its seed (and, with parameter uncertainty, its parameter draw): "
        "the pairs differ only by the scenario. The share of pairs in which one beats the other is its "
        "certainty; `comparison.json` has every pair and outcome.",
        "",
    ]
    for row in result["pairwise"]:
        if row["outcome"] in SPELLED:
            lines.append(_sentence(row))
    lines += [
        "",
        '**What flips the ranking** (PRIM on the indicator "A beats B" over the replicates\' parameters):',
        "",
    ]
    if result["flips"] and all(f["note"].startswith("no parameter varies") for f in result["flips"]):
        lines.append(
            "- Nothing to search: no parameter varies across these runs' replicates (run them with "
            "parameter uncertainty, the default with a calibration, to find the assumptions that flip "
            "a ranking)."
        )
    for f in result["flips"] if not lines[-1].startswith("- Nothing") else []:
        if f["box"]:
            box = "; ".join(f"`{b['parameter']}` in [{b['low']:.3g}, {b['high']:.3g}]" for b in f["box"])
            lines.append(
                f"- `{f['a']}` vs `{f['b']}` on {_LABELS[f['outcome']].label}: A wins in "
                f"{100 * f['base_rate']:.0f} % "
                f"overall and in {100 * f['density']:.0f} % of the replicates where {box} (covering "
                f"{100 * f['coverage']:.0f} % of A's wins)."
            )
        else:
            lines.append(f"- `{f['a']}` vs `{f['b']}` on {_LABELS[f['outcome']].label}: {f['note']}.")
    lines += ["", *_conditional_note(result), ""]
    return lines


def _conditional_note(result: dict) -> list[str]:
    """Say plainly whether conditional relief still beats transactional relief, when both were run."""
    rows = [
        r
        for r in result["pairwise"]
        if {r["a"], r["b"]} == {"baseline", "us_conditional"} and r["outcome"] == "final_stock"
    ]
    if not rows:
        return []
    r = rows[0]
    p = r["p_a_better"] if r["a"] == "us_conditional" else 1.0 - (r["p_a_better"] or 0.0)
    if p >= 0.6:
        return [
            f"**Conditional relief beats transactional relief** on the final stock in {100 * p:.0f} % of "
            f"paired "
            "replicates: the regime mostly complies with the restraint clause because cheating risks the "
            "relief "
            "and the rounds it would lose (see each run's report, *Why*)."
        ]
    return [
        f"**Conditional relief does not clearly beat transactional relief**: it ends with fewer prisoners in "
        f"only {100 * p:.0f} % of paired replicates. Look at the compliance and round decisions in each "
        f"run's "
        "report (*Why*): the clause is only worth what the regime expects to lose by cheating, and rounds "
        "wait "
        "for verification, so fewer deals happen."
    ]
