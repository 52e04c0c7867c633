"""Write derived rows as versions over transaction time, and read them as known at an instant.

A derived table holds each row's current version with ``derived_at``, the transaction time of
the refresh that wrote it; its history table (``*_history``) holds the versions later refreshes
replaced or removed, with ``superseded_at``. ``replace`` puts what a refresh derived for one part
of a table in place of the current versions there: an unchanged row is left alone (it keeps its
``derived_at``), a changed or vanished one moves to the history, a new or changed one is
inserted. ``known_query`` reads the versions the registry held at an instant. A refresh that changes
nothing writes nothing, and no version is ever rewritten.
"""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Connection, Table, bindparam, delete, select, union_all

from credence.store import bulk
from credence.store.db import stored_instant
from credence.store.orm import Base

Row = dict[str, Any]
Where = Callable[[Table], Sequence[ColumnElement[bool]]]  # conditions on a table's columns


@dataclass(frozen=True, slots=True)
class Change:
    """One id whose current version changed: ``old`` None for a new row, ``new`` None for one gone."""

    old: Row | None
    new: Row | None


def _table(model: type[Base]) -> Table:
    table = model.__table__
    if not isinstance(table, Table):  # pragma: no cover - every model maps one table
        raise TypeError(f"{model.__name__} does not map a table")
    return table


def columns(model: type[Base]) -> tuple[str, ...]:
    """The value columns of a derived table, in table order, without ``derived_at``."""
    return tuple(c.name for c in _table(model).columns if c.name not in ("derived_at", "superseded_at"))


def among(column: str, scope: Sequence[Any] | None, **within: Collection[Any]) -> Where:
    """The part of a table a refresh of ``scope`` replaces: rows whose ``column`` is in ``scope``
    (every row if None) and whose other columns named in ``within`` hold one of the values given."""

    def where(table: Table) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [table.c[name].in_(list(values)) for name, values in within.items()]
        if scope is not None:
            found.append(table.c[column].in_(list(scope)))
        return found

    return where


def current(conn: Connection, model: type[Base], where: Where) -> dict[Any, Row]:
    """The current versions of ``model``'s rows matching ``where``, by id."""
    table = _table(model)
    return {row["id"]: dict(row) for row in conn.execute(select(table).where(*where(table))).mappings()}


def replace(
    conn: Connection,
    model: type[Base],
    history: type[Base],
    rows: Sequence[Row],
    *,
    where: Where,
    now: datetime,
    old: dict[Any, Row] | None = None,
    keyed: bool = False,
) -> list[Change]:
    """Make ``rows`` the current versions of the part of ``model`` that ``where`` selects, as of
    the transaction time ``now``; the versions they replace go to ``history``. ``old`` is that
    part's current versions (``current``) when the caller has read them already. ``keyed`` says
    that a row's id is derived from all its values, so a row is unchanged exactly when its id is
    there already: only ids are read, and whole rows only for those that go (a full pass over
    everyone's score intervals reads 40,000 ids instead of 40,000 rows). Returns the ids that
    changed."""
    table, names = _table(model), columns(model)
    if old is None and keyed:
        there = set(conn.execute(select(table.c.id).where(*where(table))).scalars())
        seen = {row["id"] for row in rows}
        old = _by_id(conn, table, there - seen)
        # a row already there is its own stored version: equal in every value column, which is
        # all that is compared below, and never written back
        old.update({row["id"]: row for row in rows if row["id"] in there})
    old = current(conn, model, where) if old is None else old
    changes: list[Change] = []
    fresh: list[Row] = []
    seen = set()
    for row in rows:
        seen.add(row["id"])
        before = old.get(row["id"])
        if before is not None and all(before[n] == row[n] for n in names):
            continue
        changes.append(Change(old=before, new=row))
        fresh.append(row)
    changes.extend(Change(old=before, new=None) for key, before in old.items() if key not in seen)
    stale = [c.old for c in changes if c.old is not None]
    if stale:
        # a version derived at this very instant was never visible to anyone: it is not history
        kept = [(*(r[n] for n in names), r["derived_at"], now) for r in stale if stored_instant(r["derived_at"]) != now]
        bulk.insert_rows(conn, history, (*names, "derived_at", "superseded_at"), kept)
        conn.execute(delete(table).where(table.c.id == bindparam("b_id")), [{"b_id": r["id"]} for r in stale])
    bulk.insert_rows(conn, model, (*names, "derived_at"), [(*(r[n] for n in names), now) for r in fresh])
    return changes


def _by_id(conn: Connection, table: Table, ids: Collection[Any]) -> dict[Any, Row]:
    """The current versions of the rows with ``ids``, by id."""
    found: dict[Any, Row] = {}
    for condition in bulk.matching(table.c.id, ids, conn):
        found.update((row["id"], dict(row)) for row in conn.execute(select(table).where(condition)).mappings())
    return found


def known_query(
    model: type[Base], history: type[Base], where: Where, *, extra: Callable[[Table], ColumnElement[Any]] | None = None
) -> CompoundSelect[Any]:
    """A statement for the versions of ``model``'s rows matching ``where`` that the registry held at
    the bound parameter ``at``, with an ``extra`` column computed from each row if given. Build it
    once, with ``where`` on bound parameters too, and run it many times: a point of service asks
    it thousands of times a second."""
    table, past = _table(model), _table(history)
    names = columns(model)
    at = bindparam("at", type_=table.c.derived_at.type)

    def chosen(t: Table) -> list[ColumnElement[Any]]:
        return [t.c[n] for n in names] + ([extra(t)] if extra else [])

    now = select(*chosen(table)).where(table.c.derived_at <= at, *where(table))
    then = select(*chosen(past)).where(past.c.derived_at <= at, past.c.superseded_at > at, *where(past))
    return union_all(now, then)
