"""The clerk's linkage queue in the officers' console (issue 11 part 2, issue 12), through the
pages on a served gate with real mail: the residents' committee's officer sees the pairs its
roster left in doubt, side by side and masked, judges one no match and one a match (CSRF like
every console form; the match applies the row at once, as `credence resolve decide` does), and
reads each pair's judgements; undoes a wrong match with a reason (the record withdrawn) and
matches it again; the court's officer gets 403 for them. On SQLite and PostgreSQL."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from credence.resolve import review
from credence.store.orm import Event, Record, Subject
from credence.web import security
from tests.common.feeds import Registry
from tests.common.linkage import hours_of
from tests.common.linkage_queue import CONNECTORS, ZHANG_WEI, ZHANG_WEI_TOO, doubtful_pairs
from tests.common.mail import MailCatcher, SmsCatcher
from tests.common.signin import Clock, Site, add_officer, application, serving
from tests.functional.test_web_pages import browser, officer_in, token_of


@pytest.fixture
def clerks(engine: Engine, tmp_path: Path) -> Iterator[Site]:
    reg = Registry(engine, tmp_path, now=datetime(2026, 11, 27, 4, 0, tzinfo=UTC))
    doubtful_pairs(reg)
    clock = Clock(reg.now + timedelta(hours=1))
    with (
        MailCatcher(tmp_path / "mail") as mail,
        SmsCatcher(tmp_path / "sms.jsonl") as sms,
        serving(application(engine, clock, mail, sms, connectors_dir=str(CONNECTORS))) as base,
    ):
        site = Site(base, clock, mail, sms, engine)
        add_officer(site, "zhou.min", "community", "zhou.min@community.example")
        add_officer(site, "li.ming", "court", "li.ming@court.example")
        yield site


def test_the_agencys_officer_judges_its_pairs_side_by_side(clerks: Site) -> None:
    with clerks.engine.connect() as conn:
        first, second = (p.link for p in review.queue(conn)[0])
    with browser(clerks) as zhou:
        officer_in(clerks, zhou, "zhou.min", "zhou.min@community.example")
        assert 'href="/officers/linkage"' in zhou.get("/officers").text
        listed = zhou.get("/officers/linkage")
        assert listed.status_code == 200
        assert "待核对的记录关联" in listed.text  # zh-CN first
        assert f'href="/officers/linkage/{first}"' in listed.text
        assert f'href="/officers/linkage/{second}"' in listed.text
        assert "<code>张*</code>" in listed.text
        assert "<code>1980-03-**</code>" in listed.text
        for whole in ("张伟", "1980-03-14", ZHANG_WEI, ZHANG_WEI_TOO):  # masked identifiers only
            assert whole not in listed.text
        pair = zhou.get(f"/officers/linkage/{first}")
        assert pair.status_code == 200
        assert f'action="/officers/linkage/{first}/decision"' in pair.text
        assert "尚未核对" in pair.text  # no judgement yet
        assert "<code>birth_date</code>" in pair.text  # the reasons
        forged = zhou.post(f"/officers/linkage/{first}/decision", data={"outcome": "match"})
        assert forged.status_code == 403
        empty = zhou.post(f"/officers/linkage/{first}/decision", data={"csrf": token_of(pair), "outcome": "maybe"})
        assert (empty.status_code, 'id="outcome-error"' in empty.text) == (422, True)
        no = zhou.post(f"/officers/linkage/{first}/decision", data={"csrf": token_of(pair), "outcome": "no_match"})
        assert no.status_code == 303, no.text
        judged = zhou.get(no.headers["location"])
        assert "核对结果已记录" in judged.text
        assert "<strong>不匹配</strong> (核对人 zhou.min)" in judged.text
        assert hours_of(clerks.engine, ZHANG_WEI) == hours_of(clerks.engine, ZHANG_WEI_TOO) == []
        assert f'href="/officers/linkage/{first}"' not in zhou.get("/officers/linkage").text  # judged: off the queue
        yes = zhou.post(f"/officers/linkage/{second}/decision", data={"csrf": token_of(pair), "outcome": "match"})
        assert yes.status_code == 303, yes.text
        done = zhou.get(f"/officers/linkage/{second}")
        assert "<strong>匹配</strong> (核对人 zhou.min)" in done.text
        assert f'action="/officers/linkage/{second}/decision"' not in done.text  # an applied match is final here
        again = zhou.post(f"/officers/linkage/{second}/decision", data={"csrf": token_of(pair), "outcome": "no_match"})
        assert (again.status_code, 'id="pair-error"' in again.text) == (422, True)  # the library refuses undoing
        zhou.cookies.set(security.LANG_COOKIE, "en")
        english = zhou.get("/officers/linkage")
        assert "Record linkage: pairs for a clerk" in english.text
        assert "No pair waits for a clerk." in english.text
    with clerks.engine.connect() as conn:
        subject = review.pair(conn, second).subject
        number = conn.execute(select(Subject.id_number).where(Subject.id == subject)).scalar_one()
        actors = conn.execute(select(Event.actor).where(Event.tag == "link.judged").order_by(Event.seq)).scalars()
        assert list(actors) == ["clerk:zhou.min", "clerk:zhou.min"]
        assert [(d.judgement, d.by) for d in review.history(conn, second)] == [(review.Judgement.MATCH, "zhou.min")]
    assert hours_of(clerks.engine, number) == ["COM-2"]  # the match applied the row at once


def test_another_agencys_officer_gets_403_for_a_pair(clerks: Site) -> None:
    with clerks.engine.connect() as conn:
        first = review.queue(conn)[0][0].link
    with browser(clerks) as judge:
        officer_in(clerks, judge, "li.ming", "li.ming@court.example")
        assert f"/officers/linkage/{first}" not in judge.get("/officers/linkage").text
        page = judge.get(f"/officers/linkage/{first}")
        assert page.status_code == 403
        assert "张*" not in page.text
        token = token_of(judge.get("/officers/linkage"))
        refused = judge.post(f"/officers/linkage/{first}/decision", data={"csrf": token, "outcome": "match"})
        assert refused.status_code == 403
        assert judge.get("/officers/linkage/999999").status_code == 404
    with clerks.engine.connect() as conn:
        assert review.history(conn, first) == []
    with browser(clerks) as nobody:
        assert nobody.get("/officers/linkage").status_code == 303  # no session: to the sign-in page


def test_the_agencys_officer_undoes_a_wrong_link_and_may_match_it_again(clerks: Site) -> None:
    with clerks.engine.connect() as conn:
        link = review.queue(conn)[0][0].link
        number = conn.execute(
            select(Subject.id_number).where(Subject.id == review.pair(conn, link).subject)
        ).scalar_one()
    with browser(clerks) as zhou:
        officer_in(clerks, zhou, "zhou.min", "zhou.min@community.example")
        pair = zhou.get(f"/officers/linkage/{link}")
        assert f'action="/officers/linkage/{link}/undo"' not in pair.text  # nothing applied yet
        matched = zhou.post(f"/officers/linkage/{link}/decision", data={"csrf": token_of(pair), "outcome": "match"})
        assert matched.status_code == 303, matched.text
        applied = zhou.get(f"/officers/linkage/{link}")
        assert f'action="/officers/linkage/{link}/undo"' in applied.text
        assert "撤销此关联" in applied.text  # zh-CN first
        assert hours_of(clerks.engine, number) == ["COM-1"]
        token = token_of(applied)
        forged = zhou.post(f"/officers/linkage/{link}/undo", data={"reason": "wrong man"})
        assert forged.status_code == 403
        empty = zhou.post(f"/officers/linkage/{link}/undo", data={"csrf": token, "reason": "  "})
        assert (empty.status_code, 'id="reason-error"' in empty.text) == (422, True)
        assert hours_of(clerks.engine, number) == ["COM-1"]  # refused: nothing changed
        with clerks.engine.connect() as conn:
            assert [d.judgement for d in review.history(conn, link)] == [review.Judgement.MATCH]
        undone = zhou.post(f"/officers/linkage/{link}/undo", data={"csrf": token, "reason": "两个张伟：住址不同"})
        assert undone.status_code == 303, undone.text
        assert undone.headers["location"] == f"/officers/linkage/{link}?undone=1"
        shown = zhou.get(undone.headers["location"])
        assert "关联已撤销" in shown.text
        assert "<strong>已撤销</strong> (核对人 zhou.min). 撤销理由: 两个张伟：住址不同" in shown.text
        assert f'action="/officers/linkage/{link}/undo"' not in shown.text
        assert f'action="/officers/linkage/{link}/decision"' in shown.text  # an undone pair may be matched again
        assert hours_of(clerks.engine, number) == []  # the record withdrawn
        twice = zhou.post(f"/officers/linkage/{link}/undo", data={"csrf": token, "reason": "again"})
        assert (twice.status_code, 'id="pair-error"' in twice.text) == (422, True)  # nothing to undo now
        zhou.cookies.set(security.LANG_COOKIE, "en")
        english = zhou.get(f"/officers/linkage/{link}")
        assert "<strong>Undone</strong> (By zhou.min). Why the link is wrong: 两个张伟：住址不同" in english.text
        again = zhou.post(f"/officers/linkage/{link}/decision", data={"csrf": token, "outcome": "match"})
        assert again.status_code == 303, again.text
    assert hours_of(clerks.engine, number) == ["COM-1"]
    with clerks.engine.connect() as conn:
        judged = [(d.judgement, d.by) for d in review.history(conn, link)]
        assert judged == [
            (review.Judgement.MATCH, "zhou.min"),
            (review.Judgement.UNDONE, "zhou.min"),
            (review.Judgement.MATCH, "zhou.min"),
        ]
        actors = conn.execute(select(Event.actor).where(Event.tag == "link.undone")).scalars()
        assert list(actors) == ["officer:zhou.min"]
        ops = conn.execute(select(Record.op).where(Record.source_record_id == "COM-1").order_by(Record.version))
        assert list(ops.scalars()) == ["assert", "retract", "assert"]  # withdrawn, then applied again


def test_another_agencys_officer_cannot_undo_a_link(clerks: Site) -> None:
    with clerks.engine.connect() as conn:
        link = review.queue(conn)[0][0].link
    with browser(clerks) as zhou:
        officer_in(clerks, zhou, "zhou.min", "zhou.min@community.example")
        pair = zhou.get(f"/officers/linkage/{link}")
        matched = zhou.post(f"/officers/linkage/{link}/decision", data={"csrf": token_of(pair), "outcome": "match"})
        assert matched.status_code == 303, matched.text
    with browser(clerks) as judge:
        officer_in(clerks, judge, "li.ming", "li.ming@court.example")
        token = token_of(judge.get("/officers/linkage"))
        refused = judge.post(f"/officers/linkage/{link}/undo", data={"csrf": token, "reason": "not ours"})
        assert refused.status_code == 403
    with clerks.engine.connect() as conn:
        assert review.undoable(conn, link)
        assert [d.judgement for d in review.history(conn, link)] == [review.Judgement.MATCH]
