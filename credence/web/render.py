"""Rendering a page: the template environment (autoescaped, strict about undefined names), the
language, the CSRF token and the security headers every page carries."""

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from credence.web import i18n, security
from credence.web.site import of

TEMPLATES = Path(__file__).parent / "templates"
ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def instant(iso: str | None) -> str:
    """An instant as a resident reads it: Beijing time to the minute, with its offset (a day
    stays a day)."""
    if not iso:
        return "-"
    if "T" not in iso:
        return iso
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M (UTC+8)")


ENV.filters["instant"] = instant


def lang_of(request: Request) -> str:
    return i18n.chosen(request.cookies.get(security.LANG_COOKIE))


def page(request: Request, template: str, context: dict[str, Any], *, status: int = 200) -> Response:
    """``template`` rendered with ``context``, the words of the page's language, a CSRF token for
    its forms and the security headers."""
    site = of(request)
    lang = lang_of(request)
    nonce = security.nonce_of(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    other = i18n.EN if lang == i18n.ZH else i18n.ZH
    html = ENV.get_template(template).render(
        t=i18n.words(lang),
        lang=lang,
        other=other,
        switch=f"/lang/{other}?next={quote(here, safe='')}",
        csrf=security.signed(site.csrf_key, nonce),
        signed_in=security.SESSION_COOKIE in request.cookies,
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    security.keep_nonce(request, response, nonce, secure_cookies=site.secure_cookies)
    return security.secure(response)


def redirect(to: str) -> Response:
    return security.secure(RedirectResponse(to, status_code=303))
