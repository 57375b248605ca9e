"""The part of a run's report that says *why*: the decisions behind its largest deals and arrest spikes.

Reads the run's ``decisions.parquet`` (one row per replicate, month, actor and decision, with the two
quantities
each decision compared), ``deals.parquet`` and ``timeseries.parquet``; returns Markdown lines.
"""

from __future__ import annotations

import pandas as pd

from sim.core.metrics import HEADLINES


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def _row(d: pd.Series) -> str:
    return (
        f"{d['actor']} → {d['decision']}: **{d['choice']}** ({d['compared']} {_num(d['a'])} against "
        f"{d['versus']} {_num(d['b'])}{'; ' + d['note'] if d['note'] else ''})"
    )


def decision_story(
    decisions: pd.DataFrame | None, deals: pd.DataFrame, ts: pd.DataFrame, top: int = 3
) -> list[str]:
    """Markdown lines explaining the largest deals and arrest spikes from the decisions that produced them."""
    lines = ["## Why: the decisions behind the largest deals and arrest spikes", ""]
    if decisions is None or decisions.empty:
        return [*lines, "This run folder has no `decisions.parquet` (written by older versions).", ""]
    fired = decisions[~decisions["decision"].isin(["arrests", "mobilisation"])]
    reps = max(ts["replicate"].nunique(), 1)
    if not fired.empty:
        counts = fired.groupby(["actor", "decision", "choice"]).size().div(reps).round(2)
        lines += [
            "Decisions that fired, per replicate on average (every month the regime also decides its "
            "arrests and "
            "the opposition its mobilisation):",
            "",
            "| actor | decision | choice | per replicate |",
            "|---|---|---|---:|",
        ]
        lines += [f"| {a} | {d} | {c} | {n:.2f} |" for (a, d, c), n in counts.items()]
        lines.append("")
    if len(deals):
        lines += ["**Largest deals.**", ""]
        for _, deal in deals.sort_values("released", ascending=False).head(top).iterrows():
            same = decisions[
                (decisions["replicate"] == deal["replicate"]) & (decisions["month"] == deal["month"])
            ]
            held = same[(same["actor"] == deal["counterpart"]) & (same["choice"] == "hold")]
            arrest = same[same["decision"] == "arrests"]
            lines.append(
                f"- Replicate {deal['replicate']}, {deal['month']}: {deal['counterpart']} and the regime "
                f"traded "
                f"{deal['released']:,} prisoners ({deal['released_high_profile']} high-profile) for relief "
                f"worth "
                f"{deal['relief']:,.1f} RU to the regime ({deal['instruments_lifted'] or 'nothing lifted'})."
                + (f" Why: {_row(held.iloc[0])}." if len(held) else "")
                + (f" That month, {_row(arrest.iloc[0])}." if len(arrest) else "")
            )
        lines.append("")
    spikes = ts.sort_values("arrests", ascending=False).head(top)
    if len(spikes):
        lines += ["**Largest arrest months.**", ""]
        for _, r in spikes.iterrows():
            same = decisions[(decisions["replicate"] == r["replicate"]) & (decisions["month"] == r["month"])]
            why = [_row(d) for _, d in same[same["actor"] == "regime"].iterrows()]
            lines.append(
                f"- Replicate {r['replicate']}, {r['month']}: {int(r['arrests'])} arrests (chosen rate "
                f"{r['arrest_rate']:.1f} a month; the rest is noise)."
                + (f" {'; '.join(why)}." if why else "")
            )
        lines.append("")
    return lines


def constant_note(names: list[str]) -> list[str]:
    """Markdown lines naming headline outcomes that do not vary across replicates, and why."""
    if not names:
        return ["Every headline outcome varies across replicates.", ""]
    labels = {h.name: h.label for h in HEADLINES}
    why = {
        "initial_stock": "the start's stock is a parameter (the same in every replicate by construction)",
        "us_sanctions_end": "no round changed US sanctions in any replicate",
        "eu_sanctions_end": "the EU held at every renewal in every replicate",
        "snapbacks": "no deal was revoked",
        "designations": "arrests never rose enough for new designations",
        "cheating_months": "no restraint clause was in force, or the regime always complied",
        "transit_open_months": "the neighbour never changed its transit decision",
        "eu_change": "the EU held at every renewal",
    }
    lines = ["**Outcomes constant across replicates:**", ""]
    lines += [f"- {labels.get(n, n)}: {why.get(n, 'no decision changed it in this run')}." for n in names]
    return [*lines, ""]
