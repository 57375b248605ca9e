"""Teaching notebooks: numbered, stripped of outputs in git, and built on the package (nbmake runs them)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_the_three_notebooks_exist_in_order():
    assert [p.name for p in NOTEBOOKS] == [
        "01-revolving-door.ipynb",
        "02-us-and-eu-levers.ipynb",
        "03-sweep-report.ipynb",
    ]


def test_outputs_are_stripped_and_the_model_is_imported_not_redefined():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
        source = "\n".join(c.source for c in code)
        assert "from sim" in source, path.name
        assert not re.search(r"^\s*class\s+\w+.*(Model|Agent)", source, re.M), path.name
        assert sum(c.cell_type == "markdown" for c in nb.cells) >= 4, path.name  # a narrative, not just code
