"""One Spark session for the whole test process (a JVM takes about ten seconds to start).

The Spark tests are marked ``spark`` and ``xdist_group("spark")``; ``make test-sqlite`` runs with
``--dist loadgroup``, so they share one worker and this one session. Small: 1 GiB of driver heap,
two shuffle partitions, no web UI, bound to 127.0.0.1 (``batch.spark.session`` on ``local[2]``).

Tuned for a few rows: the tests' statements are planned and compiled far longer than they run,
so adaptive execution (which plans again at every shuffle) and whole-stage code generation (a
Java class compiled per stage) are off; both change how Spark executes a plan, never what it
computes. ``benchmarks/spark_recompute.py`` runs with Spark's defaults and checks the engines
agree there too.
"""

from collections.abc import Iterator
from typing import Any

import pytest

from credence.batch import spark as batch_spark

MASTER = "local[2]"
TUNING = {"spark.sql.adaptive.enabled": "false", "spark.sql.codegen.wholeStage": "false"}


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:  # a pyspark SparkSession; pyspark stays unimported until asked for
    session = batch_spark.session(MASTER, memory="1g", tuning=TUNING)
    yield session
    session.stop()
