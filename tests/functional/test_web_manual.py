"""Two officers in the console (issue 10 part 6, issue 12 part 3), through the pages on a served
gate with real mail: a police officer asks for a demerit by hand (bad input refused next to its
field) and sees it pending a second officer's approval, with no decision form of their own; a
second officer of the police approves it, and the record is written; a court officer cannot see
it. On SQLite and PostgreSQL."""

from sqlalchemy import func, select

from credence.store.orm import Record
from tests.common.signin import ALICE, Site, add_officer
from tests.functional.test_web_pages import browser, officer_in, token_of

DEMERIT = {
    "kind": "traffic_offence",
    "id_number": ALICE,
    "valid_date": "2026-02-28",
    "jurisdiction": "320505",
    "attributes": "offence_code=1345\nfine_yuan=200",
    "legal_basis": "Road Traffic Safety Law, Art. 90",
    "reason": "a roadside ticket on paper, entered by hand",
}


def by_hand(site: Site) -> int:
    with site.engine.connect() as conn:
        return conn.execute(select(func.count()).where(Record.source_record_id.like("manual-%"))).scalar_one()


def test_a_demerit_asked_in_the_console_waits_for_a_second_officer(site: Site) -> None:
    add_officer(site, "wu.lei", "police", "wu.lei@police.example")
    add_officer(site, "qian.li", "police", "qian.li@police.example", role="second_officer")
    add_officer(site, "li.ming", "court", "li.ming@court.example")
    with browser(site) as wu:
        officer_in(site, wu, "wu.lei", "wu.lei@police.example")
        form = wu.get("/officers/manual-actions/new")
        assert form.status_code == 200
        bad = wu.post("/officers/manual-actions", data={"csrf": token_of(form), **DEMERIT, "valid_date": "2026-02-30"})
        assert bad.status_code == 422
        assert 'id="valid_date-error"' in bad.text
        assert 'value="2026-02-30"' in bad.text  # what was typed stays
        lines = wu.post("/officers/manual-actions", data={"csrf": token_of(form), **DEMERIT, "attributes": "fine"})
        assert 'id="attributes-error"' in lines.text
        asked = wu.post("/officers/manual-actions", data={"csrf": token_of(form), **DEMERIT})
        assert asked.status_code == 303, asked.text
        detail = asked.headers["location"].split("?")[0]
        mine = wu.get(asked.headers["location"])
        assert "Pending a second officer" in mine.text or "待第二名官员批准" in mine.text
        assert 'action="' + detail + '/decision"' not in mine.text  # the requester is offered no decision
        assert f"{ALICE[:10]}****{ALICE[14:]}" in mine.text
        assert ALICE not in mine.text
        queue = wu.get("/officers").text
        assert detail in queue
        forced = wu.post(f"{detail}/decision", data={"csrf": token_of(mine), "outcome": "approved"})
        assert forced.status_code == 403  # asked of the library anyway: refused, and an event says so
        assert by_hand(site) == 0
    with browser(site) as judge:
        officer_in(site, judge, "li.ming", "li.ming@court.example")
        assert judge.get(detail).status_code == 403
        assert detail not in judge.get("/officers").text
    with browser(site) as qian:
        officer_in(site, qian, "qian.li", "qian.li@police.example")
        page = qian.get(detail)
        assert f'action="{detail}/decision"' in page.text
        empty = qian.post(f"{detail}/decision", data={"csrf": token_of(page), "outcome": "refused", "note": ""})
        assert (empty.status_code, 'id="note-error"' in empty.text) == (422, True)
        done = qian.post(
            f"{detail}/decision", data={"csrf": token_of(page), "outcome": "approved", "note": "stub seen"}
        )
        assert done.status_code == 303, done.text
        assert "qian.li" in qian.get(detail).text
    assert by_hand(site) == 1
