"""Credit repair, the printable file and correcting a disputed record, through the pages on a
served gate with real mail: a resident sees which records a rulebook lets them repair and from
which day, applies through the form (bad input refused next to its field) and follows the
application on /me; the tax bureau's officer reads it in the console and decides it (a grant
needs every condition confirmed, a refusal reasons), while another agency's officer is refused;
the court's officer upholds a dispute by correcting the record's attributes, and the record's
history shows the new version with its transaction time. No URL shows another resident's
application. On SQLite and PostgreSQL."""

import re
from pathlib import Path

import httpx

from tests.common.feeds import Registry
from tests.common.signin import ALICE, BOB, Site, add_officer
from tests.functional.test_web_pages import PNG, browser, officer_in, sign_in, token_of

CONDITION = "arrears and late fees paid"  # the Suzhou-style rule tax-arrears


def arrears(site: Site, tmp_path: Path, rows: list[tuple[str, str]]) -> None:
    """Seed tax-arrears records (id number, day), each repairable a year after its day, about
    residents of Suzhou (whose scheme counts them); the site's clock then passes the time the
    registry learnt them."""
    reg = Registry(site.engine, tmp_path, now=site.clock.now)
    home = {"kind": "residence", "date": "2019-01-01", "attrs": {"region": "320505", "status": "registered"}}
    reg.feed("police", [{**home, "id_number": n} for n in sorted({n for n, _ in rows})])
    feed = [{"id_number": n, "kind": "tax_arrears", "date": day, "attrs": {"amount_yuan": 12000}} for n, day in rows]
    reg.feed("tax", feed)
    site.clock.now = reg.tick()


def repairable(client: httpx.Client) -> dict[str, dict[str, object]]:
    """The file's repairable records by their day."""
    return {str(r["valid_date"]): r for r in client.get("/me/file.json").json()["repairable"]}


Files = list[tuple[str, tuple[str, bytes, str]]]


def send(client: httpx.Client, fields: dict[str, str], files: Files | None = None) -> httpx.Response:
    token = token_of(client.get("/me/repairs/new"))
    return client.post(
        "/me/repairs",
        data={"csrf": token, **fields},
        files=files or [("evidence", ("", b"", "application/octet-stream"))],
    )


def test_a_resident_applies_for_repair_and_the_tax_officer_decides_it(site: Site, tmp_path: Path) -> None:
    arrears(site, tmp_path, [(ALICE, "2025-01-15"), (ALICE, "2025-12-01"), (BOB, "2025-01-20")])
    add_officer(site, "wang.fang", "tax", "wang.fang@tax.example")
    add_officer(site, "li.ming", "court", "li.ming@court.example")
    with browser(site) as bob:
        assert sign_in(site, bob, BOB, "bob@example.com").status_code == 303
        bobs = str(repairable(bob)["2025-01-20"]["record_id"])
    with browser(site) as alice:
        assert sign_in(site, alice, ALICE, "alice@example.com").status_code == 303
        offers = repairable(alice)
        old, young = offers["2025-01-15"], offers["2025-12-01"]
        assert (old["open_now"], old["from_day"], old["conditions"]) == (True, "2026-01-15", [CONDITION])
        assert (young["open_now"], young["from_day"]) == (False, "2026-12-01")
        me = alice.get("/me").text
        assert f'href="/me/repairs/new?record={old["record_id"]}"' in me
        assert f"/me/repairs/new?record={young['record_id']}" not in me  # not yet: its first day instead
        assert "2026-12-01" in me
        assert bobs not in me

        form = alice.get(f"/me/repairs/new?record={old['record_id']}")
        assert form.status_code == 200
        assert CONDITION in form.text  # the conditions the agency will confirm, shown before applying
        theirs = alice.get(f"/me/repairs/new?record={bobs}")  # another's record: nothing of it shown
        assert 'id="record_id-error"' in theirs.text
        assert "2025-01-20" not in theirs.text
        early = alice.get(f"/me/repairs/new?record={young['record_id']}")
        assert 'id="record_id-error"' in early.text
        assert "2026-12-01" in early.text

        empty = send(alice, {"record_id": str(old["record_id"]), "statement": "  "})
        assert empty.status_code == 422
        assert 'id="statement-error"' in empty.text
        assert 'aria-invalid="true"' in empty.text
        for wrong in ("R-1", bobs, str(young["record_id"])):  # mistyped, another's, too early
            refused = send(alice, {"record_id": wrong, "statement": "Paid."})
            assert refused.status_code == 422, wrong
            assert 'id="record_id-error"' in refused.text
            assert "Paid." in refused.text  # what was typed stays
        typed = send(
            alice,
            {"record_id": str(old["record_id"]), "statement": "Paid."},
            [("evidence", ("receipt.pdf", b"plain words", "application/pdf"))],
        )
        assert typed.status_code == 422
        assert 'id="evidence-error"' in typed.text
        forged = alice.post("/me/repairs", data={"record_id": str(old["record_id"]), "statement": "Paid."})
        assert forged.status_code == 403
        filed = send(
            alice,
            {"record_id": str(old["record_id"]), "statement": "Arrears and late fees paid on 2 February."},
            [("evidence", ("receipt.png", PNG, "image/png"))],
        )
        assert filed.status_code == 303, filed.text
        receipt_page = alice.get(filed.headers["location"])
        assert 'role="status"' in receipt_page.text
        receipt = re.search(r"R\d{8}-[0-9A-Z]{8}", receipt_page.text)
        assert receipt
        again = send(alice, {"record_id": str(old["record_id"]), "statement": "Paid twice."})
        assert again.status_code == 422
        assert 'id="record_id-error"' in again.text  # one open application per record
        mine = alice.get("/me/file.json").json()
        assert [(a["receipt"], a["state"]) for a in mine["repairs"]] == [(receipt[0], "open")]
        assert repairable(alice)["2025-01-15"]["pending_receipt"] == receipt[0]
        assert receipt[0] in alice.get("/me").text

    with browser(site) as bob:  # Bob's session never reaches Alice's application
        assert sign_in(site, bob, BOB, "bob@example.com").status_code == 303
        theirs = bob.get(f"/me/repairs/{receipt[0]}")
        assert theirs.status_code == 404
        assert receipt[0] not in theirs.text.split("<main")[1]
        assert receipt[0] not in bob.get("/me").text + bob.get("/me/file").text + bob.get("/me/file.json").text

    with browser(site) as tax:
        officer_in(site, tax, "wang.fang", "wang.fang@tax.example")
        queue = tax.get("/officers").text
        assert receipt[0] in queue
        path = re.search(r'href="(/officers/repairs/[0-9a-f-]{36})"', queue)
        assert path
        detail = tax.get(path[1])
        assert "Arrears and late fees paid on 2 February." in detail.text
        assert CONDITION in detail.text
        assert "tax_arrears" in detail.text
        file = re.search(r'href="(/officers/repairs/[0-9a-f-]{36}/evidence/[0-9a-f-]{36})"', detail.text)
        assert file
        assert tax.get(file[1]).content == PNG
        with browser(site) as court:  # another agency's officer sees nothing of it and cannot decide it
            officer_in(site, court, "li.ming", "li.ming@court.example")
            assert receipt[0] not in court.get("/officers").text
            other = court.get(path[1])
            assert other.status_code == 403
            assert "2 February" not in other.text
            assert court.get(file[1]).status_code == 403
            grant = {"csrf": token_of(court.get("/officers")), "outcome": "granted", "confirmed": CONDITION}
            assert court.post(f"{path[1]}/decision", data=grant).status_code == 403
        token = token_of(detail)
        decision = f"{path[1]}/decision"
        none = tax.post(decision, data={"csrf": token})
        assert none.status_code == 422
        assert 'id="outcome-error"' in none.text
        unconfirmed = tax.post(decision, data={"csrf": token, "outcome": "granted"})
        assert unconfirmed.status_code == 422
        assert 'id="confirmed-error"' in unconfirmed.text
        bare = tax.post(decision, data={"csrf": token, "outcome": "refused", "note": " "})
        assert bare.status_code == 422
        assert 'id="note-error"' in bare.text
        assert tax.post(decision, data={"outcome": "granted", "confirmed": CONDITION}).status_code == 403
        done = tax.post(decision, data={"csrf": token, "outcome": "granted", "confirmed": CONDITION})
        assert done.status_code == 303, done.text
        decided = tax.get(done.headers["location"])
        assert 'role="status"' in decided.text
        assert "/decision" not in decided.text  # closed: no form
        closed = tax.post(decision, data={"csrf": token, "outcome": "granted", "confirmed": CONDITION})
        assert closed.status_code == 422
        assert 'id="application-error"' in closed.text

    with browser(site) as alice:
        assert sign_in(site, alice, ALICE, "alice@example.com").status_code == 303
        mine = alice.get("/me/file.json").json()["repairs"][0]
        assert mine["state"] == "granted"
        assert mine["repair_record_id"]
        assert [s["step"] for s in mine["steps"]] == ["filed", "granted"]
        shown = alice.get(f"/me/repairs/{receipt[0]}")
        assert shown.status_code == 200
        assert "已批准" in shown.text


def test_the_printable_file_holds_what_the_download_holds(site: Site) -> None:
    with browser(site) as client:
        assert client.get("/me/file").headers["location"] == "/sign-in?stale=1"
        assert sign_in(site, client, ALICE, "alice@example.com").status_code == 303
        assert 'href="/me/file"' in client.get("/me").text
        printable = client.get("/me/file")
        assert printable.status_code == 200
        assert "default-src 'none'" in printable.headers["content-security-policy"]
        whole = client.get("/me/file.json").json()
        text = printable.text
        assert "(2025)苏05执321号" in text
        assert "(2025)苏05执322号" not in text  # never Bob's
        for notice in whole["notices"]:
            assert notice["id"] in text
        for listing in whole["listings"]:
            assert listing["decision_record"] in text
        client.get("/lang/en", params={"next": "/me/file"})
        assert "My whole file" in client.get("/me/file").text
        css = client.get("/static/credence.css").text
        assert "@media print" in css
        assert "thead { display: table-header-group; }" in css


def test_an_officer_upholds_a_dispute_by_correcting_the_records_attributes(site: Site) -> None:
    add_officer(site, "li.ming", "court", "li.ming@court.example")
    with browser(site) as alice:
        assert sign_in(site, alice, ALICE, "alice@example.com").status_code == 303
        record = alice.get("/me/file.json").json()["listings"][0]["decision_record"]
        token = token_of(alice.get("/me/disputes/new"))
        fields = {"csrf": token, "record_id": record, "statement": "The case number is wrong."}
        filed = alice.post("/me/disputes", data=fields, files=[("evidence", ("", b"", "application/octet-stream"))])
        assert filed.status_code == 303, filed.text
    with browser(site) as court:
        officer_in(site, court, "li.ming", "li.ming@court.example")
        path = re.search(r'href="(/officers/disputes/[0-9a-f-]{36})"', court.get("/officers").text)
        assert path
        detail = court.get(path[1])
        assert 'id="attr_case_number"' in detail.text
        assert 'value="(2025)苏05执321号"' in detail.text  # the newest version's values to edit
        token = token_of(detail)
        current = {"csrf": token, "outcome": "corrected", "attr_case_number": "(2025)苏05执321号", "attr_ground": "1"}
        unchanged = court.post(f"{path[1]}/decision", data=current)
        assert unchanged.status_code == 422
        assert 'id="correction-error"' in unchanged.text
        wrong = court.post(f"{path[1]}/decision", data={**current, "attr_ground": "nine"})
        assert wrong.status_code == 422
        assert 'id="attr_ground-error"' in wrong.text
        assert 'value="nine"' in wrong.text  # what was typed stays in its field
        fixed = {**current, "attr_case_number": "(2025)苏05执3210号", "note": "A digit was missing."}
        done = court.post(f"{path[1]}/decision", data=fixed)
        assert done.status_code == 303, done.text
        answered = court.get(done.headers["location"]).text
        history = answered.split('aria-label="', 1)[1]
        rows = re.findall(r"<tr><td>(\d+)", history)
        assert rows == ["1", "2"]  # the correction is the record's next version; the first stays
        assert "(2025)苏05执3210号" in history
        assert history.count("(UTC+8)") >= 2  # each version with the time the registry learnt it
    with browser(site) as alice:
        assert sign_in(site, alice, ALICE, "alice@example.com").status_code == 303
        disputed = alice.get("/me/file.json").json()["disputes"][0]
        assert disputed["state"] == "upheld"
        assert disputed["correction_record_id"]
