"""What lint reads of an expression: its value for one record (SQL's three-valued logic, the
engines' floor_div), and the range of its points from the catalogue's attribute bounds."""

import math
from typing import Any

import pytest
import sqlglot
from hypothesis import given
from hypothesis import strategies as st

from credence.model.catalogue import default_catalogue
from credence.rules.analysis import INF, Bounds, attribute_bounds, bounds, evaluate


def value(text: str, **row: Any) -> Any:
    return evaluate(sqlglot.parse_one(text), row)


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("ground = 1 AND (full_security OR not_yet_due)", {"ground": 1, "not_yet_due": True}, True),
        ("ground = 1 AND full_security", {"ground": 1}, None),  # NULL: not excluded in the SQL either
        ("ground = 2 AND full_security", {"ground": 1}, False),
        ("full_security OR ground = 1", {"ground": 1}, True),
        ("full_security OR ground = 2", {"ground": 1}, None),
        ("NOT full_security", {"full_security": False}, True),
        ("NOT full_security", {}, None),
        ("full_security IS NULL", {}, True),
        ("ground BETWEEN 2 AND 6", {"ground": 6}, True),
        ("ground BETWEEN 2 AND 6", {}, None),
        ("ground IN (1, 3)", {"ground": 3}, True),
        ("ground IN (1, 3)", {}, None),
        ("ground <> 1", {"ground": 1}, False),
        ("ground >= 2 AND ground < 3 AND ground <= 2 AND ground > 1", {"ground": 2}, True),
        ("-ground", {"ground": 2}, -2),
        ("-ground", {}, None),
        ("CASE WHEN ground > 1 THEN 10 ELSE 20 END", {"ground": 1}, 20),
        ("CASE WHEN ground > 1 THEN 10 END", {"ground": 1}, None),
        ("coalesce(x, y, 3)", {"y": 2}, 2),
        ("coalesce(x, y)", {}, None),
        ("abs(x)", {"x": -4}, 4),
        ("abs(x)", {}, None),
        ("least(x, 3, 5)", {"x": 4}, 3),
        ("greatest(x, 3, 5)", {"x": 9}, 9),
        ("least(x, 3)", {}, None),
        ("floor_div(x, 100)", {"x": -150}, -2),  # floor, not truncation
        ("floor_div(x, 0)", {"x": 1}, None),
        ("x % 3", {"x": -7}, -1),  # SQL's remainder takes the dividend's sign
        ("x % 0", {"x": 7}, None),
        ("2 * x + 1 - y", {"x": 3, "y": 1}, 6),
        ("x + 1", {}, None),
        ("kind = 'traffic_offence'", {"kind": "traffic_offence"}, True),
        ("TRUE AND NULL", {}, None),
        ("full_security IS TRUE", {"full_security": True}, True),
        ("full_security IS TRUE", {}, False),
        ("full_security IS NOT NULL", {}, False),
        ("IF(ground = 1, 10, 20)", {"ground": 2}, 20),
        ("IF(ground = 1, 10)", {"ground": 2}, None),
        ("IF(ground = 1, 10)", {"ground": 1}, 10),
    ],
)
def test_evaluate(text: str, row: dict[str, Any], expected: Any) -> None:
    assert value(text, **row) == expected


def test_evaluate_refuses_what_parse_would_refuse() -> None:
    with pytest.raises(ValueError, match="cannot evaluate"):
        value("x / 2", x=1)


ATTRS: dict[str, Bounds] = {"days": (0, 20), "yuan": (0, INF), "n": (-5, 5)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-5", (-5, -5)),
        ("-3 * days - 8", (-68, -8)),
        ("0 - yuan", (-INF, 0)),
        ("0 - floor_div(yuan, 1000)", (-INF, 0)),
        ("floor_div(days, 3)", (0, 6)),
        ("floor_div(days, n)", (-INF, INF)),  # n may be 0
        ("floor_div(yuan, yuan + 1)", (0, INF)),
        ("CASE WHEN days > 0 THEN -15 ELSE -8 END", (-15, -8)),
        ("coalesce(days, n)", (-5, 20)),
        ("least(days, n)", (-5, 5)),
        ("greatest(days, n)", (0, 20)),
        ("abs(n)", (0, 5)),
        ("abs(days - 30)", (10, 30)),
        ("-(days)", (-20, 0)),
        ("yuan * 0", (0, 0)),
        ("n * yuan", (-INF, INF)),
        ("unknown_field", (-INF, INF)),
        ("days % 7", (-INF, INF)),  # not analysed: unbounded is the safe answer
    ],
)
def test_bounds(text: str, expected: Bounds) -> None:
    assert bounds(sqlglot.parse_one(text), ATTRS) == expected


@given(days=st.integers(0, 20), n=st.integers(-5, 5), yuan=st.integers(0, 10**9))
def test_bounds_contain_every_value(days: int, n: int, yuan: int) -> None:
    row = {"days": days, "n": n, "yuan": yuan}
    for text in ("-3 * days - 8 + n", "floor_div(days, 3) - abs(n)", "least(days, n) * 2", "0 - floor_div(yuan, 7)"):
        low, high = bounds(sqlglot.parse_one(text), ATTRS)
        assert low <= value(text, **row) <= high, text


def test_attribute_bounds_come_from_the_catalogue() -> None:
    found = attribute_bounds(["public_order_offence", "tax_arrears"], default_catalogue())
    assert found == {"detention_days": (0, 20), "amount_yuan": (0, math.inf)}
