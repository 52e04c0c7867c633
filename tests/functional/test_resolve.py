"""One place turns an ID number into a subject: found once made, made once, in the caller's
transaction, with the number checked and made canonical first."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from credence import resolve
from credence.exc import FieldError
from credence.ingest.records import subject_ref
from credence.model.identifiers import SubjectKind
from credence.store import bulk
from credence.store.orm import Subject
from tests.common.feeds import person_id

NOW = datetime(2026, 11, 27, 4, tzinfo=UTC)
PERSON = person_id(date(1980, 3, 4), seq=101)
LEGACY = "320505800304101"  # PERSON's first-generation 15-digit form
ORG = "91110000600037341L"


def subjects(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Subject)).scalar_one()


def test_ensure_makes_each_new_number_once_and_lookup_finds_it(engine: Engine) -> None:
    refs = [subject_ref(PERSON, field="id"), subject_ref(ORG, field="id"), subject_ref(PERSON, field="id")]
    with engine.begin() as conn:
        made = resolve.ensure(conn, refs, now=NOW)
        assert sorted(made) == sorted([PERSON, ORG])
        assert len(set(made.values())) == 2
        assert all(isinstance(i, uuid.UUID) and i.version == 4 for i in made.values())  # random, not derived
    with engine.begin() as conn:
        assert resolve.ensure(conn, [subject_ref(ORG, field="id")], now=NOW) == {ORG: made[ORG]}
        assert resolve.lookup(conn, [PERSON, ORG, person_id(date(1990, 1, 1))]) == made
        assert resolve.lookup(conn, []) == {}
        row = conn.execute(select(Subject.__table__).where(Subject.id == made[PERSON])).one()
    assert (row.id_number, row.kind, row.birth_date, row.address_code) == (
        PERSON,
        SubjectKind.PERSON.value,
        date(1980, 3, 4),
        "320505",
    )
    assert subjects(engine) == 2


def test_ensure_writes_in_the_callers_transaction(engine: Engine) -> None:
    with engine.connect() as conn:
        resolve.ensure(conn, [subject_ref(PERSON, field="id")], now=NOW)
        conn.rollback()
    assert subjects(engine) == 0


def test_lookup_finds_every_number_beyond_one_chunk(engine: Engine) -> None:
    numbers = [person_id(date(1970, 1, 1) + timedelta(days=i)) for i in range(bulk.CHUNK + 5)]
    with engine.begin() as conn:
        made = resolve.ensure(conn, [subject_ref(n, field="id") for n in numbers], now=NOW)
    with engine.connect() as conn:
        assert resolve.lookup(conn, numbers) == made
    assert len(made) == bulk.CHUNK + 5


def test_find_reads_a_number_as_a_person_writes_it(engine: Engine) -> None:
    with engine.begin() as conn:
        made = resolve.ensure(conn, [subject_ref(PERSON, field="id"), subject_ref(ORG, field="id")], now=NOW)
    with engine.connect() as conn:
        assert resolve.find(conn, PERSON) == made[PERSON]
        assert resolve.find(conn, LEGACY) == made[PERSON]  # the 15-digit form is upgraded first
        assert resolve.find(conn, f"  {ORG.lower()} ") == made[ORG]
        assert resolve.find(conn, person_id(date(1990, 1, 1))) is None  # never seen: no subject, no error
        with pytest.raises(FieldError) as refused:
            resolve.find(conn, PERSON[:-1] + ("0" if PERSON[-1] != "0" else "1"), field="subject")
        assert refused.value.field == "subject"


def test_number_of_turns_an_internal_id_back_into_its_number(engine: Engine) -> None:
    with engine.begin() as conn:
        made = resolve.ensure(conn, [subject_ref(PERSON, field="id")], now=NOW)
    with engine.connect() as conn:
        assert resolve.number_of(conn, made[PERSON]) == PERSON
        assert resolve.number_of(conn, uuid.uuid4()) is None
