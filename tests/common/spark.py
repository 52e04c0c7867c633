"""One Spark session for the whole test process (a JVM takes about ten seconds to start).

The Spark tests are marked ``spark`` and ``xdist_group("spark")``; ``make test-sqlite`` runs with
``--dist loadgroup``, so they share one worker and this one session. Small: 1 GiB of driver heap,
two shuffle partitions, no web UI, bound to 127.0.0.1 (``batch.spark.session`` on ``local[2]``).
"""

from collections.abc import Iterator
from typing import Any

import pytest

from credence.batch import spark as batch_spark

MASTER = "local[2]"


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:  # a pyspark SparkSession; pyspark stays unimported until asked for
    session = batch_spark.session(MASTER, memory="1g")
    yield session
    session.stop()
