"""Load feed files into the registry: bulk, idempotent, crash-safe, nothing dropped.

Loading is a function of the feeds. Each row of a file is a statement, taken in file order: new
content under a (source, source record id) is the next version with the load's transaction time,
never an overwrite; content equal to the newest version changes nothing. The ``feed_loads``
ledger says how much of which file has been read (by the digest of its bytes, not its name), and
each batch commits its records, quarantined rows, events, pending subjects and the ledger's new
position in one transaction. So a file read again reads nothing, a load killed at any moment
resumes after its last committed batch, and a file that grew by appending reads only its new
lines; the state is always that of one clean load.

A row that fails a check goes to ``quarantine`` with file, line, field and reason; ``replay``
applies it once fixed, with a new transaction time. A source's adverse rows beyond its
circuit-breaker thresholds go to ``quarantine`` too, under a hold that only an officer's release
applies (``ingest.breaker``); the ledger advances past them all the same. A file that cannot be read as its mapping
says (a mapped column missing from its header, a forbidden byte-order mark) is refused whole,
before anything of it is written.

Callers hold the registry's writer lock (the CLI does): the ledger assumes one writer.
"""

import gc
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from credence import audit, outbox, resolve
from credence.audit import Entry, EventTag
from credence.exc import CredenceError, FieldError, NotAuthorisedError
from credence.ingest import breaker, notices, readers
from credence.ingest.mapping import Mapping
from credence.ingest.quarantine import refused
from credence.ingest.records import Authority, Candidate, Checker
from credence.model.catalogue import Catalogue, default_catalogue
from credence.model.ids import deriver
from credence.model.thresholds import parse as parse_thresholds
from credence.store import bulk
from credence.store.orm import FeedLoad, PendingSubject, Quarantine, Record, Source

RECORD_COLUMNS = (
    "id",
    "subject_id",
    "source_id",
    "source_record_id",
    "version",
    "op",
    "kind",
    "valid_date",
    "recorded_at",
    "jurisdiction",
    "legal_basis",
    "attributes",
    "content_hash",
)
QUARANTINE_COLUMNS = ("source_id", "file", "line", "field", "reason", "raw", "received_at", "replayed_at")


@dataclass
class LoadResult:
    file: str
    rows: int = 0
    accepted: int = 0
    amended: int = 0
    retracted: int = 0
    unchanged: int = 0
    quarantined: int = 0
    already: int = 0  # rows an earlier load of the same bytes had read (counted as unchanged too)
    resumed_at_line: int = 0  # the physical line an earlier load had reached, 0 if read from the start
    held: int = 0  # adverse rows the source's circuit breaker held for review, not applied
    hold: int | None = None  # the hold they joined
    tripped: str | None = None  # why this load tripped the breaker, if it did
    reasons: Counter[str] = field(default_factory=Counter)
    subjects: set[uuid.UUID] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    field: str | None
    reason: str
    raw: dict[str, Any]


def authority(conn: Connection, source: str) -> Authority:
    query = select(Source.kinds, Source.jurisdictions, Source.breaker).where(Source.id == source)
    row = conn.execute(query).one_or_none()
    if row is None:
        raise CredenceError(f"unknown source {source!r}: not in catalogue/sources.yaml")
    return Authority(
        source=source,
        kinds=frozenset(row.kinds),
        jurisdictions=tuple(row.jurisdictions),
        breaker=parse_thresholds(source, row.breaker),
    )


def _latest(conn: Connection, source: str, ids: Sequence[str]) -> dict[str, tuple[int, str, uuid.UUID]]:
    """Newest version, content hash and subject of each source record id already stored."""
    latest: dict[str, tuple[int, str, uuid.UUID]] = {}
    for where in bulk.matching(Record.source_record_id, dict.fromkeys(ids), conn):
        rows = conn.execute(
            select(Record.source_record_id, Record.version, Record.content_hash, Record.subject_id).where(
                Record.source_id == source, where
            )
        )
        for rid, version, digest, subject in rows:
            if rid not in latest or version > latest[rid][0]:
                latest[rid] = (version, digest, subject)
    return latest


def write_batch(
    conn: Connection,
    *,
    source: str,
    file: str,
    candidates: Sequence[tuple[int, Candidate]],
    rejected: Sequence[Rejected],
    now: datetime,
    result: LoadResult,
    catalogue: Catalogue | None = None,
) -> list[uuid.UUID]:
    """Write accepted records, quarantined rows and their events in the caller's transaction."""
    ids = resolve.ensure(conn, [ref for _, c in candidates for ref in (c.subject, *c.related)], now=now)
    latest = _latest(conn, source, [c.source_record_id for _, c in candidates])
    record_id_of = deriver("record", source)
    records: list[tuple[Any, ...]] = []
    entries: list[Entry] = []
    touched: set[uuid.UUID] = set()  # besides the records' own subjects: people they name, old owners
    for _line, cand in candidates:
        digest = cand.content_hash
        previous = latest.get(cand.source_record_id)
        if previous and previous[1] == digest:
            result.unchanged += 1
            continue
        version = previous[0] + 1 if previous else 1
        # the same feeds give the same ids in any registry, so a rebuild from them is reproducible
        record_id = record_id_of(cand.source_record_id, version)
        subject_id = ids[cand.subject.id_number]
        latest[cand.source_record_id] = (version, digest, subject_id)
        if previous:  # an amendment may move a record to another subject: rescore both
            touched.add(previous[2])
        records.append(
            (
                record_id,
                subject_id,
                source,
                cand.source_record_id,
                version,
                cand.op,
                cand.kind,
                cand.valid_date,
                now,
                cand.jurisdiction,
                cand.legal_basis,
                cand.attributes,
                digest,
            )
        )
        entries.append(
            Entry(
                tag=EventTag.RECORD_ACCEPTED,
                subject=subject_id,
                actor=f"source:{source}",
                data={"record_id": str(record_id), "kind": cand.kind, "version": version, "op": cand.op},
            )
        )
        touched.update(ids[ref.id_number] for ref in cand.related)
        if cand.op == "retract":
            result.retracted += 1
        elif version > 1:
            result.amended += 1
        else:
            result.accepted += 1
    bulk.insert_rows(conn, Record, RECORD_COLUMNS, records)
    mark_pending(conn, {r[1] for r in records} | touched, now=now)
    quarantined = [(source, file, r.line, r.field, r.reason, r.raw, now, None) for r in rejected]
    if quarantined:
        bulk.insert_rows(conn, Quarantine, QUARANTINE_COLUMNS, quarantined)
        entries.extend(
            Entry(
                tag=EventTag.RECORD_QUARANTINED,
                subject=None,  # a refused row names no subject the registry holds
                actor=f"source:{source}",
                # no reason text: it can quote the refused value (a birth date, a name), and the
                # log is permanent; the reason stays in the quarantine row, found by file and line
                data={"file": file, "line": r.line, "field": r.field},
            )
            for r in rejected
        )
    result.quarantined += len(rejected)
    result.reasons.update(r.reason.split(":")[0] if r.field is None else r.field for r in rejected)
    audit.record_many(conn, entries, now=now)
    outbox.enqueue(conn, notices.about_records(records, catalogue or default_catalogue(), now=now), now=now)
    outbox.revive(conn, sorted({r[1] for r in records if r[notices.KIND] == notices.CONTACT}), now=now)
    result.subjects.update(r[1] for r in records)
    result.subjects.update(touched)
    return [r[0] for r in records]


def mark_pending(conn: Connection, subjects: set[uuid.UUID], *, now: datetime) -> None:
    """Note ``subjects`` as awaiting a refresh of their derived state, in the caller's transaction."""
    rows = [(s, now) for s in subjects]
    bulk.insert_rows(conn, PendingSubject, ("subject_id", "since"), rows, skip_existing=True)


def check_row(row: dict[str, Any], checker: Checker) -> Candidate | Rejected:
    try:
        return checker.build(row)
    except FieldError as err:
        return Rejected(0, err.field, err.detail, row)
    except NotAuthorisedError as err:
        return Rejected(0, err.detail.split(":")[0], err.detail, row)


@contextmanager
def _collector_spared() -> Iterator[None]:
    """Keep the cyclic garbage collector off the objects that were alive before a load.

    A load allocates rows by the hundred thousand, which sets off full collections, and every full
    collection walked all the process's modules, classes and caches again: ~50 ms each, a tenth of
    the load. ``gc.freeze`` sets those objects aside for the length of the load (what the load
    itself allocates is collected as usual) and ``gc.unfreeze`` puts them back. Left alone when
    something else (a pre-fork server, another load) has frozen objects already.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _resume_point(conn: Connection, source: str, path: Path) -> tuple[Any, readers.Position]:
    """The ledger row of the longest earlier read of this file's bytes, and where it ended.

    A read is taken up where it ended only at the end of a line (or of the file): a file cut off
    mid-line whose full version arrives later is read again from its start, not from mid-line."""
    ledger = conn.execute(
        select(FeedLoad.offset, FeedLoad.line, FeedLoad.rows, FeedLoad.prefix_digest, FeedLoad.finished_at).where(
            FeedLoad.source_id == source
        )
    ).all()
    size, found = readers.prefixes(path, {0} | {row.offset for row in ledger})
    best = None
    for row in ledger:
        prefix = found.get(row.offset)
        if prefix is None or prefix.position.digest != row.prefix_digest:
            continue
        if (prefix.at_line_end or row.offset == size) and (best is None or row.offset > best.offset):
            best = row
    if best is None:
        return None, found[0].position
    position = found[best.offset].position
    position.line, position.rows = best.line, best.rows
    return best, position


def load_file(
    engine: Engine,
    path: Path,
    mapping: Mapping,
    *,
    now: datetime,
    catalogue: Catalogue | None = None,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
    first: Callable[[Connection], None] | None = None,
) -> LoadResult:
    """Load one feed file; every row is accepted, recognised as unchanged, or quarantined.

    ``progress`` is called with the number of bytes of the file dealt with since its last call;
    ``first`` in the transaction of the load's first batch, before its rows, with what must commit
    with them or not at all (a submission's spent nonce); not called if the file was read before.
    Raises FeedRefusedError, with nothing written, if the file cannot be read as ``mapping`` says.
    """
    catalogue = catalogue or default_catalogue()
    result = LoadResult(file=str(path))
    with engine.connect() as conn:
        checker = Checker(mapping, catalogue, authority(conn, mapping.source))
        earlier, start = _resume_point(conn, mapping.source, path)
    if earlier is not None:
        result.already = result.unchanged = result.rows = earlier.rows
        result.resumed_at_line = earlier.line
        if progress:
            progress(start.offset)
        if earlier.finished_at is not None and start.offset == path.stat().st_size:
            return result  # these very bytes were read to the end before: nothing to do
    with engine.connect() as conn:
        guard = breaker.guard(conn, path, checker, start=start, now=now)
    if guard.trip is not None:
        result.tripped = guard.trip.reason
    reader = readers.FeedReader(path, mapping.layout, start=start, required=mapping.columns())
    candidates: list[tuple[int, Candidate]] = []
    rejected: list[Rejected] = []
    held: list[tuple[int, dict[str, Any]]] = []  # (line, row) of adverse rows the breaker holds
    ledger_id: list[int] = []  # this load's own ledger row, made by its first commit
    committed = start.offset

    def flush(*, finished: bool) -> None:
        nonlocal committed
        pos = reader.position
        with engine.begin() as conn:
            if first is not None and not ledger_id:
                first(conn)
            write_batch(
                conn,
                source=mapping.source,
                file=path.name,
                candidates=candidates,
                rejected=rejected,
                now=now,
                result=result,
                catalogue=catalogue,
            )
            result.held += guard.write(conn, file=path.name, held=held, now=now)
            result.hold = guard.hold_id
            values = {
                "file": path.name,
                "offset": pos.offset,
                "line": pos.line,
                "rows": pos.rows,
                "prefix_digest": pos.digest,
                "finished_at": now if finished else None,
            }
            if ledger_id:
                conn.execute(update(FeedLoad).where(FeedLoad.id == ledger_id[0]).values(**values))
            else:
                statement = insert(FeedLoad).values(source_id=mapping.source, started_at=now, **values)
                ledger_id.append(conn.execute(statement.returning(FeedLoad.id)).scalar_one())
        if progress:
            progress(pos.offset - committed)
        committed = pos.offset
        candidates.clear()
        rejected.clear()
        held.clear()

    with _collector_spared():
        for line, row in reader.rows():
            result.rows += 1
            if isinstance(row, readers.BadLineError):
                rejected.append(Rejected(line, None, row.reason, {"_line": row.raw}))
            else:
                checked = check_row(row, checker)
                if isinstance(checked, Rejected):
                    rejected.append(Rejected(line, checked.field, checked.reason, row))
                elif guard.holds(checked):
                    held.append((line, row))
                else:
                    candidates.append((line, checked))
            if len(candidates) + len(rejected) + len(held) >= batch and reader.settled:
                flush(finished=False)
        flush(finished=True)
    return result


def replay(
    engine: Engine,
    mappings: dict[str, Mapping],
    *,
    now: datetime,
    fixes: dict[int, dict[str, Any]] | None = None,
    catalogue: Catalogue | None = None,
) -> tuple[LoadResult, list[Rejected]]:
    """Apply quarantined rows that now pass (after a fix to the row, mapping or catalogue).

    Returns what was applied and what is still refused (with its current reason).
    """
    catalogue = catalogue or default_catalogue()
    fixes = fixes or {}
    result = LoadResult(file="quarantine")
    still: list[Rejected] = []
    with engine.begin() as conn:
        pending = conn.execute(
            select(Quarantine.__table__).where(Quarantine.replayed_at.is_(None), refused()).order_by(Quarantine.id)
        ).all()
        by_source: dict[str, list[tuple[Any, dict[str, Any]]]] = {}
        for q in pending:
            fix = fixes.get(q.id, {})
            # a fix to an unreadable line supplies the row that could not be read
            raw = {k: v for k, v in q.raw.items() if k != "_line"} if fix else q.raw
            by_source.setdefault(q.source_id, []).append((q, {**raw, **fix}))
        for source, items in by_source.items():
            mapping = mappings.get(source)
            if mapping is None:
                continue
            checker = Checker(mapping, catalogue, authority(conn, source))
            good: list[tuple[int, Candidate]] = []
            done: list[int] = []
            for q, row in items:
                checked = check_row(row, checker) if "_line" not in row else None
                if isinstance(checked, Rejected) or checked is None:
                    still.append(
                        Rejected(
                            q.line,
                            checked.field if checked else None,
                            checked.reason if checked else "unreadable line",
                            row,
                        )
                    )
                    continue
                good.append((q.line, checked))
                done.append(q.id)
            apply_replayed(
                conn,
                source=source,
                file="quarantine",
                good=good,
                done=done,
                actor=f"source:{source}",
                now=now,
                result=result,
                catalogue=catalogue,
            )
    return result, still


def apply_replayed(
    conn: Connection,
    *,
    source: str,
    file: str,
    good: Sequence[tuple[int, Candidate]],
    done: Sequence[int],
    actor: str,
    now: datetime,
    result: LoadResult,
    catalogue: Catalogue | None,
) -> None:
    """Write quarantined rows that now pass (``good``, from the rows ``done``) and mark those rows
    replayed, each with a ``record.replayed`` event by ``actor``: a replay's and a released
    hold's one way in."""
    write_batch(
        conn, source=source, file=file, candidates=good, rejected=[], now=now, result=result, catalogue=catalogue
    )
    if done:
        conn.execute(update(Quarantine).where(Quarantine.id.in_(list(done))).values(replayed_at=now))
        replayed = (
            Entry(tag=EventTag.RECORD_REPLAYED, subject=None, actor=actor, data={"quarantine_id": i}) for i in done
        )
        audit.record_many(conn, replayed, now=now)
