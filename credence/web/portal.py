"""The subject's portal: signing in with a one-time code (``accounts.signin``, as the API's
``/v1/sign-in/*`` does), then their own file (``dossier``), its printable page, its JSON download
and each dispute.

A session's token lives in an HttpOnly cookie; every page reads the subject from it alone, so
no URL can name another subject: a dispute's page is found by receipt among the signed-in
subject's own disputes, and anyone else's is "not found".
"""

import json
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.responses import Response

from credence.accounts.codes import LockedOutError
from credence.accounts.sessions import SUBJECT, Session, SessionRefusedError
from credence.disputes import rows as disputes
from credence.exc import FieldError
from credence.model.time import legal_date
from credence.web import dossier, i18n, security
from credence.web.render import lang_of, page, redirect
from credence.web.site import Site, of, over_allowance

router = APIRouter(include_in_schema=False)
MAX_FIELD = 64  # an ID number or a code; anything longer is a mistake, never worth parsing


async def _form(request: Request, site: Site) -> dict[str, str]:
    """The form's fields (single values, cut to ``MAX_FIELD``), once its CSRF token is checked."""
    form = await request.form()
    security.check(site.csrf_key, request, form.get(security.CSRF_FIELD))
    return {k: v[:MAX_FIELD].strip() for k, v in form.items() if isinstance(v, str) and k != security.CSRF_FIELD}


def forged(request: Request) -> Response:
    return page(request, "portal/forged.html", {}, status=403)


def session_of(request: Request, site: Site) -> Session | None:
    try:
        return site.accounts.subject_session(request.cookies.get(security.SESSION_COOKIE), now=site.clock())
    except SessionRefusedError:
        return None


def stale() -> Response:
    response = redirect("/sign-in?stale=1")
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response


@router.get("/sign-in")
def sign_in_page(request: Request, stale: int = 0) -> Response:
    return page(request, "portal/sign_in.html", {"stale": bool(stale), "error": None, "id_number": ""})


@router.post("/sign-in")
async def ask_code(request: Request, background: BackgroundTasks) -> Response:
    """Book a code and send it after the answer (the same page whatever the account)."""
    site = of(request)
    try:
        fields = await _form(request, site)
    except security.ForgedFormError:
        return forged(request)
    given = fields.get("id_number", "")
    t = i18n.words(lang_of(request))
    if wait := over_allowance(request):
        context = {"stale": False, "error": f"{t['err_busy']} {int(wait) + 1}", "id_number": given}
        return page(request, "portal/sign_in.html", context, status=429)
    now = site.clock()
    try:
        pending = site.accounts.ask(SUBJECT, given, now=now)
    except FieldError:
        context = {"stale": False, "error": t["err_id"], "id_number": given}
        return page(request, "portal/sign_in.html", context, status=422)
    if pending is not None:
        background.add_task(site.accounts.deliver, pending, now=now)
    return page(request, "portal/code.html", {"id_number": given, "error": None})


@router.post("/sign-in/code")
async def exchange_code(request: Request) -> Response:
    site = of(request)
    try:
        fields = await _form(request, site)
    except security.ForgedFormError:
        return forged(request)
    given, code = fields.get("id_number", ""), fields.get("code", "")
    t = i18n.words(lang_of(request))
    if wait := over_allowance(request):
        error = f"{t['err_busy']} {int(wait) + 1}"
        return page(request, "portal/code.html", {"id_number": given, "error": error}, status=429)
    try:
        opened = site.accounts.sign_in(SUBJECT, given, code, now=site.clock())
    except LockedOutError as locked:
        error = f"{t['err_locked']} {locked.until:%Y-%m-%d %H:%M:%S} UTC"
        return page(request, "portal/code.html", {"id_number": given, "error": error}, status=429)
    except FieldError as refused:
        if refused.field != "code":
            context = {"stale": False, "error": t["err_id"], "id_number": given}
            return page(request, "portal/sign_in.html", context, status=422)
        return page(request, "portal/code.html", {"id_number": given, "error": t["err_code"]}, status=422)
    response = redirect("/me")
    max_age = int(site.accounts.policy.max_age.total_seconds())
    security.cookie(
        request, response, security.SESSION_COOKIE, opened.token, secure_cookies=site.secure_cookies, max_age=max_age
    )
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    site = of(request)
    try:
        await _form(request, site)
    except security.ForgedFormError:
        return forged(request)
    session = session_of(request, site)
    if session is not None:
        site.accounts.sign_out(session, now=site.clock())
    response = redirect("/")
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response


def _file(site: Site, session: Session) -> dict[str, Any]:  # Any: JSON
    assert session.subject is not None  # noqa: S101 - a subject's session always names its subject
    with site.engine.connect() as conn:
        return dossier.gather(conn, session.subject, now=site.clock())


def _labelled(t: dict[str, str], found: dict[str, Any]) -> dict[str, Any]:  # Any: JSON
    """The file with each state, kind and step in the page's words (the download keeps the codes)."""
    for n in found["notices"]:
        n["kind_label"] = t.get(f"kind_{n['kind']}", n["kind"])
        n["state_label"] = t.get(f"state_{n['state']}", n["state"])
    for a in found["inquiries"]:
        a["decision_label"] = t.get(a["decision"], a["decision"])
    for d in found["disputes"]:
        d["state_label"] = t.get(f"state_{d['state']}", d["state"])
        for s in d["steps"]:
            s["label"] = t[f"step_{s['step']}"]
    for listing in found["listings"]:
        listing["role_label"] = t.get(f"role_{listing['role']}", listing["role"])
        listing["status_label"] = t.get(listing["status"], listing["status"])
    for a in found["repairs"]:
        repair_labelled(t, a)
    found["measures"] = [
        m | {"effect_label": t[f"effect_{m['effect']}"]} for listing in found["listings"] for m in listing["measures"]
    ]
    return found


def repair_labelled(t: dict[str, str], view: dict[str, Any]) -> dict[str, Any]:  # Any: JSON
    """A repair application's view with its state and steps in the page's words."""
    view["state_label"] = t[f"repair_state_{view['state']}"]
    for s in view["steps"]:
        s["label"] = t[f"repair_step_{s['step']}"]
    return view


@router.get("/me")
def me(request: Request) -> Response:
    site = of(request)
    session = session_of(request, site)
    if session is None:
        return stale()
    t = i18n.words(lang_of(request))
    return page(request, "portal/me.html", {"file": _labelled(t, _file(site, session))})


@router.get("/me/file")
def printable(request: Request) -> Response:
    """The whole file as one page to print or save: what the download holds, readable."""
    site = of(request)
    session = session_of(request, site)
    if session is None:
        return stale()
    t = i18n.words(lang_of(request))
    return page(request, "portal/file.html", {"file": _labelled(t, _file(site, session))})


@router.get("/me/file.json")
def download(request: Request) -> Response:
    site = of(request)
    session = session_of(request, site)
    if session is None:
        return stale()
    body = json.dumps(_file(site, session), ensure_ascii=False, indent=2, default=str)
    day = legal_date(site.clock()).isoformat()
    headers = {"Content-Disposition": f'attachment; filename="credence-file-{day}.json"'}
    return security.secure(Response(body, media_type="application/json; charset=utf-8", headers=headers))


@router.get("/me/disputes/{receipt}")
def dispute(request: Request, receipt: str) -> Response:
    site = of(request)
    session = session_of(request, site)
    if session is None:
        return stale()
    t = i18n.words(lang_of(request))
    today = legal_date(site.clock())
    with site.engine.connect() as conn:
        mine = [
            dossier.dispute(d, today) for d in disputes.listed(conn, subject=session.subject) if d.receipt == receipt
        ]
    if not mine:  # another's, or none: the same answer
        return page(request, "public/missing.html", {"message": t["not_found"]}, status=404)
    for s in mine[0]["steps"]:
        s["label"] = t[f"step_{s['step']}"]
    filed = request.query_params.get("filed") == "1"
    return page(request, "portal/dispute.html", {"dispute": mine[0], "filed": filed})
