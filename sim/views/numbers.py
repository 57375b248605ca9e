"""Numbers for people, in one style in every report and figure: thousands separated, whole numbers for
persons and counts (``1,077``, never ``1077.0``), percent for shares, and as many decimals as a quantity's
size needs."""

from __future__ import annotations

from sim.core.params import describe

COUNT_UNITS = ("persons", "count", "months", "centres", "persons/month")


def num(x: float) -> str:
    """A measured quantity for people, in one style everywhere: thousands separated, and as many decimals as
    its size needs (``1,140``, ``850``, ``28.4``, ``1.25``, ``0.301``, ``0.046``)."""
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:,.1f}"
    if a >= 1:
        return f"{x:.2f}"
    if a >= 0.1:
        return f"{x:.3f}"
    if a == 0:
        return "0"
    return f"{x:.2g}"


def fmt(x: float | None, unit: str = "") -> str:
    """A number for people: whole numbers for persons and counts, percent for shares, else :func:`num`."""
    if x is None or (isinstance(x, float) and x != x):
        return "n/a"
    if unit in COUNT_UNITS:
        return f"{x:,.0f}"
    if unit == "share":
        return f"{100 * x:.0f} %"
    return num(float(x))


_PARAMS = {r["name"]: r for r in describe()}


def fmt_value(name: str, value) -> str:
    """A parameter's value for people: whole numbers for the schema's integer parameters (``1077``, never
    ``1077.0``), text as is, other numbers with up to four significant digits."""
    if isinstance(value, str) or value is None:
        return str(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if x != x:
        return "n/a"
    row = _PARAMS.get(name)
    if row is not None and isinstance(row["default"], int) and not isinstance(row["default"], bool):
        return f"{x:,.0f}"
    if x.is_integer():
        return f"{x:,.0f}"
    return f"{x:,.4g}"


def unit_of(name: str) -> str:
    """A parameter's unit from the schema ("" for run settings and unknown names)."""
    row = _PARAMS.get(name)
    return row["unit"] if row else ""
