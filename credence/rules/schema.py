"""The rulebook file format, validated with pydantic. See docs/rulebooks.md for the prose."""

import itertools
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator


def _text(value: Any) -> Any:
    # YAML reads ``points: -5`` as a number; an expression is text either way
    return str(value) if isinstance(value, int | bool) and not isinstance(value, bool) else value


ExprText = Annotated[str, BeforeValidator(_text)]


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


class Rule(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    kinds: list[str] = Field(min_length=1)
    when: ExprText | None = None
    points: ExprText
    cap: Cap | None = None
    expires_after: Duration | None = None
    legal_basis: str


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
    grade: str
    min: int
    max: int


class Coverage(Strict):
    """Who a city scheme covers: registered, or resident long enough, and consenting if required."""

    residence_min_days: int = Field(365, ge=0)
    consent_required: bool = False


class Redlist(Strict):
    id: str
    title: str
    grades: list[str] = Field(min_length=1)
    legal_basis: str


class ListDuration(Strict):
    when: ExprText
    term: Duration | None = Field(description="absent: no end date until a deletion event")


class Extension(Strict):
    kind: str
    attribute: str
    times: int = Field(1, ge=1)


class ListRule(Strict):
    """A list whose entries come from a deciding authority's decision records."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    type: Literal["blacklist", "redlist"] = "blacklist"
    decision_kind: str
    key: str
    ground: str
    court: str
    min_age: int = Field(18, ge=0)
    excluded_when: str | None = None
    durations: list[ListDuration] = Field(min_length=1)
    extension: Extension | None = None
    ending_kinds: list[str] = Field(min_length=1)
    ending_reason: str
    binds: list[str] = []
    legal_basis: str


class Rulebook(Strict):
    scheme: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    version: str
    jurisdiction: str = Field(pattern=r"^[0-9]{0,6}$", description="region-code prefix; empty: national")
    status: Status
    effective_from: date
    legal_basis: str
    consequences: Literal["national", "city"] = "city"
    coverage: Coverage | None = None
    score: Scale | None = None
    grades: list[Band] = []
    rules: list[Rule] = []
    redlist: Redlist | None = None
    lists: list[ListRule] = []

    @model_validator(mode="after")
    def _bands_tile_the_scale(self) -> "Rulebook":
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
