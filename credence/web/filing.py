"""Filing a dispute through a form (``dueprocess.disputes.file``, what ``POST /v1/disputes``
calls): the record's id, the subject's statement and up to five evidence files, each refusal
shown next to its field; a filed dispute answers with its receipt at once."""

import uuid

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import Response

from credence.disputes.evidence import MAX_FILES
from credence.dueprocess import disputes
from credence.exc import FieldError
from credence.web import i18n, security
from credence.web.portal import forged, session_of, stale
from credence.web.render import lang_of, page, redirect
from credence.web.site import Site, of

router = APIRouter(include_in_schema=False)
FORM = "/me/disputes"
FIELDS = ("record_id", "statement", "evidence")


def _form(request: Request, values: dict[str, str], error: tuple[str, str] | None, *, status: int) -> Response:
    errors = dict.fromkeys(FIELDS, "")
    if error is not None:
        errors[error[0]] = error[1]
    return page(request, "portal/dispute_form.html", {"values": values, "errors": errors}, status=status)


@router.get("/me/disputes/new")
def new(request: Request, record: str = "") -> Response:
    site = of(request)
    if session_of(request, site) is None:
        return stale()
    return _form(request, {"record_id": record[:64], "statement": ""}, None, status=200)


def _refusal(t: dict[str, str], refused: FieldError) -> tuple[str, str]:
    """The field a refusal names, and what was expected there in the page's words (for a file,
    with the library's own reason, which says which file and what it held)."""
    field = refused.field.split("[", 1)[0]
    if field not in FIELDS:
        field = "record_id"
    expected = t["err_" + field.removesuffix("_id")]
    return field, f"{expected} ({refused.detail})" if field == "evidence" else expected


class TooManyPartsError(Exception):
    """A body Starlette would not read as the form: more files or fields than it has."""


async def upload(request: Request, site: Site, names: tuple[str, ...]) -> tuple[dict[str, str], list[bytes]]:
    """A multipart form's text fields (``names``) and its evidence files' bytes, once its CSRF
    token is checked; raises ``security.ForgedFormError`` or ``TooManyPartsError``."""
    try:
        async with request.form(max_files=MAX_FILES + 1, max_fields=8) as form:  # closes the files' spools
            security.check(site.csrf_key, request, form.get(security.CSRF_FIELD))
            fields = {name: str(form.get(name, "")) for name in names}
            evidence: list[bytes] = []
            for part in form.getlist("evidence"):
                # a browser sends an empty part when no file is chosen
                if isinstance(part, UploadFile) and part.filename:
                    evidence.append(await part.read())
    except HTTPException:
        raise TooManyPartsError from None
    return fields, evidence


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
        return _form(request, {"record_id": "", "statement": ""}, ("evidence", t["err_evidence"]), status=422)
    record, statement = fields["record_id"][:64].strip(), fields["statement"]
    values = {"record_id": record, "statement": statement[:8000]}
    try:
        filed = disputes.file(
            site.engine,
            subject=session.subject,
            record=record_id(record),
            statement=statement,
            evidence=evidence,
            now=site.clock(),
        )
    except FieldError as refused:
        return _form(request, values, _refusal(t, refused), status=422)
    return redirect(f"/me/disputes/{filed.receipt}?filed=1")


def record_id(given: str) -> uuid.UUID:
    try:
        return uuid.UUID(given)
    except ValueError:
        raise FieldError("record_id", "expected a record id, a UUID such as the one by each record") from None
