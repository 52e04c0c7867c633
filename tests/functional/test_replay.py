"""Quarantine and replay: a refused row keeps its file, line and reason; once fixed it is applied
exactly once, with the transaction time of the replay; nothing is ever lost."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from credence.ingest.loader import load_file, replay
from credence.pipeline.update import update
from credence.store.orm import Event, Quarantine, Record
from tests.common.engines import store_scores
from tests.common.feeds import SCHEMES, Registry, mapping_for, person_id

PERSON = person_id(date(1979, 8, 14), seq=515)
BAD_CHECK = PERSON[:-1] + ("0" if PERSON[-1] != "0" else "1")
MAPPINGS = {s: mapping_for(s) for s in ("police", "court", "tax")}
TRAFFIC = {"offence_code": "1345", "fine_yuan": 200}


def rows() -> list[dict[str, Any]]:
    residence = {"kind": "residence", "date": "2020-01-01", "attrs": {"region": "320505", "status": "registered"}}
    return [
        {"id": "R-1", "id_number": PERSON, **residence},
        {
            "id": "T-bad-check",
            "id_number": BAD_CHECK,
            "kind": "traffic_offence",
            "date": "2026-09-01",
            "attrs": TRAFFIC,
        },
        {"id": "T-bad-kind", "id_number": PERSON, "kind": "jaywalking", "date": "2026-09-02", "attrs": TRAFFIC},
        {
            "id": "T-beijing",
            "id_number": PERSON,
            "kind": "traffic_offence",
            "date": "2026-09-03",
            "region": "110101",
            "attrs": TRAFFIC,
        },
    ]


def instant(value: datetime) -> datetime:
    """SQLite gives back the stored UTC instant without its zone; PostgreSQL gives it with one."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def quarantine(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(Quarantine.__table__).order_by(Quarantine.line)).all())


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(Record)).scalar_one(),
            conn.execute(select(func.count()).select_from(Quarantine)).scalar_one(),
            conn.execute(select(func.count()).select_from(Event)).scalar_one(),
        )


def suzhou(engine: Engine, *, known_at: datetime) -> int:
    with engine.connect() as conn:
        scores = store_scores(conn, SCHEMES["suzhou-osmanthus"], as_of=date(2026, 11, 27), known_at=known_at)
    [(score, _grade)] = scores.values()
    return score


def test_bad_rows_wait_in_quarantine_and_replay_applies_each_fix_once(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    loaded = reg.feed("police", rows())
    loaded_at = reg.now
    assert (loaded.rows, loaded.accepted, loaded.quarantined) == (4, 1, 3)

    held = quarantine(engine)
    assert [(q.file, q.line, q.field, q.source_id) for q in held] == [
        ("feed-1.jsonl", 2, "id_number", "police"),
        ("feed-1.jsonl", 3, "kind", "police"),
        ("feed-1.jsonl", 4, "jurisdiction", "police"),
    ]
    assert "check character" in held[0].reason
    assert "jaywalking" in held[1].reason
    assert "not authorised" in held[2].reason
    assert "110101" in held[2].reason
    assert [q.raw["id"] for q in held] == ["T-bad-check", "T-bad-kind", "T-beijing"]
    assert all(q.replayed_at is None for q in held)
    ids = {q.raw["id"]: q.id for q in held}

    # nothing fixed yet: a replay applies nothing and says why each row is still refused
    result, still = replay(engine, MAPPINGS, now=reg.tick())
    assert (result.accepted, result.amended) == (0, 0)
    assert [(r.line, r.field) for r in still] == [(2, "id_number"), (3, "kind"), (4, "jurisdiction")]
    assert counts(engine)[:2] == (1, 3)

    # two fixed: those two are applied with the replay's transaction time, the third still waits
    first_fix = reg.tick()
    fixes = {ids["T-bad-check"]: {"id_number": PERSON}, ids["T-bad-kind"]: {"kind": "traffic_offence"}}
    result, still = replay(engine, MAPPINGS, now=first_fix, fixes=fixes)
    update(engine, SCHEMES, subjects=result.subjects, as_of=first_fix.date(), now=first_fix)
    assert result.accepted == 2
    assert [(r.line, r.field) for r in still] == [(4, "jurisdiction")]
    with engine.connect() as conn:
        replayed = conn.execute(
            select(Record.source_record_id, Record.recorded_at, Record.version, Record.kind)
            .where(Record.source_record_id.like("T-%"))
            .order_by(Record.source_record_id)
        ).all()
    assert [(r.source_record_id, r.version, r.kind) for r in replayed] == [
        ("T-bad-check", 1, "traffic_offence"),
        ("T-bad-kind", 1, "traffic_offence"),
    ]
    assert {instant(r.recorded_at) for r in replayed} == {first_fix}
    assert suzhou(engine, known_at=loaded_at) == 100  # what the registry knew before the replay stays so
    assert suzhou(engine, known_at=first_fix) == 94

    # the same fixes again change nothing: no record, no event, no score
    before = counts(engine)
    result, still = replay(engine, MAPPINGS, now=reg.tick(), fixes=fixes)
    assert (result.accepted, result.amended, result.unchanged) == (0, 0, 0)
    assert counts(engine) == before

    # the last fix, then a replay that has nothing left to do
    last_fix = reg.tick()
    result, still = replay(engine, MAPPINGS, now=last_fix, fixes={ids["T-beijing"]: {"region": "320505"}})
    update(engine, SCHEMES, subjects=result.subjects, as_of=last_fix.date(), now=last_fix)
    assert (result.accepted, still) == (1, [])
    assert suzhou(engine, known_at=last_fix) == 91
    settled = counts(engine)
    result, still = replay(engine, MAPPINGS, now=reg.tick())
    assert (result.accepted, still) == (0, [])
    assert counts(engine) == settled

    # nothing lost: every row is a record, and the quarantine keeps what was refused and when it was applied
    held = quarantine(engine)
    assert settled[:2] == (4, 3)
    assert [q.raw["id"] for q in held] == ["T-bad-check", "T-bad-kind", "T-beijing"]
    assert held[0].raw["id_number"] == BAD_CHECK  # the row as received, not as fixed
    assert [instant(q.replayed_at) for q in held] == [first_fix, first_fix, last_fix]
    with engine.connect() as conn:
        tags = conn.execute(select(Event.tag, func.count()).group_by(Event.tag)).all()
    logged = dict(tags)
    assert logged.pop("score.interval") > 0  # each refresh logs the score intervals it derived
    assert logged == {"record.accepted": 4, "record.quarantined": 3, "record.replayed": 3, "rulebook.loaded": 4}


def test_replay_of_a_row_already_applied_is_recognised_as_unchanged(engine: Engine, tmp_path: Path) -> None:
    """A quarantined row that the agency also resent correctly is not applied a second time."""
    reg = Registry(engine, tmp_path)
    good = {**rows()[1], "id_number": PERSON}
    bad = {**good, "date": "2026-09-31"}
    reg.feed("police", [bad])
    reg.feed("police", [good])
    [held] = quarantine(engine)
    assert (held.line, held.field) == (1, "valid_date")
    result, still = replay(engine, MAPPINGS, now=reg.tick(), fixes={held.id: {"date": "2026-09-01"}})
    assert (result.accepted, result.amended, result.unchanged, still) == (0, 0, 1, [])
    with engine.connect() as conn:
        versions = conn.execute(select(Record.version).where(Record.source_record_id == "T-bad-check")).scalars().all()
    assert versions == [1]


def test_an_unreadable_line_is_kept_and_a_fix_can_supply_the_row(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    feed = tmp_path / "police-broken.jsonl"
    feed.write_text('{"id": "T-9", "id_number": "' + PERSON + '", "kind": "traffic_offence", "date": \n', "utf-8")
    result = load_file(engine, feed, MAPPINGS["police"], now=reg.tick())
    assert (result.rows, result.quarantined) == (1, 1)
    [held] = quarantine(engine)
    assert (held.file, held.line, held.field) == ("police-broken.jsonl", 1, None)
    assert "not valid JSON" in held.reason
    assert held.raw["_line"].startswith('{"id": "T-9"')

    _, still = replay(engine, MAPPINGS, now=reg.tick())
    assert [(r.line, r.reason) for r in still] == [(1, "unreadable line")]
    fixed = {"id": "T-9", "id_number": PERSON, "kind": "traffic_offence", "date": "2026-09-04"}
    _, still = replay(
        engine, MAPPINGS, now=reg.tick(), fixes={held.id: {**fixed, "region": "320505", "attrs": TRAFFIC}}
    )
    assert still == []
    with engine.connect() as conn:
        assert conn.execute(select(Record.kind).where(Record.source_record_id == "T-9")).scalars().all() == [
            "traffic_offence"
        ]
    [held] = quarantine(engine)
    assert held.replayed_at is not None
    assert "_line" in held.raw  # the line as received is kept
