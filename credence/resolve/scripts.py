"""Simplified and traditional Chinese characters, converted with zhconv's dictionary.

zhconv reads its dictionary through a file it never closes when left to its default path
(a ResourceWarning at every first use); given the path, it reads it in a ``with``, so the
dictionary is loaded once here that way.
"""

from functools import cache
from pathlib import Path

import zhconv
from zhconv import zhconv as tables


@cache
def _loaded() -> None:
    tables.loaddict(str(Path(tables.__file__).with_name("zhcdict.json")))


def simplified(text: str) -> str:
    """``text`` in simplified characters (traditional and variant forms folded)."""
    _loaded()
    converted: str = zhconv.convert(text, "zh-cn")
    return converted


def traditional(text: str) -> str:
    _loaded()
    converted: str = zhconv.convert(text, "zh-hant")
    return converted
