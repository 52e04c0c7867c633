"""Applying for credit repair through a form (``dueprocess.repairs.file``, what ``POST
/v1/repairs`` calls): one of the subject's records that a rulebook lets them repair, their
statement and up to five evidence files, with the rule's conditions shown before they send it.
Each refusal is shown next to its field; a filed application answers with its receipt at once,
and its page (``/me/repairs/{receipt}``) is found among the signed-in subject's own only.
"""

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from credence.disputes import repairs as applications
from credence.dueprocess import repairs
from credence.dueprocess.repairs import Offer
from credence.exc import FieldError
from credence.model.time import legal_date
from credence.web import dossier, i18n, security
from credence.web.filing import TooManyPartsError, upload
from credence.web.portal import forged, repair_labelled, session_of, stale
from credence.web.render import lang_of, page, redirect
from credence.web.site import Site, of

router = APIRouter(include_in_schema=False)
FORM = "/me/repairs"
FIELDS = ("record_id", "statement", "evidence")


def _offer(site: Site, subject: uuid.UUID, given: str) -> Offer | None:
    try:
        record = uuid.UUID(given)
    except ValueError:
        return None
    with site.engine.connect() as conn:
        return repairs.offer(conn, subject=subject, record=record, today=legal_date(site.clock()))


def _record_error(t: dict[str, str], offer: Offer | None, today_open: bool) -> str:
    """What is wrong with the record field before the library is asked, in the page's words."""
    if offer is None:
        return t["err_repair_none"]
    if not today_open:
        return f"{t['err_repair_early']} {offer.rule.from_day.isoformat()}"
    return ""


def _form(
    request: Request, values: dict[str, str], errors: dict[str, str], offer: Offer | None, *, status: int
) -> Response:
    shown = dict.fromkeys(FIELDS, "") | errors
    context = {"values": values, "errors": shown, "offer": offer}
    return page(request, "portal/repair_form.html", context, status=status)


@router.get("/me/repairs/new")
def new(request: Request, record: str = "") -> Response:
    site = of(request)
    session = session_of(request, site)
    if session is None or session.subject is None:
        return stale()
    given = record[:64].strip()
    if not given:
        return _form(request, {"record_id": "", "statement": ""}, {}, None, status=200)
    t = i18n.words(lang_of(request))
    offer = _offer(site, session.subject, given)
    today_open = offer is not None and offer.rule.from_day <= legal_date(site.clock())
    error = _record_error(t, offer, today_open)
    errors = {"record_id": error} if error else {}
    return _form(request, {"record_id": given, "statement": ""}, errors, offer, status=200)


def _refusal(t: dict[str, str], refused: FieldError) -> tuple[str, str]:
    field = refused.field.split("[", 1)[0]
    if field not in FIELDS:
        field = "record_id"
    expected = {"record_id": t["err_repair_record"], "statement": t["err_repair_statement"]}.get(
        field, t["err_evidence"]
    )
    return field, f"{expected} ({refused.reason})" if field != "statement" else expected


@router.post(FORM)
async def file(request: Request) -> Response:
    site = of(request)
    session = session_of(request, site)
    if session is None or session.subject is None:
        return stale()
    t = i18n.words(lang_of(request))
    try:
        fields, evidence = await upload(request, site, ("record_id", "statement"))
    except security.ForgedFormError:
        return forged(request)
    except TooManyPartsError:
        return _form(request, {"record_id": "", "statement": ""}, {"evidence": t["err_evidence"]}, None, status=422)
    given, statement = fields["record_id"][:64].strip(), fields["statement"]
    values = {"record_id": given, "statement": statement[:8000]}
    offer = _offer(site, session.subject, given)
    today_open = offer is not None and offer.rule.from_day <= legal_date(site.clock())
    if error := _record_error(t, offer, today_open):
        return _form(request, values, {"record_id": error}, offer, status=422)
    assert offer is not None  # noqa: S101 - _record_error refused a missing offer
    try:
        filed = repairs.file(
            site.engine,
            subject=session.subject,
            record=offer.record,
            statement=statement,
            evidence=evidence,
            now=site.clock(),
        )
    except FieldError as refused:
        field, message = _refusal(t, refused)
        return _form(request, values, {field: message}, offer, status=422)
    return redirect(f"/me/repairs/{filed.receipt}?filed=1")


@router.get("/me/repairs/{receipt}")
def application(request: Request, receipt: str) -> Response:
    site = of(request)
    session = session_of(request, site)
    if session is None or session.subject is None:
        return stale()
    t = i18n.words(lang_of(request))
    with site.engine.connect() as conn:
        mine = [a for a in applications.listed(conn, subject=session.subject) if a.receipt == receipt]
        conditions = repairs.conditions(conn, mine)
    if not mine:  # another's, or none: the same answer
        return page(request, "public/missing.html", {"message": t["not_found"]}, status=404)
    view = dossier.repair(mine[0], conditions[mine[0].id])
    repair_labelled(t, view)
    filed = request.query_params.get("filed") == "1"
    return page(request, "portal/repair.html", {"a": view, "filed": filed})
