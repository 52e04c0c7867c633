"""A manifest's references: one random version-4 UUID per entry, made in one pass, or the
entry's own decision's reference."""

import os
import uuid

import numpy as np

from credence.screening.check import Decision, Outcome
from credence.screening.screen import Screened


def test_each_entry_gets_a_version_4_uuid_of_its_own_random_bytes_or_its_decisions() -> None:
    count = 1_000
    randoms = os.urandom(16 * count)
    decided = Decision(outcome=Outcome.RESTRICTED, action="flight", reference="decided-reference")
    screened = Screened(np.zeros(count, dtype=np.int8), {7: decided}, {}, randoms)
    found = screened.references()
    assert found[7] == "decided-reference"
    for i in (0, 1, 500, count - 1):
        raw = bytearray(randoms[16 * i : 16 * i + 16])
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        assert found[i] == str(uuid.UUID(bytes=bytes(raw)))
    others = [r for i, r in enumerate(found) if i != 7]
    assert all(uuid.UUID(r).version == 4 for r in others)
    assert len(set(others)) == count - 1


def test_an_empty_manifest_has_no_references() -> None:
    assert Screened(np.zeros(0, dtype=np.int8), {}, {}, b"").references() == []
