"""Load rulebook YAML, check it against the record-kind catalogue, parse its expressions.

A rulebook is refused at load, with the file, rule id and position, when it names an unknown
record kind, field or function, has a syntax error, or its grade bands do not tile its scale.
"""

import hashlib
import itertools
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from credence.exc import RulebookError
from credence.model import yaml_errors
from credence.model.catalogue import Catalogue, default_catalogue
from credence.rules import expressions
from credence.rules.expressions import Expression, Where
from credence.rules.schema import SLUG_PATTERN, ListRule, Rule, RulebookSpec

RECORD_FIELDS = {"valid_date", "jurisdiction", "kind"}
SLUG = re.compile(SLUG_PATTERN)
SHIPPED = "credence.rules.rulebooks"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    when: Expression | None
    points: Expression


@dataclass(frozen=True, slots=True)
class CompiledList:
    rule: ListRule
    excluded_when: Expression | None
    durations: tuple[tuple[Expression, int | None], ...]


@dataclass(frozen=True, slots=True)
class LoadedRulebook:
    """One edition of a scheme: a rulebook file checked and parsed. ``book.version`` is its
    version string; a ``Scheme`` holds its editions in ``editions``."""

    book: RulebookSpec
    file: str
    sha256: str
    rules: tuple[CompiledRule, ...]
    lists: tuple[CompiledList, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.book.scheme, self.book.version)


def _fields_of(kinds: list[str], catalogue: Catalogue, where: Where) -> set[str]:
    fields = set(RECORD_FIELDS)
    for name in kinds:
        if name not in catalogue.kinds:
            raise RulebookError(f"{where.file}: rule {where.rule}: unknown record kind {name!r}")
        fields |= set(catalogue.kinds[name].attributes)
    return fields


def _compile_rule(rule: Rule, file: str, catalogue: Catalogue) -> CompiledRule:
    fields = _fields_of(rule.kinds, catalogue, Where(file, rule.id, "kinds"))
    when = expressions.parse(rule.when, fields=fields, where=Where(file, rule.id, "when")) if rule.when else None
    points = expressions.parse(rule.points, fields=fields, where=Where(file, rule.id, "points"))
    return CompiledRule(rule=rule, when=when, points=points)


def _compile_list(rule: ListRule, file: str, catalogue: Catalogue) -> CompiledList:
    kinds = [rule.decision_kind, *rule.ending_kinds]
    if rule.extension:
        kinds.append(rule.extension.kind)
    fields = _fields_of([rule.decision_kind], catalogue, Where(file, rule.id, "decision_kind"))
    _fields_of(kinds, catalogue, Where(file, rule.id, "kinds"))
    for attr in (rule.key, rule.ground, rule.court, *rule.binds):
        if attr not in fields:
            raise RulebookError(f"{file}: list {rule.id}: unknown field {attr!r}")
    # the columns the listing SQL reads from extension and ending records
    for kind, attr, role in (
        *((k, rule.ending_reason, "ending_reason") for k in rule.ending_kinds),
        *([(rule.extension.kind, rule.extension.attribute, "extension.attribute")] if rule.extension else []),
    ):
        if attr not in catalogue.kinds[kind].attributes:
            raise RulebookError(
                f"{file}: list {rule.id}: {role}: record kind {kind} has no attribute {attr!r}; "
                f"expected one of {', '.join(catalogue.kinds[kind].attributes)}"
            )
    excluded = (
        expressions.parse(rule.excluded_when, fields=fields, where=Where(file, rule.id, "excluded_when"))
        if rule.excluded_when
        else None
    )
    durations = tuple(
        (
            expressions.parse(d.when, fields=fields, where=Where(file, rule.id, f"durations[{i}]")),
            d.term.total_months if d.term else None,
        )
        for i, d in enumerate(rule.durations)
    )
    return CompiledList(rule=rule, excluded_when=excluded, durations=durations)


def load_text(text: str, *, file: str, catalogue: Catalogue | None = None) -> LoadedRulebook:
    catalogue = catalogue or default_catalogue()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise RulebookError(f"{file}{yaml_errors.where(err)}") from None
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a YAML {type(data).__name__}"
        raise RulebookError(f"{file}: expected a rulebook (a mapping of scheme, version, rules, ...), got {got}")
    try:
        book = RulebookSpec.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        rule = ""
        if len(first["loc"]) > 1 and first["loc"][0] in ("rules", "lists") and isinstance(data, dict):
            try:
                named = data[first["loc"][0]][first["loc"][1]].get("id")
            except (KeyError, IndexError, TypeError, AttributeError):
                named = None
            # an id that is itself refused is shown only quoted, in "(got ...)", never raw
            rule = f" (rule {named})" if isinstance(named, str) and SLUG.fullmatch(named) else ""
        got = f" (got {first['input']!r:.60})" if first["type"] == "string_pattern_mismatch" else ""
        raise RulebookError(f"{file}: {path}{rule}: {first['msg']}{got}") from None
    rules = tuple(_compile_rule(r, file, catalogue) for r in book.rules)
    lists = tuple(_compile_list(r, file, catalogue) for r in book.lists)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return LoadedRulebook(book=book, file=file, sha256=digest, rules=rules, lists=lists)


def load_file(path: Path, *, catalogue: Catalogue | None = None) -> LoadedRulebook:
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as err:
        raise RulebookError(f"{path}: not UTF-8 text (byte {err.start}); a rulebook is UTF-8 YAML") from None
    return load_text(text, file=str(path), catalogue=catalogue)


def shipped() -> list[LoadedRulebook]:
    """Every rulebook version shipped with Credence (rules/rulebooks/<scheme>/<version>.yaml)."""
    root = resources.files(SHIPPED)
    books = []
    for scheme in sorted(root.iterdir(), key=lambda p: p.name):
        if not scheme.is_dir() or scheme.name.startswith("_"):
            continue
        for entry in sorted(scheme.iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".yaml"):
                books.append(load_text(entry.read_text("utf-8"), file=f"rulebooks/{scheme.name}/{entry.name}"))
    return books


@cache
def shipped_schemes() -> "dict[str, Scheme]":
    """The shipped rulebooks grouped by scheme, loaded once per process."""
    return group(shipped())


@dataclass(frozen=True, slots=True)
class Scheme:
    """All editions (versions) of one scheme, oldest first; each record is scored by the edition
    in force at its valid date, and an edition never reaches back before its effective date."""

    name: str
    editions: tuple[LoadedRulebook, ...]

    def in_force(self, day: date) -> LoadedRulebook | None:
        current = None
        for edition in self.editions:
            if edition.book.effective_from <= day:
                current = edition
        return current

    def window(self, index: int) -> tuple[date, date | None]:
        start = self.editions[index].book.effective_from
        nxt = self.editions[index + 1].book.effective_from if index + 1 < len(self.editions) else None
        return start, nxt


def group(books: list[LoadedRulebook]) -> dict[str, Scheme]:
    """Group editions by scheme; refuse two editions with one effective date or one version id."""
    by_scheme: dict[str, list[LoadedRulebook]] = {}
    for book in books:
        by_scheme.setdefault(book.book.scheme, []).append(book)
    schemes = {}
    for name, editions in by_scheme.items():
        editions.sort(key=lambda b: b.book.effective_from)
        ids = [e.book.version for e in editions]
        for a, b in itertools.pairwise(editions):
            if a.book.effective_from == b.book.effective_from or ids.count(b.book.version) > 1:
                raise RulebookError(
                    f"{b.file}: scheme {name} version {b.book.version} clashes with {a.file}: "
                    "each version needs its own id and a later effective date"
                )
        schemes[name] = Scheme(name=name, editions=tuple(editions))
    return schemes
