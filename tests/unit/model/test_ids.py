"""The per-row shortcuts of ingest's hashing give exactly the ids and hashes they replace."""

import hashlib
import json
import uuid
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from credence.ingest.records import Candidate, SubjectRef
from credence.model.identifiers import SubjectKind
from credence.model.ids import NAMESPACE, derived_id, deriver

parts = st.one_of(st.text(), st.integers())


@given(head=st.lists(parts, max_size=3), rest=st.lists(parts, min_size=1, max_size=3))
def test_a_deriver_gives_the_uuid5_of_every_part_joined(head: list[object], rest: list[object]) -> None:
    expected = uuid.uuid5(NAMESPACE, "|".join(str(p) for p in (*head, *rest)))
    assert deriver(*head)(*rest) == expected == derived_id(*head, *rest)


@given(
    attributes=st.dictionaries(st.text(), st.one_of(st.text(), st.integers(), st.booleans(), st.none())),
    srid=st.text(min_size=1),
)
def test_the_content_hash_is_that_of_json_dumps_with_sorted_keys(attributes: dict[str, object], srid: str) -> None:
    subject = SubjectRef("320500198012191800", SubjectKind.PERSON, None, "320500")
    cand = Candidate(srid, subject, "volunteer_hours", date(2026, 3, 4), "320506", "basis 苏州", attributes, ())
    body = {
        "op": "assert",
        "id_number": subject.id_number,
        "kind": "volunteer_hours",
        "valid_date": "2026-03-04",
        "jurisdiction": "320506",
        "legal_basis": "basis 苏州",
        "attributes": attributes,
    }
    expected = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert cand.content_hash == expected
