"""Bulk inserts and look-ups in the caller's transaction, each by its store's fastest path.

* Inserts take plain tuples. Every value goes through its column's own SQLAlchemy bind processor
  (uuid to 32 hex digits and dates to ISO text on SQLite, JSON serialised as SQLAlchemy does), so
  rows are stored exactly as a Core ``insert`` stores them and read back the same way. SQLite then
  gets one ``executemany`` of the tuples; PostgreSQL gets ``COPY ... FROM STDIN`` on the
  transaction's own connection, or, when existing rows are to be skipped, one
  ``INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING`` (a column per array).
  Skipped: SQLAlchemy's per-row dictionaries and parameter processing, which cost more than
  the SQL itself at tens of thousands of rows.
* Look-ups by a list of keys: one ``= ANY(array)`` on PostgreSQL, whatever the number of keys
  (a long ``IN`` list of bind parameters ran as a slow generic plan once psycopg prepared the
  statement); chunks of ``IN`` elsewhere (SQLite's bound-parameter limit).
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Connection, String, Table, any_, bindparam, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import QueryableAttribute

from credence.store.orm import Base

CHUNK = 900  # keys per IN list: under SQLite's bound-parameter limit with room to spare


def matching(
    column: QueryableAttribute[Any] | ColumnElement[Any], keys: Iterable[Any], conn: Connection
) -> Iterator[ColumnElement[bool]]:
    """Conditions that together select the rows whose ``column`` is one of ``keys`` (none if no keys)."""
    values = list(keys)
    if not values:
        return
    if conn.dialect.name == "postgresql":
        # an array of the column's type without its length: a cast to VARCHAR(n)[] would cut longer keys short
        item = String() if isinstance(column.type, String) else column.type
        yield column == any_(bindparam(None, values, type_=ARRAY(item)))
        return
    for start in range(0, len(values), CHUNK):
        yield column.in_(values[start : start + CHUNK])


def _processors(conn: Connection, table: Table, columns: Sequence[str]) -> list[tuple[int, Callable[[Any], Any]]]:
    dialect = conn.dialect
    found: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(columns):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            found.append((i, process))
    return found


def insert_rows(
    conn: Connection,
    model: type[Base],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    skip_existing: bool = False,
) -> int:
    """Insert ``rows`` (values in the order of ``columns``) in the caller's transaction; returns how many
    were given. With ``skip_existing``, a row whose primary key is already there is left out (one
    statement, no look-up first: ``INSERT OR IGNORE``, ``ON CONFLICT DO NOTHING``)."""
    if not rows:
        return 0
    table = model.__table__
    if not isinstance(table, Table):  # pragma: no cover - every model maps one table
        raise TypeError(f"{model.__name__} does not map a table")
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        if skip_existing:
            raise NotImplementedError(f"skip_existing on {dialect}")
        conn.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return len(rows)
    params: list[tuple[Any, ...]] = [tuple(row) for row in rows]
    processors = _processors(conn, table, columns)
    if processors:  # column by column: map() runs the processor without a Python loop per value
        by_column: list[Sequence[Any]] = list(zip(*params, strict=True))
        for i, process in processors:
            values = by_column[i]
            first = values[0]
            if all(v is first for v in values):  # one value for every row, e.g. the transaction time
                by_column[i] = [process(first)] * len(values)
            else:
                by_column[i] = list(map(process, values))
        params = list(zip(*by_column, strict=True))
    names = ", ".join(conn.dialect.identifier_preparer.quote(name) for name in columns)
    target = conn.dialect.identifier_preparer.format_table(table)
    if dialect == "sqlite":
        marks = ", ".join("?" * len(columns))
        verb = "INSERT OR IGNORE" if skip_existing else "INSERT"
        conn.exec_driver_sql(f"{verb} INTO {target} ({names}) VALUES ({marks})", params)
        return len(rows)
    if skip_existing:
        # COPY cannot skip a row, and an executemany, even pipelined, is one statement per row
        # (2 s of an 11 s load for the pending subjects): one statement takes every row instead,
        # each column as one array that unnest() turns back into rows
        arrays = ", ".join(f"%s::{table.c[name].type.compile(dialect=conn.dialect)}[]" for name in columns)
        conn.exec_driver_sql(
            f"INSERT INTO {target} ({names}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING",
            tuple(list(values) for values in zip(*params, strict=True)),
        )
        return len(rows)
    statement = f"COPY {target} ({names}) FROM STDIN"
    if not conn.in_transaction():  # begin as conn.execute would, so that the caller's commit() commits the COPY
        conn.begin()
    driver = conn.connection.driver_connection
    if driver is None:  # pragma: no cover - a checked-out connection always has one
        raise RuntimeError("no driver connection")
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for values in params:
                copy.write_row(values)
    except conn.dialect.loaded_dbapi.Error as err:
        # the same exception classes as a Core insert raises (IntegrityError and so on)
        raise DBAPIError.instance(statement, None, err, conn.dialect.loaded_dbapi.Error) from err
    return len(rows)
