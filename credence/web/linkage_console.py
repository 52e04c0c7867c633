"""The clerk's linkage queue in the officers' console (issue 11 part 2, issue 12): the pairs of
a row without an ID number and the resident it may be, waiting for a clerk, side by side with
internal ids and masked identifiers only (``resolve.review``, as ``credence resolve queue``);
a pair's judgement history; and the judgement, match or no match, through the same job as
``credence resolve decide`` (``pipeline.linkage.judge``: a match applies the row at once and
rescores its subject); and, while the pair links its row, undoing it with a reason through the
job of ``credence resolve undo`` (``pipeline.linkage.undo``: the record withdrawn, the subject
rescored, the pair open to a match again). The pages parse and render.

Who may judge or undo: an officer of the agency whose export the row came from, i.e. the pair's source
(a source id of ``catalogue/sources.yaml``, the agency an officer acts for). Another agency's
pair is refused with 403, its contents never shown.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from credence.accounts.officers import Officer
from credence.exc import CredenceError, NotAuthorisedError, WriterBusyError
from credence.ingest.mapping import load_mappings
from credence.model.time import legal_date
from credence.pipeline import linkage as jobs
from credence.resolve import review
from credence.rules.loader import shipped_schemes
from credence.store.lock import writer
from credence.web import i18n
from credence.web.console import officer_of, posted, stale, viewed
from credence.web.render import lang_of, page, redirect
from credence.web.site import Site, of

router = APIRouter(include_in_schema=False)
SHOWN = 200  # pairs on the page at most; the page says how many wait in all
WAIT = 10.0  # seconds a judgement waits for the registry's writer lock (a load may hold it)
MASKED = ("name", "born", "district", "street", "phone")  # ``identity.masked``'s fields, in reading order
OUTCOMES = {"match": review.Judgement.MATCH, "no_match": review.Judgement.NO_MATCH}


def _mine(site: Site, officer: Officer, link: int) -> review.Pair:
    with site.engine.connect() as conn:
        found = review.pair(conn, link)
    if found.source != officer.agency:
        raise NotAuthorisedError("another agency's pair")
    return found


def _view(t: dict[str, str], p: review.Pair) -> dict[str, Any]:  # Any: view data
    """A pair as the pages show it: the row's and the candidate's masked fields on one line each."""
    fields = [name for name in MASKED if name in p.record or name in p.candidate]
    return {
        "link": p.link,
        "source": p.source,
        "source_record_id": p.source_record_id,
        "quarantine_id": p.quarantine_id,
        "subject": str(p.subject),
        "weight": f"{p.weight:+.1f}",
        "margin": "-" if p.margin is None else f"{p.margin:.1f}",
        "model": p.model,
        "fields": [
            {
                "name": name,
                "label": t.get(f"linkage_field_{name}", name),
                "row": p.record.get(name, "-"),
                "candidate": p.candidate.get(name, "-"),
            }
            for name in fields
        ],
        "reasons": [{"comparison": c, "level": level, "weight": f"{w:+.1f}"} for c, level, w in p.reasons],
    }


@router.get("/officers/linkage")
def queue(request: Request) -> Response:
    site = of(request)
    officer = officer_of(request, site)
    if officer is None:
        return stale()
    t = i18n.words(lang_of(request))
    with site.engine.connect() as conn:
        pairs, waiting = review.queue(conn, source=officer.agency, limit=SHOWN)
    context = {"officer": officer, "pairs": [_view(t, p) for p in pairs], "waiting": waiting}
    return page(request, "console/linkage.html", context)


def _detail(
    request: Request,
    officer: Officer,
    found: review.Pair,
    *,
    errors: dict[str, str] | None = None,
    given: str = "",
    reason: str = "",
    status: int = 200,
) -> Response:
    site = of(request)
    t = i18n.words(lang_of(request))
    with site.engine.connect() as conn:
        judged = review.history(conn, found.link)
        open_ = review.judgeable(conn, found.link)
        applied = review.undoable(conn, found.link)
    context = {
        "officer": officer,
        "p": _view(t, found),
        "history": [
            {
                "judgement": t[f"linkage_{d.judgement.value}"],
                "by": d.by,
                "at": d.at.isoformat(),
                "note": d.note if d.judgement is review.Judgement.UNDONE else None,
            }
            for d in judged
        ],
        "judgeable": open_,
        "undoable": applied,
        "decided": request.query_params.get("decided") == "1",
        "undone": request.query_params.get("undone") == "1",
        "errors": {"outcome": "", "pair": "", "reason": ""} | (errors or {}),
        "given": given,
        "reason": reason,
    }
    return page(request, "console/pair.html", context, status=status)


def _written(
    request: Request,
    officer: Officer,
    found: review.Pair,
    command: str,
    job: Callable[[Site, datetime], object],
    *,
    given: str = "",
    reason: str = "",
) -> Response | None:
    """Run a pair's job under the registry's writer lock, as the CLI's `resolve` commands do (a
    match writes a record, an undo withdraws one, and both rescore): None once done, else the
    pair's page with the refusal next to its forms (503 while a load holds the lock, 422 when the
    library refuses)."""
    site = of(request)
    t = i18n.words(lang_of(request))
    try:
        with writer(site.engine, command=f"officers' console: {command}", wait=WAIT):
            job(site, site.clock())
    except WriterBusyError:
        return _detail(
            request, officer, found, errors={"pair": t["err_busy_writer"]}, given=given, reason=reason, status=503
        )
    except CredenceError as refused:  # judged or undone meanwhile, a newer proposal of its row
        return _detail(request, officer, found, errors={"pair": refused.detail}, given=given, reason=reason, status=422)
    return None


@router.get("/officers/linkage/{link}")
def pair(request: Request, link: int) -> Response:
    mine = viewed(request, _mine, link)
    if isinstance(mine, Response):
        return mine
    return _detail(request, *mine)


@router.post("/officers/linkage/{link}/decision")
async def decide(request: Request, link: int) -> Response:
    sent = await posted(request, _mine, link)
    if isinstance(sent, Response):
        return sent
    officer, found = sent.officer, sent.found
    t = i18n.words(lang_of(request))
    outcome = sent.fields.get("outcome", "")
    judgement = OUTCOMES.get(outcome)
    if judgement is None:
        return _detail(request, officer, found, errors={"outcome": t["err_linkage_outcome"]}, status=422)

    def judge(site: Site, now: datetime) -> None:
        jobs.judge(
            site.engine,
            load_mappings(site.connectors),
            shipped_schemes(),
            link,
            judgement,
            by=officer.name,
            now=now,
            as_of=legal_date(now),
        )

    failed = _written(request, officer, found, "resolve decide", judge, given=outcome)
    return failed or redirect(f"/officers/linkage/{link}?decided=1")


@router.post("/officers/linkage/{link}/undo")
async def undo(request: Request, link: int) -> Response:
    sent = await posted(request, _mine, link)
    if isinstance(sent, Response):
        return sent
    officer, found = sent.officer, sent.found
    t = i18n.words(lang_of(request))
    reason = sent.fields.get("reason", "").strip()
    if not reason or len(reason) > review.MAX_REASON:
        return _detail(request, officer, found, errors={"reason": t["err_linkage_reason"]}, reason=reason, status=422)

    def withdraw(site: Site, now: datetime) -> None:
        jobs.undo(site.engine, shipped_schemes(), link, by=officer.name, reason=reason, now=now, as_of=legal_date(now))

    failed = _written(request, officer, found, "resolve undo", withdraw, reason=reason)
    return failed or redirect(f"/officers/linkage/{link}?undone=1")
