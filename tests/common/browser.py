"""What the browser tests share: Debian's Chromium under Playwright (headless, no sandbox, no
background networking or component updates, never a downloaded browser), a desktop's and a
phone's page, and the checks every visited page passes: axe-core with no serious or critical
violation, no Content-Security-Policy violation, no script, and a screenshot saved."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
WIDTHS = {"desktop": 1280, "phone": 375}
AXE = Axe()
SERIOUS = {"serious", "critical"}
Contexts = dict[str, BrowserContext]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde" + bytes(64)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: make test-browser installs it (apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def contexts(chromium: Browser) -> Iterator[dict[str, BrowserContext]]:
    made = {name: chromium.new_context(viewport={"width": w, "height": 900}) for name, w in WIDTHS.items()}
    yield made
    for context in made.values():
        context.close()


class Visitor:
    """A page at each width, checked the same way each time."""

    def __init__(self, base: str, shots: Path, contexts: Contexts) -> None:
        self.base, self.shots = base, shots
        self.pages: dict[str, Page] = {}
        self.violations: list[str] = []
        for name, context in contexts.items():
            page = context.new_page()
            page.on("console", self._console)
            self.pages[name] = page

    def _console(self, message: object) -> None:
        text = getattr(message, "text", "")
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.violations.append(text)

    def check(self, name: str, width: str) -> Page:
        page = self.pages[width]
        page.screenshot(path=str(self.shots / f"{name}-{width}.png"), full_page=True)
        assert "<script" not in page.content()
        found = AXE.run(page)
        bad = [v for v in found.response["violations"] if v.get("impact") in SERIOUS]
        assert not bad, f"{name} at {width}:\n" + found.generate_report()
        assert not self.violations, self.violations
        return page

    def visit(self, name: str, path: str, *, status: int = 200) -> None:
        for width, page in self.pages.items():
            answer = page.goto(self.base + path)
            assert answer is not None
            assert answer.status == status, (path, answer.status)
            assert "default-src 'none'" in answer.headers["content-security-policy"]
            self.check(name, width)
