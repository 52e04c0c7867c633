"""Turn one mapped row into a checked canonical record, or raise a FieldError saying why."""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from credence.exc import FieldError, NotAuthorisedError
from credence.ingest.mapping import Mapping
from credence.model.catalogue import Attribute, AttrType, Catalogue, parse_date
from credence.model.identifiers import ResidentId, SubjectKind, parse_subject


@dataclass(frozen=True, slots=True)
class Authority:
    """What a source may submit: record kinds, and region-code prefixes ("" for national)."""

    source: str
    kinds: frozenset[str]
    jurisdictions: tuple[str, ...]


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
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def subject_ref(value: Any, *, field: str) -> SubjectRef:
    text = "" if value is None else str(value)
    if not text.strip():
        raise FieldError(field, "an ID number is required")
    parsed = parse_subject(text, field=field)
    if isinstance(parsed, ResidentId):
        return SubjectRef(parsed.number, SubjectKind.PERSON, parsed.birth_date, parsed.address_code)
    return SubjectRef(parsed.number, SubjectKind.ORGANISATION, None, parsed.division_code)


def build(row: dict[str, Any], mapping: Mapping, catalogue: Catalogue, authority: Authority) -> Candidate:
    """Check every field of a row; raises FieldError (bad value) or NotAuthorisedError."""
    kind_name = mapping.kind_of(row)
    kind = catalogue.kind(kind_name)
    if kind_name not in authority.kinds:
        raise NotAuthorisedError(f"kind: source {authority.source} is not authorised for {kind_name}")
    jurisdiction = str(mapping.pick(row, mapping.fields.jurisdiction) or "").strip()
    if not any(jurisdiction.startswith(prefix) for prefix in authority.jurisdictions):
        raise NotAuthorisedError(
            f"jurisdiction: source {authority.source} is not authorised for region {jurisdiction!r}"
        )
    source_record_id = str(mapping.pick(row, mapping.fields.source_record_id) or "").strip()
    if not source_record_id:
        raise FieldError("source_record_id", "a source record id is required")
    subject = subject_ref(mapping.pick(row, mapping.fields.id_number), field="id_number")
    if kind.subject is not None and kind.subject is not subject.kind:
        raise FieldError("id_number", f"kind {kind_name} describes a {kind.subject.value}")
    valid_date = parse_date(mapping.pick(row, mapping.fields.valid_date), field="valid_date")
    raw_attrs = {}
    for name, spec in mapping.attributes.items():
        value = mapping.pick(row, spec)
        if name in kind.attributes:  # a column for another kind (e.g. a Y/N flag) is not this row's data
            raw_attrs[name] = value
    attributes = kind.coerce(raw_attrs)
    related = []
    for name, attr in kind.attributes.items():
        if attr.type is AttrType.ID and attributes.get(name):
            ref = subject_ref(attributes[name], field=f"attributes.{name}")
            attributes[name] = ref.id_number  # the upgraded 18-character form
            related.append(ref)
    legal_basis = mapping.legal_basis.get(kind_name)
    if not legal_basis:
        raise FieldError("legal_basis", f"the mapping gives no legal basis for {kind_name}")
    retracted = False
    if mapping.fields.retracted is not None:
        flag = Attribute("retracted", AttrType.BOOL)
        retracted = bool(flag.coerce(mapping.pick(row, mapping.fields.retracted), field="retracted"))
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
