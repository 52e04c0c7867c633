"""The Spark backend: the full recompute on Apache Spark, from the same compiled rule SQL.

A ``SparkSnapshot`` holds ``facts`` and ``subjects`` as temporary views of a Spark session of its
own (``SparkSession.newSession``: its own views, the shared context), loaded from a DuckDB
``Snapshot``, so what counts as the current version of a record, the columns' types and the
integer keys are decided once, in ``batch.duckdb``, for both engines. The SQL is compiled for the
``spark`` target (SQLGlot's Spark dialect); every difference from the other engines is in
``rules.targets`` and ``rules.expressions``, never in this module.

pyspark is an optional extra (``credence[spark]``). Nothing imports this module but a job asked
for Spark, so ``import credence`` works without it; ``session`` turns its absence into one line.
Spark runs with ANSI SQL on (its default since 4.0): an overflow or a division by zero is an
error, as on PostgreSQL, never a silently different number.
"""

import os
import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from credence.batch import duckdb
from credence.batch.backend import Row
from credence.exc import CredenceError
from credence.rules.compile import Query
from credence.rules.targets import Dialect, Target

if TYPE_CHECKING:  # pyspark is optional: imported at run time only by ``session``
    from pyspark.sql import DataFrame, SparkSession

MISSING = "the Spark engine needs pyspark: install the spark extra (pip install 'credence[spark]') and Java 17"
LOCAL_IP = "127.0.0.1"


def _settings(master: str) -> dict[str, str]:
    """The session's configuration: instants in UTC everywhere; on ``local[N]``, this machine only."""
    log4j = resources.files("credence.batch").joinpath("log4j2.properties")
    made = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "true",
        # quiet start-up: the CLI's user reads our lines, not the JVM's
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{log4j}",
    }
    if master.startswith("local"):
        cores = master.removeprefix("local").strip("[]").split(",")[0]
        made |= {
            "spark.driver.bindAddress": LOCAL_IP,
            "spark.driver.host": LOCAL_IP,
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            # the default 200 partitions are for a cluster; a few cores want as many
            "spark.sql.shuffle.partitions": cores if cores.isdigit() else str(os.cpu_count() or 2),
        }
    return made


def session(master: str, *, memory: str | None = None, tuning: Mapping[str, str] | None = None) -> "SparkSession":
    """The process's Spark session for ``master`` (made on first use, then the same one).

    ``memory`` sets the driver's heap (``spark.driver.memory``) and ``tuning`` any other Spark
    settings when the session is made; every session a snapshot makes from it inherits them."""
    try:
        from pyspark.sql import SparkSession  # optional: imported only when a job asks for Spark
    except ImportError:
        raise CredenceError(MISSING) from None
    active = SparkSession.getActiveSession()
    if active is not None:  # one JVM per process; a second builder would only warn and reuse it
        return active
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", LOCAL_IP)
    builder = SparkSession.builder.master(master).appName("credence")
    chosen = {**_settings(master), **({"spark.driver.memory": memory} if memory else {}), **(tuning or {})}
    for key, value in chosen.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


@dataclass
class SparkSnapshot:
    """A ``Backend`` over everyone: a DuckDB snapshot's tables, in a Spark session of its own."""

    spark: "SparkSession"
    keys: duckdb.Snapshot  # the integer keys' ids, to turn results back into the store's
    seconds: float  # how long loading the tables into Spark took
    target: Target = field(default=Target(Dialect.SPARK), init=False)
    scope: Sequence[uuid.UUID] | None = field(default=None, init=False)

    def rows(
        self, query: Query, *, subjects: Sequence[str] = ("subject_id",), records: Sequence[str] = ()
    ) -> list[Row]:
        with self._staged(query) as frame:
            table = frame.toArrow()
        names = table.column_names
        columns: list[list[Any]] = [table.column(n).to_pylist() for n in names]
        if not columns or not columns[0]:
            return []
        ids = self.keys.subject_ids() if subjects else []
        for i, name in enumerate(names):
            if name in subjects:
                columns[i] = [None if k is None else ids[k - 1] for k in columns[i]]
            elif name in records:
                found = self.keys.record_ids(k for k in columns[i] if k is not None)
                columns[i] = [None if k is None else found[k] for k in columns[i]]
        return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]

    def _sql(self, query: Query, params: Query) -> "DataFrame":
        text = query.sql()
        return self.spark.sql(text, args=dict(params.params)) if params.params else self.spark.sql(text)

    @contextmanager
    def _staged(self, query: Query) -> Iterator["DataFrame"]:
        """The query's final SELECT, with each CTE that later steps read more than once computed
        once, as a cached temporary view; the CTEs read once stay CTEs of the statement that reads
        them.

        Spark inlines a CTE wherever it is named, so the score-interval statement, whose steps
        each read the one before two or three times, would plan and run its first steps dozens
        of times over (218 shuffles and 40 s for seven intervals of four people). Which step
        reads which is the query's own structure: its CTEs, in order."""
        cached: list[tuple[str, DataFrame]] = []
        inline: list[tuple[str, str]] = []
        later = [body for _, body in query.ctes] + [query.select]
        try:
            for i, (name, body) in enumerate(query.ctes):
                reads = sum(len(re.findall(rf"\b{re.escape(name)}\b", text)) for text in later[i + 1 :])
                if reads < 2:
                    inline.append((name, body))
                    continue
                frame = self._sql(Query(ctes=tuple(inline), select=body), query).cache()
                frame.createOrReplaceTempView(name)
                cached.append((name, frame))
            yield self._sql(Query(ctes=tuple(inline), select=query.select), query)
        finally:
            for name, frame in reversed(cached):
                self.spark.catalog.dropTempView(name)
                frame.unpersist()

    def close(self) -> None:
        """Drop the views and their cached data; the session's context stays for the next."""
        for name in ("facts", "subjects"):
            self.spark.catalog.dropTempView(name)


def load(snap: duckdb.Snapshot, spark: "SparkSession") -> SparkSnapshot:
    """``snap``'s ``facts`` and ``subjects`` as cached views of a new session of ``spark``'s context.

    The tables travel through Arrow; each is read by several steps of every query, so it is cached
    in Spark once rather than decoded again for each."""
    started = time.perf_counter()
    own = spark.newSession()
    for name in ("facts", "subjects"):
        table = snap.db.sql(f"SELECT * FROM {name}").to_arrow_table()
        frame = own.createDataFrame(table).cache()
        frame.createOrReplaceTempView(name)
        frame.count()  # fill the cache now, so the load's time is counted here and not in a query's
    return SparkSnapshot(spark=own, keys=snap, seconds=time.perf_counter() - started)


@contextmanager
def loaded(snap: duckdb.Snapshot, spark: "SparkSession") -> Iterator[SparkSnapshot]:
    """``load``, with the views dropped afterwards (the cached tables freed)."""
    made = load(snap, spark)
    try:
        yield made
    finally:
        made.close()
