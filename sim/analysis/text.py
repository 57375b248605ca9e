"""Text for messages: values a user or a file supplied, cut to a readable length. Pure."""

from __future__ import annotations

import reprlib
from typing import Any

LIMIT = 100  # characters of any one value printed in a message


def clip(text: Any, limit: int = LIMIT) -> str:
    """``str(text)`` cut to ``limit`` characters, with an ellipsis and the full length when cut."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text):,} characters)"


def clip_repr(value: Any, limit: int = LIMIT) -> str:
    """``repr(value)`` cut to ``limit`` characters. Never builds the full text of a huge value: strings are
    cut first and containers are shown a few levels and items deep (:mod:`reprlib`), so a nested YAML bomb
    costs nothing to describe."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[: limit - 1]!r}… ({len(value):,} characters)"
    short = reprlib.Repr(
        maxlevel=3, maxlist=6, maxdict=6, maxtuple=6, maxset=6, maxstring=limit, maxother=limit
    )
    return clip(short.repr(value), limit)
