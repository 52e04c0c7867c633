"""Entries are RFC 8785 JSON: the fast path writes the bytes the ``rfc8785`` package writes."""

import json
import uuid
from datetime import UTC, datetime

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from credence.audit import entries, merkle

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(JSON)
def test_canonical_is_rfc8785(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(entries.EntryError):
            entries.canonical(value)
        return
    assert entries.canonical(value) == expected


@given(
    st.integers(min_value=0, max_value=2**40),
    st.text(min_size=1, max_size=20),
    st.text(max_size=20),
    st.booleans(),
)
def test_an_entry_is_the_rfc8785_of_its_fields(index: int, tag: str, actor: str, with_subject: bool) -> None:
    subject = uuid.uuid4() if with_subject else None
    salt = b"\x01" * 32 if with_subject else None
    at = datetime(2026, 12, 2, 18, 0, 1, 5, tzinfo=UTC)
    leaf = entries.leaf(index, tag=tag, actor=actor, recorded_at=at, subject=subject, salt=salt, data={"k": 1})
    body = json.loads(leaf.entry)
    assert rfc8785.dumps(body) == leaf.entry
    assert body["recorded_at"] == "2026-12-02T18:00:01.000005Z"
    assert leaf.hash == merkle.leaf_hash(leaf.entry)
    if subject is not None:
        assert body["subject"] == entries.subject_commitment(subject, b"\x01" * 32).hex()
        assert str(subject) not in leaf.entry.decode()


def test_a_subject_without_a_salt_is_refused() -> None:
    at = datetime(2026, 12, 2, tzinfo=UTC)
    with pytest.raises(entries.EntryError, match="no salt"):
        entries.leaf(0, tag="t", actor="a", recorded_at=at, subject=uuid.uuid4(), salt=None, data={})
