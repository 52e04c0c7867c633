"""Turn one mapped row into a checked canonical record, or raise a FieldError saying why."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from credence.exc import FieldError, NotAuthorisedError
from credence.ingest.mapping import Mapping
from credence.model.catalogue import Attribute, AttrType, Catalogue, RecordKind, parse_date
from credence.model.identifiers import ResidentId, SubjectKind, parse_subject
from credence.model.thresholds import Thresholds
from credence.model.values import shown
from credence.store.orm import Record


def _width(column: str) -> int:
    length = getattr(Record.__table__.c[column].type, "length", None)
    assert isinstance(length, int)  # noqa: S101 - both are VARCHAR(n) columns
    return length


# the columns' own widths, checked before the database sees a value, so that SQLite (which does
# not enforce them) and PostgreSQL (which does) refuse the same rows, and refuse them one by one
SOURCE_RECORD_ID_WIDTH = _width("source_record_id")
JURISDICTION_WIDTH = _width("jurisdiction")


# json.dumps(sort_keys=True, ensure_ascii=False) builds this encoder anew on every call; one made
# once gives the same text (stored hashes stay valid) for a quarter less per row
_HASHED_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode

_REFS_KEPT = 1 << 18  # checked ID numbers a Checker keeps (a few tens of MB at most)

IDENTITY = "identity"  # the quarantine's field for a row that awaits record linkage
UNIDENTIFIED = "no ID number: awaiting record linkage (`credence resolve link`)"


class UnidentifiedError(FieldError):
    """A row that passes every check but names its subject by name, birth date, address and
    phone only: it waits in quarantine for record linkage to find its subject."""

    def __init__(self) -> None:
        super().__init__(IDENTITY, UNIDENTIFIED)


@dataclass(frozen=True, slots=True)
class Authority:
    """What a source may submit: record kinds, and region-code prefixes ("" for national)."""

    source: str
    kinds: frozenset[str]
    jurisdictions: tuple[str, ...]
    breaker: Thresholds | None = None  # its circuit-breaker thresholds (catalogue/sources.yaml)


@dataclass(frozen=True, slots=True)
class SubjectRef:
    id_number: str
    kind: SubjectKind
    birth_date: date | None
    address_code: str


@dataclass(frozen=True, slots=True)
class Candidate:
    source_record_id: str
    subject: SubjectRef
    kind: str
    valid_date: date
    jurisdiction: str
    legal_basis: str
    attributes: dict[str, Any]
    related: tuple[SubjectRef, ...]  # people named in attributes (e.g. a legal representative)
    op: str = "assert"  # or "retract": the agency withdraws the record

    @property
    def content_hash(self) -> str:
        body = {
            "op": self.op,
            "id_number": self.subject.id_number,
            "kind": self.kind,
            "valid_date": self.valid_date.isoformat(),
            "jurisdiction": self.jurisdiction,
            "legal_basis": self.legal_basis,
            "attributes": self.attributes,
        }
        return hashlib.sha256(_HASHED_JSON(body).encode()).hexdigest()


def subject_ref(value: Any, *, field: str) -> SubjectRef:
    text = "" if value is None else str(value)
    if not text.strip():
        raise FieldError(field, "an ID number is required")
    parsed = parse_subject(text, field=field)
    if isinstance(parsed, ResidentId):
        return SubjectRef(parsed.number, SubjectKind.PERSON, parsed.birth_date, parsed.address_code)
    return SubjectRef(parsed.number, SubjectKind.ORGANISATION, None, parsed.division_code)


@dataclass(frozen=True, slots=True)
class _KindPlan:
    """What a row of one record kind needs from the mapping and the catalogue."""

    kind: RecordKind
    authorised: bool
    attributes: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...]  # the mapping's columns for this kind
    ids: tuple[str, ...]  # attributes naming another subject
    legal_basis: str | None


class Checker:
    """Checks the rows of one feed: the mapping's columns and each kind's attributes,
    authorisation and legal basis are resolved once, not once per row."""

    _RETRACTED = Attribute("retracted", AttrType.BOOL)

    def __init__(self, mapping: Mapping, catalogue: Catalogue, authority: Authority) -> None:
        self.mapping = mapping
        self.catalogue = catalogue
        self.authority = authority
        fields = mapping.fields
        self._jurisdiction = mapping.getter(fields.jurisdiction)
        self._source_record_id = mapping.getter(fields.source_record_id)
        self._id_number = None if fields.id_number is None else mapping.getter(fields.id_number)
        self._identified_otherwise = mapping.identity is not None
        self._valid_date = mapping.getter(fields.valid_date)
        self._retracted = None if fields.retracted is None else mapping.getter(fields.retracted)
        self._prefixes = tuple(authority.jurisdictions)
        self._plans: dict[str, _KindPlan] = {}
        self._refs: dict[tuple[str, str], SubjectRef] = {}

    def _subject(self, value: Any, *, field: str) -> SubjectRef:
        """``subject_ref``, checked once per distinct number: a feed names the same people again
        and again, and the check character and address code are the costliest checks of a row.
        Only numbers that pass are kept; a bad one is checked (and refused) every time."""
        key = ("" if value is None else str(value), field)
        ref = self._refs.get(key)
        if ref is None:
            ref = subject_ref(key[0], field=field)
            if len(self._refs) >= _REFS_KEPT:  # a bound on memory for a file of a nation's rows
                self._refs.clear()
            self._refs[key] = ref
        return ref

    def _plan(self, kind_name: str) -> _KindPlan:
        plan = self._plans.get(kind_name)
        if plan is None:
            kind = self.catalogue.kind(kind_name)  # an unknown kind raises here, every time
            mapping = self.mapping
            plan = _KindPlan(
                kind=kind,
                authorised=kind_name in self.authority.kinds,
                # a column for another kind (e.g. a Y/N flag) is not this row's data
                attributes=tuple(
                    (name, mapping.getter(spec)) for name, spec in mapping.attributes.items() if name in kind.attributes
                ),
                ids=tuple(name for name, attr in kind.attributes.items() if attr.type is AttrType.ID),
                legal_basis=mapping.legal_basis.get(kind_name),
            )
            self._plans[kind_name] = plan
        return plan

    def build(self, row: dict[str, Any], *, linked: SubjectRef | None = None) -> Candidate:
        """Check every field of a row; raises FieldError (bad value) or NotAuthorisedError.

        A row without an ID number whose mapping has ``identity`` raises ``UnidentifiedError``
        once everything else passes, unless ``linked`` gives the subject record linkage (or a
        clerk) found for it."""
        kind_name = self.mapping.kind_of(row)
        plan = self._plan(kind_name)
        kind = plan.kind
        if not plan.authorised:
            raise NotAuthorisedError(f"kind: source {self.authority.source} is not authorised for {kind_name}")
        jurisdiction = str(self._jurisdiction(row) or "").strip()
        if len(jurisdiction) > JURISDICTION_WIDTH:
            raise FieldError(
                "jurisdiction",
                f"expected a region code of at most {JURISDICTION_WIDTH} characters, got {shown(jurisdiction)}",
            )
        if not jurisdiction.startswith(self._prefixes):
            raise NotAuthorisedError(
                f"jurisdiction: source {self.authority.source} is not authorised for region {jurisdiction!r}"
            )
        source_record_id = str(self._source_record_id(row) or "").strip()
        if not source_record_id:
            raise FieldError("source_record_id", "a source record id is required")
        if len(source_record_id) > SOURCE_RECORD_ID_WIDTH:
            raise FieldError(
                "source_record_id",
                f"expected at most {SOURCE_RECORD_ID_WIDTH} characters, got {len(source_record_id):,}",
            )
        number = None if self._id_number is None else self._id_number(row)
        unidentified = self._identified_otherwise and not str(number or "").strip()
        if unidentified and linked is not None:
            subject = linked
        elif unidentified:
            subject = SubjectRef("", SubjectKind.PERSON, None, "")  # checked once linked
        else:
            subject = self._subject(number, field="id_number")
        if kind.subject is not None and kind.subject is not subject.kind:
            raise FieldError("id_number", f"kind {kind_name} describes a {kind.subject.value}")
        valid_date = parse_date(self._valid_date(row), field="valid_date")
        attributes = kind.coerce({name: get(row) for name, get in plan.attributes})
        related = []
        for name in plan.ids:
            if attributes.get(name):
                ref = self._subject(attributes[name], field=f"attributes.{name}")
                attributes[name] = ref.id_number  # the upgraded 18-character form
                related.append(ref)
        legal_basis = plan.legal_basis
        if not legal_basis:
            raise FieldError("legal_basis", f"the mapping gives no legal basis for {kind_name}")
        retracted = False
        if self._retracted is not None:
            retracted = bool(self._RETRACTED.coerce(self._retracted(row), field="retracted"))
        if not subject.id_number:
            raise UnidentifiedError
        return Candidate(
            op="retract" if retracted else "assert",
            source_record_id=source_record_id,
            subject=subject,
            kind=kind_name,
            valid_date=valid_date,
            jurisdiction=jurisdiction,
            legal_basis=legal_basis,
            attributes=attributes,
            related=tuple(related),
        )
