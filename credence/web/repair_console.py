"""Credit-repair applications in the officers' console: an officer reads one of their agency's
applications (the statement, the evidence, the record's history and the rule's conditions) and
decides it (``dueprocess.repairs.decide``, as ``POST /v1/repairs/{id}/decision``): granted with
every condition confirmed, or refused with reasons. Another agency's application is refused with
403, its contents never shown; a closed one is refused next to the form.
"""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from credence.accounts.officers import Officer
from credence.disputes import case
from credence.disputes import repairs as rows
from credence.disputes.repairs import Application
from credence.dueprocess import repairs
from credence.exc import FieldError, NotAuthorisedError, NotFoundError
from credence.web import i18n
from credence.web.console import MAX_NOTE, attachment, posted, refused, repairs_labelled, viewed
from credence.web.render import lang_of, page, redirect
from credence.web.site import Site, of

router = APIRouter(include_in_schema=False)
FIELDS = ("outcome", "confirmed", "note", "application")


def _mine(site: Site, officer: Officer, application: uuid.UUID) -> Application:
    with site.engine.connect() as conn:
        found = rows.get(conn, application)
    if found is None:
        raise NotFoundError("no such application")
    if found.source != officer.agency:
        raise NotAuthorisedError("another agency's application")
    return found


def _detail(
    request: Request,
    officer: Officer,
    found: Application,
    *,
    errors: dict[str, str] | None = None,
    given: dict[str, Any] | None = None,  # Any: the form's fields, ``confirmed`` a list
    status: int,
    decided: bool = False,
) -> Response:
    site = of(request)
    t = i18n.words(lang_of(request))
    with site.engine.connect() as conn:
        held = case.repair_case(conn, found.id)
    view = repairs_labelled(t, site, [found])[0]
    typed = given or {}
    context = {
        "officer": officer,
        "a": view,
        "case": held,
        "answerable": found.state == rows.OPEN,
        "errors": dict.fromkeys(FIELDS, "") | (errors or {}),
        "given": {
            "outcome": typed.get("outcome", ""),
            "note": typed.get("note", ""),
            "confirmed": typed.get("confirmed", []),
        },
        "decided": decided,
    }
    return page(request, "console/repair.html", context, status=status)


@router.get("/officers/repairs/{application_id}")
def application(request: Request, application_id: uuid.UUID) -> Response:
    mine = viewed(request, _mine, application_id)
    if isinstance(mine, Response):
        return mine
    officer, found = mine
    decided = request.query_params.get("decided") == "1"
    return _detail(request, officer, found, status=200, decided=decided)


@router.get("/officers/repairs/{application_id}/evidence/{file_id}")
def evidence(request: Request, application_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    mine = viewed(request, _mine, application_id)
    if isinstance(mine, Response):
        return mine
    with of(request).engine.connect() as conn:
        return attachment(file_id, case.repair_evidence(conn, application_id, file_id), request)


def _refusal(t: dict[str, str], wrong: FieldError) -> dict[str, str]:
    """A refused decision next to the field it names, in the page's words."""
    if wrong.field == "confirmed":
        return {"confirmed": f"{t['err_confirmed']} ({wrong.reason})"}
    if wrong.field == "note":
        return {"note": t["err_repair_note"]}
    return {"application": f"{t['err_application']} ({wrong.reason})"}


@router.post("/officers/repairs/{application_id}/decision")
async def decide(request: Request, application_id: uuid.UUID) -> Response:
    sent = await posted(request, _mine, application_id)
    if isinstance(sent, Response):
        return sent
    site, officer, found, form = of(request), sent.officer, sent.found, sent.form
    t = i18n.words(lang_of(request))
    outcome = str(form.get("outcome", ""))
    note = str(form.get("note", ""))[:MAX_NOTE].strip()
    confirmed = [str(c)[:MAX_NOTE] for c in form.getlist("confirmed") if isinstance(c, str)]
    given = {"outcome": outcome, "note": note, "confirmed": confirmed}
    if outcome not in ("granted", "refused"):
        return _detail(request, officer, found, errors={"outcome": t["err_repair_outcome"]}, given=given, status=422)
    if outcome == "refused" and not note:  # the library refuses it too; said here before it is asked
        return _detail(request, officer, found, errors={"note": t["err_repair_note"]}, given=given, status=422)
    try:
        repairs.decide(
            site.engine,
            application_id,
            agency=officer.agency,
            officer=officer.name,
            officer_id=officer.id,
            granted=outcome == "granted",
            note=note,
            confirmed=confirmed if outcome == "granted" else (),
            now=site.clock(),
        )
    except NotAuthorisedError as exc:
        return refused(request, exc)
    except FieldError as wrong:
        return _detail(request, officer, found, errors=_refusal(t, wrong), given=given, status=422)
    return redirect(f"/officers/repairs/{application_id}?decided=1")
