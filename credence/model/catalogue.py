"""The record-kind catalogue: data (catalogue/record_kinds.yaml), not code.

Each kind names its typed attributes, its polarity and its context. Attribute values are coerced
from text here, once, so that every feed format yields the same typed record.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import yaml

from credence.exc import FieldError
from credence.model.contacts import normal_email, normal_phone
from credence.model.identifiers import SubjectKind
from credence.model.values import shown


class Polarity(StrEnum):
    ADVERSE = "adverse"
    FAVOURABLE = "favourable"
    NEUTRAL = "neutral"


class AttrType(StrEnum):
    INT = "int"
    STR = "str"
    BOOL = "bool"
    DATE = "date"
    ID = "id"  # another subject's national ID number
    PHONE = "phone"  # kept in E.164
    EMAIL = "email"  # kept normalised


SQL_TYPES = {
    AttrType.INT: "BIGINT",
    AttrType.STR: "TEXT",
    AttrType.BOOL: "BOOLEAN",
    AttrType.DATE: "DATE",
    AttrType.ID: "TEXT",
    AttrType.PHONE: "TEXT",
    AttrType.EMAIL: "TEXT",
}

# the widest a text attribute may be unless the catalogue says otherwise; attributes reach derived
# columns (a listing's case number is VARCHAR(100)), so the bound is checked at the door, the
# same on every store, instead of by whichever database happens to enforce lengths
TEXT_LENGTH = 100
# a whole number must fit the BIGINT that rules cast it to
INT_RANGE = (-(2**63), 2**63 - 1)

_TRUE = {"true", "1", "yes", "y", "t", "是"}
_FALSE = {"false", "0", "no", "n", "f", "否", ""}


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    type: AttrType
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = TEXT_LENGTH

    def coerce(self, value: Any, *, field: str) -> Any:
        """Return the typed value, or raise a FieldError naming the field and what was expected."""
        if value is None or (isinstance(value, str) and value.strip() == ""):
            if self.required:
                raise FieldError(field, f"required {self.type.value} value is missing")
            return False if self.type is AttrType.BOOL else None
        typed: Any
        if isinstance(value, str) and len(value) > self.max_length and self.type is not AttrType.BOOL:
            raise FieldError(field, f"expected at most {self.max_length} characters, got {len(value):,}")
        if self.type is AttrType.INT:
            try:
                typed = int(str(value).strip())
            except ValueError:
                raise FieldError(field, f"expected a whole number, got {shown(value)}") from None
            if not INT_RANGE[0] <= typed <= INT_RANGE[1]:
                raise FieldError(field, f"expected a whole number of at most 19 digits, got {shown(value)}")
            if self.minimum is not None and typed < self.minimum:
                raise FieldError(field, f"expected at least {self.minimum}, got {typed}")
            if self.maximum is not None and typed > self.maximum:
                raise FieldError(field, f"expected at most {self.maximum}, got {typed}")
        elif self.type is AttrType.BOOL:
            if isinstance(value, bool):
                typed = value
            elif str(value).strip().lower() in _TRUE:
                typed = True
            elif str(value).strip().lower() in _FALSE:
                typed = False
            else:
                raise FieldError(field, f"expected true or false, got {shown(value)}")
        elif self.type is AttrType.DATE:
            typed = parse_date(value, field=field).isoformat()
        elif self.type is AttrType.PHONE:
            typed = normal_phone(str(value).strip(), field=field)
        elif self.type is AttrType.EMAIL:
            typed = normal_email(str(value).strip(), field=field)
        else:
            typed = str(value).strip()
        if self.choices and str(typed) not in self.choices:
            raise FieldError(field, f"expected one of {', '.join(self.choices)}, got {shown(typed)}")
        return typed


@dataclass(frozen=True, slots=True)
class RecordKind:
    name: str
    title: str
    polarity: Polarity
    context: str
    subject: SubjectKind | None  # None: people and organisations alike
    attributes: dict[str, Attribute]

    def coerce(self, raw: dict[str, Any], *, prefix: str = "attributes") -> dict[str, Any]:
        unknown = sorted(set(raw) - set(self.attributes))
        if unknown:
            raise FieldError(
                f"{prefix}.{unknown[0]}",
                f"kind {self.name} has no attribute {unknown[0]!r}; expected {', '.join(self.attributes)}",
            )
        return {name: attr.coerce(raw.get(name), field=f"{prefix}.{name}") for name, attr in self.attributes.items()}


def parse_date(value: Any, *, field: str) -> date:
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for candidate in (text, f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 else ""):
        try:
            return date.fromisoformat(candidate)
        except ValueError:
            continue
    raise FieldError(field, f"expected a date YYYY-MM-DD, got {shown(value)}")


@dataclass(frozen=True, slots=True)
class Catalogue:
    kinds: dict[str, RecordKind]

    def kind(self, name: str, *, field: str = "kind") -> RecordKind:
        try:
            return self.kinds[name]
        except KeyError:
            raise FieldError(field, f"unknown record kind {name!r}") from None

    def attribute_types(self) -> dict[str, AttrType]:
        """Every attribute name across kinds with its type; one name has one type everywhere."""
        out: dict[str, AttrType] = {}
        for kind in self.kinds.values():
            for attr in kind.attributes.values():
                out[attr.name] = attr.type
        return out


def _attribute(name: str, spec: str | dict[str, Any]) -> Attribute:
    if isinstance(spec, str):
        spec = {"type": spec}
    return Attribute(
        name=name,
        type=AttrType(spec["type"]),
        required=bool(spec.get("required", False)),
        choices=tuple(str(c) for c in spec.get("choices", ())),
        minimum=spec.get("min"),
        maximum=spec.get("max"),
        max_length=int(spec.get("max_length", TEXT_LENGTH)),
    )


def load_catalogue(text: str) -> Catalogue:
    data = yaml.safe_load(text)
    kinds: dict[str, RecordKind] = {}
    seen: dict[str, AttrType] = {}
    for name, spec in data["kinds"].items():
        attrs = {a: _attribute(a, s) for a, s in (spec.get("attributes") or {}).items()}
        for attr in attrs.values():
            if seen.setdefault(attr.name, attr.type) is not attr.type:
                raise ValueError(f"attribute {attr.name} has two types in the catalogue")
        kinds[name] = RecordKind(
            name=name,
            title=spec["title"],
            polarity=Polarity(spec["polarity"]),
            context=spec["context"],
            subject=SubjectKind(spec["subject"]) if spec.get("subject") else None,
            attributes=attrs,
        )
    return Catalogue(kinds=kinds)


@cache
def default_catalogue() -> Catalogue:
    text = resources.files("credence.catalogue").joinpath("record_kinds.yaml").read_text("utf-8")
    return load_catalogue(text)
