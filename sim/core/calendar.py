"""Months as integers: ``index = year * 12 + month - 1``; text ``YYYY-MM``. Pure, no I/O."""

from __future__ import annotations

import re

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
#: The calendar the model accepts: a month between these (inclusive), as text. Checked before any work.
FIRST_MONTH, LAST_MONTH = "1990-01", "2100-12"


def month_index(text: str) -> int:
    """``"2025-12"`` -> integer month index."""
    year, month = text.split("-")
    return int(year) * 12 + int(month) - 1


def month_text(index: int) -> str:
    """Integer month index -> ``"YYYY-MM"``."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(start: str, end: str) -> int:
    """Number of months from ``start`` to ``end`` inclusive."""
    return month_index(end) - month_index(start) + 1
