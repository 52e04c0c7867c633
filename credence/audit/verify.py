"""``verify``: check from the database alone that the log is what its checkpoints say.

One pass over the leaves in order, with their events and the subjects' salts:

* every leaf's event is there and rebuilds the same leaf hash (an UPDATE or DELETE of an event
  behind the triggers' back shows here, named by leaf and seq); a leaf whose salt was erased is
  counted, not checked;
* the leaves are contiguous from 0 and every event final before the last leaf is a leaf (an
  event slipped in behind the log's back);
* the root of every signed size, recomputed from that prefix of the leaves, is the checkpoint's
  root, and the checkpoint's signature verifies with the log's public key: all checkpoints are
  then prefixes of one sequence, which is what consistency between consecutive ones means; the
  checkpoint must not be larger than the tree (a truncated log);
* the perfect nodes proofs are served from are the ones the leaves give (one digest per level);
* the append-only triggers are in place;
* every derived row (record, current listing, current score interval) has its event and
  matches it (``audit.derived``).
"""

import collections
import hashlib
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, create_engine, func, select
from sqlalchemy.pool import NullPool

from credence.audit import derived, entries, merkle, notes, raw
from credence.exc import CredenceError
from credence.store.orm import Checkpoint, Event, LogLeaf, LogNode

STREAM = 20_000
SHOWN = 20  # problems listed per kind; the rest are counted
TRIGGERS = ("records", "events", "log_leaves", "log_nodes", "log_checkpoints")


@dataclass
class Report:
    leaves: int = 0
    checkpoints: int = 0
    erased: int = 0  # leaves whose subject's salt is erased: in the tree, not rebuildable
    pending: int = 0  # events not yet integrated (the sequencer's next call takes them)
    derived_rows: int = 0
    problems: list[str] = field(default_factory=list)
    hidden: int = 0

    def problem(self, text: str) -> None:
        if len(self.problems) < SHOWN * 4:
            self.problems.append(text)
        else:
            self.hidden += 1

    @property
    def consistent(self) -> bool:
        return not self.problems


# the leaves with their events, as the driver gives them: no type processing per row (a
# million rows through SQLAlchemy's JSON, UUID and DateTime processors cost more than checking)
LEAVES = (
    "SELECT l.idx, l.hash, l.seq, e.seq, e.tag, e.actor, e.recorded_at, e.subject_id, e.data"
    " FROM log_leaves l LEFT JOIN events e ON e.seq = l.seq"
)
HASHES = "SELECT l.idx, l.hash, l.seq FROM log_leaves l"
PARALLEL = 200_000  # leaves from which the entries are rebuilt in worker processes


def _stream(
    conn: Connection, query: str, lo: int = 0, hi: int | None = None
) -> Iterator[Sequence[Any]]:  # Any: driver values
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    where, params = f" WHERE l.idx >= {marker}", [lo]
    if hi is not None:
        where, params = f"{where} AND l.idx < {marker}", [lo, hi]
    result = conn.execution_options(stream_results=True).exec_driver_sql(
        f"{query}{where} ORDER BY l.idx", tuple(params)
    )
    for chunk in result.partitions(STREAM):
        yield from chunk


@dataclass
class Rebuilt:
    """What rebuilding a range of leaves from their events found."""

    problems: list[tuple[int, str]] = field(default_factory=list)  # (leaf index, problem), at most SHOWN * 4
    hidden: int = 0
    erased: int = 0


def _salts(conn: Connection) -> dict[bytes, bytes]:
    return {raw.key(s): bytes(v) for s, v in conn.exec_driver_sql("SELECT subject_id, salt FROM log_salts")}


def rebuild_leaves(conn: Connection, lo: int, hi: int | None, salts: dict[bytes, bytes] | None = None) -> Rebuilt:
    """Rebuild the leaves ``[lo, hi)`` from their events and compare each with the stored hash: a
    changed event shows here, named by leaf and seq; a leaf whose salt was erased is counted."""
    found = Rebuilt()
    collections.deque(_rebuilding(conn, found, lo, hi, salts), maxlen=0)
    return found


def _rebuilding(
    conn: Connection, found: Rebuilt, lo: int, hi: int | None, salts: dict[bytes, bytes] | None
) -> Iterator[tuple[int, Any, int]]:  # Any: the driver's bytes
    """``rebuild_leaves`` as it goes, yielding each leaf's (index, stored hash, seq) first, so that
    one read of the leaves serves both the entries' check and the tree's walk."""
    known = _salts(conn) if salts is None else salts

    def problem(index: int, text: str) -> None:
        if len(found.problems) < SHOWN * 4:
            found.problems.append((index, text))
        else:
            found.hidden += 1

    for index, stored, seq, event_seq, tag, actor, recorded_at, subject_id, data in _stream(conn, LEAVES, lo, hi):
        yield index, stored, seq
        subject = None if subject_id is None else raw.key(subject_id)
        if event_seq is None:
            problem(index, f"leaf {index}: its event (seq {seq}) is gone: deleted from events")
            continue
        if subject is not None and subject not in known:
            found.erased += 1
            continue
        salt = None if subject is None else known[subject]
        committed = None if subject is None or salt is None else hashlib.sha256(salt + subject).digest()
        entry = entries.entry_bytes(
            index,
            tag=tag,
            actor=actor,
            instant=raw.instant(recorded_at),
            committed=committed,
            salt=salt,
            data=raw.json_value(data),
        )
        if merkle.leaf_hash(entry) != bytes(stored):
            problem(
                index, f"leaf {index}: event seq {seq} ({tag}) is not what was logged: changed after it was written"
            )


def _rebuild_in_worker(url: str, lo: int, hi: int | None) -> Rebuilt:
    """``rebuild_leaves`` in a worker process, on its own connection."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return rebuild_leaves(conn, lo, hi)
    finally:
        engine.dispose()


def _derived_in_worker(url: str) -> Report:
    """``derived.check`` in a worker process, on its own connection."""
    engine = create_engine(url, poolclass=NullPool)
    found = Report()
    try:
        with engine.connect() as conn:
            derived.check(conn, found)
        return found
    finally:
        engine.dispose()


def _rebuilt(conn: Connection, size: int, processes: int) -> Iterator[Rebuilt | Report]:
    """The leaves rebuilt in ``processes`` worker processes, by contiguous range, and the derived
    rows checked in one more, while the caller walks the tree: the check of an entry needs its
    event, the tree only the hashes, the derived rows neither."""
    url = conn.engine.url.render_as_string(hide_password=False)
    step = -(-size // processes)
    bounds = [(lo, lo + step if lo + step < size else None) for lo in range(0, size, step)]
    pool = ProcessPoolExecutor(len(bounds) + 1, mp_context=multiprocessing.get_context("spawn"))
    futures: list[Future[Rebuilt | Report]] = [pool.submit(_derived_in_worker, url)]
    futures += [pool.submit(_rebuild_in_worker, url, lo, hi) for lo, hi in bounds]
    try:
        yield Rebuilt()  # started: the caller walks the tree now
        for future in futures:
            yield future.result()
    finally:
        pool.shutdown(cancel_futures=True)


def _level_digests(conn: Connection) -> dict[int, tuple[int, bytes]]:
    found: dict[int, tuple[int, bytes]] = {}
    for (level,) in conn.execute(select(LogNode.level).distinct()):
        digest = hashlib.sha256()
        count = 0
        rows = conn.execution_options(yield_per=STREAM).execute(
            select(LogNode.idx, LogNode.hash).where(LogNode.level == level).order_by(LogNode.idx)
        )
        for expected, (idx, value) in enumerate(rows):
            if idx != expected:  # a gap: a node deleted
                count = -1
                break
            digest.update(bytes(value))
            count += 1
        found[int(level)] = (count, digest.digest())
    return found


def _guarded(conn: Connection) -> set[tuple[str, str]]:
    """(table, action) pairs an enabled BEFORE trigger refuses: UPDATE and DELETE."""
    found: set[tuple[str, str]] = set()
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            "SELECT c.relname, t.tgtype FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'"
        )
        for table, kind in rows:  # tgtype bits: 8 DELETE, 16 UPDATE
            found.update((str(table), action) for bit, action in ((8, "DELETE"), (16, "UPDATE")) if int(kind) & bit)
        return found
    for table, sql in conn.exec_driver_sql("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"):
        found.update((str(table), action) for action in ("UPDATE", "DELETE") if f"BEFORE {action}" in str(sql).upper())
    return found


def verify(
    conn: Connection,
    verifier: notes.Verifier,
    *,
    origin: str,
    published: Sequence[notes.Checkpoint] = (),
    processes: int | None = None,
) -> Report:
    """Check the log in ``conn``'s store (read only); problems are listed in the report.

    Args:
        conn: a connection to the registry's store.
        verifier: the log's public key, as outsiders know it.
        origin: the log's name.
        published: checkpoints kept outside the store (a witness's, a subject's): the store's
            tree must have the same root at their sizes, or it was rewritten and re-signed.
        processes: how many worker processes rebuild the entries (None: one per core, at most
            four, from ``PARALLEL`` leaves; below that, this process alone).
    """
    report = Report()
    outside = {c.size: c.root for c in published}
    guarded = _guarded(conn)
    for table in TRIGGERS:
        for action in ("UPDATE", "DELETE"):
            if (table, action) not in guarded:
                report.problem(
                    f"table {table}: its append-only trigger is gone, {action} is allowed (dropped or disabled)"
                )
    signed = list(conn.execute(select(Checkpoint.size, Checkpoint.root, Checkpoint.note).order_by(Checkpoint.size)))
    report.checkpoints = len(signed)
    wanted = {int(size): (bytes(root), note) for size, root, note in signed}
    compact = merkle.CompactRange()
    levels: dict[int, Any] = {}  # level -> running sha256 of the nodes the leaves make
    counts: dict[int, int] = {}
    last_seq = None
    size = leaf_count(conn)
    workers = processes if processes is not None else (min(os.cpu_count() or 1, 4) if size >= PARALLEL else 1)
    rebuilt = _rebuilt(conn, size, workers) if workers > 1 else None
    alone = Rebuilt()  # what this process finds when it rebuilds the entries itself
    if rebuilt is not None:
        next(rebuilt)  # the workers have started
        leaves: Iterator[Sequence[Any]] = _stream(conn, HASHES)  # Any: driver values
    else:
        leaves = _rebuilding(conn, alone, 0, None, None)
    for index, stored, seq in leaves:
        stored = bytes(stored)
        if index != compact.size:
            report.problem(f"leaf {compact.size} is missing: the next stored leaf is {index} (rows deleted?)")
            break
        for (level, _), value in compact.append(stored):
            levels.setdefault(level, hashlib.sha256()).update(value)
            counts[level] = counts.get(level, 0) + 1
        last_seq = seq
        if compact.size in wanted:
            _checkpoint(report, compact, wanted[compact.size], verifier, origin)
        if compact.size in outside and compact.root() != outside[compact.size]:
            report.problem(
                f"the checkpoint of size {compact.size} kept outside the store has another root:"
                " the log was rewritten after it was published"
            )
    report.leaves = compact.size
    if rebuilt is None:
        collections.deque(leaves, maxlen=0)  # the entries after a gap are checked too
        _report(report, alone)
    for found in rebuilt or ():
        if isinstance(found, Report):  # the derived rows' check
            report.derived_rows += found.derived_rows
            for text in found.problems:
                report.problem(text)
            report.hidden += found.hidden
        else:
            _report(report, found)
    for size in sorted(set(wanted) | set(outside)):
        if size > compact.size:
            report.problem(f"checkpoint of size {size}: the log holds only {compact.size} leaves (truncated)")
    stored = _level_digests(conn)
    for level in sorted(set(stored) | set(counts)):
        expected = (counts.get(level, 0), levels[level].digest() if level in levels else hashlib.sha256().digest())
        if stored.get(level) != expected:
            report.problem(f"tree nodes at level {level} differ from those the leaves give: proofs would be wrong")
    _unlogged(conn, report, last_seq)
    if rebuilt is None:  # else a worker process checked them
        derived.check(conn, report)
    return report


def _report(report: Report, found: Rebuilt) -> None:
    for _, text in found.problems:
        report.problem(text)
    report.hidden += found.hidden
    report.erased += found.erased


def _checkpoint(
    report: Report, compact: merkle.CompactRange, signed: tuple[bytes, str], verifier: notes.Verifier, origin: str
) -> None:
    root, note = signed
    size = compact.size
    try:
        opened = notes.open_checkpoint(note, verifier, origin=origin)
    except CredenceError as err:
        report.problem(f"checkpoint of size {size}: {err.detail}")
        return
    if opened.size != size or opened.root != root:
        report.problem(f"checkpoint of size {size}: its signed note does not say what its row says")
    if compact.root() != opened.root:
        report.problem(f"checkpoint of size {size}: the leaves give another root (the log was rewritten)")


def _unlogged(conn: Connection, report: Report, last_seq: int | None) -> None:
    """Events that are not leaves: pending if after the last leaf, slipped in if before."""
    missing = select(Event.seq, Event.tag).outerjoin(LogLeaf, LogLeaf.seq == Event.seq).where(LogLeaf.seq.is_(None))
    if conn.dialect.name == "postgresql":
        last_xact = None
        if last_seq is not None:
            last_xact = conn.execute(select(LogLeaf.xact).where(LogLeaf.seq == last_seq)).scalar()
        for seq, tag, xact in conn.execute(missing.add_columns(Event.xact)):
            if last_xact is not None and (xact, seq) < (last_xact, last_seq):
                report.problem(f"event seq {seq} ({tag}) is not in the log, though later events are")
            else:
                report.pending += 1
        return
    for seq, tag in conn.execute(missing):
        if last_seq is not None and seq < last_seq:
            report.problem(f"event seq {seq} ({tag}) is not in the log, though later events are")
        else:
            report.pending += 1


def leaf_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(LogLeaf)).scalar_one())
