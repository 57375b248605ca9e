"""The "every actor matters" table of a Morris screening, as Markdown lines."""

from __future__ import annotations

import pandas as pd


def actor_lines(table: pd.DataFrame, units: dict) -> list[str]:
    """Markdown lines: for each actor, its most influential parameter, on which outcome, and whether it clears
    5 % of the largest effect on that outcome."""
    lines = [
        "### Every actor matters",
        "",
        "For each actor, its most influential parameter in this screening: the largest `mu*` it has on any "
        "headline outcome, as a share of the largest `mu*` of any parameter on that outcome. An effect "
        "counts "
        "as non-negligible above 5 %.",
        "",
        "| actor | parameter | outcome | share of the largest effect | non-negligible |",
        "|---|---|---|---:|---|",
    ]
    for r in table.itertuples():
        label = units[r.outcome].label if r.outcome in units else r.outcome
        lines.append(
            f"| {r.actor} | `{r.factor}` | {label} | {100 * r.share:.0f} % | "
            f"{'yes' if r.matters else '**no**'} |"
        )
    missing = table[~table["matters"]]["actor"].tolist() if len(table) else []
    lines += [
        "",
        "Every actor has a non-negligible effect."
        if not missing
        else f"**No non-negligible effect for: {', '.join(missing)}.**",
        "",
    ]
    return lines
