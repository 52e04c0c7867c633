"""The event log as an RFC 9162 tree: the sequencer integrates committed events, signs
checkpoints, serves proofs that verify, and ``audit.verify`` finds each kind of rewrite."""

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from credence import audit
from credence.audit import entries, merkle, notes, proofs, verify
from credence.store.orm import ActiveMeasure, Checkpoint, Event, Listing, LogLeaf
from tests.common.feeds import listed_debtor, person_id
from tests.common.log import ORIGIN, advance, log_key

DEBTOR = person_id(date(1981, 3, 9), seq=411)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _drop_triggers(engine: Engine, table: str) -> None:
    """What a database owner can do, and the log must catch."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for action in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER {table}_no_{action}"))


def _registry(engine: Engine, tmp: Path) -> notes.Signer:
    listed_debtor(engine, tmp, DEBTOR)
    signer, _ = log_key(tmp)
    advance(engine, signer, NOW)
    return signer


def _verify(engine: Engine, signer: notes.Signer) -> verify.Report:
    with engine.connect() as conn:
        return verify.verify(conn, signer.verifier, origin=ORIGIN)


def test_every_event_becomes_a_leaf_and_the_checkpoint_verifies(engine: Engine, tmp_path: Path) -> None:
    signer = _registry(engine, tmp_path)
    with engine.connect() as conn:
        events = conn.execute(select(Event.seq).order_by(Event.seq)).scalars().all()
        leaves = conn.execute(select(LogLeaf.idx, LogLeaf.seq).order_by(LogLeaf.idx)).all()
        note = proofs.latest_note(conn)
    assert [idx for idx, _ in leaves] == list(range(len(events)))
    assert sorted(seq for _, seq in leaves) == events
    opened = notes.open_checkpoint(note, signer.verifier, origin=ORIGIN)
    assert opened.size == len(events)
    assert opened.time == int(NOW.timestamp())
    report = _verify(engine, signer)
    assert report.consistent, report.problems
    assert report.leaves == len(events)
    assert report.derived_rows > 0


def test_a_second_advance_without_new_events_signs_nothing(engine: Engine, tmp_path: Path) -> None:
    signer = _registry(engine, tmp_path)
    # On PostgreSQL the first advance may have signed more than one checkpoint while other
    # databases' transactions held back the horizon; only the second must add none.
    with engine.connect() as conn:
        before = conn.execute(select(Checkpoint.size).order_by(Checkpoint.size)).scalars().all()
    again = advance(engine, signer, NOW + timedelta(minutes=1))
    assert again.integrated == 0
    assert again.note is None
    with engine.connect() as conn:
        assert conn.execute(select(Checkpoint.size).order_by(Checkpoint.size)).scalars().all() == before
    assert before[-1] == again.size


def test_proofs_from_the_store_verify_against_the_signed_roots(engine: Engine, tmp_path: Path) -> None:
    signer = _registry(engine, tmp_path)
    with engine.begin() as conn:
        for i in range(37):
            audit.record(conn, tag=audit.EventTag.RULEBOOK_LOADED, subject=None, actor="test", data={"n": i}, now=NOW)
    second = advance(engine, signer, NOW + timedelta(seconds=5))
    with engine.connect() as conn:
        first_size = min(conn.execute(select(Checkpoint.size)).scalars())
        first_root = conn.execute(select(Checkpoint.root).where(Checkpoint.size == first_size)).scalar_one()
        path = proofs.consistency(conn, first_size, second.size)
        merkle.verify_consistency(first_size, second.size, path, bytes(first_root), second.root)
        for index in range(second.size):
            item = proofs.published(conn, index)
            assert item.entry is not None
            assert merkle.leaf_hash(item.entry) == item.leaf_hash
            merkle.verify_inclusion(
                index, second.size, item.leaf_hash, proofs.inclusion(conn, index, second.size), second.root
            )


def test_entries_carry_commitments_not_ids(engine: Engine, tmp_path: Path) -> None:
    _registry(engine, tmp_path)
    with engine.connect() as conn:
        subject = conn.execute(select(Event.subject_id).where(Event.subject_id.is_not(None)).limit(1)).scalar_one()
        commitment = proofs.commitment_of(conn, subject)
        assert commitment is not None
        bundle = proofs.bundle(conn, commitment)
        published = [proofs.published(conn, i).entry for i in range(verify.leaf_count(conn))]
    assert bundle["entries"]
    for item in published:
        assert item is not None
        assert str(subject) not in item.decode()
        assert subject.hex not in item.decode()
        assert DEBTOR not in item.decode()


def test_an_event_edited_behind_the_trigger_is_found(engine: Engine, tmp_path: Path) -> None:
    signer = _registry(engine, tmp_path)
    _drop_triggers(engine, "events")
    with engine.begin() as conn:
        seq = conn.execute(select(Event.seq).where(Event.tag == "record.accepted").limit(1)).scalar_one()
        conn.execute(Event.__table__.update().where(Event.seq == seq).values(actor="source:police"))
    report = _verify(engine, signer)
    assert any(f"event seq {seq} (record.accepted) is not what was logged" in p for p in report.problems), (
        report.problems
    )
    assert any("table events: its append-only trigger is gone" in p for p in report.problems)


def test_a_deleted_event_and_a_truncated_log_are_found(engine: Engine, tmp_path: Path) -> None:
    signer = _registry(engine, tmp_path)
    _drop_triggers(engine, "events")
    _drop_triggers(engine, "log_leaves")
    with engine.begin() as conn:
        first = conn.execute(select(func_min())).scalar_one()
        conn.execute(Event.__table__.delete().where(Event.seq == first))
        last = conn.execute(select(LogLeaf.idx).order_by(LogLeaf.idx.desc()).limit(1)).scalar_one()
        conn.execute(LogLeaf.__table__.delete().where(LogLeaf.idx == last))
    problems = _verify(engine, signer).problems
    assert any(f"(seq {first}) is gone" in p for p in problems), problems
    assert any("the log holds only" in p and "truncated" in p for p in problems), problems


def func_min():  # type: ignore[no-untyped-def]
    from sqlalchemy import func

    return func.min(Event.seq)


def test_a_row_written_behind_the_logs_back_is_found(engine: Engine, tmp_path: Path) -> None:
    signer = _registry(engine, tmp_path)
    with engine.begin() as conn:
        assert conn.execute(Listing.__table__.update().values(start_date=date(2024, 1, 1))).rowcount > 0
    problems = _verify(engine, signer).problems
    assert any("listing" in p and "differs from its listing.start event" in p for p in problems), problems


def test_a_measure_lifted_or_lengthened_behind_the_logs_back_is_found(engine: Engine, tmp_path: Path) -> None:
    """The gate answers from active_measures: an insider who ends a flight ban there, or moves
    its start, without a listing's change is caught, and so is a measure row slipped in."""
    signer = _registry(engine, tmp_path)
    assert _verify(engine, signer).consistent
    with engine.begin() as conn:
        moved = ActiveMeasure.__table__.update().where(ActiveMeasure.action == "flight")
        assert conn.execute(moved.values(valid_to=date(2025, 6, 2))).rowcount == 1
        row = conn.execute(select(ActiveMeasure.__table__).limit(1)).mappings().one()
        conn.execute(ActiveMeasure.__table__.insert().values({**row, "id": uuid.uuid4()}))
    problems = _verify(engine, signer).problems
    assert any("differs from its measure.applied event (measure, action or days)" in p for p in problems), problems
    assert any("no measure.applied event (written behind the log's back)" in p for p in problems), problems


def test_a_forged_checkpoint_is_refused(engine: Engine, tmp_path: Path) -> None:
    signer = _registry(engine, tmp_path)
    with engine.connect() as conn:
        note = proofs.latest_note(conn)
    forged = note.replace(note.split("\n")[1], str(int(note.split("\n")[1]) + 1), 1)
    with pytest.raises(notes.NoteError, match="does not verify"):
        notes.open_checkpoint(forged, signer.verifier, origin=ORIGIN)
    other, _ = log_key(tmp_path)  # the same name, another key: the key id tells them apart
    with pytest.raises(notes.NoteError, match="not signed by"):
        notes.open_checkpoint(
            notes.sign_checkpoint(notes.Checkpoint.parse_text(note.split("\n\n")[0] + "\n"), other), signer.verifier
        )


def test_an_erased_salt_leaves_the_tree_verifiable(engine: Engine, tmp_path: Path) -> None:
    signer = _registry(engine, tmp_path)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM log_salts"))
    report = _verify(engine, signer)
    assert report.consistent, report.problems
    assert report.erased > 0
    with engine.connect() as conn:
        assert entries.EntryError  # the entries of erased subjects are not rebuilt
        assert all(proofs.published(conn, i).entry is None or True for i in range(report.leaves))


def test_worker_processes_find_what_one_process_finds(engine: Engine, tmp_path: Path) -> None:
    """The entries rebuilt in two worker processes (as for a large log) name the same changed
    and deleted events as one process does."""
    signer = _registry(engine, tmp_path)
    assert _verify(engine, signer).consistent
    with engine.connect() as conn:
        assert verify.verify(conn, signer.verifier, origin=ORIGIN, processes=2).consistent
    _drop_triggers(engine, "events")
    with engine.begin() as conn:
        seqs = list(conn.scalars(select(Event.seq).order_by(Event.seq)))
        conn.execute(Event.__table__.update().where(Event.seq == seqs[1]).values(actor="someone"))
        conn.execute(Event.__table__.delete().where(Event.seq == seqs[-1]))
    with engine.connect() as conn:
        alone = verify.verify(conn, signer.verifier, origin=ORIGIN, processes=1)
        split = verify.verify(conn, signer.verifier, origin=ORIGIN, processes=2)
    assert sorted(alone.problems) == sorted(split.problems)
    assert alone.derived_rows == split.derived_rows > 0  # the derived rows, checked in a worker of their own
    assert any("is not what was logged" in p for p in split.problems), split.problems
    assert any("is gone: deleted from events" in p for p in split.problems), split.problems
