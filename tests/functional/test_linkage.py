"""Record linkage end to end, on SQLite and PostgreSQL: rows without an ID number wait in
quarantine, link to the right resident with the shipped model (automatically above the doubt
band, through a clerk inside it, never below it), and apply through ingest's one write path."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from credence.exc import CredenceError
from credence.ingest import unidentified
from credence.ingest.loader import load_file
from credence.ingest.mapping import Constant, Fields, Identity, KindMap, Mapping
from credence.pipeline import linkage as jobs
from credence.resolve import model_files, review
from credence.store.orm import Event, Link, LinkJudgement, Quarantine, Record, Subject
from tests.common.feeds import SCHEMES, Registry
from tests.common.linkage import LI_NA, LIU_LIHUA, WANG_FANG, ZHANG_WEI, ZHANG_WEI_TOO, hours_of, register

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
MODELS = model_files.SHIPPED
COMMUNITY = Mapping(
    source="community",
    format="jsonl",
    file="community.jsonl",
    fields=Fields(source_record_id="id", valid_date="date", jurisdiction=Constant(value="320505")),
    identity=Identity(name="name", birth_date="born", district="district", address="address", phone="phone"),
    kind=KindMap(value="volunteer_hours"),
    attributes={"hours": "hours", "year": "year"},
    legal_basis={"volunteer_hours": "test basis"},
)


def roster(reg: Registry, entries: list[dict[str, Any]]) -> None:
    path = reg.tmp / "community.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for n, entry in enumerate(entries, 1):
            row = {"id": f"COM-{n}", "date": "2026-02-01", "hours": 12, "year": 2025, **entry}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    result = load_file(reg.engine, path, COMMUNITY, now=reg.tick())
    assert result.reasons == {"identity": len(entries)}, result.reasons  # every row waits for linkage
    assert result.accepted == 0


def link(reg: Registry) -> unidentified.Linked:
    linked, _ = jobs.link(
        reg.engine, {"community": COMMUNITY}, SCHEMES, models=MODELS, now=reg.tick(), as_of=reg.now.date()
    )
    return linked


def proposals(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {row.source_record_id: row for row in conn.execute(select(Link).order_by(Link.id))}


def entry(person: tuple[Any, ...], **changes: Any) -> dict[str, Any]:
    _, name, born, district, street, phone = person
    row = {"name": name, "born": born.isoformat(), "district": district, "address": street, "phone": phone or ""}
    return {**row, **changes}


@pytest.fixture
def reg(engine: Engine, tmp_path: Path) -> Registry:
    made = Registry(engine, tmp_path, now=NOW)
    register(made)
    return made


def test_sure_rows_link_by_themselves_and_apply_through_the_write_path(reg: Registry) -> None:
    roster(
        reg,
        [
            entry(LI_NA),  # as registered
            entry(LI_NA, name="李娜", born="1975-02-08"),  # day and month transposed
            entry(WANG_FANG, name="王芳", born="1991-06-09", phone=""),  # a year off, no phone
            entry(LIU_LIHUA, name="劉麗華"),  # traditional characters
            entry(LIU_LIHUA, name="Lihua Liu"),  # pinyin, given name first
        ],
    )
    linked = link(reg)
    assert linked.proposed == {"community": {"auto": 5, "review": 0, "unlinked": 0}}
    assert linked.models == {"community": model_files.latest("community", MODELS).name}  # type: ignore[union-attr]
    assert hours_of(reg.engine, LI_NA[0]) == ["COM-1", "COM-2"]
    assert hours_of(reg.engine, WANG_FANG[0]) == ["COM-3"]
    assert hours_of(reg.engine, LIU_LIHUA[0]) == ["COM-4", "COM-5"]
    found = proposals(reg.engine)
    waterfall = found["COM-4"].contributions
    assert waterfall["name"]["level"] == "same characters"  # 劉麗華 is 刘丽华
    assert found["COM-5"].contributions["name"]["level"] == "surname and given name swapped"
    assert found["COM-2"].contributions["birth_date"]["level"] == "day and month transposed"
    assert found["COM-3"].contributions["birth_date"]["level"] == "year one off"
    for row in found.values():  # the waterfall adds up to the weight
        steps = row.contributions
        total = steps["prior"] + sum(steps[c]["weight"] for c in ("name", "birth_date", "address", "phone"))
        assert total == pytest.approx(row.match_weight, abs=1e-3)
    with reg.engine.connect() as conn:
        waiting = conn.execute(select(Quarantine.replayed_at).where(Quarantine.field == "identity")).scalars().all()
        tags = conn.execute(select(Event.tag, Event.actor).where(Event.tag.in_(["link.proposed", "record.replayed"])))
        assert all(at is not None for at in waiting)
        assert sorted(set(tags)) == [("link.proposed", "resolve"), ("record.replayed", "resolve:link")]
    assert link(reg).proposed == {}  # weighed once: nothing is weighed or applied twice


def test_a_homophone_links_by_pinyin_and_the_model_says_so(reg: Registry) -> None:
    roster(reg, [entry(WANG_FANG, name="王方")])  # 芳 and 方 are both fang
    link(reg)
    (found,) = proposals(reg.engine).values()
    assert found.contributions["name"]["level"] == "same pinyin (homophone or variant)"
    assert found.outcome == "auto"
    assert hours_of(reg.engine, WANG_FANG[0]) == ["COM-1"]


def test_two_people_of_one_name_and_birthday_wait_for_a_clerk(reg: Registry) -> None:
    # just 张伟 and his birth date: two residents fit, so however strong the weight, a clerk decides
    roster(reg, [{"name": "张伟", "born": "1980-03-14", "district": "320505", "address": "", "phone": ""}])
    assert link(reg).proposed == {"community": {"auto": 0, "review": 1, "unlinked": 0}}
    (found,) = proposals(reg.engine).values()
    assert found.margin == pytest.approx(0.0)
    assert hours_of(reg.engine, ZHANG_WEI[0]) == hours_of(reg.engine, ZHANG_WEI_TOO[0]) == []  # no effect


def test_a_stranger_is_left_unlinked_and_stays_in_quarantine(reg: Registry) -> None:
    roster(
        reg, [{"name": "欧阳娜娜", "born": "2001-01-01", "district": "320505", "address": "人民路99号", "phone": ""}]
    )
    assert link(reg).proposed == {"community": {"auto": 0, "review": 0, "unlinked": 1}}
    with reg.engine.connect() as conn:
        (row,) = conn.execute(select(Quarantine).where(Quarantine.field == "identity")).all()
    assert row.replayed_at is None
    assert "awaiting record linkage" in row.reason


def test_the_clerk_decides_and_every_judgement_stays(reg: Registry) -> None:
    roster(
        reg,
        [
            {"name": "张伟", "born": "1980-03-14", "district": "320505", "address": "", "phone": ""},
            # his phone tells which 张伟 this is: linked by itself
            {"name": "张伟", "born": "1980-03-14", "district": "", "address": "", "phone": "13812345678"},
        ],
    )
    link(reg)
    with reg.engine.connect() as conn:
        pairs, waiting = review.queue(conn)
    assert waiting == len(pairs) == 1
    (pair,) = pairs
    assert pair.source_record_id == "COM-1"
    assert pair.record["name"] == "张*"
    assert pair.record["born"] == "1980-03-**"
    assert "张伟" not in json.dumps([pair.record, pair.candidate], ensure_ascii=False)
    assert pair.reasons[0][0] in {"name", "birth_date", "address", "phone"}
    mapping = {"community": COMMUNITY}
    # a no-match first: nothing applies, the pair leaves the queue
    jobs.judge(
        reg.engine,
        mapping,
        SCHEMES,
        pair.link,
        review.Judgement.NO_MATCH,
        by="clerk.li",
        now=reg.tick(),
        as_of=reg.now.date(),
    )
    with reg.engine.connect() as conn:
        assert review.queue(conn) == ([], 0)
    assert hours_of(reg.engine, ZHANG_WEI[0]) == ["COM-2"]
    assert hours_of(reg.engine, ZHANG_WEI_TOO[0]) == []
    # then a match by another clerk: the row applies to the candidate, at once
    _, applied, _ = jobs.judge(
        reg.engine,
        mapping,
        SCHEMES,
        pair.link,
        review.Judgement.MATCH,
        by="clerk.wang",
        now=reg.tick(),
        as_of=reg.now.date(),
    )
    assert applied.accepted == 1
    with reg.engine.connect() as conn:
        number = conn.execute(select(Subject.id_number).where(Subject.id == pair.subject)).scalar_one()
        history = review.history(conn, pair.link)
        rows = conn.execute(select(LinkJudgement.judgement, LinkJudgement.decided_by).order_by(LinkJudgement.id)).all()
        events = conn.execute(select(Event.actor).where(Event.tag == "link.judged").order_by(Event.seq)).scalars().all()
    assert "COM-1" in hours_of(reg.engine, number)
    assert [(d.judgement, d.by) for d in history] == [
        (review.Judgement.NO_MATCH, "clerk.li"),
        (review.Judgement.MATCH, "clerk.wang"),
    ]
    assert [tuple(r) for r in rows] == [("no_match", "clerk.li"), ("match", "clerk.wang")]
    assert events == ["clerk:clerk.li", "clerk:clerk.wang"]
    # an applied match is not taken back by a no-match (an officer undoes it), and judgements are append-only
    with pytest.raises(CredenceError, match="resolve undo"), reg.engine.begin() as conn:
        review.decide(conn, pair.link, review.Judgement.NO_MATCH, by="clerk.li", now=reg.tick())
    with pytest.raises(Exception, match=r"append-only|permission|link_judgements"), reg.engine.begin() as conn:
        conn.execute(text("UPDATE link_judgements SET judgement = 'no_match'"))


def test_a_clerk_cannot_judge_a_sure_or_unknown_pair(reg: Registry) -> None:
    roster(reg, [entry(LI_NA)])
    link(reg)
    (found,) = proposals(reg.engine).values()
    with reg.engine.begin() as conn, pytest.raises(CredenceError, match=r"not review|the doubtful"):
        review.decide(conn, found.id, review.Judgement.MATCH, by="clerk.li", now=reg.tick())
    with reg.engine.begin() as conn, pytest.raises(CredenceError, match="no such proposal"):
        review.decide(conn, found.id + 100, review.Judgement.MATCH, by="clerk.li", now=reg.tick())
    with reg.engine.connect() as conn:
        assert conn.execute(select(Record.id).where(Record.kind == "volunteer_hours")).all()
