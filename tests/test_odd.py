"""docs/ODD.md stays true to the code: every decision the code can record, and every behavioural
parameter of the Belarus case, is written there.

Decisions are found by reading the code, not by running it: every call ``<x>.decide(actor, decision,
choice, value, compared, a, versus, b, ...)`` in ``sim/core/*.py`` and every decision row built in
``sim/core/run.py`` (tuples shaped like ``DECISION_FIELDS``). Each must have a row in one of the ODD's
markdown tables whose first cell names the actor and second cell the decision, in backticks, and that names
in backticks every literal choice and both compared quantities. An actor that is not a literal
(``self.name`` in a counterpart's method) must be documented as `<counterpart>`.

Parameters: every name listed by ``sim.core.params.describe`` for the Belarus case (except the case's own
block, instruments, tie shares and destinations, which are data of the case) must appear in backticks
outside code blocks, either in full (`regime.arrest_elasticity`) or, for a field every counterpart has, in
its generic form (`<counterpart>.value_per_prisoner`).
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.core.model import BASE_OUTPUTS, DECISION_FIELDS, RepressionBargaining
from sim.core.params import COUNTERPARTS, describe
from sim.store.cases import case_params

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"
CORE = ROOT / "sim" / "core"
ANY_COUNTERPART = "<counterpart>"
#: Parts of the parameter list that are the case's data, not behaviour.
DATA_PARTS = (".instruments.", ".tie_shares.", ".destinations.")
#: Decisions recorded every month by run.py; the scan must find them (guards against a silent empty scan).
MONTHLY = {("regime", "arrests"), ("opposition", "mobilisation")}

_FENCE = re.compile(r"```.*?```", re.S)
_CODE = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True)
class Recorded:
    """A decision row the code can write: where, and its literal fields (None where not a literal)."""

    where: str
    actor: str | None
    decision: str | None
    choices: frozenset[str]
    quantities: frozenset[str]


def _assignments(func: ast.AST) -> dict[str, list[ast.AST]]:
    """Values assigned to each plain name in a function (``x = v`` and ``x, y = v, w``)."""
    out: dict[str, list[ast.AST]] = {}
    for node in ast.walk(func):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name):
                out.setdefault(target.id, []).append(node.value)
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                for t, v in zip(target.elts, node.value.elts):
                    if isinstance(t, ast.Name):
                        out.setdefault(t.id, []).append(v)
    return out


def _strings(node: ast.AST | None, names: dict[str, list[ast.AST]]) -> set[str]:
    """Literal strings a node can evaluate to: a literal, both branches of ``a if c else b``, a local name
    assigned only literals in the function, or ``name[i]`` of a local name assigned only tuples; empty if any
    part is not literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body, names), _strings(node.orelse, names)
        return body | orelse if body and orelse else set()
    if isinstance(node, ast.Name) and node.id in names:
        values = [_strings(v, {}) for v in names[node.id]]
        return set().union(*values) if all(values) else set()
    if (  # why[0] with why assigned only tuples: the literals at that index
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, int)
        and node.value.id in names
    ):
        i = node.slice.value
        tuples = names[node.value.id]
        if all(isinstance(v, ast.Tuple) and -len(v.elts) <= i < len(v.elts) for v in tuples):
            values = [_strings(v.elts[i], {}) for v in tuples]
            return set().union(*values) if all(values) else set()
    return set()


def _one(node: ast.AST | None, names: dict[str, list[ast.AST]]) -> str | None:
    values = _strings(node, names)
    return values.pop() if len(values) == 1 else None


def _row(where: str, fields: dict[str, ast.AST], names: dict[str, list[ast.AST]]) -> Recorded:
    return Recorded(
        where=where,
        actor=_one(fields.get("actor"), names),
        decision=_one(fields.get("decision"), names),
        choices=frozenset(_strings(fields.get("choice"), names)),
        quantities=frozenset(_strings(fields.get("compared"), names) | _strings(fields.get("versus"), names)),
    )


def recorded_decisions() -> list[Recorded]:
    """Every decision row the core can write, found by scanning its source with ``ast``."""
    params = [n for n in inspect.signature(RepressionBargaining.decide).parameters if n != "self"]
    found: dict[str, Recorded] = {}
    for path in sorted(CORE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for func in functions:
            names = _assignments(func)
            for node in ast.walk(func):
                where = f"{path.name}:{getattr(node, 'lineno', 0)}"
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    if node.func.attr != "decide":
                        continue
                    fields = dict(zip(params, node.args))
                    fields.update({k.arg: k.value for k in node.keywords if k.arg})
                elif path.name == "run.py" and isinstance(node, ast.Tuple):
                    # a decision row built by hand: shaped like DECISION_FIELDS, actor and decision literal
                    if len(node.elts) != len(DECISION_FIELDS) or not all(
                        _strings(e, names) for e in node.elts[1:3]
                    ):
                        continue
                    fields = dict(zip(DECISION_FIELDS, node.elts))
                else:
                    continue
                found[where] = _row(where, fields, names)
    return list(found.values())


def odd_text() -> str:
    return ODD.read_text(encoding="utf-8")


def table_rows(text: str) -> list[tuple[set[str], set[str], set[str]]]:
    """Markdown table rows as (backticked names of the first cell, of the second, of the whole row)."""
    rows = []
    for line in _FENCE.sub("", text).splitlines():
        line = line.strip()
        if not line.startswith("|"):
            continue
        cells = line.strip("|").split("|")
        if len(cells) < 3:
            continue
        rows.append((set(_CODE.findall(cells[0])), set(_CODE.findall(cells[1])), set(_CODE.findall(line))))
    return rows


def undocumented_decisions(text: str) -> list[str]:
    """The decision rows the code can write that no table row of ``text`` documents."""
    rows = table_rows(text)
    missing = []
    for r in recorded_decisions():
        if r.decision is None:  # reported by test_the_scan_finds_the_decisions_the_code_records
            continue
        actor = r.actor if r.actor is not None else ANY_COUNTERPART
        needed = r.choices | r.quantities
        if not any(actor in a and r.decision in d and needed <= names for a, d, names in rows):
            shown = ", ".join(sorted(needed))
            missing.append(f"{r.where}: {actor} / {r.decision} ({shown})")
    return missing


def behavioural_parameters() -> list[str]:
    """The Belarus case's parameters that describe behaviour (not the case's own data)."""
    names = [row["name"] for row in describe(case_params("belarus", "baseline"))]
    return [n for n in names if not n.startswith("case.") and not any(part in n for part in DATA_PARTS)]


def undocumented_parameters(text: str) -> list[str]:
    """Behavioural parameters that ``text`` does not name in backticks (in full or in generic form)."""
    written = set(_CODE.findall(_FENCE.sub("", text)))
    missing = []
    for name in behavioural_parameters():
        head, _, rest = name.partition(".")
        generic = f"{ANY_COUNTERPART}.{rest}" if head in COUNTERPARTS else None
        if name not in written and generic not in written:
            missing.append(name)
    return missing


# ------------------------------------------------------------------ tests
def test_the_scan_finds_the_decisions_the_code_records():
    found = recorded_decisions()
    pairs = {(r.actor, r.decision) for r in found}
    assert MONTHLY <= pairs, f"run.py's monthly decision rows were not found: {sorted(MONTHLY - pairs)}"
    assert len([r for r in found if not r.where.startswith("run.py")]) >= 10, (
        "too few decide(...) calls found"
    )
    vague = [r.where for r in found if r.decision is None or not r.choices]
    assert not vague, (
        f"decide(...) calls whose decision or choice is not a literal (make them literals, or local names "
        f"assigned literals, so the ODD can be checked): {vague}"
    )


def test_every_recorded_decision_is_in_the_odd():
    missing = undocumented_decisions(odd_text())
    assert not missing, "decisions the code records but docs/ODD.md does not document:\n" + "\n".join(missing)


def test_every_behavioural_parameter_is_in_the_odd():
    params = behavioural_parameters()
    assert len(params) > 100 and "regime.arrest_elasticity" in params
    missing = undocumented_parameters(odd_text())
    assert not missing, "parameters not written in docs/ODD.md (in backticks): " + ", ".join(missing)


def test_every_output_is_in_the_odd():
    written = set(_CODE.findall(_FENCE.sub("", odd_text())))
    missing = [name for name in BASE_OUTPUTS if name not in written]
    assert not missing, "timeseries outputs not described in docs/ODD.md: " + ", ".join(missing)


@pytest.mark.parametrize(
    ("needle", "check"),
    [
        ("| `us` | `snapback` | `reimpose`, `keep` |", undocumented_decisions),
        ("`regime.release_escalation`", undocumented_parameters),
    ],
)
def test_the_checks_fail_when_the_odd_loses_a_line(needle, check):
    text = odd_text()
    assert needle in text, f"{needle!r} is not in docs/ODD.md any more: update this test"
    assert not check(text)
    cut = "\n".join(line for line in text.splitlines() if needle not in line)
    assert check(cut), f"removing the lines with {needle!r} from docs/ODD.md went unnoticed"
