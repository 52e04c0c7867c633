"""Lint a loaded rulebook against legal profiles: every check of every profile, one
``Violation`` per place that breaks it. Pure: the caller passes the measure catalogue and the
day (a draft's effective date is judged against it).

Loading a rulebook never runs a profile (a rulebook that fails one still loads and scores);
``credence rulebook lint`` does, and a publish step will refuse one that fails (DESIGN P10).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from credence.exc import RulebookError
from credence.model.catalogue import Catalogue, default_catalogue
from credence.rules.checks import Context, MeasureLike
from credence.rules.loader import LoadedRulebook
from credence.rules.profiles import Profile, shipped


@dataclass(frozen=True, slots=True)
class Violation:
    file: str
    where: str  # "rule ID", "list ID", "measure ID" or "rulebook"
    profile: str
    check: str
    article: str
    message: str

    def line(self) -> str:
        return f"{self.file}: {self.where}: {self.profile}/{self.check} ({self.article}): {self.message}"


def declared(book: LoadedRulebook) -> list[Profile]:
    """The profiles a rulebook names in ``profiles:``; an unknown name is refused with the file."""
    known = shipped()
    for name in book.book.profiles:
        if name not in known:
            raise RulebookError(
                f"{book.file}: profiles: unknown legal profile {name!r}; expected one of {', '.join(known)}"
            )
    return [known[name] for name in book.book.profiles]


def lint(
    book: LoadedRulebook,
    profiles: Iterable[Profile],
    *,
    measures: Iterable[MeasureLike],
    today: date,
    catalogue: Catalogue | None = None,
) -> list[Violation]:
    """Every violation of ``profiles`` by ``book``, in profile, check and rulebook order."""
    ctx = Context(catalogue=catalogue or default_catalogue(), measures=tuple(measures), today=today)
    found = []
    for profile in profiles:
        for check in profile.checks:
            for finding in check.function.run(book, ctx, check.params):
                found.append(
                    Violation(
                        file=book.file,
                        where=finding.where,
                        profile=profile.name,
                        check=check.spec.id,
                        article=check.spec.article,
                        message=check.spec.message.format(**finding.fields),
                    )
                )
    return found
