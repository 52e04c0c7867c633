"""The public record, no sign-in: the statistics of ``credence report`` as charts, the rulebooks
with every version and what changed, the measure catalogue, the transparency log's checkpoint."""

import difflib
from collections import defaultdict
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from credence.audit import proofs
from credence.exc import NotFoundError
from credence.lists.measures import default_measures
from credence.model.time import legal_date
from credence.pipeline import report
from credence.pipeline.rulebooks import Registered, registered
from credence.web import charts, i18n, security
from credence.web.render import lang_of, page, redirect
from credence.web.site import of

router = APIRouter(include_in_schema=False)
TOP_DISTRICTS = 12


@router.get("/")
def home(request: Request) -> Response:
    return page(request, "public/home.html", {})


@router.get("/lang/{lang}")
def switch(request: Request, lang: str, next: Annotated[str, Query()] = "/") -> Response:
    """Show the pages in ``lang`` from now on, back where the switch was pressed."""
    back = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    response = redirect(back)
    if lang in i18n.LANGUAGES:
        site = of(request)
        security.cookie(request, response, security.LANG_COOKIE, lang, secure_cookies=site.secure_cookies)
    return response


@router.get("/record/statistics")
def statistics(request: Request) -> Response:
    site = of(request)
    day = legal_date(site.clock())
    with site.engine.connect() as conn:
        rows = report.rows(conn, as_of=day)
    years: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    districts: dict[str, int] = defaultdict(int)
    for r in rows:
        for i, v in enumerate((r.listed, r.removed_after_fulfilment, r.restricted_flights, r.restricted_trains)):
            years[r.period][i] += v
        districts[r.district] += r.listed
    t = i18n.words(lang_of(request))
    by_year = sorted(years.items())
    top = sorted(((d, n) for d, n in districts.items() if n), key=lambda kv: (-kv[1], kv[0]))[:TOP_DISTRICTS]
    series = [t["col_listed"], t["col_removed"], t["col_flights"], t["col_trains"]]
    context = {
        "day": day.isoformat(),
        "years": by_year,
        "districts": top,
        "year_chart": charts.bars(by_year, series),
        "district_chart": charts.bars([(d, [n]) for d, n in top], [t["col_listed"]]),
    }
    return page(request, "public/statistics.html", context)


def _published(site_rows: list[Registered]) -> dict[str, list[Registered]]:
    schemes: dict[str, list[Registered]] = {}
    for r in site_rows:
        if r.status != "draft":  # a draft is no one's law
            schemes.setdefault(r.scheme, []).append(r)
    return schemes


@router.get("/record/rulebooks")
def rulebooks(request: Request) -> Response:
    site = of(request)
    with site.engine.connect() as conn:
        schemes = _published(registered(conn))
    listed = [
        {"scheme": name, "title": versions[-1].body.get("title", name), "versions": versions}
        for name, versions in sorted(schemes.items())
    ]
    return page(request, "public/rulebooks.html", {"schemes": listed})


def _text(body: dict[str, Any]) -> str:
    return yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100)


def _diff(before: str, after: str) -> list[tuple[str, str]]:
    """The changed lines with three of context, each with its kind (add, del, hunk, same)."""
    lines = []
    for line in list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=3))[2:]:
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        lines.append((kind, line))
    return lines


@router.get("/record/rulebooks/{scheme}")
def rulebook(request: Request, scheme: str) -> Response:
    site = of(request)
    with site.engine.connect() as conn:
        versions = _published(registered(conn)).get(scheme)
    if not versions:
        t = i18n.words(lang_of(request))
        return page(request, "public/missing.html", {"message": t["unknown_scheme"]}, status=404)
    shown, previous = [], None
    for v in versions:
        text = _text(v.body)
        shown.append({"row": v, "text": text, "diff": None if previous is None else _diff(previous, text)})
        previous = text
    context = {"scheme": scheme, "title": versions[-1].body.get("title", scheme), "versions": list(reversed(shown))}
    return page(request, "public/rulebook.html", context)


@router.get("/record/measures")
def measures(request: Request) -> Response:
    t = i18n.words(lang_of(request))
    listed = [
        {
            "id": m.id,
            "title": m.title,
            "effect": t[f"effect_{m.effect.value}"],
            "action": m.action,
            "applies": sorted(m.lists)
            + [f"{scheme}: {', '.join(sorted(g))}" for scheme, g in sorted(m.grades.items())],
            "context": m.context,
            "legal_basis": m.legal_basis,
        }
        for m in default_measures()
    ]
    return page(request, "public/measures.html", {"measures": listed})


@router.get("/record/log")
def log(request: Request) -> Response:
    site = of(request)
    with site.engine.connect() as conn:
        try:
            note: str | None = proofs.latest_note(conn)
        except NotFoundError:
            note = None
    base = f"{request.url.scheme}://{request.url.netloc}"
    return page(request, "public/log.html", {"note": note, "base": base})
