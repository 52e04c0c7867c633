"""Two subjects found to be one person (a reissued ID number) are merged, and split again, on
SQLite and PostgreSQL: the absorbed subject's records move to the kept one through ingest's one
write path, so listings, measures and the gate follow; a split moves them back; both leave the
derived state of a registry that had received the records under the right number all along."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from credence import resolve
from credence.exc import CredenceError
from credence.pipeline import merges as jobs
from credence.resolve import merges
from credence.screening import index as gate_index
from credence.store.orm import Event, Record, SubjectMerge
from tests.common.feeds import SCHEMES, Registry, person_id
from tests.common.state import derived

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
OLD = person_id(date(1979, 5, 4), seq=71)  # the number the court knew
NEW = person_id(date(1979, 5, 4), seq=72)  # the number reissued to the same woman
OTHER = person_id(date(1985, 1, 2), seq=80)
CASE = "(2026)苏05执201号"


def decision(number: str) -> dict[str, Any]:
    attrs = {"case_number": CASE, "court": "Suzhou Intermediate People's Court", "ground": 1}
    return {
        "id": "EXE-9",
        "id_number": number,
        "kind": "defaulter_listing_decision",
        "date": "2026-02-01",
        "region": "",
        "attrs": attrs,
    }


def residence(number: str) -> dict[str, Any]:
    attrs = {"region": "320505", "status": "registered", "name": "陈静", "address": "人民路1号"}
    return {"id": f"HH-{number[-4:]}", "id_number": number, "kind": "residence", "date": "2024-01-05", "attrs": attrs}


def city(engine: Engine, tmp: Path, *, court_knows: str) -> Registry:
    """The household register knows the woman by NEW (and OTHER); the court's decision names ``court_knows``."""
    reg = Registry(engine, tmp, now=NOW)
    reg.feed("police", [residence(NEW), residence(OTHER)])
    reg.feed("court", [decision(court_knows)])
    with engine.begin() as conn:  # the old number's subject, as ingest made it
        assert resolve.find(conn, court_knows) is not None
    return reg


@pytest.fixture
def registries(new_engine: Callable[[], Engine], tmp_path: Path) -> Callable[[str], Registry]:
    def make(court_knows: str) -> Registry:
        folder = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        return city(new_engine(), folder, court_knows=court_knows)

    return make


def flight(engine: Engine, number: str) -> str:
    with engine.connect() as conn:
        index = gate_index.Index(gate_index.load(conn))
    return str(index(number, "flight", {}, at=NOW + timedelta(days=2)).outcome)


def merge(reg: Registry, kept: str = NEW, absorbed: str = OLD, **options: Any) -> Any:
    values = {"ground": merges.Ground.REISSUED, "by": "officer.zhao", "reason": "reissued after a birth-date fix"}
    return jobs.merge(reg.engine, SCHEMES, kept, absorbed, now=reg.tick(), as_of=reg.now.date(), **(values | options))


def split(reg: Registry, merge_id: int, **options: Any) -> Any:
    values = {"by": "officer.qian", "reason": "two women after all"} | options
    return jobs.split(reg.engine, SCHEMES, merge_id, now=reg.tick(), as_of=reg.now.date(), **values)


def test_a_merge_moves_the_records_and_a_split_moves_them_back(registries: Callable[[str], Registry]) -> None:
    reg = registries(OLD)
    before = derived(reg.engine)
    assert flight(reg.engine, OLD) == "restricted"
    assert flight(reg.engine, NEW) == "allowed"

    made, moved, _ = merge(reg)
    assert moved.amended == 1  # the decision, moved as its next version
    assert made.moved == [("court", "EXE-9")]
    assert flight(reg.engine, NEW) == "restricted"
    assert flight(reg.engine, OLD) == "allowed"
    assert derived(reg.engine) == derived(registries(NEW).engine)  # as if the court had known NEW

    undone, back, _ = split(reg, made.id)
    assert back.amended == 1
    assert undone.judgement == "split"
    assert flight(reg.engine, OLD) == "restricted"
    assert flight(reg.engine, NEW) == "allowed"
    assert derived(reg.engine) == before

    with reg.engine.connect() as conn:
        old, new = resolve.find(conn, OLD), resolve.find(conn, NEW)
        versions = conn.execute(
            select(Record.version, Record.subject_id).where(Record.source_record_id == "EXE-9").order_by(Record.version)
        ).all()
        rows = conn.execute(select(SubjectMerge.judgement, SubjectMerge.decided_by, SubjectMerge.note)).all()
        events = conn.execute(
            select(Event.tag, Event.subject_id, Event.data).where(Event.tag.in_(["subject.merged", "subject.split"]))
        ).all()
        assert old is not None
        history = merges.history(conn, old)
    assert [tuple(v) for v in versions] == [(1, old), (2, new), (3, old)]  # every version stays
    assert [tuple(r) for r in rows] == [
        ("merge", "officer.zhao", "reissued after a birth-date fix"),
        ("split", "officer.qian", "two women after all"),
    ]
    assert [(tag, subject) for tag, subject, _ in events] == [
        ("subject.merged", new),
        ("subject.merged", old),
        ("subject.split", new),
        ("subject.split", old),
    ]
    assert all("birth" not in str(data) and OLD not in str(data) for _, _, data in events)  # ids only
    assert [m.judgement for m in history] == ["merge", "split"]
    # merged again after the split: allowed, as a new row
    again, _, _ = merge(reg)
    assert again.id > made.id
    assert derived(reg.engine) == derived(registries(NEW).engine)
    with pytest.raises(Exception, match=r"append-only|permission|subject_merges"), reg.engine.begin() as conn:
        conn.execute(text("UPDATE subject_merges SET note = ''"))


def test_what_cannot_be_merged_or_split(registries: Callable[[str], Registry]) -> None:
    reg = registries(OLD)
    with pytest.raises(CredenceError, match="nothing to merge"):
        merge(reg, NEW, NEW)
    with pytest.raises(CredenceError, match="no subject of this number"):
        merge(reg, NEW, person_id(date(1999, 9, 9), seq=1))
    with pytest.raises(CredenceError, match="--reason"):
        merge(reg, reason=" ")
    made, _, _ = merge(reg)
    with pytest.raises(CredenceError, match="split it first"):
        merge(reg, OTHER, OLD)
    with pytest.raises(CredenceError, match="no such merge"):
        split(reg, made.id + 10)
    split(reg, made.id)
    with pytest.raises(CredenceError, match="split already"):
        split(reg, made.id)
