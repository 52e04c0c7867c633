"""The snapshot export job: the store's records and subjects appended to the Parquet snapshot.

``credence snapshot export`` calls it under the writer lock (``batch.parquet`` says why); the
full recompute calls ``parquet.export`` itself, inside the transaction it reads and writes in.
"""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from credence.batch import parquet
from credence.logs import get_logger
from credence.settings import Settings

log = get_logger(__name__)


def folder(settings: Settings, given: Path | None = None) -> Path:
    """The snapshot's folder: ``given``, else CREDENCE_SNAPSHOT_DIR, else <CREDENCE_DATA_DIR>/snapshot."""
    if given is not None:
        return given
    return Path(settings.snapshot_dir) if settings.snapshot_dir else Path(settings.data_dir) / "snapshot"


def export(
    engine: Engine,
    into: Path,
    settings: Settings,
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> parquet.Exported:
    """Append what the store learned since the last export, up to ``now``, to the snapshot in ``into``."""
    with engine.connect() as conn:
        made = parquet.export(
            conn,
            into,
            now=now,
            overlap=settings.snapshot_overlap,
            buckets=settings.snapshot_buckets,
            progress=progress,
        )
    log.info("snapshot.export", seq=made.seq, records=made.records, subjects=made.subjects, files=made.files)
    return made
