"""The DuckDB backend: a full recompute over a snapshot of the store, in Arrow or Parquet.

The snapshot holds ``facts`` (taken by running the store backend's own facts CTE, so what counts
as the current version of a record is decided once, in one place) and ``subjects``, keyed by
integers instead of the store's ids (see ``key``). The compiled SQL for the ``duckdb`` target
then runs unchanged against those two tables. No DuckDB extension is downloaded: data arrives
through Arrow, or is read from the Parquet snapshot ``batch.parquet`` writes (``read``): one
function (``_typed``) types and keys both, so both give the same tables.
"""

import time
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Connection, text

from credence.batch import parquet
from credence.batch.backend import Row
from credence.batch.store import StoreBackend
from credence.model.catalogue import SQL_TYPES, Catalogue, default_catalogue
from credence.model.ids import as_uuid
from credence.rules.compile import Query, facts_sql
from credence.rules.targets import Dialect, Target

BATCH = 200_000


def _column(values: list[Any]) -> pa.Array:
    sample = next((v for v in values if v is not None), None)
    if sample is not None and hasattr(sample, "hex") and not isinstance(sample, (bytes, str)):
        # uuid -> 32 hex digits, as SQLite keeps it
        values = [None if v is None else v.hex for v in values]
    return pa.array(values)


def _table(conn: Connection, sql: str, params: Mapping[str, object] | None = None) -> pa.Table:
    # per statement: Connection.execution_options() would change the caller's connection for good
    result = conn.execute(text(sql), dict(params or {}), execution_options={"stream_results": True})
    names = list(result.keys())
    batches = []
    while rows := result.fetchmany(BATCH):
        columns = list(zip(*rows, strict=True))
        batches.append(pa.table({n: _column(list(c)) for n, c in zip(names, columns, strict=True)}))
    if not batches:
        return pa.table({n: pa.array([], pa.string()) for n in names})
    return pa.concat_tables(batches, promote_options="permissive")


@dataclass
class Snapshot:
    """A ``Backend`` over everyone: the snapshot's tables in an in-process DuckDB."""

    db: duckdb.DuckDBPyConnection
    facts: int
    subjects: int
    seconds: float
    target: Target = field(default=Target(Dialect.DUCKDB), init=False)
    scope: Sequence[uuid.UUID] | None = field(default=None, init=False)
    _ids: list[uuid.UUID] = field(default_factory=list, init=False, repr=False)

    def subject_ids(self) -> list[uuid.UUID]:
        """The store's id of each integer subject key k, at index k - 1 (read once)."""
        if not self._ids:
            found = self.db.execute("SELECT uid FROM subject_keys ORDER BY k").fetchall()
            self._ids.extend(as_uuid(uid) for (uid,) in found)
        return self._ids

    def record_ids(self, keys: Iterable[int]) -> dict[int, uuid.UUID]:
        """The store's id of each integer record key among ``keys`` (a backend's few listings)."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        found = self.db.execute(
            "SELECT k, uid FROM record_keys WHERE k IN (SELECT UNNEST($keys))", {"keys": wanted}
        ).fetchall()
        return {k: as_uuid(uid) for k, uid in found}

    def people(self) -> dict[uuid.UUID, tuple[date | None, str | None]]:
        """Each subject's birth date and address code (None for an organisation's birth date),
        by the store's id, read in one pass."""
        ids = self.subject_ids()
        found = self.db.execute("SELECT id, birth_date, address_code FROM subjects").fetchall()
        return {ids[k - 1]: (born, code) for k, born, code in found}

    def rows(
        self, query: Query, *, subjects: Sequence[str] = ("subject_id",), records: Sequence[str] = ()
    ) -> list[Row]:
        # record ids are joined back in the SQL (listings are few); subject ids are looked up in
        # Python, a column at a time, once per snapshot, rather than joined for every scheme's
        # 100,000s of scores
        sql = with_ids(query.sql(), subjects=(), records=tuple(records)) if records else query.sql()
        result = self.db.execute(sql, dict(query.params)) if query.params else self.db.execute(sql)
        names = [d[0] for d in result.description]
        found = result.fetchall()
        if not found:
            return []
        columns: list[Sequence[Any]] = list(zip(*found, strict=True))
        ids = self.subject_ids() if subjects else []
        for i, name in enumerate(names):
            if name in subjects:
                columns[i] = [None if k is None else ids[k - 1] for k in columns[i]]
            elif name in records:
                columns[i] = [None if v is None else as_uuid(v) for v in columns[i]]
        return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def take(conn: Connection, *, known_at: datetime) -> Snapshot:
    """Copy the facts as known at ``known_at``, and the subjects, from the store into DuckDB."""
    store = StoreBackend(conn, known_at=known_at)
    types = {name: SQL_TYPES[kind] for name, kind in store.catalogue.attribute_types().items()}
    return snapshot(conn, store.facts, types)


def snapshot(conn: Connection, facts_sql: Query, types: dict[str, str]) -> Snapshot:
    """Copy the rows of ``facts_sql`` (the store's, its parameters bound) and the subjects into DuckDB.

    ``types`` gives the SQL type of each attribute column, so that the snapshot has the same
    typed columns on every store (SQLite hands booleans back as 0 and 1)."""
    started = time.perf_counter()
    facts = _table(conn, facts_sql.select, facts_sql.params)
    subjects = _table(conn, "SELECT id, kind, birth_date, address_code FROM subjects")
    db = duckdb.connect()
    db.register("facts_arrow", facts)
    db.register("subjects_arrow", subjects)
    made = _typed(db, "SELECT * FROM facts_arrow", "SELECT * FROM subjects_arrow", types, started=started)
    db.unregister("facts_arrow")
    db.unregister("subjects_arrow")
    return made


def read(
    folder: Path,
    *,
    known_at: datetime,
    catalogue: Catalogue | None = None,
    buckets: Collection[int] | None = None,
) -> Snapshot:
    """The facts as known at ``known_at`` and the subjects, from the Parquet snapshot in
    ``folder`` (``batch.parquet``) rather than from the store: the same tables ``take`` makes.
    With ``buckets``, only those buckets' subjects: the work divides by subject.

    The snapshot holds the raw record versions; which is current as known at ``known_at`` is
    decided by the same ``facts_sql`` the store runs, compiled for DuckDB."""
    started = time.perf_counter()
    catalogue = catalogue or default_catalogue()
    db = duckdb.connect()
    # ``records`` is the name facts_sql reads; ``subjects`` is the name the keyed table takes
    for part, view, schema in (
        ("records", "records", parquet.RECORDS),
        ("subjects", "subjects_parquet", parquet.SUBJECTS),
    ):
        listed = parquet.files(folder, part, buckets=buckets)
        if listed:
            # a view cannot take bound parameters: the paths are written in as quoted literals
            paths = ", ".join("'" + p.replace("'", "''") + "'" for p in listed)
            db.execute(f"CREATE VIEW {view} AS SELECT {', '.join(schema.names)} FROM read_parquet([{paths}])")
        else:  # an empty store's snapshot: no files, the same columns
            db.register(f"{part}_empty", schema.empty_table())
            db.execute(f"CREATE VIEW {view} AS SELECT * FROM {part}_empty")
    target = Target(Dialect.DUCKDB)
    facts = facts_sql(target, catalogue, known_at=known_at)
    subjects = "SELECT id, kind, birth_date, address_code FROM subjects_parquet"
    types = {name: SQL_TYPES[kind] for name, kind in catalogue.attribute_types().items()}
    made = _typed(db, facts.select, subjects, types, started=started, params=facts.params)
    db.execute("DROP VIEW records")
    db.execute("DROP VIEW subjects_parquet")
    return made


def _typed(
    db: duckdb.DuckDBPyConnection,
    facts: str,
    subjects: str,
    types: dict[str, str],
    *,
    started: float,
    params: Mapping[str, object] | None = None,
) -> Snapshot:
    """The snapshot from the SELECTs ``facts`` (its ``params`` bound) and ``subjects``: every
    column typed once, here (SQLite hands dates back as text and booleans as 0/1), then keyed
    by integers."""
    types = {**types, "valid_date": "DATE", "birth_date": "DATE"}
    bound = dict(params or {})

    def typed(sql: str, given: dict[str, object]) -> str:
        names = [d[0] for d in db.execute(f"SELECT * FROM ({sql}) q LIMIT 0", given).description]
        cast = ", ".join(f"CAST({n} AS {types[n]}) AS {n}" if n in types else n for n in names)
        return f"SELECT {cast} FROM ({sql}) q"

    db.execute(f"CREATE TABLE facts_raw AS {typed(facts, bound)}", bound)
    db.execute(f"CREATE TABLE subjects_raw AS {typed(subjects, {})}")
    (counted_facts,) = db.execute("SELECT COUNT(*) FROM facts_raw").fetchone() or (0,)
    (counted_subjects,) = db.execute("SELECT COUNT(*) FROM subjects_raw").fetchone() or (0,)
    key(db)
    return Snapshot(
        db=db,
        facts=int(counted_facts),
        subjects=int(counted_subjects),
        seconds=time.perf_counter() - started,
    )


def key(db: duckdb.DuckDBPyConnection) -> None:
    """Turn ``facts_raw`` and ``subjects_raw`` (ids as 32 hex digits) into ``facts`` and
    ``subjects`` keyed by integers numbered in the ids' own order, so every tie broken on an id
    falls the same way as in the store. Joining and grouping on an integer is a third faster than
    on a 32-character string; ``with_ids`` maps results back."""
    db.execute("""CREATE TABLE subject_keys AS
        SELECT id AS uid, CAST(ROW_NUMBER() OVER (ORDER BY id) AS BIGINT) AS k FROM subjects_raw""")
    db.execute("""CREATE TABLE record_keys AS
        SELECT record_id AS uid, CAST(ROW_NUMBER() OVER (ORDER BY record_id) AS BIGINT) AS k FROM facts_raw""")
    db.execute("""CREATE TABLE facts AS
        SELECT f.* REPLACE (s.k AS subject_id, r.k AS record_id) FROM facts_raw f
        JOIN subject_keys s ON s.uid = f.subject_id JOIN record_keys r ON r.uid = f.record_id""")
    db.execute("""CREATE TABLE subjects AS
        SELECT s.* REPLACE (k.k AS id) FROM subjects_raw s JOIN subject_keys k ON k.uid = s.id""")
    db.execute("DROP TABLE facts_raw")
    db.execute("DROP TABLE subjects_raw")


def with_ids(sql: str, *, subjects: tuple[str, ...] = ("subject_id",), records: tuple[str, ...] = ()) -> str:
    """``sql`` with its integer-keyed ``subjects`` and ``records`` columns turned back into ids."""
    joins, back = [], []
    for table, columns in (("subject_keys", subjects), ("record_keys", records)):
        for column in columns:
            alias = f"{table[0]}_{column}"
            joins.append(f"LEFT JOIN {table} {alias} ON {alias}.k = q.{column}")
            back.append(f"{alias}.uid AS {column}")
    return f"SELECT q.* REPLACE ({', '.join(back)}) FROM ({sql}) q {' '.join(joins)}"
