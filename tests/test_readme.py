"""The README's tables are read from the files they describe, so they cannot drift from them."""

from __future__ import annotations

import re

from sim.store.cases import cases, scenario_description, scenario_fits, scenarios
from sim.store.paths import ROOT


def scenario_rows() -> list[str]:
    """The README's scenario table, row by row, as the scenario files give it."""
    rows = []
    for name in scenarios():
        runs_on = ", ".join(c for c in cases() if scenario_fits(c, name) is None)
        rows.append(f"| `{name}` | {runs_on} | {scenario_description(name)} |")
    return rows


def test_readme_lists_every_scenario_with_its_case_and_question():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = [line for line in text.splitlines() if re.match(r"^\| `[a-z0-9_]+` \| ", line)]
    expected = scenario_rows()
    assert table == expected, "README scenario table out of date; expected rows:\n" + "\n".join(expected)
