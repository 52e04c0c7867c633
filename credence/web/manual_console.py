"""Manual actions in the officers' console (issue 10 part 6, issue 12 part 3): an officer asks
for a record written (or withdrawn) by hand for their agency and sees it pending a second
officer's approval; a second officer of the agency approves or refuses it. The pages parse and
render; ``accounts.manual`` checks and writes (as ``POST /v1/manual-actions`` and its decision).
Another agency's action is refused with 403, its contents never shown; a refused attempt (the
requester approving, an officer related to the subject) is 403 with the library's reason, and
the library's ``manual.denied`` event.
"""

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from credence.accounts import manual
from credence.accounts.manual import Action
from credence.accounts.officers import Officer
from credence.exc import FieldError, NotAuthorisedError, NotFoundError
from credence.model.roles import Permission, may
from credence.web import i18n
from credence.web.console import MAX_NOTE, manual_labelled, officer_of, posted, signed_form, stale, viewed
from credence.web.render import lang_of, page, redirect
from credence.web.site import Site, of

router = APIRouter(include_in_schema=False)
FIELDS = ("kind", "id_number", "valid_date", "jurisdiction", "attributes", "legal_basis", "reason")
DECISION = ("outcome", "note", "action")


def _mine(site: Site, officer: Officer, action: uuid.UUID) -> Action:
    with site.engine.connect() as conn:
        found = manual.get(conn, action)
    if found is None:
        raise NotFoundError("no such action")
    if found.agency != officer.agency:
        raise NotAuthorisedError("another agency's action")
    return found


def _attributes(text: str) -> dict[str, str]:
    """``name=value`` lines; a line without ``=`` is a FieldError naming ``attributes``."""
    found = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise FieldError("attributes", f"expected name=value, got {line.strip()[:40]!r}")
        found[name.strip()] = value.strip()
    return found


def _form(
    request: Request,
    officer: Officer,
    *,
    errors: dict[str, str] | None = None,
    given: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "officer": officer,
        "errors": dict.fromkeys(FIELDS, "") | {"action": ""} | (errors or {}),
        "given": dict.fromkeys(FIELDS, "") | (given or {}),
    }
    return page(request, "console/manual_form.html", context, status=status)


@router.get("/officers/manual-actions/new")
def new(request: Request) -> Response:
    site = of(request)
    officer = officer_of(request, site)
    if officer is None:
        return stale()
    return _form(request, officer)


@router.post("/officers/manual-actions")
async def ask(request: Request) -> Response:
    sent = await signed_form(request)
    if isinstance(sent, Response):
        return sent
    site, (officer, form) = of(request), sent
    given = {name: str(form.get(name, ""))[:MAX_NOTE].strip() for name in FIELDS}
    t = i18n.words(lang_of(request))
    try:
        action = manual.request(
            site.engine,
            officer,
            kind=given["kind"],
            id_number=given["id_number"],
            valid_date=given["valid_date"],
            jurisdiction=given["jurisdiction"],
            attributes=_attributes(given["attributes"]),
            legal_basis=given["legal_basis"],
            reason=given["reason"],
            now=site.clock(),
        )
    except FieldError as wrong:
        name = wrong.field.split(".", 1)[0]
        where = name if name in FIELDS else "action"
        return _form(request, officer, errors={where: f"{t['error']} {wrong.reason}"}, given=given, status=422)
    except NotAuthorisedError as exc:
        return _form(request, officer, errors={"action": f"{t['err_manual_refused']} {exc}"}, given=given, status=403)
    return redirect(f"/officers/manual-actions/{action.id}?asked=1")


def _detail(
    request: Request,
    officer: Officer,
    found: Action,
    *,
    errors: dict[str, str] | None = None,
    given: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    t = i18n.words(lang_of(request))
    context = {
        "officer": officer,
        "a": manual_labelled(t, [found])[0],
        # who may decide: a second officer of the agency; the library checks it again
        "decidable": found.state == manual.PENDING and may(officer.role, Permission.APPROVE_MANUAL_ACTION),
        "asked": request.query_params.get("asked") == "1",
        "decided": request.query_params.get("decided") == "1",
        "errors": dict.fromkeys(DECISION, "") | (errors or {}),
        "given": {"outcome": "", "note": ""} | (given or {}),
    }
    return page(request, "console/manual.html", context, status=status)


@router.get("/officers/manual-actions/{action_id}")
def action(request: Request, action_id: uuid.UUID) -> Response:
    mine = viewed(request, _mine, action_id)
    if isinstance(mine, Response):
        return mine
    return _detail(request, *mine)


@router.post("/officers/manual-actions/{action_id}/decision")
async def decide(request: Request, action_id: uuid.UUID) -> Response:
    sent = await posted(request, _mine, action_id)
    if isinstance(sent, Response):
        return sent
    site, officer, found, form = of(request), sent.officer, sent.found, sent.form
    t = i18n.words(lang_of(request))
    given = {"outcome": str(form.get("outcome", "")), "note": str(form.get("note", ""))[:MAX_NOTE].strip()}
    if given["outcome"] not in ("approved", "refused"):
        return _detail(request, officer, found, errors={"outcome": t["err_manual_outcome"]}, given=given, status=422)
    if given["outcome"] == "refused" and not given["note"]:
        return _detail(request, officer, found, errors={"note": t["err_manual_note"]}, given=given, status=422)
    try:
        manual.decide(
            site.engine,
            action_id,
            officer,
            approved=given["outcome"] == "approved",
            note=given["note"],
            now=site.clock(),
        )
    except NotAuthorisedError as exc:
        errors = {"action": f"{t['err_manual_refused']} {exc}"}
        return _detail(request, officer, found, errors=errors, given=given, status=403)
    except FieldError as wrong:
        return _detail(request, officer, found, errors={"action": f"{t['error']} {wrong.reason}"}, status=422)
    return redirect(f"/officers/manual-actions/{action_id}?decided=1")
