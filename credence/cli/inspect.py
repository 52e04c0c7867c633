"""Commands that read the registry: explain, check, report, quarantine."""

import json
import uuid
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.bar import Bar
from rich.table import Table

from credence import resolve
from credence.cli import examples
from credence.cli.context import DAY_HELP, INSTANT_HELP, calendar_day, console, instant, now, reading, schemes, today
from credence.cli.examples import Example
from credence.dueprocess.explanations import explain as explain_subject
from credence.exc import CredenceError
from credence.ingest.quarantine import held
from credence.model.identifiers import masked, parse_subject
from credence.pipeline.report import rows as report_rows
from credence.screening.check import Outcome
from credence.screening.check import check as check_subject


def explain(
    id_number: Annotated[
        str | None, typer.Argument(help="the subject's resident ID or credit code (or give --example)")
    ] = None,
    example: Annotated[
        Example | None,
        typer.Option(
            help="explain a subject the registry picks: listed, bound (by an organisation's listing), "
            "top (highest suzhou-osmanthus score), low (lowest rongcheng-credit score), "
            "on the day asked (--as-of, default today)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            parser=calendar_day("--as-of"),
            metavar="DAY",
            help=f"the day asked about, {DAY_HELP} (default today)",
        ),
    ] = None,
    known_at: Annotated[
        datetime | None,
        typer.Option(
            "--known-at",
            parser=instant("--known-at"),
            metavar="TIME",
            help=f"answer as the registry knew it at this instant (default now); {INSTANT_HELP}",
        ),
    ] = None,
    rulebook: Annotated[
        list[Path] | None,
        typer.Option(help="an extra rulebook YAML to explain under too, as given to score --rulebook"),
    ] = None,
) -> None:
    """Why a subject has each score, grade, listing and measure: rule, legal basis, record, source.

    Bitemporal: --as-of picks the day, --known-at what the registry knew then (a later correction
    does not change an answer asked as known before it). --rulebook adds a scheme of your own to
    the shipped ones, a draft too: its score is computed for the answer, never stored."""
    if id_number is None and example is None:
        raise CredenceError("explain: expected an ID number or --example listed|bound|top|low")
    if id_number is not None and example is not None:
        raise CredenceError(f"explain: expected an ID number or --example, not both (got {id_number!r} and {example})")
    number = parse_subject(id_number, field="ID").number if id_number is not None else None
    day = as_of or today()
    known = known_at or now()
    books = schemes(rulebook)  # a bad rulebook is refused before the registry is opened
    with reading() as conn:
        subject: uuid.UUID | None
        if example is not None:
            subject = examples.pick(conn, example, day=day)
            if not as_json and (shown := resolve.number_of(conn, subject)) is not None:
                console.print(f"example {example}: {masked(shown)}, {examples.FOUND[example]}")
        else:
            subject = resolve.find(conn, number, field="ID") if number is not None else None
            if subject is None:
                console.print("[yellow]no such subject in the registry[/]")
                raise typer.Exit(1)
        found = explain_subject(conn, books, subject, as_of=day, known_at=known)
    if as_json:
        print(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
        return
    show(found)


def show(found: "object") -> None:
    from credence.dueprocess.explanations import Explanation

    assert isinstance(found, Explanation)  # noqa: S101
    for s in found.schemes:
        table = Table(
            "date",
            "record",
            "rule",
            "points",
            "without it",
            "counts until",
            "legal basis",
            title=f"{s.title} v{s.version} ({s.status}): {s.score} {s.grade or ''} (base {s.base})",
        )
        for line in s.lines:
            note = " (cap)" if line.capped else ""
            table.add_row(
                line.valid_date,
                f"{line.source}/{line.source_record_id}\n{line.kind}",
                line.rule,
                f"{line.points:+d}{note}",
                str(line.score_without),
                line.expires_on or "-",
                line.legal_basis,
            )
        console.print(table)
    for listing in found.listings:
        end = listing.end_date or "no end date until a deletion event"
        console.print(
            f"[bold]{listing.list_id}[/] ({listing.role}): ground {listing.ground}, case {listing.case_number}, "
            f"{listing.court}; from {listing.start_date} to {end}"
            + (f" ({listing.end_reason})" if listing.end_reason else "")
            + f"\n  legal basis: {listing.legal_basis}"
        )
        for m in listing.measures:
            console.print(f"  - {m['title']} [{m['legal_basis']}]")
    if not found.schemes and not found.listings:
        console.print("no scheme covers this subject and no list names it")


def check(
    id_number: Annotated[str, typer.Argument(help="the exact ID number")],
    action: Annotated[str, typer.Argument(help="e.g. flight, rail_ticket, venue, property")],
    attributes: Annotated[
        list[str] | None, typer.Argument(help="key=value, e.g. train_type=G seat_class=second")
    ] = None,
    at: Annotated[
        datetime | None,
        typer.Option(
            parser=instant("--at"), metavar="TIME", help=f"the instant to check at (default now); {INSTANT_HELP}"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the whole decision as JSON")] = False,
) -> None:
    """May this subject do this action now? Answers allowed or restricted, and why."""
    attrs = dict(_key_value(a) for a in attributes or [])
    when = at or now()
    with reading() as conn:
        decision = check_subject(conn, id_number, action, attrs, at=when)
    if as_json:
        print(json.dumps(decision.as_dict(), ensure_ascii=False, indent=2))
        return
    colour = "red" if decision.outcome is Outcome.RESTRICTED else "green"
    console.print(f"[{colour}]{decision.outcome}[/] ({decision.action}), reference {decision.reference}")
    if decision.measure:
        console.print(f"  measure: {decision.measure_title}")
        console.print(f"  legal basis: {decision.legal_basis}")
        console.print(f"  appeal to: {decision.appeal}")
    if decision.exemption:
        console.print(f"  one-off exemption granted by the court: {decision.exemption}")


def _key_value(attribute: str) -> tuple[str, str]:
    key, sep, value = attribute.partition("=")
    if not sep or not key:
        raise CredenceError(f"check: attribute {attribute!r}: expected key=value, e.g. train_type=G")
    return key, value


BAR_WIDTH = 40


def report() -> None:
    """Subjects listed, removed after fulfilment, restricted from flights and trains, by year and district."""
    day = today()
    with reading() as conn:
        rows = report_rows(conn, as_of=day)
    by_year: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in rows:
        for i, v in enumerate((r.listed, r.removed_after_fulfilment, r.restricted_flights, r.restricted_trains)):
            by_year[r.period][i] += v
    table = Table(
        "year listed",
        "people listed",
        "removed after fulfilment",
        f"restricted from flights on {day}",
        f"restricted from trains on {day}",
        title="Dishonest judgment defaulters (counts people, not refused purchases)",
    )
    top = max((max(v[0], v[2]) for v in by_year.values()), default=0) or 1
    for year, values in sorted(by_year.items()):
        table.add_row(year, *(f"{v:,}" for v in values))
    console.print(table)
    # the same figures as bars, each labelled in words so that the chart reads the same without colour
    chart = Table(
        "year listed", "people listed, and people still barred from flights, by year listed", title="Listed by year"
    )
    for year, values in sorted(by_year.items()):
        bars = Table.grid(padding=(0, 1))
        bars.add_row("listed", Bar(top, 0, values[0], width=BAR_WIDTH, color="blue"), f"{values[0]:,}")
        bars.add_row("barred from flights", Bar(top, 0, values[2], width=BAR_WIDTH, color="red"), f"{values[2]:,}")
        chart.add_row(year, bars)
    console.print(chart)
    districts: dict[str, int] = defaultdict(int)
    for r in rows:
        if r.listed:  # a district with restricted people bound by a decision but no one listed
            districts[r.district] += r.listed
    table = Table("district", "people listed", "", title="By district of residence")
    most = max(districts.values(), default=0) or 1
    for district, n in sorted(districts.items(), key=lambda kv: -kv[1])[:12]:
        table.add_row(district, f"{n:,}", Bar(most, 0, n, width=BAR_WIDTH, color="blue"))
    console.print(table)


def quarantine(
    source: Annotated[str | None, typer.Option(help="only this source's rows")] = None,
    everything: Annotated[bool, typer.Option("--all", help="include rows already replayed")] = False,
    limit: Annotated[int, typer.Option(help="at most this many rows")] = 50,
) -> None:
    """Quarantined rows with their id (for `ingest --replay --fixes`), file, line and reason.

    The raw row is not printed: it holds ID numbers and names."""
    with reading() as conn:
        rows = held(conn, source=source, replayed=everything, limit=limit)
    table = Table("id", "source", "file", "line", "field", "reason", "replayed", title="quarantine")
    for q in rows:
        replayed = "" if q.replayed_at is None else f"{q.replayed_at:%Y-%m-%d %H:%M}"
        table.add_row(str(q.id), q.source_id, q.file, str(q.line), q.field or "", q.reason, replayed)
    console.print(table)
