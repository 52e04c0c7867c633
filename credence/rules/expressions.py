"""Rule conditions and point formulas: a small SQL expression language, checked with SQLGlot.

A policy officer writes ``volume_ml >= 200`` or ``2 * floor_div(volume_ml, 100)``. Expressions
may name record fields and the attributes of the rule's record kinds, integer literals, strings,
booleans, comparisons, AND/OR/NOT, IN, BETWEEN, CASE, + - *, and the functions listed in
FUNCTIONS. There is no ``/``: integer division is ``floor_div(a, b)``, defined here once as
floor division and compiled to exact integer arithmetic, so no two engines can disagree.
"""

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from credence.exc import RulebookError
from credence.rules.targets import Dialect, string_literal

FUNCTIONS = {"floor_div": 2, "least": None, "greatest": None, "coalesce": None, "abs": 1}

_ALLOWED = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.And,
    exp.Or,
    exp.Not,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Paren,
    exp.In,
    exp.Is,
    exp.Neg,
    exp.Case,
    exp.If,
    exp.Between,
    exp.Coalesce,
    exp.Abs,
    exp.Least,
    exp.Greatest,
    exp.Anonymous,
    exp.Mod,
)


@dataclass(frozen=True, slots=True)
class Where:
    """Where an expression sits, for error messages: file, rule and the expression's role."""

    file: str
    rule: str
    role: str

    def error(self, text: str, message: str, *, column: int | None = None) -> RulebookError:
        at = f", column {column}" if column else ""
        return RulebookError(f"{self.file}: rule {self.rule}, {self.role}{at}: {message} in {text!r}")


@dataclass(frozen=True, slots=True)
class Expression:
    text: str
    tree: exp.Expr
    fields: frozenset[str]

    def sql(self, target: Dialect, *, table: str = "f") -> str:
        """Render for ``target``, fields read from ``table``.

        Rendered once per process: the text determines the tree, and rendering is most of the
        cost of compiling a rulebook for a one-subject update."""
        key = (self.text, target, table)
        found = _RENDERED.get(key)
        if found is None:
            tree = self.tree.copy().transform(lambda node: _qualify(node, table))
            found = _RENDERED[key] = tree.transform(lambda node: _lower(node, target)).sql(dialect=target.value)
        return found


_RENDERED: dict[tuple[str, Dialect, str], str] = {}


def _column_at(text: str, name: str) -> int | None:
    match = re.search(rf"\b{re.escape(name)}\b", text)
    return match.start() + 1 if match else None


def parse(text: str, *, fields: set[str], where: Where) -> Expression:
    """Parse and check an expression; raise a RulebookError naming file, rule and position."""
    try:
        tree = sqlglot.parse_one(str(text))
    except ParseError as err:
        first = err.errors[0] if err.errors else {}
        raise where.error(text, f"syntax error: {first.get('description', err)}", column=first.get("col")) from None
    except TokenError:  # an unclosed quote or comment
        raise where.error(text, "syntax error: an unclosed quote or comment") from None
    used: set[str] = set()
    for node in tree.walk():
        if node.comments:  # SQLGlot would carry them into the compiled SQL
            raise where.error(text, "comments are not allowed in a rule expression; write notes as YAML comments")
        if not isinstance(node, _ALLOWED):
            if isinstance(node, exp.Div):
                raise where.error(text, "'/' is not allowed: use floor_div(a, b)")
            name = type(node).__name__
            raise where.error(text, f"{name.lower()} is not allowed in a rule expression")
        if isinstance(node, exp.Anonymous):
            fname = node.name.lower()
            if fname not in FUNCTIONS:
                raise where.error(
                    text,
                    f"unknown function {node.name!r}; expected one of {', '.join(FUNCTIONS)}",
                    column=_column_at(text, node.name),
                )
            arity = FUNCTIONS[fname]
            if arity is not None and len(node.expressions) != arity:
                raise where.error(text, f"{fname} takes {arity} arguments")
        if isinstance(node, exp.Column):
            if node.table:
                raise where.error(text, f"qualified name {node.sql()!r} is not allowed")
            if node.name not in fields:
                raise where.error(
                    text,
                    f"unknown field {node.name!r}; the rule's kinds have {', '.join(sorted(fields))}",
                    column=_column_at(text, node.name),
                )
            used.add(node.name)
        if isinstance(node, exp.Literal) and not node.is_string and not node.this.isdigit():
            raise where.error(text, f"number {node.this} is not a whole number")
    return Expression(text=str(text), tree=tree, fields=frozenset(used))


def _paren(node: exp.Expression) -> exp.Paren:
    return exp.Paren(this=node)


def _qualify(node: exp.Expression, table: str) -> exp.Expression:
    if isinstance(node, exp.Column):
        return exp.column(node.name, table=table)
    return node


def _lower(node: exp.Expression, target: Dialect) -> exp.Expression:
    if isinstance(node, exp.Literal) and node.is_string:
        return string_literal(node.this)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "floor_div":
        a, b = (_paren(arg) for arg in node.expressions)
        # floor(a / b) = (a - m) / b where m = ((a % b) + b) % b takes the sign of b; the
        # division is then exact, so truncating integer division in every engine agrees.
        m = _paren(
            exp.Mod(
                this=_paren(exp.Add(this=_paren(exp.Mod(this=a, expression=b)), expression=b)),
                expression=b,
            )
        )
        numerator = _paren(exp.Sub(this=a.copy(), expression=m))
        # DuckDB's `//` and Spark's `DIV`; Spark's `/` is always fractional
        if target in (Dialect.DUCKDB, Dialect.SPARK):
            return _paren(exp.IntDiv(this=numerator, expression=b.copy()))
        return _paren(exp.Div(this=numerator, expression=b.copy(), typed=True))
    return node
