"""Horizontal bar charts as geometry for an inline SVG template: the page reads without a script,
the policy allows no script, and every bar is labelled with its number in words beside it (the
same figures are in a table under the chart)."""

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
LABEL = 110  # the category's label, left of its bars
VALUE = 70  # room for the number right of the longest bar
BAR = 16
GAP = 4  # between the bars of one category
GROUP = 14  # between categories


@dataclass(frozen=True, slots=True)
class Bar:
    y: int
    width: int
    value: int
    series: int  # the series' place, for its colour (a class in the stylesheet)


@dataclass(frozen=True, slots=True)
class Group:
    label: str
    y: int  # where its label sits
    bars: list[Bar]


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    x0: int
    series: list[str]
    groups: list[Group]


def bars(categories: Sequence[tuple[str, Sequence[int]]], series: Sequence[str]) -> Chart:
    """A chart of one bar per series in each category, scaled to the largest value."""
    top = max((v for _, values in categories for v in values), default=0) or 1
    span = WIDTH - LABEL - VALUE
    groups, y = [], GROUP
    for label, values in categories:
        placed = [
            Bar(y + i * (BAR + GAP), max(1 if v else 0, round(v / top * span)), v, i) for i, v in enumerate(values)
        ]
        groups.append(Group(label, y + BAR - 3, placed))
        y += len(values) * (BAR + GAP) - GAP + GROUP
    return Chart(WIDTH, y, LABEL, list(series), groups)
