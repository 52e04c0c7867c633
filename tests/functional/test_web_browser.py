"""The pages in a real browser: Debian's Chromium, driven by Playwright (headless, no sandbox, no
background networking or component updates, never a downloaded browser), against ``credence
serve`` on loopback with the registry's own mail catcher. Every page visited is checked with
axe-core for serious and critical violations, at a desktop's width and at a phone's (375 px),
must raise no Content-Security-Policy violation and run no script, and is saved as a screenshot
under the module's output folder (printed). One seeded server serves the whole module."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from credence.pipeline.rulebooks import register
from tests.common.browser import PNG, Contexts, Visitor
from tests.common.editions import three_editions
from tests.common.feeds import Registry, person_id
from tests.common.gate import add_provider, credence, registry_for_module, serve
from tests.common.linkage_queue import CONNECTORS, doubtful_pairs
from tests.common.mail import MailCatcher, SmsCatcher
from tests.common.signin import ALICE, BOB, SENDER, Clock, Site, contact, decision, officer_sign_in

pytestmark = pytest.mark.browser

PUBLIC = {
    "home": "/",
    "statistics": "/record/statistics",
    "rulebooks": "/record/rulebooks",
    "rulebook-diff": "/record/rulebooks/suzhou-osmanthus",
    "measures": "/record/measures",
    "log": "/record/log",
    "sign-in": "/sign-in",
}


@dataclass
class Served:
    site: Site
    shots: Path
    bob_receipt: str
    provider_key: str


def _seed(tmp: Path, engine: object) -> None:
    reg = Registry(engine, tmp, now=datetime(2026, 3, 1, 8, 0, tzinfo=UTC))  # type: ignore[arg-type]
    residence = {"kind": "residence", "date": "2019-01-01", "attrs": {"region": "320505", "status": "registered"}}
    reg.feed(
        "police", [contact(ALICE, email="alice@example.com", phone="13912345678"), {**residence, "id_number": ALICE}]
    )
    reg.feed("police", [contact(BOB, email="bob@example.com", phone="13987654321")])
    donations = [
        {"id_number": ALICE, "kind": "blood_donation", "date": f"202{i}-03-01", "attrs": {"volume_ml": 400}}
        for i in range(3, 6)
    ]
    reg.feed("blood_bank", donations)
    # tax arrears a year and a half old: a year's minimum period run, its three years to count not
    arrears = (datetime.now(UTC) - timedelta(days=540)).date().isoformat()
    reg.feed("tax", [{"id_number": ALICE, "kind": "tax_arrears", "date": arrears, "attrs": {"amount_yuan": 12000}}])
    reg.feed("court", [decision(ALICE, "(2025)苏05执321号"), decision(BOB, "(2025)苏05执322号")])
    others = [
        decision(person_id(date(1970 + i % 30, 1 + i % 12, 1 + i % 27), seq=100 + i), f"(2024)苏05执{i}号")
        for i in range(8)
    ]
    reg.feed("court", [{**row, "date": "2024-05-01"} for row in others])
    with reg.engine.begin() as conn:  # a scheme with three published versions, for the diff
        register(conn, {"suzhou-osmanthus": three_editions()}, now=reg.tick())
    doubtful_pairs(reg, rows=1)  # a residents' committee's roster row for its officer to judge


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("browser")
    shots = tmp / "screenshots"
    shots.mkdir()
    print(f"\nscreenshots: {shots}")  # noqa: T201 - where a reviewer finds them
    with registry_for_module("sqlite", sqlite_template, tmp) as engine:
        _seed(tmp, engine)
        key = add_provider(engine, "airline", "flight")
        credence(engine, "officers", "add", "li.ming", "--agency", "court", "--email", "li.ming@court.example")
        credence(engine, "officers", "add", "wang.fang", "--agency", "tax", "--email", "wang.fang@tax.example")
        credence(engine, "officers", "add", "wu.lei", "--agency", "police", "--email", "wu.lei@police.example")
        second = ("--email", "qian.li@police.example", "--role", "second_officer")
        credence(engine, "officers", "add", "qian.li", "--agency", "police", *second)
        credence(
            engine, "officers", "add", "zhou.min", "--agency", "community", "--email", "zhou.min@community.example"
        )
        with MailCatcher(tmp / "mail") as mail, SmsCatcher(tmp / "sms.jsonl") as sms:
            env = {
                "CREDENCE_SMTP_URL": mail.url,
                "CREDENCE_SMS_URL": sms.url,
                "CREDENCE_MAIL_FROM": SENDER,
                "CREDENCE_SIGN_IN_KEY": "browser-test-" + "k" * 32,
                "CREDENCE_CONNECTORS_DIR": str(CONNECTORS),
            }
            with serve(engine, tmp, env=env) as gate:
                site = Site(gate.base, Clock(datetime.now(UTC)), mail, sms, engine)
                checked = site.post("/v1/checks", {"subject": ALICE, "action": "flight"}, key)
                assert checked.json()["decision"] == "restricted", checked.text
                bob = site.sign_in(BOB, "bob@example.com")  # Bob disputes his listing over the API
                record = _decision_record(site, bob)
                filed = site.post("/v1/disputes", {"record_id": record, "statement": "I paid."}, bob)
                assert filed.status_code == 201, filed.text
                yield Served(site, shots, filed.json()["receipt"], key)


def _decision_record(site: Site, token: str) -> str:
    """The id of the court's decision about the token's subject, as their file gives it."""
    whole = httpx.get(f"{site.base}/me/file.json", cookies={"credence_session": token}, timeout=30)
    record: str = whole.json()["listings"][0]["decision_record"]
    return record


def test_the_public_record_reads_and_passes_axe_in_both_languages(served: Served, contexts: Contexts) -> None:
    visitor = Visitor(served.site.base, served.shots, contexts)
    for name, path in PUBLIC.items():
        visitor.visit(f"zh-{name}", path)
    desktop = visitor.pages["desktop"]
    desktop.goto(served.site.base + "/record/statistics")
    assert desktop.locator("svg[role=img] rect").count() > 0
    assert "(2025)" not in desktop.content()  # counts, never a case
    desktop.goto(served.site.base + "/record/rulebooks/suzhou-osmanthus")
    assert desktop.locator("pre.diff .add").count() > 0
    for page in visitor.pages.values():
        page.get_by_role("link", name="English").click()
        assert page.locator("html").get_attribute("lang") == "en"
    for name, path in PUBLIC.items():
        visitor.visit(f"en-{name}", path)


def test_a_resident_signs_in_reads_their_file_and_nothing_of_anothers(served: Served, contexts: Contexts) -> None:
    site = served.site
    visitor = Visitor(served.site.base, served.shots, contexts)
    page = visitor.pages["phone"]
    page.goto(site.base + "/sign-in")
    page.get_by_label(re.compile("身份证号码")).fill("1234")
    page.get_by_role("button", name="发送验证码").click()
    assert page.locator("#id_number-error").is_visible()
    visitor.check("sign-in-bad-id", "phone")
    before = site.codes_to("alice@example.com")
    page.get_by_label(re.compile("身份证号码")).fill(ALICE)
    page.get_by_role("button", name="发送验证码").click()
    code = site.code_for("alice@example.com", before)
    visitor.check("sign-in-code", "phone")
    page.get_by_label("验证码").fill(f"{(int(code) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="登录").click()
    assert page.locator("#code-error").is_visible()
    visitor.check("sign-in-wrong-code", "phone")
    page.get_by_label("验证码").fill(code)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(site.base + "/me")
    session = next(c for c in page.context.cookies() if c["name"] == "credence_session")
    assert session["httpOnly"]
    assert session["sameSite"] == "Lax"
    desktop = visitor.pages["desktop"]
    desktop.context.add_cookies([session])  # the same resident on a desktop
    # Alice disputes her listing through the form the listing links to, with a file of evidence
    page.get_by_role("link", name="对这条记录提出异议").last.click()
    page.get_by_role("button", name="提交异议").click()  # no statement: refused next to the field
    assert page.locator("#statement-error").is_visible()
    visitor.check("dispute-form-empty", "phone")
    page.get_by_label("您的说明").fill("我已于3月1日缴清罚款。")
    page.get_by_label("证据（可选）").set_input_files(
        files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.get_by_role("button", name="提交异议").click()
    page.wait_for_url(re.compile(r"/me/disputes/D\d{8}-\w{8}\?filed=1$"))
    receipt = page.url.rsplit("/", 1)[1].split("?", 1)[0]
    assert receipt in page.locator("[role=status]").inner_text()
    visitor.check("dispute-receipt", "phone")
    visitor.visit("portal", "/me")
    text = desktop.locator("main").inner_text()
    for seen in ("(2025)苏05执321号", "airline", receipt, "blood", "dishonest-judgment-defaulters"):
        assert seen in text, seen
    assert "(2025)苏05执322号" not in text
    assert served.bob_receipt not in text
    visitor.visit("dispute", f"/me/disputes/{receipt}")
    # the printable file is long: axe reads it once, at a desktop's width; the phone's is photographed
    page.goto(site.base + "/me/file")
    page.screenshot(path=str(served.shots / "file-printable-phone.png"), full_page=True)
    desktop.goto(site.base + "/me/file")
    visitor.check("file-printable", "desktop")
    desktop.emulate_media(media="print")  # what the printable file looks like on paper
    desktop.screenshot(path=str(served.shots / "file-printable-print.png"), full_page=True)
    assert desktop.locator("header.top nav").is_hidden()
    desktop.emulate_media(media="screen")
    visitor.visit("another-residents-dispute", f"/me/disputes/{served.bob_receipt}", status=404)
    assert served.bob_receipt not in desktop.locator("main").inner_text()
    download = desktop.request.get(site.base + "/me/file.json")
    assert "(2025)苏05执322号" not in download.text()
    assert served.bob_receipt not in download.text()


def test_the_courts_officer_reads_and_answers_a_dispute_in_the_console(served: Served, contexts: Contexts) -> None:
    site = served.site
    visitor = Visitor(served.site.base, served.shots, contexts)
    page = visitor.pages["phone"]
    visitor.visit("console-sign-in", "/officers/sign-in")
    before = site.codes_to("li.ming@court.example")
    page.get_by_label("账号名").fill("li.ming")
    page.get_by_role("button", name="发送验证码").click()
    page.get_by_label("验证码").fill(site.code_for("li.ming@court.example", before))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(site.base + "/officers")
    visitor.pages["desktop"].context.add_cookies([c for c in page.context.cookies() if c["name"] == "credence_officer"])
    visitor.visit("console-queue", "/officers")
    page.get_by_role("link", name=served.bob_receipt).click()
    detail = page.url.removeprefix(site.base)
    visitor.visit("console-dispute", detail)
    assert "I paid." in page.locator("main").inner_text()
    page.get_by_role("button", name="提交答复").click()  # no decision chosen: refused
    assert page.locator("#decision-error").is_visible()
    visitor.check("console-dispute-no-choice", "phone")
    page.get_by_label("驳回").check()
    page.get_by_label("理由").fill("法院记录显示罚款尚未缴纳。")
    page.get_by_role("button", name="提交答复").click()
    page.wait_for_url(re.compile(r"answered=1$"))
    assert page.locator("[role=status]").is_visible()
    visitor.check("console-dispute-answered", "phone")
    assert page.get_by_role("button", name="提交答复").count() == 0


def test_a_resident_applies_for_credit_repair_and_the_tax_officer_grants_it(served: Served, contexts: Contexts) -> None:
    site = served.site
    visitor = Visitor(site.base, served.shots, contexts)
    page = visitor.pages["phone"]
    resident = {"name": "credence_session", "value": site.sign_in(ALICE, "alice@example.com"), "url": site.base}
    page.context.add_cookies([resident])  # type: ignore[list-item]  # playwright's SetCookieParam
    page.goto(site.base + "/me#repairs")
    page.get_by_role("link", name="申请修复这条记录").click()
    assert "arrears and late fees paid" in page.locator("main").inner_text()  # the conditions, before applying
    visitor.check("repair-form", "phone")
    page.get_by_role("button", name="提交申请").click()  # no statement: refused next to the field
    assert page.locator("#statement-error").is_visible()
    visitor.check("repair-form-empty", "phone")
    page.get_by_label("您的说明").fill("欠税和滞纳金已全部缴清。")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/me/repairs/R\d{8}-\w{8}\?filed=1$"))
    receipt = page.url.rsplit("/", 1)[1].split("?", 1)[0]
    assert receipt in page.locator("[role=status]").inner_text()
    visitor.check("repair-receipt", "phone")

    officer = Visitor(site.base, served.shots, contexts)
    token = officer_sign_in(site, "wang.fang", "wang.fang@tax.example")
    for tab in officer.pages.values():
        tab.context.add_cookies([{"name": "credence_officer", "value": token, "url": site.base}])
    desk = officer.pages["desktop"]
    desk.goto(site.base + "/officers")
    desk.get_by_role("link", name=receipt).click()
    officer.visit("console-repair", desk.url.removeprefix(site.base))
    desk.get_by_label("批准：条件均已确认").check()
    desk.get_by_role("button", name="提交答复").click()  # no condition confirmed: refused next to them
    assert desk.locator("#confirmed-error").is_visible()
    officer.check("console-repair-unconfirmed", "desktop")
    desk.get_by_label("arrears and late fees paid").check()
    desk.get_by_role("button", name="提交答复").click()
    desk.wait_for_url(re.compile(r"decided=1$"))
    assert desk.locator("[role=status]").is_visible()
    officer.check("console-repair-granted", "desktop")
    page.goto(site.base + f"/me/repairs/{receipt}")
    assert "已批准" in page.locator("main").inner_text()


def _console_sign_in(visitor: Visitor, site: Site, name: str, email: str) -> None:
    """Sign ``name`` in to the console on the phone's page; the desktop's shares the cookie."""
    page = visitor.pages["phone"]
    page.context.clear_cookies()
    visitor.pages["desktop"].context.clear_cookies()
    page.goto(site.base + "/officers/sign-in")
    before = site.codes_to(email)
    page.get_by_label("账号名").fill(name)
    page.get_by_role("button", name="发送验证码").click()
    page.get_by_label("验证码").fill(site.code_for(email, before))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(site.base + "/officers")
    visitor.pages["desktop"].context.add_cookies([c for c in page.context.cookies() if c["name"] == "credence_officer"])


def test_a_demerit_by_hand_waits_for_the_second_officer_in_the_console(served: Served, contexts: Contexts) -> None:
    site = served.site
    visitor = Visitor(site.base, served.shots, contexts)
    page = visitor.pages["phone"]
    _console_sign_in(visitor, site, "wu.lei", "wu.lei@police.example")
    visitor.visit("console-manual-form", "/officers/manual-actions/new")
    page.get_by_label("记录类型").fill("traffic_offence")
    page.get_by_label("身份证号码或统一社会信用代码").fill(ALICE)
    page.get_by_label("事实发生日期（YYYY-MM-DD）").fill("2026-02-30")
    page.get_by_label("行政区划代码").fill("320505")
    page.get_by_label("属性（每行一项：名称=值）").fill("offence_code=1345\nfine_yuan=200")
    page.get_by_label("法律依据").fill("Road Traffic Safety Law, Art. 90")
    page.get_by_label("为何人工录入").fill("a roadside ticket on paper")
    page.get_by_role("button", name="提交，等待批准").click()
    assert page.locator("#valid_date-error").is_visible()  # 30 February: refused next to the field
    visitor.check("console-manual-form-refused", "phone")
    page.get_by_label("事实发生日期（YYYY-MM-DD）").fill("2026-02-28")
    page.get_by_role("button", name="提交，等待批准").click()
    page.wait_for_url(re.compile(r"asked=1$"))
    assert "待第二名官员批准" in page.locator("main").inner_text()
    detail = page.url.removeprefix(site.base).split("?")[0]
    visitor.check("console-manual-pending", "phone")
    assert page.get_by_role("button", name="提交答复").count() == 0  # the requester decides nothing
    _console_sign_in(visitor, site, "qian.li", "qian.li@police.example")
    visitor.visit("console-manual-queue", "/officers")
    visitor.visit("console-manual-decide", detail)
    page.get_by_label("批准：写入这条记录").check()
    page.get_by_role("button", name="提交答复").click()
    page.wait_for_url(re.compile(r"decided=1$"))
    assert "已批准并生效" in page.locator("main").inner_text()
    visitor.check("console-manual-approved", "phone")


def test_the_committees_officer_judges_a_linkage_pair_in_the_console(served: Served, contexts: Contexts) -> None:
    site = served.site
    visitor = Visitor(site.base, served.shots, contexts)
    page = visitor.pages["phone"]
    _console_sign_in(visitor, site, "zhou.min", "zhou.min@community.example")
    page.get_by_role("link", name="记录关联核对").click()
    page.wait_for_url(site.base + "/officers/linkage")
    visitor.visit("console-linkage-queue", "/officers/linkage")
    assert "张*" in page.locator("main").inner_text()  # masked, never the whole name
    assert "张伟" not in page.content()
    page.get_by_role("link", name=re.compile(r"^配对 \d+$")).click()
    detail = page.url.removeprefix(site.base)
    visitor.visit("console-linkage-pair", detail)
    page.get_by_role("button", name="提交答复").click()  # nothing chosen: refused next to the choice
    assert page.locator("#outcome-error").is_visible()
    visitor.check("console-linkage-unchosen", "phone")
    page.get_by_label("是同一人：匹配（该记录立即生效）").check()
    page.get_by_role("button", name="提交答复").click()
    page.wait_for_url(re.compile(r"decided=1$"))
    assert "核对结果已记录" in page.locator("[role=status]").inner_text()
    assert "zhou.min" in page.locator("main").inner_text()  # the judgement's history
    assert page.get_by_role("button", name="提交答复").count() == 0  # a match is final here
    visitor.check("console-linkage-matched", "phone")
    page.get_by_role("link", name="English").click()
    assert "The judgement is recorded." in page.locator("[role=status]").inner_text()
    visitor.check("console-linkage-matched-en", "phone")
