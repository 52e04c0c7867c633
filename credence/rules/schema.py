"""The rulebook file format, validated with pydantic. See docs/rulebooks.md for the prose.

Every value that the compiler puts into SQL has a pattern here (ids, version, grades, record
kinds and fields), so a quote, a semicolon or a comment marker is refused at load with the
file and the field; the compiler also renders each one through SQLGlot (``rules/targets.py``).
Free text (titles, legal bases) never reaches the SQL, but is stored and shown: it may hold any
printable text and line breaks, no other control character (PostgreSQL cannot store NUL).
"""

import itertools
import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from credence.model import calendars
from credence.model.calendars import Calendar


def _text(value: Any) -> Any:
    # YAML reads ``points: -5`` as a number; an expression is text either way
    return str(value) if isinstance(value, int | bool) and not isinstance(value, bool) else value


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(value: str) -> str:
    found = _CONTROL.search(value)
    if found:
        raise ValueError(f"control character U+{ord(found.group()):04X} at position {found.start() + 1} is not allowed")
    return value


# Free text: titles, legal bases, expressions (parsed and re-rendered by SQLGlot, never pasted).
Prose = Annotated[str, AfterValidator(_printable)]
ExprText = Annotated[str, BeforeValidator(_text), AfterValidator(_printable)]


# Reach SQL as literals or identifiers: patterns sized to the columns they are stored in.
def _no_comment_marker(value: str) -> str:
    # harmless inside a SQLGlot literal, but nobody needs it and a reader of the SQL might not know
    if "--" in value:
        raise ValueError("'--' is not allowed (it starts a comment in SQL)")
    return value


SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
Slug = Annotated[str, Field(pattern=SLUG_PATTERN), AfterValidator(_no_comment_marker)]  # scheme, rule, list ids
Version = Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$"), AfterValidator(_no_comment_marker)]
Grade = Annotated[str, Field(pattern=r"^[A-Za-z0-9+-]{1,16}$"), AfterValidator(_no_comment_marker)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]  # a record kind or field of the catalogue


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ILLUSTRATIVE = "illustrative"  # no official text is known; values chosen and stated by us


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Duration(Strict):
    years: int = Field(0, ge=0)
    months: int = Field(0, ge=0)

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months


class Cap(Strict):
    max: int = Field(gt=0, description="the most the rule's points may add up to, as an absolute value")
    per: Literal["year", "lifetime"] = "year"


class Scale(Strict):
    base: int
    floor: int
    ceiling: int

    @model_validator(mode="after")
    def _ordered(self) -> "Scale":
        if not self.floor <= self.base <= self.ceiling:
            raise ValueError("score needs floor <= base <= ceiling")
        return self


class Band(Strict):
    grade: Grade
    min: int
    max: int


class Coverage(Strict):
    """Who a city scheme covers: registered, or resident long enough, and consenting if required."""

    residence_min_days: int = Field(365, ge=0)
    consent_required: bool = False


class Redlist(Strict):
    id: Slug
    title: Prose
    grades: list[Grade] = Field(min_length=1)
    legal_basis: Prose


class ListDuration(Strict):
    when: ExprText
    term: Duration | None = Field(description="absent: no end date until a deletion event")


class Extension(Strict):
    kind: Name
    attribute: Name
    times: int = Field(1, ge=1)


class Period(Strict):
    """A length of time in one unit; working days name their calendar (``model.calendars``)."""

    days: int = Field(0, ge=0, le=3660)
    months: int = Field(0, ge=0, le=120)
    working_days: int = Field(0, ge=0, le=250)
    calendar: Calendar | None = None

    @model_validator(mode="after")
    def _one_unit(self) -> "Period":
        given = [name for name in ("days", "months", "working_days") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError(f"a period counts exactly one of days, months, working_days (given: {given or 'none'})")
        if self.working_days and self.calendar is None:
            raise ValueError("working_days need a calendar (cn: the State Council's holidays and make-up workdays)")
        if self.calendar is not None and not self.working_days:
            raise ValueError("a calendar only counts working_days")
        return self

    def counted(self) -> calendars.Period:
        return calendars.Period(
            days=self.days, months=self.months, working_days=self.working_days, calendar=self.calendar
        )


class Repair(Strict):
    """Credit repair (NDRC Order No. 58; DOMAIN.md "Credit repair"): once ``after`` has passed
    since the record's date, a subject who meets ``conditions`` may apply; an officer of the
    record's source decides, and a granted repair (a ``credit_repair`` record) ends the record's
    count from the decision day instead of at its expiry."""

    after: Duration = Field(description="the minimum period, from the record's valid date")
    conditions: list[Prose] = Field(min_length=1, description="what the officer confirms before granting")
    answer_within: Period = Field(
        default_factory=lambda: Period(days=15), description="how long the agency has to decide"
    )
    legal_basis: Prose


class Rule(Strict):
    id: Slug
    title: Prose
    kinds: list[Name] = Field(min_length=1)
    when: ExprText | None = None
    points: ExprText
    cap: Cap | None = None
    expires_after: Duration | None = None
    repair: Repair | None = None  # absent: no repair; the record counts until its expiry
    legal_basis: Prose

    @model_validator(mode="after")
    def _repair_before_expiry(self) -> "Rule":
        if self.repair and self.expires_after and self.repair.after.total_months >= self.expires_after.total_months:
            raise ValueError(
                "repair.after must be shorter than expires_after: a record expires before it can be repaired"
            )
        return self


class TakesEffect(Strict):
    """When a listing's measures start, where the law makes them wait: for the listed person to
    be told (a notice delivered on some channel) and then for a period (a grace period before
    publication; a publicity period in which objections are heard). The listing itself is
    decided, shown and disputable from its decision day; only its measures wait."""

    after_notice: bool = Field(True, description="the period runs from the day the notice reached the subject")
    period: Period | None = Field(None, description="absent: the measures start the day after the notice")
    unreachable: Literal["wait", "proceed"] = Field(
        "wait",
        description="a subject no notice can reach: wait (no measure until a contact arrives and the notice "
        "goes) or proceed (the period runs from the decision day)",
    )
    term_from: Literal["decision", "effect"] = Field(
        "decision", description="effect: the listing's term counts from the day its measures start"
    )

    @model_validator(mode="after")
    def _waits_for_something(self) -> "TakesEffect":
        if not self.after_notice and self.period is None:
            raise ValueError("takes_effect without after_notice needs a period")
        return self


class ListRule(Strict):
    """A list whose entries come from a deciding authority's decision records."""

    id: Slug
    title: Prose
    type: Literal["blacklist", "redlist"] = "blacklist"
    decision_kind: Name
    key: Name
    ground: Name
    court: Name
    min_age: int = Field(18, ge=0)
    excluded_when: ExprText | None = None
    durations: list[ListDuration] = Field(min_length=1)
    extension: Extension | None = None
    ending_kinds: list[Name] = Field(min_length=1)
    ending_reason: Name
    binds: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]] = []  # a role: listings.role is 32 wide
    takes_effect: TakesEffect | None = None  # absent: the measures apply from the decision day
    legal_basis: Prose


class Disputes(Strict):
    """How a dispute of a record this rulebook counts is answered: the agency's deadline, and
    whether the record keeps its effect meanwhile. A record counted by several rulebooks takes
    the shortest deadline, and is suspended if any of them suspends it."""

    answer_within: Period = Field(default_factory=lambda: Period(days=30))
    suspends: bool = Field(False, description="true: the record has no effect while the dispute is open")


class RulebookSpec(Strict):
    """One rulebook file as written: a version of a scheme. ``rules.loader`` checks it against the
    catalogue and parses its expressions into a ``LoadedRulebook``. (``store.orm.Rulebook`` is
    the row the registry keeps of each version it scored with, named like the other tables.)"""

    scheme: Slug
    title: Prose
    version: Version
    jurisdiction: str = Field(pattern=r"^[0-9]{0,6}$", description="region-code prefix; empty: national")
    status: Status
    effective_from: date
    legal_basis: Prose
    consequences: Literal["national", "city"] = "city"
    coverage: Coverage | None = None
    score: Scale | None = None
    grades: list[Band] = []
    rules: list[Rule] = []
    redlist: Redlist | None = None
    lists: list[ListRule] = []
    disputes: Disputes = Field(default_factory=Disputes)
    # the legal profiles (rules/profiles/<name>.yaml) it must satisfy: `credence rulebook lint`
    # checks them; loading does not, so a rulebook that fails one still loads and scores
    profiles: list[Slug] = []

    @model_validator(mode="after")
    def _bands_tile_the_scale(self) -> "RulebookSpec":
        if self.score is None:
            if self.rules or self.grades:
                raise ValueError("rules and grades need a score scale")
            return self
        if self.grades:
            bands = sorted(self.grades, key=lambda b: b.min)
            if bands[0].min != self.score.floor or bands[-1].max != self.score.ceiling:
                raise ValueError(
                    f"grade bands must cover {self.score.floor}..{self.score.ceiling}, "
                    f"they cover {bands[0].min}..{bands[-1].max}"
                )
            for band in bands:
                if band.max < band.min:
                    raise ValueError(f"grade {band.grade} has min above max")
            for low, high in itertools.pairwise(bands):
                if high.min != low.max + 1:
                    raise ValueError(
                        f"grade bands {low.grade} [{low.min}, {low.max}] and {high.grade} "
                        f"[{high.min}, {high.max}] must meet without gap or overlap"
                    )
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("rule ids must be unique")
        if self.redlist and not set(self.redlist.grades) <= {b.grade for b in self.grades}:
            raise ValueError("redlist names a grade the rulebook does not define")
        return self
