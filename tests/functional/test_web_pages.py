"""The pages over HTTP, on a served gate (uvicorn in a thread, ``create_app`` with a test's
clock, real mail): every page sends a strict Content-Security-Policy; the public record reads
without signing in; a subject signs in through the forms with the code mailed to them and reads
only their own file; a form without its token, or with another's, is refused with 403; cookies
are HttpOnly and SameSite; a stale session goes back to sign-in. On SQLite and PostgreSQL."""

import json
import re

import httpx
import pytest

from credence.web import i18n
from tests.common.signin import ALICE, BOB, Site, add_officer

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
PUBLIC = ["/", "/record/statistics", "/record/rulebooks", "/record/measures", "/record/log", "/sign-in"]


def browser(site: Site) -> httpx.Client:
    return httpx.Client(base_url=site.base, timeout=30, follow_redirects=False)


def token_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, "the page carries no form token"
    return found.group(1)


def sign_in(site: Site, client: httpx.Client, id_number: str, to: str) -> httpx.Response:
    before = site.codes_to(to)
    asked = client.post("/sign-in", data={"csrf": token_of(client.get("/sign-in")), "id_number": id_number})
    assert asked.status_code == 200, asked.text
    code = site.code_for(to, before)
    return client.post("/sign-in/code", data={"csrf": token_of(asked), "id_number": id_number, "code": code})


def test_every_public_page_reads_without_signing_in_under_a_strict_policy(site: Site) -> None:
    with browser(site) as client:
        for path in PUBLIC:
            page = client.get(path)
            assert page.status_code == 200, (path, page.text[:300])
            policy = page.headers["content-security-policy"]
            assert "default-src 'none'" in policy
            assert "script-src" not in policy
            assert "frame-ancestors 'none'" in policy
            assert page.headers["x-content-type-options"] == "nosniff"
            assert '<html lang="zh-CN">' in page.text
            assert 'href="/static/credence.css"' in page.text
            assert "http://" not in page.text.split("<main")[0]  # no asset from elsewhere
        assert client.get("/static/credence.css").status_code == 200


def test_the_english_switch_keeps_the_page_and_refuses_to_leave_the_site(site: Site) -> None:
    with browser(site) as client:
        switched = client.get("/lang/en", params={"next": "/record/measures"})
        assert switched.status_code == 303
        assert switched.headers["location"] == "/record/measures"
        page = client.get("/record/measures")
        assert '<html lang="en">' in page.text
        assert "Every measure and its legal basis" in page.text
        assert client.get("/lang/en", params={"next": "//evil.example/"}).headers["location"] == "/"


def test_the_statistics_say_what_they_count_and_chart_it(site: Site) -> None:
    with browser(site) as client:
        page = client.get("/record/statistics").text
    assert '<svg role="img"' in page
    assert "<rect" in page
    assert i18n.MESSAGES[i18n.ZH]["what_listed"] in page
    assert "<td>2</td>" in page  # Alice and Bob, listed in 2026


def test_the_rulebooks_show_every_version_with_its_effective_date(site: Site) -> None:
    with browser(site) as client:
        index = client.get("/record/rulebooks").text
        assert "national-defaulters" in index
        assert "2017" in index
        book = client.get("/record/rulebooks/national-defaulters").text
        assert i18n.MESSAGES[i18n.ZH]["no_diff"] in book
        assert "effective_from" in book
        assert client.get("/record/rulebooks/no-such-scheme").status_code == 404


def test_a_subject_signs_in_through_the_forms_and_reads_their_own_file(site: Site) -> None:
    with browser(site) as client:
        done = sign_in(site, client, ALICE, "alice@example.com")
        assert done.status_code == 303
        assert done.headers["location"] == "/me"
        cookie = done.headers["set-cookie"]
        assert "credence_session=cs_" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        page = client.get("/me")
        assert page.status_code == 200, page.text[:300]
        assert "(2025)苏05执321号" in page.text  # Alice's case
        assert "(2025)苏05执322号" not in page.text  # never Bob's
        assert "dishonest-judgment-defaulters" in page.text
        download = client.get("/me/file.json")
        assert download.headers["content-disposition"].startswith("attachment;")
        whole = download.json()
        assert [listing["case_number"] for listing in whole["listings"]] == ["(2025)苏05执321号"]
        assert whole["notices"]
        assert all(n["state"] for n in whole["notices"])
        assert "(2025)苏05执322号" not in json.dumps(whole, ensure_ascii=False)


def test_no_url_shows_another_subjects_file(site: Site) -> None:
    with browser(site) as client:
        assert sign_in(site, client, BOB, "bob@example.com").status_code == 303
        record = client.get("/me/file.json").json()["listings"][0]["decision_record"]
        bob = site.sign_in(BOB, "bob@example.com")  # files his dispute over the API (its form is to come)
        made = site.post("/v1/disputes", {"record_id": record, "statement": "I paid."}, bob)
        assert made.status_code == 201, made.text
        receipt = made.json()["receipt"]
        mine = client.get(f"/me/disputes/{receipt}")
        assert mine.status_code == 200
        assert receipt in mine.text
    with browser(site) as client:
        assert sign_in(site, client, ALICE, "alice@example.com").status_code == 303
        other = client.get(f"/me/disputes/{receipt}")
        assert other.status_code == 404
        assert receipt not in other.text.split("<main")[1]
        seen = client.get("/me").text + client.get("/me/file.json").text
        assert receipt not in seen
        assert record not in seen
        assert "(2025)苏05执322号" not in seen


def test_a_form_without_its_token_or_with_anothers_is_refused(site: Site) -> None:
    with browser(site) as client:
        client.get("/sign-in")
        assert client.post("/sign-in", data={"id_number": ALICE}).status_code == 403
        assert client.post("/sign-in", data={"id_number": ALICE, "csrf": "0" * 64}).status_code == 403
        with browser(site) as other:
            theirs = token_of(other.get("/sign-in"))
        assert client.post("/sign-in", data={"id_number": ALICE, "csrf": theirs}).status_code == 403
        assert client.post("/sign-out", data={}).status_code == 403
    with browser(site) as fresh:  # a forged post from elsewhere carries no cookie at all
        assert fresh.post("/sign-in", data={"id_number": ALICE, "csrf": theirs}).status_code == 403


def test_bad_input_is_refused_next_to_the_field(site: Site) -> None:
    with browser(site) as client:
        page = client.post("/sign-in", data={"csrf": token_of(client.get("/sign-in")), "id_number": "1234"})
        assert page.status_code == 422
        assert 'id="id_number-error"' in page.text
        assert 'aria-invalid="true"' in page.text
        asked = client.post("/sign-in", data={"csrf": token_of(page), "id_number": ALICE})
        wrong = client.post("/sign-in/code", data={"csrf": token_of(asked), "id_number": ALICE, "code": "000000"})
        assert wrong.status_code == 422
        assert 'id="code-error"' in wrong.text


def test_a_stale_or_missing_session_goes_back_to_sign_in(site: Site) -> None:
    with browser(site) as client:
        assert client.get("/me").headers["location"] == "/sign-in?stale=1"
        assert sign_in(site, client, ALICE, "alice@example.com").status_code == 303
        assert client.get("/me").status_code == 200
        site.clock.tick(hours=13)  # past the longest a session lives
        gone = client.get("/me")
        assert gone.status_code == 303
        assert gone.headers["location"] == "/sign-in?stale=1"
        assert client.get("/me/file.json").status_code == 303


def test_signing_out_ends_the_session(site: Site) -> None:
    with browser(site) as client:
        assert sign_in(site, client, ALICE, "alice@example.com").status_code == 303
        page = client.get("/me")
        out = client.post("/sign-out", data={"csrf": token_of(page)})
        assert out.status_code == 303
        assert client.get("/me").status_code == 303


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_both_languages_have_every_word(lang: str) -> None:
    assert set(i18n.MESSAGES[lang]) == set(i18n.MESSAGES[i18n.ZH])
    assert all(i18n.MESSAGES[lang].values())


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde" + b"\x00" * 64
)


def test_a_subject_files_a_dispute_through_the_form_and_gets_a_receipt(site: Site) -> None:
    with browser(site) as bob:
        assert sign_in(site, bob, BOB, "bob@example.com").status_code == 303
        bobs = bob.get("/me/file.json").json()["listings"][0]["decision_record"]
    with browser(site) as client:
        assert sign_in(site, client, ALICE, "alice@example.com").status_code == 303
        record = client.get("/me/file.json").json()["listings"][0]["decision_record"]
        form = client.get(f"/me/disputes/new?record={record}")
        assert form.status_code == 200
        assert f'value="{record}"' in form.text

        def send(
            fields: dict[str, str], files: list[tuple[str, tuple[str, bytes, str]]] | None = None
        ) -> httpx.Response:
            token = token_of(client.get("/me/disputes/new"))
            return client.post(
                "/me/disputes",
                data={"csrf": token, **fields},
                files=files or [("evidence", ("", b"", "application/octet-stream"))],
            )

        empty = send({"record_id": record, "statement": "  "})
        assert empty.status_code == 422
        assert 'id="statement-error"' in empty.text
        typed = send(
            {"record_id": record, "statement": "I paid."},
            [("evidence", ("receipt.pdf", b"not a pdf at all", "application/pdf"))],
        )
        assert typed.status_code == 422
        assert 'id="evidence-error"' in typed.text
        assert "I paid." in typed.text  # what was typed stays in its field
        theirs = send({"record_id": bobs, "statement": "Not mine."})
        assert theirs.status_code == 422
        assert 'id="record_id-error"' in theirs.text
        assert send({"record_id": "R-1", "statement": "x"}).status_code == 422
        many = send(
            {"record_id": record, "statement": "x"}, [("evidence", (f"{i}.png", PNG, "image/png")) for i in range(9)]
        )
        assert many.status_code == 422
        assert 'id="evidence-error"' in many.text
        forged = client.post(
            "/me/disputes",
            data={"record_id": record, "statement": "I paid."},
            files=[("evidence", ("a.png", PNG, "image/png"))],
        )
        assert forged.status_code == 403
        filed = send(
            {"record_id": record, "statement": "I paid on 1 March."}, [("evidence", ("receipt.png", PNG, "image/png"))]
        )
        assert filed.status_code == 303, filed.text
        receipt = client.get(filed.headers["location"])
        assert receipt.status_code == 200
        assert 'role="status"' in receipt.text
        assert re.search(r"D\d{8}-[0-9A-Z]{8}", receipt.text)
        assert client.get("/me/file.json").json()["disputes"][0]["state"] == "open"


def officer_in(site: Site, client: httpx.Client, name: str, to: str) -> None:
    before = site.codes_to(to)
    asked = client.post("/officers/sign-in", data={"csrf": token_of(client.get("/officers/sign-in")), "name": name})
    assert asked.status_code == 200, asked.text
    code = site.code_for(to, before)
    done = client.post("/officers/sign-in/code", data={"csrf": token_of(asked), "name": name, "code": code})
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/officers"


def test_an_officer_reads_and_answers_their_agencys_disputes_and_no_others(site: Site) -> None:
    add_officer(site, "li.ming", "court", "li.ming@court.example")
    add_officer(site, "wang.fang", "tax", "wang.fang@tax.example")
    with browser(site) as alice:
        assert sign_in(site, alice, ALICE, "alice@example.com").status_code == 303
        record = alice.get("/me/file.json").json()["listings"][0]["decision_record"]
        token = token_of(alice.get("/me/disputes/new"))
        fields = {"csrf": token, "record_id": record, "statement": "I paid on 1 March."}
        filed = alice.post("/me/disputes", data=fields, files=[("evidence", ("receipt.png", PNG, "image/png"))])
        assert filed.status_code == 303, filed.text
        receipt = filed.headers["location"].split("/")[-1].split("?")[0]
        with browser(site) as court:
            assert court.get("/officers").headers["location"] == "/officers/sign-in?stale=1"
            officer_in(site, court, "li.ming", "li.ming@court.example")
            queue = court.get("/officers")
            assert receipt in queue.text
            path = re.search(r'href="(/officers/disputes/[0-9a-f-]{36})"', queue.text)
            assert path
            detail = court.get(path[1])
            assert "I paid on 1 March." in detail.text
            assert "defaulter_listing_decision" in detail.text
            file = re.search(r'href="(/officers/disputes/[0-9a-f-]{36}/evidence/[0-9a-f-]{36})"', detail.text)
            assert file
            got = court.get(file[1])
            assert got.content == PNG
            assert got.headers["content-type"] == "image/png"
            assert got.headers["content-disposition"].startswith("attachment;")
            with browser(site) as tax:
                officer_in(site, tax, "wang.fang", "wang.fang@tax.example")
                assert receipt not in tax.get("/officers").text
                other = tax.get(path[1])
                assert other.status_code == 403
                assert "I paid" not in other.text
                assert tax.get(file[1]).status_code == 403
                decision = {"csrf": token_of(tax.get("/officers")), "outcome": "upheld"}
                assert tax.post(f"{path[1]}/decision", data=decision).status_code == 403
            token = token_of(detail)
            bare = court.post(f"{path[1]}/decision", data={"csrf": token, "outcome": "rejected", "note": ""})
            assert bare.status_code == 422
            assert 'id="note-error"' in bare.text
            assert court.post(f"{path[1]}/decision", data={"outcome": "upheld"}).status_code == 403
            done = court.post(f"{path[1]}/decision", data={"csrf": token, "outcome": "upheld", "note": "Paid."})
            assert done.status_code == 303, done.text
            answered = court.get(done.headers["location"])
            assert 'role="status"' in answered.text
            assert "/decision" not in answered.text  # closed: no form
            again = court.post(f"{path[1]}/decision", data={"csrf": token, "outcome": "upheld", "note": "Paid."})
            assert again.status_code == 422
        mine = alice.get("/me/file.json").json()["disputes"][0]
        assert mine["state"] == "upheld"
        assert [s["step"] for s in mine["steps"]][-1] == "upheld"
