"""docs/ODD.md stays true to the code: every decision the code can record, and every behavioural
parameter of the Belarus case, is written there.

Decisions are found by reading the code, not by running it: every call ``<x>.decide(actor, decision,
choice, value, compared, a, versus, b, ...)`` in ``sim/core/*.py`` and every decision row built in
``sim/core/run.py`` (tuples shaped like ``DECISION_FIELDS``). A field passed in through a parameter of
the enclosing function (``why[0]`` in ``UnitedStates._designate``) is read at that function's call sites
in the same module. Each decision must have a row in one of the ODD's markdown tables whose first cell
names the actor and second cell the decision, in backticks, and that names in backticks every literal
choice and both compared quantities. An actor that is not a literal (``self.name`` in a counterpart's
method) must be documented as `<counterpart>`. The other way round, every row of the ODD's table of
decisions (the table headed ``| actor | decision | choice |``) must be one the code can write, with
choices and compared quantities it can write.

Parameters: every name listed by ``sim.core.params.describe`` for the Belarus case (except the case's own
block, instruments, tie shares and destinations, which are data of the case) must appear in backticks
outside code blocks, either in full (`regime.arrest_elasticity`) or, for a field every counterpart has, in
its generic form (`<counterpart>.value_per_prisoner`). The other way round, every dotted name in
backticks that starts like a parameter (`regime.`, `us.`, `<counterpart>.` ...) must be a parameter of
some case (``<x>`` stands for any one part of the name) or a counterpart's instrument
(`lithuania.transit`, as a complement is written).
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.core.model import BASE_OUTPUTS, DECISION_FIELDS, RepressionBargaining
from sim.core.params import COUNTERPARTS, describe, flatten
from sim.store.cases import case_params, cases

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


def _call_site_arguments(func: ast.AST, tree: ast.AST) -> dict[str, list[ast.AST]]:
    """The values passed to each parameter of ``func`` by the calls to it in the same module (``f(...)`` or
    ``self.f(...)``; positional and keyword arguments)."""
    params = [a.arg for a in func.args.args]
    if params and params[0] in ("self", "cls"):
        params = params[1:]
    out: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func
        name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", None)
        if name != func.name:
            continue
        for param, value in zip(params, node.args):
            out.setdefault(param, []).append(value)
        for k in node.keywords:
            if k.arg in params:
                out.setdefault(k.arg, []).append(k.value)
    return out


@functools.cache
def recorded_decisions() -> tuple[Recorded, ...]:
    """Every decision row the core can write, found by scanning its source with ``ast`` (once a session)."""
    params = [n for n in inspect.signature(RepressionBargaining.decide).parameters if n != "self"]
    found: dict[str, Recorded] = {}
    for path in sorted(CORE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for func in functions:
            names = _assignments(func)
            for param, values in _call_site_arguments(func, tree).items():
                names.setdefault(param, []).extend(values)
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
    return tuple(found.values())


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


def decision_table_rows(text: str) -> list[tuple[set[str], set[str], set[str], set[str]]]:
    """Rows of the ODD's table of decisions (headed ``| actor | decision | choice |``), as (actors, decisions,
    choices, compared quantities), each the backticked names of its cells."""
    rows, inside = [], False
    for line in _FENCE.sub("", text).splitlines():
        line = line.strip()
        if re.match(r"^\|\s*actor\s*\|\s*decision\s*\|\s*choice\s*\|", line):
            inside = True
            continue
        if not inside:
            continue
        if not line.startswith("|"):
            inside = False
            continue
        cells = line.strip("|").split("|")
        if set(cells[0].strip()) <= set("-: "):
            continue  # the separator
        names = [set(_CODE.findall(c)) for c in cells]
        rows.append((names[0], names[1], names[2], names[4] | names[5] if len(names) > 5 else set()))
    return rows


def stale_decisions(text: str) -> list[str]:
    """Rows of the ODD's table of decisions that no decision the code can write matches (actor, decision,
    choices and compared quantities)."""
    recorded = recorded_decisions()
    stale = []
    for actors, decisions, choices, quantities in decision_table_rows(text):
        for actor in actors:
            for decision in decisions:
                same = [
                    r
                    for r in recorded
                    if r.decision == decision
                    and (r.actor == actor or (actor == ANY_COUNTERPART and r.actor is None))
                ]
                can_choose = set().union(*(r.choices for r in same))
                can_compare = set().union(*(r.quantities for r in same))
                wrong = sorted((choices - can_choose) | (quantities - can_compare))
                if not same or wrong:
                    stale.append(f"{actor} / {decision}: " + (", ".join(wrong) if same else "never recorded"))
    return stale


#: The first part of a dotted parameter name (a block of ``ScenarioParams`` or the generic counterpart).
_PARAM_HEADS = ("case", "population", "regime", "russia", "opposition", *COUNTERPARTS, ANY_COUNTERPART)
_PARAM_LIKE = re.compile(r"^(" + "|".join(re.escape(h) for h in _PARAM_HEADS) + r")\.[A-Za-z0-9_<>.]+$")
_ANY_COUNTERPART_RE = "(" + "|".join(COUNTERPARTS) + ")"


@functools.cache
def known_names() -> frozenset[str]:
    """Every parameter name of every case (``flatten`` and ``describe``), the blocks and mappings they belong
    to (``us.pause``, ``population.tie_shares``), and every counterpart's instrument written as
    ``counterpart.instrument``."""
    names = {row["name"] for row in describe()}
    for case in cases():
        params = case_params(case, None)
        names |= set(flatten(params)) | {row["name"] for row in describe(params)}
        names |= {f"{n}.{i}" for n, c in params.counterparts().items() for i in c.instruments}
    blocks = {".".join(n.split(".")[:k]) for n in names for k in range(2, n.count(".") + 1)}
    return frozenset(names | blocks)


def unknown_parameters(text: str) -> list[str]:
    """Dotted names in backticks that start like a parameter but name none (placeholders ``<x>`` match any one
    part; ``<counterpart>`` any counterpart)."""
    known = known_names()
    out = []
    for token in sorted(set(_CODE.findall(_FENCE.sub("", text)))):
        if not _PARAM_LIKE.match(token):
            continue
        parts = [
            _ANY_COUNTERPART_RE
            if part == ANY_COUNTERPART
            else "[^.]+"
            if part.startswith("<")
            else re.escape(part)
            for part in token.split(".")
        ]
        pattern = re.compile(r"\.".join(parts) + "$")
        if not any(pattern.match(name) for name in known):
            out.append(token)
    return out


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
    vague = [r.where for r in found if r.decision is None or not r.choices or len(r.quantities) < 2]
    assert not vague, (
        f"decide(...) calls whose decision, choice or compared quantities are not literals (make them "
        f"literals, or local names assigned literals, so the ODD can be checked): {vague}"
    )


def test_every_recorded_decision_is_in_the_odd():
    missing = undocumented_decisions(odd_text())
    assert not missing, "decisions the code records but docs/ODD.md does not document:\n" + "\n".join(missing)


def test_every_decision_the_odd_lists_is_one_the_code_records():
    rows = decision_table_rows(odd_text())
    assert len(rows) >= len(MONTHLY), "the ODD's table of decisions was not found"
    stale = stale_decisions(odd_text())
    assert not stale, "docs/ODD.md lists decisions the code does not record:\n" + "\n".join(stale)


def test_every_parameter_the_odd_names_exists():
    unknown = unknown_parameters(odd_text())
    assert not unknown, "docs/ODD.md names parameters the schema does not have: " + ", ".join(unknown)


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


@pytest.mark.parametrize(
    ("old", "new", "check"),
    [  # a decision the code never records, a choice it never makes, a quantity it never compares
        ("| `us` | `snapback` |", "| `us` | `snapback_all` |", stale_decisions),
        (
            "| `us` | `snapback` | `reimpose`, `keep` |",
            "| `us` | `snapback` | `reimpose`, `wait` |",
            stale_decisions,
        ),
        ("`arrests_after` | `critical_count`", "`arrests_after` | `critical_share`", stale_decisions),
        # a parameter renamed away (the old name of the US's lever), with and without placeholders
        ("`us.value_per_prisoner`", "`us.price_per_prisoner`", unknown_parameters),
        (
            "`<counterpart>.instruments.<instrument>.level`",
            "`<counterpart>.instrument.<instrument>.level`",
            unknown_parameters,
        ),
    ],
)
def test_the_checks_fail_when_the_odd_names_what_the_code_lacks(old, new, check):
    text = odd_text()
    assert old in text, f"{old!r} is not in docs/ODD.md any more: update this test"
    assert not check(text)
    assert check(text.replace(old, new)), f"writing {new!r} for {old!r} in docs/ODD.md went unnoticed"
