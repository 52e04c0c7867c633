"""Quoting refused values in messages without copying a whole oversized value into them."""

from typing import Any

PREVIEW = 60


def shown(value: Any) -> str:
    """``repr(value)``, cut to its first characters (and the length said) when it is long."""
    text = repr(value)
    if len(text) <= PREVIEW:
        return text
    return f"{text[:PREVIEW]}... ({len(str(value)):,} characters)"
