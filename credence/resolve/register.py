"""The subject register as record linkage sees it: each person's identifying attributes.

A subject row holds what its ID number says (birth date, birth-place code), not a name. The
rest comes from the records the registry holds of the person, each from the agency whose
business it is: the name, district and street address from the newest household-registration
record (``residence``, the police's hukou events; a ``left`` event is where the person no
longer lives) and the phone from the newest ``contact`` record. A person with no such record
is in the register with what is known (a birth date): a phone or a name alone can still block
them into a pair, and a missing value is no evidence either way. A withdrawn record (its
newest version a retraction) counts for nothing.
"""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from credence.model.identifiers import SubjectKind
from credence.resolve.identity import Identity
from credence.store.orm import Record, Subject

RESIDENCE, CONTACT, LEFT = "residence", "contact", "left"


def _newest(conn: Connection, kind: str) -> dict[uuid.UUID, dict[str, Any]]:
    """Per subject, the attributes and jurisdiction of its newest standing record of ``kind``."""
    query = select(
        Record.subject_id,
        Record.source_id,
        Record.source_record_id,
        Record.version,
        Record.op,
        Record.valid_date,
        Record.recorded_at,
        Record.jurisdiction,
        Record.attributes,
    ).where(Record.kind == kind)
    versions: dict[tuple[str, str], tuple[int, Any]] = {}
    for row in conn.execute(query):
        key = (row.source_id, row.source_record_id)
        if key not in versions or row.version > versions[key][0]:
            versions[key] = (row.version, row)
    newest: dict[uuid.UUID, tuple[tuple[date, datetime, str], dict[str, Any]]] = {}
    for _, row in versions.values():
        if row.op != "assert" or (kind == RESIDENCE and row.attributes.get("status") == LEFT):
            continue
        order = (row.valid_date, row.recorded_at, row.source_record_id)
        held = newest.get(row.subject_id)
        if held is None or order > held[0]:
            newest[row.subject_id] = (order, {**row.attributes, "_jurisdiction": row.jurisdiction})
    return {subject: attributes for subject, (_, attributes) in newest.items()}


def people(conn: Connection) -> list[tuple[uuid.UUID, Identity]]:
    """Every person of the registry with their identifying attributes, by internal id."""
    residence, contact = _newest(conn, RESIDENCE), _newest(conn, CONTACT)
    query = select(Subject.id, Subject.birth_date).where(Subject.kind == SubjectKind.PERSON).order_by(Subject.id)
    register = []
    for subject, born in conn.execute(query):
        home, reach = residence.get(subject, {}), contact.get(subject, {})
        register.append(
            (
                subject,
                Identity(
                    name=home.get("name"),
                    birth_date=born.isoformat() if born else None,
                    district=home.get("region") or home.get("_jurisdiction"),
                    address=home.get("address"),
                    phone=reach.get("phone"),
                ),
            )
        )
    return register
