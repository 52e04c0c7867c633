"""Jobs merging two subjects found to be one person, and splitting them again; each moves the
records through ingest's one write path, in one transaction with its row and events, then
rescores and relists both subjects so that listings, measures and the gate follow."""

import uuid
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from credence import resolve
from credence.exc import NotFoundError
from credence.ingest import restate
from credence.ingest.loader import LoadResult
from credence.logs import get_logger
from credence.pipeline import state
from credence.pipeline.update import update
from credence.resolve import merges
from credence.rules.loader import Scheme

log = get_logger(__name__)


def _subject(conn: Connection, number: str, *, field: str) -> uuid.UUID:
    found = resolve.find(conn, number, field=field)
    if found is None:
        raise NotFoundError(f"{field}: the registry holds no subject of this number")
    return found


def merge(
    engine: Engine,
    schemes: dict[str, Scheme],
    kept: str,
    absorbed: str,
    *,
    ground: merges.Ground,
    by: str,
    reason: str,
    now: datetime,
    as_of: date,
) -> tuple[merges.Merge, LoadResult, state.Written]:
    """Merge the subject of number ``absorbed`` into that of ``kept``: its standing records move."""
    moved = LoadResult(file="subject merge")
    with engine.begin() as conn:
        kept_id = _subject(conn, kept, field="kept")
        absorbed_id = _subject(conn, absorbed, field="absorbed")
        merges.check_merge(conn, kept_id, absorbed_id, by=by, reason=reason)
        keys = restate.held_by(conn, absorbed_id)
        rows = restate.newest(conn, keys)
        restate.restate(conn, [rows[k] for k in keys], to=kept_id, file="subject merge", now=now, result=moved)
        made = merges.merged(conn, kept_id, absorbed_id, ground=ground, moved=keys, by=by, reason=reason, now=now)
    log.info("resolve.merged", merge=made.id, kept=str(kept_id), absorbed=str(absorbed_id), moved=len(keys))
    written = update(engine, schemes, subjects=moved.subjects | {kept_id, absorbed_id}, as_of=as_of, now=now)
    return made, moved, written


def split(
    engine: Engine, schemes: dict[str, Scheme], merge: int, *, by: str, reason: str, now: datetime, as_of: date
) -> tuple[merges.Merge, LoadResult, state.Written]:
    """Split a merge: the records it moved that still stand with the kept subject move back."""
    moved = LoadResult(file="subject split")
    with engine.begin() as conn:
        found = merges.check_split(conn, merge, by=by, reason=reason)
        rows = restate.newest(conn, found.moved)
        back = [k for k in found.moved if k in rows and rows[k].subject_id == found.kept and rows[k].op == "assert"]
        restate.restate(conn, [rows[k] for k in back], to=found.absorbed, file="subject split", now=now, result=moved)
        made = merges.split(conn, found, moved=back, by=by, reason=reason, now=now)
    log.info("resolve.split", merge=merge, moved=len(back))
    subjects = moved.subjects | {found.kept, found.absorbed}
    written = update(engine, schemes, subjects=subjects, as_of=as_of, now=now)
    return made, moved, written
