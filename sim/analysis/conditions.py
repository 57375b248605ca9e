"""Conditions a user types over a table's columns (``--prim "final_stock > initial_stock"``), made safe.

User text never reaches ``eval``, ``exec`` or ``DataFrame.eval`` (which, without numexpr, runs Python and
reaches ``__globals__``, calls methods and writes files). It is parsed with :mod:`ast` and checked against a
whitelist, then evaluated by the small evaluator below on pandas Series. Allowed:

* column names of the table (a dotted name such as ``us.price_per_prisoner`` is one column; a name may also
  be written in backticks, as pandas allows);
* numbers, and quoted text compared with ``==`` or ``!=`` (e.g. ``scenario == 'baseline'``);
* comparisons ``< <= > >= == !=`` (chains such as ``0.5 < x <= 2`` too);
* ``&``, ``|``, ``~`` (and their spellings ``and``, ``or``, ``not``) between yes/no conditions;
* parentheses, ``+ - * /`` and a leading sign.

Everything else (calls, attributes that are not columns, subscripts, lambdas, ``@`` names, ``**``, ...) is
refused with one line naming what was refused. Pure: no files, no Hydra.
"""

from __future__ import annotations

import ast
import io
import operator
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .text import clip

MAX_LENGTH = 500  # characters: a condition is a short formula, not a program
ALLOWED = "column names, numbers, comparisons (< <= > >= == !=), & | ~, parentheses and + - * /"

_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_NAMES = {
    ast.Call: "a function or method call",
    ast.Subscript: "indexing with [ ]",
    ast.Lambda: "a lambda",
    ast.Attribute: "an attribute",
    ast.Pow: "the power operator **",
    ast.FloorDiv: "the operator //",
    ast.Mod: "the operator %",
    ast.MatMult: "the operator @",
    ast.LShift: "the operator <<",
    ast.RShift: "the operator >>",
    ast.BitXor: "the operator ^",
    ast.In: "the operator in",
    ast.NotIn: "the operator not in",
    ast.Is: "the operator is",
    ast.IsNot: "the operator is not",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.IfExp: "an if-expression",
    ast.NamedExpr: "an assignment :=",
    ast.JoinedStr: "an f-string",
    ast.Starred: "a starred expression",
    ast.Await: "await",
}


class ConditionError(ValueError):
    """A condition that is refused or cannot be evaluated (one line naming what and why)."""


@dataclass(frozen=True)
class Condition:
    """A checked condition: its text and its parsed tree (only whitelisted nodes)."""

    text: str
    tree: ast.Expression
    columns: tuple[str, ...]


def _refuse(node: ast.AST, text: str, what: str | None = None) -> ConditionError:
    segment = ast.get_source_segment(text, node) if hasattr(node, "lineno") else None
    what = what or _NAMES.get(type(node), f"'{type(node).__name__}'")
    where = f" ({clip(segment, 60)})" if segment else ""
    return ConditionError(f"{what}{where} is not allowed; allowed: {ALLOWED}")


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of plain names and attributes, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


_BACKTICK = re.compile(r"`([^`]*)`")


def parse(text: str, columns: Iterable[str]) -> Condition:
    """Parse and check a condition against the whitelist and the table's columns.

    Args:
        text: the condition as typed.
        columns: the column names it may use.

    Raises:
        ConditionError: one line naming what is refused (and the allowed forms).
    """
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("empty condition; e.g. final_stock > initial_stock")
    if len(text) > MAX_LENGTH:
        raise ConditionError(f"condition of {len(text)} characters: at most {MAX_LENGTH}")
    cols = tuple(str(c) for c in columns)
    known = set(cols)
    aliases: dict[str, str] = {}

    def backtick(m: re.Match) -> str:  # `us.price_per_prisoner` -> a placeholder name bound to the column
        name = m.group(1)
        if name not in known:
            raise ConditionError(f"`{clip(name, 60)}` is not a column; {_column_hint(cols)}")
        key = f"__col{len(aliases)}__"
        aliases[key] = name
        return key

    source = _BACKTICK.sub(backtick, text.strip())
    if "@" in source:
        raise ConditionError(f"'@' (a reference to a local variable) is not allowed; allowed: {ALLOWED}")
    try:
        tree = ast.parse(_pandas_precedence(source), mode="eval")
    except SyntaxError as exc:
        raise ConditionError(f"not a valid condition ({clip(exc.msg, 60)}); allowed: {ALLOWED}") from None

    def check(node: ast.AST) -> None:
        if isinstance(node, ast.Expression):
            return check(node.body)
        if isinstance(node, ast.Attribute):
            name = _dotted(node)
            if name is None or name not in known:
                raise _refuse(
                    node,
                    source,
                    f"'{clip(name or ast.unparse(node), 60)}' is not a column, and attribute access",
                )
            return None
        if isinstance(node, ast.Name):
            name = aliases.get(node.id, node.id)
            if name.startswith("__") and node.id not in aliases:
                raise _refuse(node, source, f"the name '{clip(name, 60)}'")
            if name not in known:
                raise ConditionError(f"'{clip(name, 60)}' is not a column; {_column_hint(cols)}")
            return None
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float, str)):
                raise _refuse(node, source, f"the constant {clip(repr(node.value), 40)}")
            return None
        if isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in _COMPARE:
                    raise _refuse(op, source, _NAMES.get(type(op)))
            for operand in (node.left, *node.comparators):
                check(operand)
            return None
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _ARITH and not isinstance(node.op, (ast.BitAnd, ast.BitOr)):
                raise _refuse(node, source, _NAMES.get(type(node.op)))
            check(node.left)
            check(node.right)
            return None
        if isinstance(node, ast.BoolOp):
            for v in node.values:
                check(v)
            return None
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert, ast.Not)):
                raise _refuse(node, source)
            check(node.operand)
            return None
        raise _refuse(node, source)

    check(tree)
    if aliases:  # replace the placeholders by the column names, for evaluation
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in aliases:
                node.id = aliases[node.id]
    return Condition(text, tree, cols)


def _pandas_precedence(source: str) -> str:
    """``&`` and ``|`` as ``and`` and ``or``: as in pandas' conditions, ``a > 1 & b < 2`` means
    ``(a > 1) & (b < 2)`` (Python would bind ``1 & b`` first)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise ConditionError(f"not a valid condition ({clip(str(exc), 60)}); allowed: {ALLOWED}") from None
    out = []
    for tok in tokens:
        if tok.type == tokenize.OP and tok.string in ("&", "|"):
            tok = tok._replace(string=" and " if tok.string == "&" else " or ")
        out.append((tok.type, tok.string))
    return tokenize.untokenize(out)


def _column_hint(cols: tuple[str, ...]) -> str:
    shown = ", ".join(cols[:12]) + (", ..." if len(cols) > 12 else "")
    return f"columns: {clip(shown, 300)}"


def _is_bool(v: Any) -> bool:
    return isinstance(v, (bool, np.bool_)) or (isinstance(v, pd.Series) and pd.api.types.is_bool_dtype(v))


def _is_number(v: Any) -> bool:
    if isinstance(v, pd.Series):
        return pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v)
    return isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))


def _is_text(v: Any) -> bool:
    return isinstance(v, str) or (isinstance(v, pd.Series) and not _is_number(v) and not _is_bool(v))


def evaluate(cond: Condition, df: pd.DataFrame) -> pd.Series:
    """Evaluate a checked condition on a table: a boolean Series aligned with ``df``.

    Raises:
        ConditionError: the condition is not a yes/no one, or mixes types (text with numbers, ...).
    """

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Attribute):
            return df[_dotted(node)]
        if isinstance(node, ast.Name):
            return df[node.id]
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Compare):
            result, left = None, ev(node.left)
            for op, comp in zip(node.ops, node.comparators):
                right = ev(comp)
                if (_is_text(left) or _is_text(right)) and type(op) not in (ast.Eq, ast.NotEq):
                    raise ConditionError("text can only be compared with == or !=")
                try:
                    part = _COMPARE[type(op)](left, right)
                except TypeError as exc:
                    raise ConditionError(f"cannot compare these ({clip(str(exc), 80)})") from None
                result = part if result is None else (result & part)
                left = right
            return result
        if isinstance(node, ast.BinOp):
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, (ast.BitAnd, ast.BitOr)):
                if not (_is_bool(left) and _is_bool(right)):
                    raise ConditionError("& and | join yes/no conditions, e.g. (a > 1) & (b < 2)")
                return (left & right) if isinstance(node.op, ast.BitAnd) else (left | right)
            if not (_is_number(left) and _is_number(right)):
                raise ConditionError("+ - * / work on numbers and numeric columns only")
            with np.errstate(all="ignore"):
                return _ARITH[type(node.op)](left, right)
        if isinstance(node, ast.BoolOp):
            values = [ev(v) for v in node.values]
            if not all(_is_bool(v) for v in values):
                raise ConditionError("& (and) and | (or) join yes/no conditions, e.g. (a > 1) & (b < 2)")
            out = values[0]
            for v in values[1:]:
                out = (out & v) if isinstance(node.op, ast.And) else (out | v)
            return out
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            if isinstance(node.op, (ast.Invert, ast.Not)):
                if not _is_bool(v):
                    raise ConditionError("~ (not) applies to a yes/no condition, e.g. ~(a > 1)")
                return ~v if isinstance(v, pd.Series) else (not v)
            if not _is_number(v):
                raise ConditionError("a sign applies to numbers only")
            return -v if isinstance(node.op, ast.USub) else +v
        raise ConditionError(f"'{type(node).__name__}' is not allowed")  # parse() never lets one through

    missing = sorted({c for c in _names(cond.tree) if c not in df.columns})
    if missing:
        raise ConditionError(f"'{clip(missing[0], 60)}' is not a column; {_column_hint(tuple(df.columns))}")
    out = ev(cond.tree)
    if not isinstance(out, pd.Series):
        raise ConditionError("the condition uses no column; e.g. final_stock > initial_stock")
    if not pd.api.types.is_bool_dtype(out):
        raise ConditionError("must be a yes/no condition, e.g. final_stock > initial_stock")
    return out.fillna(False).astype(bool)


def _names(tree: ast.AST) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = _dotted(node)
            if name is not None:
                out.add(name)
        elif isinstance(node, ast.Name):
            out.add(node.id)
    # a dotted name also yields its head as a Name node: keep only the longest names
    return {n for n in out if not any(m != n and m.startswith(n + ".") for m in out)}


def condition(text: str, df: pd.DataFrame) -> pd.Series:
    """Parse, check and evaluate ``text`` on ``df`` in one step (see :func:`parse`, :func:`evaluate`)."""
    return evaluate(parse(text, df.columns), df)
