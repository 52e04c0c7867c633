"""The officers' console: an agency officer signs in with a one-time code (``accounts.signin``,
as ``/v1/officers/sign-in/*``), sees their agency's disputes by deadline, reads each one's
statement, evidence and record history, and answers it (``dueprocess.disputes.decide``, as
``POST /v1/disputes/{id}/decision``). An officer acts for their own agency only: another's
dispute is refused with 403, its contents never shown.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from credence.accounts import manual
from credence.accounts.codes import LockedOutError
from credence.accounts.manual import Action
from credence.accounts.officers import Officer
from credence.accounts.sessions import OFFICER, SessionRefusedError
from credence.disputes import case, rows
from credence.disputes import repairs as repair_rows
from credence.disputes.repairs import Application
from credence.disputes.rows import Filed
from credence.dueprocess import disputes, repairs
from credence.dueprocess.disputes import Correction
from credence.exc import FieldError, NotAuthorisedError, NotFoundError
from credence.model.catalogue import default_catalogue
from credence.model.time import legal_date
from credence.resolve import review
from credence.web import dossier, i18n, security
from credence.web.portal import forged, repair_labelled
from credence.web.render import lang_of, page, redirect
from credence.web.site import Site, of, over_allowance

router = APIRouter(include_in_schema=False)
K = TypeVar("K")  # a case's key: a dispute's, an application's or an action's uuid, a pair's number
T = TypeVar("T")  # the case itself
COOKIE = "credence_officer"
MAX_NOTE = 2000


def officer_of(request: Request, site: Site) -> Officer | None:
    try:
        return site.accounts.officer_session(request.cookies.get(COOKIE), now=site.clock())[1]
    except SessionRefusedError:
        return None


def stale() -> Response:
    response = redirect("/officers/sign-in?stale=1")
    response.delete_cookie(COOKIE, path="/")
    return response


def _texts(form: FormData) -> dict[str, str]:
    return {k: v[:MAX_NOTE] for k, v in form.items() if isinstance(v, str) and k != security.CSRF_FIELD}


async def fields_of(request: Request, site: Site) -> dict[str, str]:
    form = await request.form()
    security.check(site.csrf_key, request, form.get(security.CSRF_FIELD))
    return _texts(form)


@router.get("/officers/sign-in")
def sign_in_page(request: Request, stale: int = 0) -> Response:
    return page(request, "console/sign_in.html", {"stale": bool(stale), "error": None, "name": ""})


@router.post("/officers/sign-in")
async def ask_code(request: Request, background: BackgroundTasks) -> Response:
    site = of(request)
    try:
        name = (await fields_of(request, site)).get("name", "").strip()[:100]
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
        fields = await fields_of(request, site)
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
        await fields_of(request, site)
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


def repairs_labelled(t: dict[str, str], site: Site, found: list[Application]) -> list[dict[str, Any]]:  # Any: view data
    """Applications as the console shows them: each with its conditions, state and steps in words."""
    with site.engine.connect() as conn:
        wanted = repairs.conditions(conn, found)
    return [repair_labelled(t, dossier.repair(a, wanted[a.id])) for a in found]


def repairs_queue(site: Site, agency: str, t: dict[str, str]) -> list[dict[str, Any]]:  # Any: view data
    """The agency's applications, open ones first by deadline (``disputes.repairs.listed``)."""
    with site.engine.connect() as conn:
        found = repair_rows.listed(conn, agency=agency, limit=500)
    return repairs_labelled(t, site, found)


def manual_labelled(t: dict[str, str], found: list[Action]) -> list[dict[str, Any]]:  # Any: view data
    """Actions as the console shows them, with their state and operation in words."""
    return [
        {
            "id": str(a.id),
            "receipt": a.receipt,
            "subject": a.masked,
            "kind": a.kind,
            "op": t[f"manual_op_{a.op}"],
            "requested_by": a.requested_by,
            "requested_at": a.requested_at.isoformat(),
            "valid_date": a.valid_date.isoformat(),
            "jurisdiction": a.jurisdiction,
            "attributes": a.attributes,
            "legal_basis": a.legal_basis,
            "reason": a.reason,
            "state": a.state,
            "state_label": t[f"manual_state_{a.state}"],
            "decided_by": a.decided_by,
            "note": a.note,
            "record": str(a.record) if a.record else None,
        }
        for a in found
    ]


def manual_queue(site: Site, agency: str, t: dict[str, str]) -> list[dict[str, Any]]:  # Any: view data
    """The agency's manual actions, pending first (``accounts.manual.listed``)."""
    with site.engine.connect() as conn:
        return manual_labelled(t, manual.listed(conn, agency=agency))


def linkage_waiting(site: Site, agency: str) -> int:
    """How many of the agency's linkage pairs wait for a clerk (``resolve.review.queue``)."""
    with site.engine.connect() as conn:
        return review.queue(conn, source=agency, limit=0)[1]


@router.get("/officers")
def queue(request: Request) -> Response:
    site = of(request)
    officer = officer_of(request, site)
    if officer is None:
        return stale()
    today = legal_date(site.clock())
    with site.engine.connect() as conn:
        found = rows.listed(conn, agency=officer.agency, limit=500)
    t = i18n.words(lang_of(request))
    # the open ones first, the nearest deadline first: what must be answered soonest
    found.sort(key=lambda d: (d.state != rows.OPEN or d.lapsed(today), d.respond_by, d.filed_at))
    context = {
        "officer": officer,
        "disputes": _labelled(t, found, today),
        "repairs": repairs_queue(site, officer.agency, t),
        "manual": manual_queue(site, officer.agency, t),
        "linkage_waiting": linkage_waiting(site, officer.agency),
    }
    return page(request, "console/queue.html", context)


def _mine(site: Site, officer: Officer, dispute_id: uuid.UUID) -> Filed:
    with site.engine.connect() as conn:
        found = rows.get(conn, dispute_id)
    if found is None:
        raise NotFoundError("no such dispute")
    if found.source != officer.agency:
        raise NotAuthorisedError("another agency's dispute")
    return found


DECISION_FIELDS = ("decision", "note", "correction")
ATTRIBUTE = "attr_"  # a corrected attribute's field: attr_<name>


def _shown(value: object) -> str:
    """An attribute's stored value as its field shows it (and a correction compares it)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _attributes(held: case.Case | None, kind: str) -> list[dict[str, Any]]:  # Any: view data
    """The record kind's attributes with the newest version's values, for a correction's fields."""
    catalogue = default_catalogue()
    if held is None or not held.history or kind not in catalogue.kinds:
        return []
    current = held.history[-1].attributes
    described = catalogue.kinds[kind].attributes
    return [
        {
            "name": name,
            "type": attribute.type.value,
            "choices": list(attribute.choices or ()),
            "value": _shown(current.get(name)),
        }
        for name, attribute in described.items()
    ]


def _detail(
    request: Request,
    officer: Officer,
    found: Filed,
    *,
    errors: dict[str, str] | None = None,
    given: dict[str, str] | None = None,
    status: int,
    answered: bool = False,
) -> Response:
    site = of(request)
    t = i18n.words(lang_of(request))
    today = legal_date(site.clock())
    with site.engine.connect() as conn:
        held = case.case(conn, found.id)
    view = _labelled(t, [found], today)[0]
    answerable = view["state"] == rows.OPEN
    shown = dict.fromkeys(DECISION_FIELDS, "") | (errors or {})
    attributes = _attributes(held, found.kind)
    for a in attributes:  # what the officer typed stays in its field
        a["value"] = (given or {}).get(ATTRIBUTE + a["name"], a["value"])
        a["error"] = shown.get(ATTRIBUTE + a["name"], "")
    context = {
        "officer": officer,
        "d": view,
        "case": held,
        "answerable": answerable,
        "errors": shown,
        "attributes": attributes,
        "given": {"outcome": (given or {}).get("outcome", ""), "note": (given or {}).get("note", "")},
        "answered": answered,
    }
    return page(request, "console/dispute.html", context, status=status)


OUTCOMES = ("upheld", "corrected", "rejected")  # upheld: the record withdrawn; corrected: its attributes


def _decision_error(t: dict[str, str], wrong: FieldError) -> dict[str, str]:
    """A refused decision's message next to the field it names: a corrected attribute (with the
    catalogue's reason, which says what was expected), the correction as a whole, or the
    dispute (closed or lapsed)."""
    prefix = "correction.attributes."
    if wrong.field.startswith(prefix):
        name = wrong.field.removeprefix(prefix).split(".", 1)[0]
        return {ATTRIBUTE + name: f"{t['err_attribute']} ({wrong.reason})"}
    if wrong.field.startswith("correction"):
        return {"correction": f"{t['err_unchanged']} ({wrong.reason})"}
    return {"decision": t["err_dispute"]}


def refused(request: Request, exc: Exception) -> Response:
    t = i18n.words(lang_of(request))
    if isinstance(exc, NotAuthorisedError):
        return page(request, "public/missing.html", {"message": t["not_yours"]}, status=403)
    return page(request, "public/missing.html", {"message": t["not_found"]}, status=404)


@dataclass(frozen=True, slots=True)
class Posted(Generic[T]):
    """A console form that may be acted on: who sent it, its fields, and the case it decides."""

    officer: Officer
    form: FormData
    found: T

    @property
    def fields(self) -> dict[str, str]:
        """The form's text fields, each cut to ``MAX_NOTE``, without the CSRF token."""
        return _texts(self.form)


def viewed(request: Request, mine: Callable[[Site, Officer, K], T], key: K) -> tuple[Officer, T] | Response:
    """The signed-in officer and their agency's case ``key``, or the page that refuses them:
    the sign-in page for no session, 404 for no such case, 403 for another agency's (its
    contents never shown)."""
    site = of(request)
    officer = officer_of(request, site)
    if officer is None:
        return stale()
    try:
        return officer, mine(site, officer, key)
    except (NotFoundError, NotAuthorisedError) as exc:
        return refused(request, exc)


async def signed_form(request: Request) -> tuple[Officer, FormData] | Response:
    """The signed-in officer and the form they sent, checked in the order every console form is:
    a session first (else the sign-in page), then the CSRF token (else 403)."""
    site = of(request)
    officer = officer_of(request, site)
    if officer is None:
        return stale()
    form = await request.form()
    try:
        security.check(site.csrf_key, request, form.get(security.CSRF_FIELD))
    except security.ForgedFormError:
        return forged(request)
    return officer, form


async def posted(request: Request, mine: Callable[[Site, Officer, K], T], key: K) -> Posted[T] | Response:
    """A decision's form (``signed_form``) on a case that must be the officer's agency's, as
    ``viewed`` checks it."""
    sent = await signed_form(request)
    if isinstance(sent, Response):
        return sent
    officer, form = sent
    try:
        return Posted(officer, form, mine(of(request), officer, key))
    except (NotFoundError, NotAuthorisedError) as exc:
        return refused(request, exc)


def attachment(file_id: uuid.UUID, found: tuple[str, bytes] | None, request: Request) -> Response:
    """An evidence file as a download named by its type (never shown inline), or 404."""
    if found is None:
        return refused(request, NotFoundError("no such file"))
    media_type, content = found
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(media_type, "bin")
    headers = {"Content-Disposition": f'attachment; filename="evidence-{file_id}.{extension}"'}
    return security.secure(Response(content, media_type=media_type, headers=headers))


@router.get("/officers/disputes/{dispute_id}")
def dispute(request: Request, dispute_id: uuid.UUID) -> Response:
    mine = viewed(request, _mine, dispute_id)
    if isinstance(mine, Response):
        return mine
    officer, found = mine
    answered = request.query_params.get("answered") == "1"
    return _detail(request, officer, found, status=200, answered=answered)


@router.get("/officers/disputes/{dispute_id}/evidence/{file_id}")
def evidence(request: Request, dispute_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    mine = viewed(request, _mine, dispute_id)
    if isinstance(mine, Response):
        return mine
    with of(request).engine.connect() as conn:
        return attachment(file_id, case.evidence(conn, dispute_id, file_id), request)


@router.post("/officers/disputes/{dispute_id}/decision")
async def decide(request: Request, dispute_id: uuid.UUID) -> Response:
    sent = await posted(request, _mine, dispute_id)
    if isinstance(sent, Response):
        return sent
    site, officer, found, fields = of(request), sent.officer, sent.found, sent.fields
    t = i18n.words(lang_of(request))
    outcome, note = fields.get("outcome", ""), fields.get("note", "").strip()
    if outcome not in OUTCOMES:
        return _detail(request, officer, found, errors={"decision": t["err_outcome"]}, given=fields, status=422)
    if outcome == "rejected" and not note:
        return _detail(request, officer, found, errors={"note": t["err_note"]}, given=fields, status=422)
    correction = None
    if outcome == "upheld":
        correction = Correction(retract=True)
    elif outcome == "corrected":
        with site.engine.connect() as conn:
            attributes = _attributes(case.case(conn, found.id), found.kind)
        changed = {
            a["name"]: fields[ATTRIBUTE + a["name"]].strip()
            for a in attributes
            if ATTRIBUTE + a["name"] in fields and fields[ATTRIBUTE + a["name"]].strip() != a["value"]
        }
        if not changed:
            return _detail(request, officer, found, errors={"correction": t["err_unchanged"]}, given=fields, status=422)
        correction = Correction(attributes=changed)
    try:
        disputes.decide(
            site.engine,
            dispute_id,
            agency=officer.agency,
            officer=officer.name,
            officer_id=officer.id,
            upheld=correction is not None,
            note=note,
            correction=correction,
            now=site.clock(),
        )
    except NotAuthorisedError as exc:
        return refused(request, exc)
    except FieldError as wrong:
        return _detail(request, officer, found, errors=_decision_error(t, wrong), given=fields, status=422)
    return redirect(f"/officers/disputes/{dispute_id}?answered=1")
