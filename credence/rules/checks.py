"""The check functions a legal profile may name (``check: same_context``), each with its
parameters and the fields its message template may use.

A check reads what a loaded rulebook says (its parsed model and expressions, the record-kind
catalogue, the measures that attach to its lists and grades), never its text, and yields one
``Finding`` per place that breaks it. Measures live in the catalogue, above this room, so a
check sees them through ``MeasureLike``, which ``lists.measures.Measure`` satisfies.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

from credence.model.catalogue import Catalogue, Polarity
from credence.rules import analysis
from credence.rules.analysis import evaluate
from credence.rules.loader import CompiledList, CompiledRule, LoadedRulebook
from credence.rules.schema import ListRule, Status


class MeasureLike(Protocol):
    """What a check needs of a catalogue measure."""

    @property
    def id(self) -> str: ...
    @property
    def effect(self) -> str: ...
    @property
    def context(self) -> str: ...
    @property
    def legal_basis(self) -> str: ...
    @property
    def lists(self) -> frozenset[str]: ...
    @property
    def grades(self) -> Mapping[str, frozenset[str]]: ...


@dataclass(frozen=True, slots=True)
class Context:
    """What a rulebook is checked with: the catalogues, and the day of the check."""

    catalogue: Catalogue
    measures: tuple[MeasureLike, ...]
    today: date


@dataclass(frozen=True, slots=True)
class Finding:
    """One place a rulebook breaks a check: ``where`` is ``rule ID``, ``list ID``, ``measure ID``
    or ``rulebook``; ``fields`` fill the profile's message template."""

    where: str
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class Driven:
    """A measure that follows from a rulebook, and how: from a list (a deciding authority's
    decision) or from the score (its grades, or a redlist of grades), which no one decides."""

    measure: MeasureLike
    via: str
    automated: bool
    listing: ListRule | None = None  # the list it attaches to, when it follows from one


def driven(book: LoadedRulebook, measures: tuple[MeasureLike, ...]) -> list[Driven]:
    spec = book.book
    found = []
    for measure in measures:  # one measure may follow from several: each is checked
        for listing in spec.lists:
            if listing.id in measure.lists:
                found.append(Driven(measure, f"list {listing.id}", automated=False, listing=listing))
        if spec.redlist and spec.redlist.id in measure.lists:
            found.append(Driven(measure, f"redlist {spec.redlist.id} (grades {', '.join(spec.redlist.grades)})", True))
        if grades := sorted(measure.grades.get(spec.scheme, ())):
            found.append(Driven(measure, f"grade {', '.join(grades)}", automated=True))
    return found


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    pass


Run = Callable[[LoadedRulebook, Context, Params], Iterator[Finding]]


@dataclass(frozen=True, slots=True)
class CheckFunction:
    params: type[Params]
    fields: tuple[str, ...]  # what the message template may name, e.g. {measure}
    run: Run


CHECKS: dict[str, CheckFunction] = {}


P = TypeVar("P", bound=Params)


def check(
    name: str, params: type[P], *fields: str
) -> Callable[
    [Callable[[LoadedRulebook, Context, P], Iterator[Finding]]],
    Callable[[LoadedRulebook, Context, P], Iterator[Finding]],
]:
    """Register a check function under ``name``; profiles call it with ``params`` validated."""

    def register(
        run: Callable[[LoadedRulebook, Context, P], Iterator[Finding]],
    ) -> Callable[[LoadedRulebook, Context, P], Iterator[Finding]]:
        # sound: lint calls it only with parameters that ``params`` validated
        CHECKS[name] = CheckFunction(params=params, fields=fields, run=cast(Run, run))
        return run

    return register


def _contexts(rule: CompiledRule, catalogue: Catalogue) -> list[str]:
    return sorted({catalogue.kinds[k].context for k in rule.rule.kinds})


@check("same_context", NoParams, "contexts", "measure", "measure_context", "via")
def same_context(book: LoadedRulebook, ctx: Context, _params: NoParams) -> Iterator[Finding]:
    """A score rule's records drive a measure of another context (lists are a deciding
    authority's decision on one case, not a score, and are not this check's)."""
    for link in driven(book, ctx.measures):
        if not link.automated:
            continue
        for rule in book.rules:
            contexts = _contexts(rule, ctx.catalogue)
            if contexts != [link.measure.context]:
                yield Finding(
                    f"rule {rule.rule.id}",
                    {
                        "contexts": ", ".join(contexts),
                        "measure": link.measure.id,
                        "measure_context": link.measure.context,
                        "via": link.via,
                    },
                )


class LegalEffect(Params):
    effects: list[str] = Field(["restrict", "notice"], min_length=1)
    # the record kinds that are a deciding authority's decision on one case: a list made from
    # any other kind (every traffic offence, say) is as automatic as a grade
    decision_kinds: list[str] = Field(["defaulter_listing_decision"], min_length=1)


@check("human_decision_for_legal_effect", LegalEffect, "measure", "effect", "via")
def human_decision(book: LoadedRulebook, ctx: Context, params: LegalEffect) -> Iterator[Finding]:
    """A measure with legal effect follows from the score, or from a list whose entries come from
    records that are no one's decision."""
    for link in driven(book, ctx.measures):
        if link.measure.effect not in params.effects:
            continue
        via = link.via
        if link.listing is not None:
            if link.listing.decision_kind in params.decision_kinds:
                continue
            via = f"{link.via} (from {link.listing.decision_kind} records, which are no one's decision)"
        yield Finding(
            f"measure {link.measure.id}", {"measure": link.measure.id, "effect": str(link.measure.effect), "via": via}
        )


class Obsolescence(Params):
    years: int = Field(7, gt=0)
    bankruptcy_years: int = Field(10, gt=0)
    bankruptcy_kinds: list[str] = ["bankruptcy"]


def _adverse(rule: CompiledRule, catalogue: Catalogue) -> bool:
    if any(catalogue.kinds[k].polarity is Polarity.ADVERSE for k in rule.rule.kinds):
        return True
    low, _ = analysis.bounds(rule.points.tree, analysis.attribute_bounds(rule.rule.kinds, catalogue))
    return low < 0


def _years(months: int) -> str:
    return f"{months // 12} years" + (f" {months % 12} months" if months % 12 else "")


@check("obsolescence", Obsolescence, "counts", "limit")
def obsolescence(book: LoadedRulebook, ctx: Context, params: Obsolescence) -> Iterator[Finding]:
    """An adverse record counts (or a listing lasts) longer than the limit, or without end."""
    for rule in book.rules:
        if not _adverse(rule, ctx.catalogue):
            continue
        years = params.bankruptcy_years if set(rule.rule.kinds) & set(params.bankruptcy_kinds) else params.years
        expiry = rule.rule.expires_after
        if expiry is None or expiry.total_months > 12 * years:
            counts = "without end (no expires_after)" if expiry is None else f"for {_years(expiry.total_months)}"
            yield Finding(f"rule {rule.rule.id}", {"counts": counts, "limit": f"{years} years"})
    for listing in book.book.lists:
        if listing.type != "blacklist":
            continue
        years = params.bankruptcy_years if listing.decision_kind in params.bankruptcy_kinds else params.years
        extra = _extension_months(listing, ctx.catalogue)
        for duration in listing.durations:
            if duration.term is None or extra is None:
                counts = "until a deletion event, with no end date" if duration.term is None else "with no end date"
            elif duration.term.total_months + extra > 12 * years:
                counts = f"for up to {_years(duration.term.total_months + extra)} with extensions"
            else:
                continue
            yield Finding(
                f"list {listing.id}",
                {"counts": f"{counts} (listings where {duration.when})", "limit": f"{years} years"},
            )


def _extension_months(listing: ListRule, catalogue: Catalogue) -> int | None:
    """The most extensions can add to a listing, in months (the attribute is in years)."""
    if listing.extension is None:
        return 0
    most = catalogue.kinds[listing.extension.kind].attributes[listing.extension.attribute].maximum
    return None if most is None else 12 * most * listing.extension.times


def _blacklists(book: LoadedRulebook) -> Iterator[CompiledList]:
    return (c for c in book.lists if c.rule.type == "blacklist")


class MinimumAge(Params):
    years: int = Field(18, ge=0)


@check("minimum_age", MinimumAge, "min_age", "years")
def minimum_age(book: LoadedRulebook, _ctx: Context, params: MinimumAge) -> Iterator[Finding]:
    """A list would take people younger than the profile's age."""
    for listing in _blacklists(book):
        if listing.rule.min_age < params.years:
            yield Finding(f"list {listing.rule.id}", {"min_age": str(listing.rule.min_age), "years": str(params.years)})


class Exclusions(Params):
    ground: int = 1
    when_any: list[str] = Field(["full_security", "seized_property_covers", "not_yet_due"], min_length=1)


@check("list_exclusions", Exclusions, "ground", "circumstance")
def list_exclusions(book: LoadedRulebook, _ctx: Context, params: Exclusions) -> Iterator[Finding]:
    """A decision on the ground, with one of the circumstances true, is not excluded: the list's
    ``excluded_when`` is evaluated on such a record (NULL counts as not excluded, as in the SQL)."""
    for listing in _blacklists(book):
        for circumstance in params.when_any:
            record = {listing.rule.ground: params.ground, circumstance: True}
            excluded = listing.excluded_when is not None and evaluate(listing.excluded_when.tree, record) is True
            if not excluded:
                yield Finding(f"list {listing.rule.id}", {"ground": str(params.ground), "circumstance": circumstance})


class Durations(Params):
    open_grounds: list[int] = [1]  # no fixed period: a listing ends by deletion
    fixed_grounds: list[int] = [2, 3, 4, 5, 6]
    fixed_years: int = Field(2, gt=0)
    extension_max_years: int = Field(3, ge=0)


def _term(listing: CompiledList, ground: int) -> int | None:
    """The term in months of a decision on ``ground`` (None: no end date until a deletion): the
    first duration whose condition holds, as in the listing SQL's CASE, where none is NULL."""
    for when, months in listing.durations:
        if evaluate(when.tree, {listing.rule.ground: ground}) is True:
            return months
    return None


@check("list_durations", Durations, "ground", "found", "expected")
def list_durations(book: LoadedRulebook, ctx: Context, params: Durations) -> Iterator[Finding]:
    """A ground lists for another term than the profile's, or extensions can add more than allowed."""
    for listing in _blacklists(book):
        where = f"list {listing.rule.id}"
        for ground in sorted({*params.open_grounds, *params.fixed_grounds}):
            months = _term(listing, ground)
            expected = (
                "no end date until deletion" if ground in params.open_grounds else _years(12 * params.fixed_years)
            )
            found = "no end date until deletion" if months is None else _years(months)
            if found != expected:
                yield Finding(where, {"ground": str(ground), "found": found, "expected": expected})
        extra = _extension_months(listing.rule, ctx.catalogue)
        if extra is None or extra > 12 * params.extension_max_years:
            found = "no limit" if extra is None else f"up to {_years(extra)}"
            expected = f"at most {_years(12 * params.extension_max_years)}"
            yield Finding(where, {"ground": "extension", "found": found, "expected": expected})


class Deletion(Params):
    reasons: list[str] = Field(
        [
            "performed",
            "settlement_performed",
            "creditor_request",
            "no_property_found",
            "suspended",
            "not_enforced",
            "terminated",
        ],
        min_length=1,
    )


@check("deletion_grounds", Deletion, "reason", "kind")
def deletion_grounds(book: LoadedRulebook, ctx: Context, params: Deletion) -> Iterator[Finding]:
    """An ending record cannot say one of the deletion grounds. Any ending record ends a
    listing whatever its reason (``compile.listing_query``), so each ground must be sayable."""
    for listing in _blacklists(book):
        for kind in listing.rule.ending_kinds:
            choices = ctx.catalogue.kinds[kind].attributes[listing.rule.ending_reason].choices
            for reason in params.reasons:
                if choices and reason not in choices:
                    yield Finding(f"list {listing.rule.id}", {"reason": reason, "kind": kind})


class LegalBasis(Params):
    # texts that say there is none (compared without case or surrounding space)
    missing: list[str] = ["", "none", "none published", "n/a", "unknown"]


@check("legal_basis_everywhere", LegalBasis, "part", "legal_basis")
def legal_basis_everywhere(book: LoadedRulebook, ctx: Context, params: LegalBasis) -> Iterator[Finding]:
    """The rulebook, a rule, a list, the redlist or a measure it drives has no legal basis."""
    missing = {m.strip().lower() for m in params.missing}
    spec = book.book
    parts: list[tuple[str, str, str]] = [("rulebook", "the rulebook", spec.legal_basis)]
    parts += [(f"rule {r.id}", "the rule", r.legal_basis) for r in spec.rules]
    parts += [(f"list {r.id}", "the list", r.legal_basis) for r in spec.lists]
    if spec.redlist:
        parts.append((f"list {spec.redlist.id}", "the redlist", spec.redlist.legal_basis))
    measures = {d.measure.id: d.measure for d in driven(book, ctx.measures)}
    parts += [(f"measure {m.id}", "the measure", m.legal_basis) for m in measures.values()]
    for where, part, basis in parts:
        if basis.strip().lower() in missing:
            yield Finding(where, {"part": part, "legal_basis": basis})


@check("no_retroactive_effect", NoParams, "effective_from", "today")
def no_retroactive_effect(book: LoadedRulebook, ctx: Context, _params: NoParams) -> Iterator[Finding]:
    """A draft would take effect before the day of the check: published now, it would reach
    back. (A record is scored only by the edition in force at its valid date, so an edition's
    reach is its effective date; a published edition's was checked when it was published.)"""
    spec = book.book
    if spec.status == Status.DRAFT and spec.effective_from < ctx.today:
        yield Finding("rulebook", {"effective_from": spec.effective_from.isoformat(), "today": ctx.today.isoformat()})


@check("bounded_adverse_rules", NoParams)
def bounded_adverse_rules(book: LoadedRulebook, ctx: Context, _params: NoParams) -> Iterator[Finding]:
    """A rule's points per record have no lower bound (from the catalogue's attribute ranges)
    and no cap bounds their sum."""
    for rule in book.rules:
        if rule.rule.cap is not None:
            continue
        low, _ = analysis.bounds(rule.points.tree, analysis.attribute_bounds(rule.rule.kinds, ctx.catalogue))
        if low == -analysis.INF:
            yield Finding(f"rule {rule.rule.id}", {})
