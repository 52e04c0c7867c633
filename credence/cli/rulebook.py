"""``credence rulebook``: work on rulebook files before they score anyone.

``lint`` checks rulebooks against legal profiles (``rules/profiles/<name>.yaml``): the ones
given with ``--profile``, else the ones each rulebook names in ``profiles:``. One line per
violation, ``FILE: rule ID: PROFILE/CHECK (ARTICLE): message``; exit status 1 when there is
any, 2 for a mistake (a rulebook or profile refused, a rulebook that names no profile).

``simulate`` is the what-if (DESIGN P9): a draft against the registry's population, compared
with the version in force (``pipeline.simulate`` does the work; this module parses and shows).
"""

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.bar import Bar
from rich.table import Table
from rich.text import Text

from credence.cli.context import DAY_HELP, calendar_day, console, engine, now, schemes, today, writing
from credence.exc import CredenceError
from credence.lists.measures import default_measures
from credence.pipeline import publish as publishing
from credence.pipeline.simulate import Simulation, simulate
from credence.rules import lint as linting
from credence.rules.loader import LoadedRulebook, load_file, shipped
from credence.rules.profiles import Profile, named

FOUND = 1  # violations: the rulebook is not lawful under a profile (a mistake is 2, errors.USER_ERROR)

# the day a check or a publication is judged on: a test or an officer may name another
Today = Annotated[
    date | None,
    typer.Option(
        "--today",
        parser=calendar_day("--today"),
        metavar="DAY",
        help=f"the day to judge the rulebook on, {DAY_HELP} (default today)",
    ),
]

rulebook = typer.Typer(
    no_args_is_help=True, help="Rulebook files: lint against legal profiles, simulate a draft, publish it."
)


def _books(paths: list[Path]) -> list[LoadedRulebook]:
    if not paths:
        return shipped()
    books = []
    for path in paths:
        files = sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
        if path.is_dir() and not files:
            raise CredenceError(f"{path}: no rulebook files (*.yaml) in this folder")
        books += [load_file(f) for f in files]
    return books


def _profiles(book: LoadedRulebook, given: list[Profile]) -> list[Profile]:
    if given:
        return given
    if not book.book.profiles:
        raise CredenceError(f"{book.file}: names no legal profile (profiles: [...]); give one with --profile NAME")
    return linting.declared(book)


@rulebook.command("lint")
def lint(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATH",
            help="rulebook files or folders of them (default: the shipped rulebooks)",
            show_default=False,
        ),
    ] = None,
    profile: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME", help="a legal profile, by name or file; repeatable (default: those each rulebook names)"
        ),
    ] = None,
    day: Today = None,
    as_json: Annotated[bool, typer.Option("--json", help="the rulebooks, profiles and violations as JSON")] = False,
) -> None:
    """Check rulebooks against legal profiles; print each violation and exit 1 if there is any."""
    given = [named(name) for name in profile or []]
    checked = [(book, _profiles(book, given)) for book in _books(paths or [])]
    on = day or today()
    measures = default_measures()
    results = [(book, found, linting.lint(book, found, measures=measures, today=on)) for book, found in checked]
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "file": book.file,
                        "scheme": book.book.scheme,
                        "version": book.book.version,
                        "profiles": [p.name for p in profiles],
                        "violations": [asdict(v) for v in found],
                    }
                    for book, profiles, found in results
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for book, profiles, found in results:
            names = ", ".join(p.name for p in profiles)
            if not found:
                console.print(Text.assemble((book.file, "bold"), f": passes {names}"))
            for violation in found:
                console.print(
                    Text.assemble(
                        (violation.file, "bold"),
                        f": {violation.where}: ",
                        (f"{violation.profile}/{violation.check}", "red"),
                        f" ({violation.article}): {violation.message}",
                    ),
                    soft_wrap=True,
                )
        total = sum(len(found) for _, _, found in results)
        if total:
            console.print(f"{total} violation{'s' if total != 1 else ''} in {len(results)} rulebook(s)", style="red")
    if any(found for _, _, found in results):
        raise typer.Exit(FOUND)


BAR_WIDTH = 40
SHOWN_GROUPS = 15  # districts in the terminal; --json has them all


def _against(value: str | None, scheme: str) -> str | None:
    """The version of ``--against SCHEME@VERSION`` (or VERSION), for the draft's ``scheme``."""
    if value is None:
        return None
    named, _, version = value.rpartition("@")
    if not version or (named and named != scheme):
        raise CredenceError(f"--against {value!r}: expected {scheme}@VERSION, the draft's scheme and a version of it")
    return version


@rulebook.command("simulate")
def simulate_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="the draft rulebook file", show_default=False)],
    against: Annotated[
        str | None,
        typer.Option(
            metavar="SCHEME@VERSION",
            help="the version the draft would replace (default: the scheme's edition in force on --as-of)",
        ),
    ] = None,
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            parser=calendar_day("--as-of"),
            metavar="DAY",
            help=f"the day compared, {DAY_HELP} (default today)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the comparison as JSON")] = False,
) -> None:
    """What-if: score and list the registry under a draft and show what changes against the
    version in force (counts, measures, a histogram, districts, age bands, the ten largest
    movers by internal id). Writes nothing."""
    draft = load_file(path)
    version = _against(against, draft.book.scheme)
    made = engine()
    try:
        found = simulate(made, schemes(), draft, against=version, as_of=as_of or today(), now=now())
    finally:
        made.dispose()
    if as_json:
        print(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
        return
    _show(found)


@rulebook.command("publish")
def publish_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="the draft rulebook file", show_default=False)],
    report: Annotated[
        Path,
        typer.Option(metavar="FILE", help="its what-if report: the output of rulebook simulate PATH --json"),
    ],
    day: Today = None,
) -> None:
    """Publish a draft: refused unless it passes the legal profiles it names, its effective date
    is not past and REPORT is a what-if report of this very text. Registers the published text
    with an event (text, digests, the report's counts), then rewrites the file as published."""
    with writing("rulebook publish") as made:
        done = publishing.publish(
            made, path, report, actor="credence rulebook publish", today=day or today(), now=now()
        )
    console.print(
        f"published {done.scheme} {done.version} (sha256 {done.sha256[:12]}…), from the draft "
        f"{done.draft_sha256[:12]}… and its what-if report {done.report_sha256[:12]}…; "
        f"{path} now says status: published"
    )


def _show(found: Simulation) -> None:
    console.print(
        Text.assemble(
            (f"{found.scheme} {found.draft}", "bold"),
            f" ({found.draft_status}, {found.draft_file}) ",
            *(("in place of ", (found.against, "bold")) if found.against else ("a new scheme",)),
            f", as of {found.as_of}: {found.subjects:,} subjects scored or listed",
        ),
        soft_wrap=True,
    )
    counts = Table("change", "subjects", title="What changes")
    for label, value in (
        ("score", found.score_changed),
        ("grade", found.grade_changed),
        ("listing", found.listing_changed),
        ("newly scored", found.newly_scored),
        ("no longer scored", found.no_longer_scored),
    ):
        counts.add_row(label, f"{value:,}")
    console.print(counts)
    if found.grades:
        grades = Table("grade before", "grade after", "subjects", title="Grade moves")
        for move in found.grades:
            grades.add_row(move.before or "(not scored)", move.after or "(not scored)", f"{move.subjects:,}")
        console.print(grades)
    if found.measures:
        measures = Table("measure", "effect", "newly", "freed", title="Measures on the day")
        for change in found.measures:
            measures.add_row(change.measure, change.effect, f"{change.newly:,}", f"{change.freed:,}")
        console.print(measures)
    if found.histogram:
        top = max(b.subjects for b in found.histogram)
        chart = Table("points", "", "subjects", title="Score changes (subjects whose score changed)", box=None)
        for b in found.histogram:
            label = f"{b.low:+d}" if b.low == b.high else f"{b.low:+d} to {b.high:+d}"
            chart.add_row(label, Bar(top, 0, b.subjects, width=BAR_WIDTH, color="blue"), f"{b.subjects:,}")
        console.print(chart)
    for title, groups in (
        ("By district (address code)", found.districts[:SHOWN_GROUPS]),
        ("By age band", found.age_bands),
    ):
        if any(g.score or g.grade or g.listing for g in groups):
            table = Table("group", "subjects", "score", "grade", "listing", title=title)
            for g in groups:
                table.add_row(g.group, f"{g.subjects:,}", f"{g.score:,}", f"{g.grade:,}", f"{g.listing:,}")
            console.print(table)
    if found.movers:
        movers = Table("subject (internal id)", "score", "grade", "rule lines that moved it", title="Largest movers")
        for m in found.movers:
            lines = "; ".join(f"{line.rule} {line.before:+d} → {line.after:+d}" for line in m.lines)
            movers.add_row(
                m.subject_id,
                f"{m.score_before} → {m.score_after} ({m.change:+d})",
                f"{m.grade_before or '-'} → {m.grade_after or '-'}",
                lines,
            )
        console.print(movers)
    console.print("what-if: nothing written")
