"""What a parsed rule expression says, without running it on an engine: its value for one
record (``evaluate``), and the range its points can take (``bounds``).

Both read the SQLGlot tree that ``rules.expressions.parse`` checked, so they see only the nodes
that module allows. ``evaluate`` follows SQL's three-valued logic (None is NULL); ``bounds`` is
interval arithmetic over the catalogue's attribute minimums and maximums, and answers an
infinite end whenever it cannot tell: it may say a formula is unbounded when it is not, never
the other way round.
"""

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from sqlglot import exp

from credence.model.catalogue import AttrType, Catalogue

INF = math.inf
Bounds = tuple[float, float]

_COMPARE: dict[type[exp.Expr], Callable[[Any, Any], bool]] = {
    exp.EQ: operator.eq,
    exp.NEQ: operator.ne,
    exp.GT: operator.gt,
    exp.GTE: operator.ge,
    exp.LT: operator.lt,
    exp.LTE: operator.le,
}

_ARITHMETIC: dict[type[exp.Expr], Callable[[Any, Any], Any]] = {
    exp.Add: operator.add,
    exp.Sub: operator.sub,
    exp.Mul: operator.mul,
}


# Any: a record's values are ints, strings, booleans, dates or NULL, as the catalogue types them
def evaluate(node: exp.Expr, row: Mapping[str, Any]) -> Any:
    """The value of ``node`` for a record whose fields are ``row`` (a missing field is NULL)."""
    match node:
        case exp.Paren():
            return evaluate(node.this, row)
        case exp.Column():
            return row.get(node.name)
        case exp.Literal():
            return node.this if node.is_string else int(node.this)
        case exp.Boolean():
            return bool(node.this)
        case exp.Null():
            return None
        case exp.And() | exp.Or():
            left, right = evaluate(node.this, row), evaluate(node.expression, row)
            if isinstance(node, exp.And):
                return False if False in (left, right) else (None if None in (left, right) else True)
            return True if True in (left, right) else (None if None in (left, right) else False)
        case exp.Not():
            value = evaluate(node.this, row)
            return None if value is None else not value
        case exp.Is():  # IS NULL, IS TRUE, IS FALSE: never NULL itself
            value, against = evaluate(node.this, row), evaluate(node.expression, row)
            return value is against
        case exp.If():  # IF(condition, then, else); CASE's branches are read by CASE below
            if evaluate(node.this, row) is True:
                return evaluate(node.args["true"], row)
            otherwise = node.args.get("false")
            return evaluate(otherwise, row) if otherwise is not None else None
        case exp.Between():
            value, low, high = (evaluate(node.args[k], row) for k in ("this", "low", "high"))
            return None if None in (value, low, high) else bool(low <= value <= high)
        case exp.In():
            value = evaluate(node.this, row)
            return None if value is None else value in [evaluate(e, row) for e in node.expressions]
        case exp.Neg():
            value = evaluate(node.this, row)
            return None if value is None else -value
        case exp.Case():
            for branch in node.args.get("ifs") or []:
                if evaluate(branch.this, row) is True:
                    return evaluate(branch.args["true"], row)
            default = node.args.get("default")
            return evaluate(default, row) if default is not None else None
        case exp.Coalesce():
            for arg in (node.this, *node.expressions):
                value = evaluate(arg, row)
                if value is not None:
                    return value
            return None
        case exp.Abs():
            value = evaluate(node.this, row)
            return None if value is None else abs(value)
        case exp.Least() | exp.Greatest():
            values = [evaluate(a, row) for a in (node.this, *node.expressions)]
            if None in values:
                return None
            return min(values) if isinstance(node, exp.Least) else max(values)
        case exp.Anonymous():  # floor_div, the only function parse lets through by this name
            a, b = (evaluate(arg, row) for arg in node.expressions)
            return None if a is None or b is None or b == 0 else a // b
    if type(node) in _COMPARE or isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Mod):
        left, right = evaluate(node.this, row), evaluate(node.expression, row)
        if left is None or right is None:
            return None
        if type(node) in _COMPARE:
            return _COMPARE[type(node)](left, right)
        if isinstance(node, exp.Mod):
            return None if right == 0 else int(math.fmod(left, right))  # SQL's: the dividend's sign
        return _ARITHMETIC[type(node)](left, right)
    raise ValueError(f"cannot evaluate {type(node).__name__}")


def attribute_bounds(kinds: list[str], catalogue: Catalogue) -> dict[str, Bounds]:
    """The range of every integer attribute of ``kinds``, widest across kinds."""
    found: dict[str, Bounds] = {}
    for name in kinds:
        for attr in catalogue.kinds[name].attributes.values():
            if attr.type is not AttrType.INT:
                continue
            low = -INF if attr.minimum is None else attr.minimum
            high = INF if attr.maximum is None else attr.maximum
            if attr.name in found:
                low, high = min(low, found[attr.name][0]), max(high, found[attr.name][1])
            found[attr.name] = (low, high)
    return found


def _product(a: float, b: float) -> float:
    return 0.0 if 0 in (a, b) else a * b  # 0 * inf is 0 here: the other side is exactly zero


def _floor(value: float) -> float:
    return value if math.isinf(value) else math.floor(value)


def bounds(node: exp.Expr, attrs: Mapping[str, Bounds]) -> Bounds:
    """The least and greatest value ``node`` can take, given each integer field's range."""
    match node:
        case exp.Paren():
            return bounds(node.this, attrs)
        case exp.Literal() if not node.is_string:
            return (int(node.this), int(node.this))
        case exp.Column():
            return attrs.get(node.name, (-INF, INF))
        case exp.Neg():
            low, high = bounds(node.this, attrs)
            return (-high, -low)
        case exp.Add() | exp.Sub():
            (al, ah), (bl, bh) = bounds(node.this, attrs), bounds(node.expression, attrs)
            return (al + bl, ah + bh) if isinstance(node, exp.Add) else (al - bh, ah - bl)
        case exp.Mul():
            (al, ah), (bl, bh) = bounds(node.this, attrs), bounds(node.expression, attrs)
            corners = [_product(x, y) for x in (al, ah) for y in (bl, bh)]
            return (min(corners), max(corners))
        case exp.Case() | exp.Coalesce() | exp.Least() | exp.Greatest():
            if isinstance(node, exp.Case):
                arms = [b.args["true"] for b in node.args.get("ifs") or []]
                arms += [node.args["default"]] if node.args.get("default") is not None else []
            else:
                arms = [node.this, *node.expressions]
            ranges = [bounds(a, attrs) for a in arms]
            if isinstance(node, exp.Least):
                return (min(r[0] for r in ranges), min(r[1] for r in ranges))
            if isinstance(node, exp.Greatest):
                return (max(r[0] for r in ranges), max(r[1] for r in ranges))
            return (min(r[0] for r in ranges), max(r[1] for r in ranges))
        case exp.Abs():
            low, high = bounds(node.this, attrs)
            return (0 if low <= 0 <= high else min(abs(low), abs(high)), max(abs(low), abs(high)))
        case exp.Anonymous():  # floor_div(a, b)
            (al, ah), (bl, bh) = (bounds(arg, attrs) for arg in node.expressions)
            if bl <= 0 <= bh:
                return (-INF, INF)
            corners = [x / y for x in (al, ah) for y in (bl, bh) if not (math.isinf(x) and math.isinf(y))]
            return (_floor(min(corners, default=-INF)), _floor(max(corners, default=INF)))
    return (-INF, INF)
