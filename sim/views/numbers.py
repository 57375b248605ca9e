"""Numbers for people, in one style in every report and figure: thousands separated, whole numbers for
persons and counts (``1,077``, never ``1077.0``), percent for shares, and as many decimals as a quantity's
size needs."""

from __future__ import annotations

from sim.core.params import describe

COUNT_UNITS = ("persons", "count", "months", "centres", "persons/month")


def _decimals(a: float) -> int | None:
    """Decimals for a quantity of size ``a`` (None: two significant digits, for sizes below 0.1)."""
    if a >= 100:
        return 0
    if a >= 10:
        return 1
    if a >= 1:
        return 2
    if a >= 0.1:
        return 3
    return None


def num(x: float, like: float | None = None) -> str:
    """A measured quantity for people, in one style everywhere: thousands separated, and as many decimals as
    its size needs (``1,140``, ``850``, ``28.4``, ``1.25``, ``0.301``, ``0.046``). ``like``: the size that
    sets the decimals (so that a median and its band read alike: ``1.03 (0.91 to 1.08)``)."""
    if x == 0 and like is None:
        return "0"
    d = _decimals(abs(x if like is None else like))
    if d is None:
        return f"{x:.2g}"
    return f"{x:,.{d}f}"


def fmt(x: float | None, unit: str = "", like: float | None = None) -> str:
    """A number for people: whole numbers for persons and counts, percent for shares, else :func:`num`."""
    if x is None or (isinstance(x, float) and x != x):
        return "n/a"
    if unit in COUNT_UNITS:
        return f"{x:,.0f}"
    if unit == "share":
        return f"{100 * x:.0f} %"
    return num(float(x), like)


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
