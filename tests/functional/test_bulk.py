"""Bulk inserts store exactly what a Core insert stores, on both stores; look-ups find every key."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from credence import audit
from credence.audit import Entry, EventTag
from credence.store import bulk
from credence.store.orm import Event, PendingSubject, Quarantine, Subject

NOW = datetime(2026, 11, 27, 4, 0, 0, 123456, tzinfo=UTC)
AWKWARD = "tab\there, new\nline, back\\slash, cr\r, quote \" ' and 苏州 ２ \\N"


def events(actor: str) -> list[tuple[Any, ...]]:
    return [
        ("record.accepted", uuid.UUID(int=7), actor, {"kind": "x", "version": 1, "text": AWKWARD}, NOW),
        ("record.quarantined", None, actor, {"nested": {"list": [1, 2.5, None, True]}, "empty": ""}, NOW),
        ("listing.start", uuid.UUID(int=2**128 - 1), actor, {}, NOW),
    ]


def raw(engine: Engine, query: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(query), params)]


def test_bulk_rows_are_stored_as_core_inserts_store_them(engine: Engine) -> None:
    columns = ("tag", "subject_id", "actor", "data", "recorded_at")
    with engine.begin() as conn:
        conn.execute(insert(Event), [dict(zip(columns, row, strict=True)) for row in events("core")])
        assert bulk.insert_rows(conn, Event, columns, events("bulk")) == 3
        quarantine = ("source_id", "file", "line", "field", "reason", "raw", "received_at", "replayed_at")
        row = ("police", f"f{AWKWARD}.csv", 7, None, AWKWARD, {"_line": AWKWARD}, NOW, None)
        conn.execute(insert(Quarantine), [dict(zip(quarantine, row, strict=True))])
        bulk.insert_rows(conn, Quarantine, quarantine, [row])
        subject = ("id", "id_number", "kind", "birth_date", "address_code", "created_at")
        conn.execute(
            insert(Subject),
            [dict(zip(subject, (uuid.uuid4(), "A", "person", date(1980, 5, 17), "320505", NOW), strict=True))],
        )
        bulk.insert_rows(conn, Subject, subject, [(uuid.uuid4(), "B", "person", date(1980, 5, 17), "320505", NOW)])
    # as the database holds them (text, not values read back through SQLAlchemy's types)
    cast = "CAST(data AS TEXT), CAST(recorded_at AS TEXT), CAST(subject_id AS TEXT)"
    stored = {
        actor: raw(engine, f"SELECT tag, {cast} FROM events WHERE actor = :a ORDER BY seq", a=actor)
        for actor in ("core", "bulk")
    }
    assert stored["bulk"] == stored["core"]
    assert len(stored["bulk"]) == 3
    rows = raw(
        engine,
        "SELECT file, line, field, reason, CAST(raw AS TEXT), CAST(received_at AS TEXT) FROM quarantine ORDER BY id",
    )
    assert rows[0] == rows[1]
    assert rows[0][3] == AWKWARD
    rows = raw(
        engine,
        "SELECT kind, CAST(birth_date AS TEXT), address_code, CAST(created_at AS TEXT) FROM subjects "
        "ORDER BY id_number",
    )
    assert rows[0] == rows[1]
    with engine.connect() as conn:  # and read back through the ORM types alike

        def typed(actor: str) -> list[tuple[Any, ...]]:
            query = select(Event.data, Event.subject_id, Event.recorded_at).where(Event.actor == actor)
            return [tuple(row) for row in conn.execute(query.order_by(Event.seq))]

        assert typed("bulk") == typed("core")
        assert [row[:2] for row in typed("bulk")] == [(e[3], e[1]) for e in events("bulk")]


def test_bulk_errors_are_sqlalchemy_errors_and_roll_back(engine: Engine) -> None:
    columns = ("id", "id_number", "kind", "birth_date", "address_code", "created_at")
    same = uuid.uuid4()

    def one_good_then_a_duplicate() -> None:
        with engine.begin() as conn:
            bulk.insert_rows(conn, Subject, columns, [(uuid.uuid4(), "C", "person", None, "320505", NOW)])
            bulk.insert_rows(conn, Subject, columns, [(same, "D", "person", None, "320505", NOW)] * 2)

    with pytest.raises(IntegrityError):
        one_good_then_a_duplicate()
    assert raw(engine, "SELECT count(*) FROM subjects") == [(0,)]


def test_matching_finds_every_key_beyond_one_chunk(engine: Engine) -> None:
    numbers = [f"N{i:05d}" for i in range(2 * bulk.CHUNK + 1)]
    columns = ("id", "id_number", "kind", "birth_date", "address_code", "created_at")
    with engine.begin() as conn:
        bulk.insert_rows(conn, Subject, columns, [(uuid.uuid4(), n, "person", None, "320505", NOW) for n in numbers])
        wanted = [*numbers[::2], "absent"]
        found = [
            n
            for where in bulk.matching(Subject.id_number, wanted, conn)
            for n in conn.execute(select(Subject.id_number).where(where)).scalars()
        ]
        assert sorted(found) == numbers[::2]
        assert list(bulk.matching(Subject.id_number, [], conn)) == []


def test_events_on_a_connection_without_begin_are_committed_by_commit(engine: Engine) -> None:
    with engine.connect() as conn:
        entries = [Entry(tag=EventTag.RULEBOOK_LOADED, subject=None, actor="test", data={"n": i}) for i in range(3)]
        audit.record_many(conn, entries, now=NOW)
        conn.commit()
    assert raw(engine, "SELECT count(*) FROM events WHERE actor = 'test'") == [(3,)]


def test_skip_existing_leaves_out_stored_and_repeated_keys_and_keeps_the_first(engine: Engine) -> None:
    subjects = ("id", "id_number", "kind", "birth_date", "address_code", "created_at")
    people = [uuid.uuid4() for _ in range(3)]
    later = datetime(2026, 11, 28, tzinfo=UTC)
    with engine.begin() as conn:
        bulk.insert_rows(
            conn, Subject, subjects, [(p, f"S{i}", "person", None, "320505", NOW) for i, p in enumerate(people)]
        )
        bulk.insert_rows(conn, PendingSubject, ("subject_id", "since"), [(people[0], NOW)])
        given = [(people[0], later), (people[1], NOW), (people[1], later), (people[2], later)]
        assert bulk.insert_rows(conn, PendingSubject, ("subject_id", "since"), given, skip_existing=True) == 4
        stored = dict(conn.execute(select(PendingSubject.subject_id, PendingSubject.since)).all())
    assert {s: since.replace(tzinfo=UTC) if since.tzinfo is None else since for s, since in stored.items()} == {
        people[0]: NOW,
        people[1]: NOW,
        people[2]: later,
    }
