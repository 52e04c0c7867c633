"""Undoing a wrong link, on SQLite and PostgreSQL: the record it applied is withdrawn through
ingest's one write path (a later version, so the history keeps what the registry knew), the
listing and measures it brought end, the gate follows, the subject is told, the row waits again;
a clerk may link it again, and doing so twice changes nothing."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from credence import resolve
from credence.exc import CredenceError
from credence.outbox import NoticeKind
from credence.pipeline import linkage as jobs
from credence.resolve import review
from credence.screening import index as gate_index
from credence.store.orm import Event, LinkJudgement, Notice, Quarantine, Record
from tests.common.feeds import SCHEMES, Registry
from tests.common.linkage import (
    LI_NA,
    MAPPINGS,
    ZHANG_WEI,
    court_models,
    decision,
    export,
    identified,
    proposals,
    register,
)
from tests.common.state import derived

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
CASE = "(2026)苏05执101号"


@pytest.fixture
def reg(new_engine: Callable[[], Engine], tmp_path: Path) -> Registry:
    made = Registry(new_engine(), tmp_path, now=NOW)
    register(made)
    return made


@pytest.fixture
def never_linked(new_engine: Callable[[], Engine], tmp_path: Path) -> Callable[[list[dict[str, Any]]], Any]:
    """The derived state of another registry of the same store that never linked anything: the
    given court rows fed with their ID numbers."""

    def build(rows: list[dict[str, Any]]) -> Any:
        folder = tmp_path / f"clean-{len(list(tmp_path.glob('clean-*')))}"
        folder.mkdir()
        other = Registry(new_engine(), folder, now=NOW)
        register(other)
        if rows:
            other.feed("court", rows)
        return derived(other.engine)

    return build


def link(reg: Registry, *, again: bool = False) -> Any:
    linked, _ = jobs.link(
        reg.engine,
        MAPPINGS,
        SCHEMES,
        models=court_models(reg.tmp / "models"),
        now=reg.tick(),
        as_of=reg.now.date(),
        again=again,
    )
    return linked


def undo(reg: Registry, pair: int, *, by: str = "officer.zhao", reason: str = "wrong person") -> Any:
    return jobs.undo(reg.engine, SCHEMES, pair, by=by, reason=reason, now=reg.tick(), as_of=reg.now.date())


def match(reg: Registry, pair: int, *, by: str = "clerk.wang") -> Any:
    return jobs.judge(
        reg.engine, MAPPINGS, SCHEMES, pair, review.Judgement.MATCH, by=by, now=reg.tick(), as_of=reg.now.date()
    )


def flight(index: gate_index.Index, number: str, at: datetime) -> str:
    return str(index(number, "flight", {}, at=at).outcome)


def test_undo_withdraws_the_listing_and_measures_and_the_gate_follows(
    reg: Registry, never_linked: Callable[[list[dict[str, Any]]], Any]
) -> None:
    export(reg, [decision(LI_NA, "EXE-1", case=CASE)])
    assert link(reg).proposed == {"court": {"auto": 1, "review": 0, "unlinked": 0}}
    pair = proposals(reg.engine)["EXE-1"].id
    at = reg.now + timedelta(days=1)
    with reg.engine.connect() as conn:
        follower = gate_index.Follower(reg.engine, gate_index.Index(gate_index.load(conn)))
    assert flight(follower.index, LI_NA[0], at) == "restricted"
    linked_state = derived(reg.engine)
    assert linked_state["listings"]
    assert linked_state["active_measures"]

    with reg.engine.connect() as conn:
        assert review.undoable(conn, pair)  # an automatic link: the console offers its undo form
    undone, withdrawn, written = undo(reg, pair, reason="the court's 李娜 is another woman")
    with reg.engine.connect() as conn:
        assert not review.undoable(conn, pair)
    assert (undone.link, undone.by, withdrawn.retracted) == (pair, "officer.zhao", 1)
    assert written.ended or written.scores  # the subject was rescored and relisted
    follower.follow()  # one poll of the journal: a running gate polls every 0.2 s
    assert flight(follower.index, LI_NA[0], at) == "allowed"
    # exactly the derived state of a registry that never linked the row
    assert derived(reg.engine) == never_linked([])

    with reg.engine.connect() as conn:
        subject = resolve.find(conn, LI_NA[0])
        versions = conn.execute(
            select(Record.version, Record.op, Record.subject_id, Record.recorded_at)
            .where(Record.source_record_id == "EXE-1")
            .order_by(Record.version)
        ).all()
        (row,) = conn.execute(select(Quarantine.replayed_at).where(Quarantine.field == "identity")).all()
        judged = conn.execute(select(LinkJudgement.judgement, LinkJudgement.decided_by, LinkJudgement.note)).all()
        (event,) = conn.execute(select(Event.subject_id, Event.actor, Event.data).where(Event.tag == "link.undone"))
        notices = (
            conn.execute(select(Notice.facts).where(Notice.subject_id == subject, Notice.kind == NoticeKind.RECORD))
            .scalars()
            .all()
        )
    # withdrawn by a later version with a later transaction time: what was known before stays
    assert [(v, op, s) for v, op, s, _ in versions] == [(1, "assert", subject), (2, "retract", subject)]
    assert versions[1].recorded_at > versions[0].recorded_at
    assert row.replayed_at is None  # the row waits again
    assert [tuple(j) for j in judged] == [("undone", "officer.zhao", "the court's 李娜 is another woman")]
    assert event.subject_id == subject
    assert event.actor == "officer:officer.zhao"
    assert event.data == {"link": pair, "quarantine_id": proposals(reg.engine)["EXE-1"].quarantine_id, "before": "auto"}
    assert "李娜" not in str(event.data)  # the reason stays out of the permanent log
    assert [n["op"] for n in notices] == ["assert", "retract"]  # told of the record, then of its withdrawal
    # a linkage run does not apply it again by itself
    assert link(reg).applied.accepted == 0
    assert flight(follower.index, LI_NA[0], at) == "allowed"


def test_a_clerk_links_the_row_again_once_and_twice_is_the_same(
    reg: Registry, never_linked: Callable[[list[dict[str, Any]]], Any]
) -> None:
    export(reg, [decision(LI_NA, "EXE-1", case=CASE)])
    link(reg)
    pair = proposals(reg.engine)["EXE-1"].id
    undo(reg, pair)
    _, applied, _ = match(reg, pair)
    assert applied.amended == 1  # the next version: asserted again, with a new transaction time
    again = derived(reg.engine)
    assert again == never_linked([identified(LI_NA, "EXE-1", case=CASE)])
    decided, applied, _ = match(reg, pair, by="clerk.li")  # twice: nothing more
    assert applied.accepted == applied.amended == 0
    assert decided.by == "clerk.wang"
    assert derived(reg.engine) == again
    with reg.engine.connect() as conn:
        ops = conn.execute(select(Record.op).where(Record.source_record_id == "EXE-1").order_by(Record.version))
        assert list(ops.scalars()) == ["assert", "retract", "assert"]
        history = review.history(conn, pair)
    assert [(d.judgement, d.by) for d in history] == [
        (review.Judgement.UNDONE, "officer.zhao"),
        (review.Judgement.MATCH, "clerk.wang"),
    ]
    # and it can be undone again: the same derived state as never linked
    undo(reg, pair, reason="wrong again")
    assert derived(reg.engine) == never_linked([])


def test_weighed_again_an_undone_row_waits_for_a_clerk(reg: Registry) -> None:
    export(reg, [decision(LI_NA, "EXE-1", case=CASE)])
    link(reg)
    first = proposals(reg.engine)["EXE-1"]
    undo(reg, first.id)
    linked = link(reg, again=True)  # the same evidence finds the same person: never by itself again
    assert linked.proposed == {"court": {"auto": 0, "review": 1, "unlinked": 0}}
    assert linked.applied.accepted == 0
    second = proposals(reg.engine)["EXE-1"]
    assert (second.subject_id, second.outcome) == (first.subject_id, "review")
    with reg.engine.connect() as conn:
        pairs, _ = review.queue(conn)
    assert [p.link for p in pairs] == [second.id]
    with pytest.raises(CredenceError, match="newer proposal"):
        match(reg, first.id)


def test_what_cannot_be_undone(reg: Registry) -> None:
    # 张伟 without his phone: two residents fit, a clerk decides; 李娜 links by herself
    doubtful = decision(ZHANG_WEI, "EXE-2", case=CASE, address="", phone="")
    export(reg, [decision(LI_NA, "EXE-1", case=CASE), doubtful])
    link(reg)
    found = proposals(reg.engine)
    assert found["EXE-2"].outcome == "review"
    with pytest.raises(CredenceError, match="links nothing"):
        undo(reg, found["EXE-2"].id)  # waits for a clerk: nothing applied
    with pytest.raises(CredenceError, match="no such proposal"):
        undo(reg, found["EXE-2"].id + 100)
    with pytest.raises(CredenceError, match="--reason"):
        undo(reg, found["EXE-1"].id, reason="  ")
    with pytest.raises(CredenceError, match="--by"):
        undo(reg, found["EXE-1"].id, by="")
    with pytest.raises(CredenceError, match="resolve undo"), reg.engine.begin() as conn:
        review.decide(conn, found["EXE-1"].id, review.Judgement.UNDONE, by="clerk.li", now=reg.tick())
    undo(reg, found["EXE-1"].id)
    with pytest.raises(CredenceError, match="it is undone"):
        undo(reg, found["EXE-1"].id)
    match(reg, found["EXE-2"].id)
    with pytest.raises(CredenceError, match="resolve undo"), reg.engine.begin() as conn:
        review.decide(conn, found["EXE-2"].id, review.Judgement.NO_MATCH, by="clerk.li", now=reg.tick())
    undo(reg, found["EXE-2"].id)  # a clerk's match is undone the same way
    with reg.engine.connect() as conn:
        query = select(Record.source_record_id, Record.op).where(Record.kind == "defaulter_listing_decision")
        newest = dict(conn.execute(query.order_by(Record.version)).all())
    assert newest == {"EXE-1": "retract", "EXE-2": "retract"}
    with pytest.raises(Exception, match=r"append-only|permission|link_judgements"), reg.engine.begin() as conn:
        conn.execute(text("DELETE FROM link_judgements"))
