"""The journalist's story in a real browser (issue 12): the court lists him for a fine he says he
paid, with a month's grace after the notice; the airline is refused after it; he signs in with
the code the mail catcher holds, sees why, and disputes the listing through the form with a
receipt of payment, getting a receipt number; the court's officer, in the console, upholds it;
the listing ends, the airline is told by its webhook, the next check is allowed within a second,
and his portal shows each step, each notice and the airline's checks. After seeding, every step
goes through the pages, the feeds, the worker and the API; every page visited passes axe-core at
both widths and is saved as a screenshot. SQLite only: the story's stores are proven by
test_journalist_story."""

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy import Engine

from tests.common.browser import Contexts, Visitor
from tests.common.feeds import Registry
from tests.common.gate import add_provider, credence
from tests.common.hooks import HookCatcher
from tests.common.mail import MailCatcher, SmsCatcher
from tests.common.signin import Clock, Site, add_officer, application, serving
from tests.conftest import fresh_engine
from tests.functional.test_journalist_story import GRACE, JOURNALIST, WEBHOOK_KEY, at, fly, until, work

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\npaid in full on 28 February\n%%EOF\n"
EMAIL = "journalist@example.com"


@pytest.fixture
def story(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Site, Registry, HookCatcher]]:
    engine: Engine = next(gen := fresh_engine("sqlite", request, tmp_path))
    reg = Registry(engine, tmp_path, now=datetime(2026, 3, 2, 1, 0, tzinfo=UTC), schemes=GRACE)
    clock = Clock(reg.now)  # the application's: the story moves it
    with (
        MailCatcher(tmp_path / "mail") as mail,
        SmsCatcher(tmp_path / "sms.jsonl") as sms,
        HookCatcher() as airline_hook,
        serving(application(engine, clock, mail, sms)) as base,
    ):
        yield Site(base, clock, mail, sms, engine), reg, airline_hook
    next(gen, None)


def sign_in(visitor: Visitor, site: Site) -> None:
    page = visitor.pages["phone"]
    page.goto(site.base + "/sign-in")
    before = site.codes_to(EMAIL)
    page.get_by_label(re.compile("身份证号码")).fill(JOURNALIST)
    page.get_by_role("button", name="发送验证码").click()
    page.get_by_label("验证码").fill(site.code_for(EMAIL, before))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(site.base + "/me")
    visitor.pages["desktop"].context.add_cookies([c for c in page.context.cookies() if c["name"] == "credence_session"])


def test_the_journalists_story_in_a_browser(
    story: tuple[Site, Registry, HookCatcher],
    contexts: Contexts,
    chromium: Browser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site, reg, airline_hook = story
    shots = tmp_path / "screenshots"
    shots.mkdir()
    print(f"\nscreenshots: {shots}")  # noqa: T201 - where a reviewer finds them
    reg.feed("police", [{"id_number": JOURNALIST, "kind": "contact", "date": "2020-05-01", "attrs": {"email": EMAIL}}])
    fine = {"case_number": "(2026)苏05执900号", "court": "Suzhou Intermediate People's Court", "ground": 1}
    decision = {"id_number": JOURNALIST, "kind": "defaulter_listing_decision", "date": "2026-03-02", "attrs": fine}
    reg.feed("court", [{**decision, "region": ""}])
    airline = add_provider(site.engine, "airline", "flight")
    monkeypatch.setenv("CREDENCE_WEBHOOK_KEY", WEBHOOK_KEY)
    credence(site.engine, "providers", "webhook", "airline", airline_hook.url)
    add_officer(site, "li.ming", "court", "li.ming@court.example.com")

    # notified on 2 March, listed after a month's grace: the airline is refused on 3 April
    at(site, reg, datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    work(site, reg)
    assert fly(site, airline, date(2026, 3, 20))["decision"] == "allowed"
    refused = until(site, airline, date(2026, 4, 3), "restricted")

    # he signs in with the mailed code and sees why, and who checked him
    at(site, reg, datetime(2026, 4, 3, 2, 0, tzinfo=UTC))
    visitor = Visitor(site.base, shots, contexts)
    sign_in(visitor, site)
    visitor.visit("1-portal-listed", "/me")
    seen = visitor.pages["desktop"].locator("main").inner_text()
    for why in ("(2026)苏05执900号", "dishonest-judgment-defaulters", "No air travel", "airline", refused["reference"]):
        assert why in seen, why

    # he disputes the listing through the form, with the court's receipt of payment
    page = visitor.pages["phone"]
    page.get_by_role("link", name="对这条记录提出异议").last.click()
    page.get_by_label("您的说明").fill("我已于2月28日缴清罚款。")
    page.get_by_label("证据（可选）").set_input_files(
        files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="提交异议").click()
    page.wait_for_url(re.compile(r"\?filed=1$"))
    receipt = page.url.rsplit("/", 1)[1].split("?", 1)[0]
    assert "2026-04-18" in page.locator("main").inner_text()  # the court's 15 days
    visitor.check("2-dispute-receipt", "phone")

    # the court's officer upholds it in the console
    desk = chromium.new_context(viewport={"width": 1280, "height": 900})  # the court's own browser
    officer = Visitor(site.base, shots, {"desktop": desk})
    court = officer.pages["desktop"]
    court.goto(site.base + "/officers/sign-in")
    before = site.codes_to("li.ming@court.example.com")
    court.get_by_label("账号名").fill("li.ming")
    court.get_by_role("button", name="发送验证码").click()
    court.get_by_label("验证码").fill(site.code_for("li.ming@court.example.com", before))
    court.get_by_role("button", name="登录").click()
    court.wait_for_url(site.base + "/officers")
    officer.check("3-console-queue", "desktop")
    court.get_by_role("link", name=receipt).click()
    assert "我已于2月28日缴清罚款。" in court.locator("main").inner_text()
    officer.check("4-console-dispute", "desktop")
    court.get_by_label("认可：撤回这条记录").check()
    court.get_by_label("理由").fill("Paid on 28 February; listed in error.")
    court.get_by_role("button", name="提交答复").click()
    court.wait_for_url(re.compile(r"answered=1$"))
    officer.check("5-console-answered", "desktop")
    desk.close()

    # the worker refreshes him, tells the airline and delivers his notices; the gate follows
    at(site, reg, datetime(2026, 4, 3, 2, 10, tzinfo=UTC))
    work(site, reg)
    until(site, airline, date(2026, 4, 3), "allowed")
    deadline = time.monotonic() + 5
    while not airline_hook.received:
        assert time.monotonic() < deadline, "the airline was not told"
        time.sleep(0.05)
    assert [a["reference"] for a in airline_hook.received[0].payload["answers"]] == [refused["reference"]]

    # his portal shows each step, each notice delivered, and the airline's checks
    visitor.visit("6-portal-cleared", "/me")
    seen = visitor.pages["desktop"].locator("main").inner_text()
    assert "机构认可异议并更正了记录" in seen  # the dispute's last step: upheld
    assert "No air travel" not in seen  # no measure left
    for told in ("列入名单的决定", "一项措施将适用", "异议已收到", "异议的答复", "一项措施不再适用"):
        assert told in seen, told
    assert "待发送" not in seen  # every notice delivered
    # restricted once, allowed before and after; the gate records its answers a moment after
    # giving them (the inquiry log's flush), so the last may need another look
    deadline = time.monotonic() + 15
    while seen.count("airline") < 3:
        assert time.monotonic() < deadline, seen
        time.sleep(0.5)
        visitor.visit("6-portal-cleared", "/me")
        seen = visitor.pages["desktop"].locator("main").inner_text()
