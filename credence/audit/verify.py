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

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from credence.audit import derived, entries, merkle, notes
from credence.exc import CredenceError
from credence.store.orm import Checkpoint, Event, LogLeaf, LogNode, LogSalt

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


def _stream(conn: Connection) -> Iterator[Any]:  # Any: result rows
    query = (
        select(
            LogLeaf.idx,
            LogLeaf.hash,
            LogLeaf.seq,
            Event.seq.label("event_seq"),
            Event.tag,
            Event.actor,
            Event.recorded_at,
            Event.subject_id,
            Event.data,
        )
        .outerjoin(Event, Event.seq == LogLeaf.seq)
        .order_by(LogLeaf.idx)
    )
    yield from conn.execution_options(yield_per=STREAM).execute(query)


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
    conn: Connection, verifier: notes.Verifier, *, origin: str, published: Sequence[notes.Checkpoint] = ()
) -> Report:
    """Check the log in ``conn``'s store (read only); problems are listed in the report.

    Args:
        conn: a connection to the registry's store.
        verifier: the log's public key, as outsiders know it.
        origin: the log's name.
        published: checkpoints kept outside the store (a witness's, a subject's): the store's
            tree must have the same root at their sizes, or it was rewritten and re-signed.
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
    salts = {s: bytes(v) for s, v in conn.execute(select(LogSalt.subject_id, LogSalt.salt))}
    compact = merkle.CompactRange()
    levels: dict[int, Any] = {}  # level -> running sha256 of the nodes the leaves make
    counts: dict[int, int] = {}
    last_seq = None
    for row in _stream(conn):
        index = compact.size
        if row.idx != index:
            report.problem(f"leaf {index} is missing: the next stored leaf is {row.idx} (rows deleted?)")
            break
        if row.event_seq is None:
            report.problem(f"leaf {index}: its event (seq {row.seq}) is gone: deleted from events")
        elif row.subject_id is not None and row.subject_id not in salts:
            report.erased += 1
        else:
            rebuilt = entries.leaf(
                index,
                tag=row.tag,
                actor=row.actor,
                recorded_at=row.recorded_at,
                subject=row.subject_id,
                salt=salts.get(row.subject_id) if row.subject_id is not None else None,
                data=row.data,
            )
            if rebuilt.hash != bytes(row.hash):
                report.problem(
                    f"leaf {index}: event seq {row.seq} ({row.tag}) is not what was logged:"
                    " changed after it was written"
                )
        for (level, _), value in compact.append(bytes(row.hash)):
            levels.setdefault(level, hashlib.sha256()).update(value)
            counts[level] = counts.get(level, 0) + 1
        last_seq = row.seq
        if compact.size in wanted:
            _checkpoint(report, compact, wanted[compact.size], verifier, origin)
        if compact.size in outside and compact.root() != outside[compact.size]:
            report.problem(
                f"the checkpoint of size {compact.size} kept outside the store has another root:"
                " the log was rewritten after it was published"
            )
    report.leaves = compact.size
    for size in sorted(set(wanted) | set(outside)):
        if size > compact.size:
            report.problem(f"checkpoint of size {size}: the log holds only {compact.size} leaves (truncated)")
    stored = _level_digests(conn)
    for level in sorted(set(stored) | set(counts)):
        expected = (counts.get(level, 0), levels[level].digest() if level in levels else hashlib.sha256().digest())
        if stored.get(level) != expected:
            report.problem(f"tree nodes at level {level} differ from those the leaves give: proofs would be wrong")
    _unlogged(conn, report, last_seq)
    derived.check(conn, report)
    return report


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
