"""``credence rulebook``: work on rulebook files before they score anyone.

``lint`` checks rulebooks against legal profiles (``rules/profiles/<name>.yaml``): the ones
given with ``--profile``, else the ones each rulebook names in ``profiles:``. One line per
violation, ``FILE: rule ID: PROFILE/CHECK (ARTICLE): message``; exit status 1 when there is
any, 2 for a mistake (a rulebook or profile refused, a rulebook that names no profile).
"""

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from credence.cli.context import DAY_HELP, calendar_day, console, today
from credence.exc import CredenceError
from credence.lists.measures import default_measures
from credence.rules import lint as linting
from credence.rules.loader import LoadedRulebook, load_file, shipped
from credence.rules.profiles import Profile, named

FOUND = 1  # violations: the rulebook is not lawful under a profile (a mistake is 2, errors.USER_ERROR)

rulebook = typer.Typer(no_args_is_help=True, help="Rulebook files: lint against legal profiles.")


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
    day: Annotated[
        date | None,
        typer.Option(
            "--today",
            parser=calendar_day("--today"),
            metavar="DAY",
            help=f"the day of the check, {DAY_HELP} (default today)",
        ),
    ] = None,
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
