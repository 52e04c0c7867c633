"""The officers' console: an agency officer signs in with a one-time code (``accounts.signin``,
as ``/v1/officers/sign-in/*``), sees their agency's disputes by deadline, reads each one's
statement, evidence and record history, and answers it (``dueprocess.disputes.decide``, as
``POST /v1/disputes/{id}/decision``). An officer acts for their own agency only: another's
dispute is refused with 403, its contents never shown.
"""

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.responses import Response

from credence.accounts.codes import LockedOutError
from credence.accounts.officers import Officer
from credence.accounts.sessions import OFFICER, SessionRefusedError
from credence.disputes import case, rows
from credence.disputes.rows import Filed
from credence.dueprocess import disputes
from credence.dueprocess.disputes import Correction
from credence.exc import FieldError, NotAuthorisedError, NotFoundError
from credence.model.time import legal_date
from credence.web import dossier, i18n, security
from credence.web.portal import forged
from credence.web.render import lang_of, page, redirect
from credence.web.site import Site, of, over_allowance

router = APIRouter(include_in_schema=False)
COOKIE = "credence_officer"
MAX_NOTE = 2000


def _officer(request: Request, site: Site) -> Officer | None:
    try:
        return site.accounts.officer_session(request.cookies.get(COOKIE), now=site.clock())[1]
    except SessionRefusedError:
        return None


def _stale() -> Response:
    response = redirect("/officers/sign-in?stale=1")
    response.delete_cookie(COOKIE, path="/")
    return response


async def _fields(request: Request, site: Site) -> dict[str, str]:
    form = await request.form()
    security.check(site.csrf_key, request, form.get(security.CSRF_FIELD))
    return {k: v[:MAX_NOTE] for k, v in form.items() if isinstance(v, str) and k != security.CSRF_FIELD}


@router.get("/officers/sign-in")
def sign_in_page(request: Request, stale: int = 0) -> Response:
    return page(request, "console/sign_in.html", {"stale": bool(stale), "error": None, "name": ""})


@router.post("/officers/sign-in")
async def ask_code(request: Request, background: BackgroundTasks) -> Response:
    site = of(request)
    try:
        name = (await _fields(request, site)).get("name", "").strip()[:100]
    except security.ForgedFormError:
        return forged(request)
    if wait := over_allowance(request):
        t = i18n.words(lang_of(request))
        context = {"stale": False, "error": f"{t['err_busy']} {int(wait) + 1}", "name": name}
        return page(request, "console/sign_in.html", context, status=429)
    now = site.clock()
    try:
        pending = site.accounts.ask(OFFICER, name, now=now)
    except FieldError:
        t = i18n.words(lang_of(request))
        return page(request, "console/sign_in.html", {"stale": False, "error": t["err_name"], "name": name}, status=422)
    if pending is not None:
        background.add_task(site.accounts.deliver, pending, now=now)
    return page(request, "console/code.html", {"name": name, "error": None})


@router.post("/officers/sign-in/code")
async def exchange_code(request: Request) -> Response:
    site = of(request)
    try:
        fields = await _fields(request, site)
    except security.ForgedFormError:
        return forged(request)
    name, code = fields.get("name", "").strip()[:100], fields.get("code", "").strip()[:16]
    t = i18n.words(lang_of(request))
    if wait := over_allowance(request):
        return page(
            request, "console/code.html", {"name": name, "error": f"{t['err_busy']} {int(wait) + 1}"}, status=429
        )
    try:
        opened = site.accounts.sign_in(OFFICER, name, code, now=site.clock())
    except LockedOutError as locked:
        error = f"{t['err_locked']} {locked.until:%Y-%m-%d %H:%M:%S} UTC"
        return page(request, "console/code.html", {"name": name, "error": error}, status=429)
    except FieldError:
        return page(request, "console/code.html", {"name": name, "error": t["err_code"]}, status=422)
    response = redirect("/officers")
    max_age = int(site.accounts.policy.max_age.total_seconds())
    security.cookie(request, response, COOKIE, opened.token, secure_cookies=site.secure_cookies, max_age=max_age)
    return response


@router.post("/officers/sign-out")
async def sign_out(request: Request) -> Response:
    site = of(request)
    try:
        await _fields(request, site)
    except security.ForgedFormError:
        return forged(request)
    try:
        session, _ = site.accounts.officer_session(request.cookies.get(COOKIE), now=site.clock())
        site.accounts.sign_out(session, now=site.clock())
    except SessionRefusedError:
        pass
    response = redirect("/officers/sign-in")
    response.delete_cookie(COOKIE, path="/")
    return response


def _labelled(t: dict[str, str], found: list[Filed], today: date) -> list[dict[str, Any]]:  # Any: view data
    shown = []
    for d in found:
        view = dossier.dispute(d, today)
        view["state_label"] = t.get(f"state_{view['state']}", view["state"])
        for s in view["steps"]:
            s["label"] = t[f"step_{s['step']}"]
        shown.append(view)
    return shown


@router.get("/officers")
def queue(request: Request) -> Response:
    site = of(request)
    officer = _officer(request, site)
    if officer is None:
        return _stale()
    today = legal_date(site.clock())
    with site.engine.connect() as conn:
        found = rows.listed(conn, agency=officer.agency, limit=500)
    t = i18n.words(lang_of(request))
    # the open ones first, the nearest deadline first: what must be answered soonest
    found.sort(key=lambda d: (d.state != rows.OPEN or d.lapsed(today), d.respond_by, d.filed_at))
    context = {"officer": officer, "disputes": _labelled(t, found, today)}
    return page(request, "console/queue.html", context)


def _mine(site: Site, officer: Officer, dispute_id: uuid.UUID) -> Filed:
    with site.engine.connect() as conn:
        found = rows.get(conn, dispute_id)
    if found is None:
        raise NotFoundError("no such dispute")
    if found.source != officer.agency:
        raise NotAuthorisedError("another agency's dispute")
    return found


def _detail(
    request: Request, officer: Officer, found: Filed, *, error: str | None, status: int, answered: bool = False
) -> Response:
    site = of(request)
    t = i18n.words(lang_of(request))
    today = legal_date(site.clock())
    with site.engine.connect() as conn:
        held = case.case(conn, found.id)
    view = _labelled(t, [found], today)[0]
    answerable = view["state"] == rows.OPEN
    context = {
        "officer": officer,
        "d": view,
        "case": held,
        "answerable": answerable,
        "error": error,
        "answered": answered,
    }
    return page(request, "console/dispute.html", context, status=status)


def _refused(request: Request, exc: Exception) -> Response:
    t = i18n.words(lang_of(request))
    if isinstance(exc, NotAuthorisedError):
        return page(request, "public/missing.html", {"message": t["not_yours"]}, status=403)
    return page(request, "public/missing.html", {"message": t["not_found"]}, status=404)


@router.get("/officers/disputes/{dispute_id}")
def dispute(request: Request, dispute_id: uuid.UUID) -> Response:
    site = of(request)
    officer = _officer(request, site)
    if officer is None:
        return _stale()
    try:
        found = _mine(site, officer, dispute_id)
    except (NotFoundError, NotAuthorisedError) as exc:
        return _refused(request, exc)
    answered = request.query_params.get("answered") == "1"
    return _detail(request, officer, found, error=None, status=200, answered=answered)


@router.get("/officers/disputes/{dispute_id}/evidence/{file_id}")
def evidence(request: Request, dispute_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    site = of(request)
    officer = _officer(request, site)
    if officer is None:
        return _stale()
    try:
        _mine(site, officer, dispute_id)
    except (NotFoundError, NotAuthorisedError) as exc:
        return _refused(request, exc)
    with site.engine.connect() as conn:
        found = case.evidence(conn, dispute_id, file_id)
    if found is None:
        return _refused(request, NotFoundError("no such file"))
    media_type, content = found
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(media_type, "bin")
    headers = {"Content-Disposition": f'attachment; filename="evidence-{file_id}.{extension}"'}
    return security.secure(Response(content, media_type=media_type, headers=headers))


@router.post("/officers/disputes/{dispute_id}/decision")
async def decide(request: Request, dispute_id: uuid.UUID) -> Response:
    site = of(request)
    officer = _officer(request, site)
    if officer is None:
        return _stale()
    try:
        fields = await _fields(request, site)
    except security.ForgedFormError:
        return forged(request)
    try:
        found = _mine(site, officer, dispute_id)
    except (NotFoundError, NotAuthorisedError) as exc:
        return _refused(request, exc)
    t = i18n.words(lang_of(request))
    outcome, note = fields.get("outcome", ""), fields.get("note", "").strip()
    if outcome not in ("upheld", "rejected"):
        return _detail(request, officer, found, error=t["err_outcome"], status=422)
    if outcome == "rejected" and not note:
        return _detail(request, officer, found, error=t["err_note"], status=422)
    upheld = outcome == "upheld"
    try:
        disputes.decide(
            site.engine,
            dispute_id,
            agency=officer.agency,
            officer=officer.name,
            officer_id=officer.id,
            upheld=upheld,
            note=note,
            correction=Correction(retract=True) if upheld else None,
            now=site.clock(),
        )
    except NotAuthorisedError as exc:
        return _refused(request, exc)
    except FieldError:
        return _detail(request, officer, found, error=t["err_dispute"], status=422)
    return redirect(f"/officers/disputes/{dispute_id}?answered=1")
