"""Manifest screening: a flight's, a train's or a hotel night's entries answered in one call.

Each entry is answered exactly as a single check of the index would answer it (``Index``), but
the work is done for the whole manifest at once: entries sharing an action and attributes share
their vocabulary check and the measures they fall under, resident ID numbers are checked and
turned into keys with numpy (``numbers.person_keys``), and the keys are looked up in the index's
sorted arrays in one ``searchsorted``. Only an entry whose subject the index holds (a restricted
or noticed subject, or one with an exemption) is decided one by one; everyone else is allowed
with nothing to say, which is what a check answers for them. An entry the vocabulary or the
number check refuses gets its own error in place; the rest of the manifest is answered.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from credence.exc import FieldError
from credence.model.identifiers import parse_subject
from credence.model.time import legal_date
from credence.screening.check import Decision, applicable, decide
from credence.screening.index import NOTHING, Index, in_force
from credence.screening.numbers import person_keys

ALLOWED, RESTRICTED, REFUSED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Entry:
    subject: str
    action: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Screened:
    """The manifest's answers, in entry order: ``outcomes`` (ALLOWED, RESTRICTED or REFUSED),
    the full decision of each entry the index held something for, the error of each refused
    entry, and 16 random bytes per entry for the references of the rest."""

    outcomes: npt.NDArray[np.int8]
    decisions: dict[int, Decision]
    errors: dict[int, FieldError]
    randoms: bytes

    def __len__(self) -> int:
        return int(self.outcomes.size)

    def reference(self, i: int) -> str:
        """Entry ``i``'s reference: its decision's, or a random UUID (version 4) of its own."""
        decided = self.decisions.get(i)
        if decided is not None:
            return decided.reference
        raw = bytearray(self.randoms[16 * i : 16 * i + 16])
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        text = raw.hex()
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _requests(entries: Sequence[Entry], index: Index) -> tuple[list[Any], dict[int, FieldError]]:
    """Per entry, the measures it falls under (None if the request is refused), computed once
    per distinct action and attributes."""
    seen: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
    under: list[Any] = []
    errors: dict[int, FieldError] = {}
    for i, entry in enumerate(entries):
        shape = (entry.action, tuple(sorted((str(k), str(v)) for k, v in entry.attributes.items())))
        found = seen.get(shape)
        if found is None:
            try:
                found = applicable(entry.action, entry.attributes, measures=index.measures, requests=index.requests)[1]
            except FieldError as error:
                found = error
            seen[shape] = found
        if isinstance(found, FieldError):
            errors[i] = found
            under.append(None)
        else:
            under.append(found)
    return under, errors


def screen(index: Index, entries: Sequence[Entry], *, at: datetime) -> Screened:
    """Answer every entry of a manifest on the legal day of ``at`` from the index's snapshot
    (one snapshot for the whole manifest, so a change landing meanwhile applies to all or none)."""
    snapshot = index.snapshot
    day = legal_date(at).toordinal()
    count = len(entries)
    outcomes = np.zeros(count, dtype=np.int8)
    under, errors = _requests(entries, index)
    numbers = [e.subject for e in entries]
    keys, decided = person_keys(numbers)
    # one searchsorted for every fast-path key: which of them the arrays hold
    held_in_arrays = np.zeros(count, dtype=bool)
    people = snapshot.people.keys
    if people.size and decided.any():
        at_key = np.searchsorted(people, keys[decided])
        inside = at_key < people.size
        found = np.zeros(at_key.size, dtype=bool)
        found[inside] = people[at_key[inside]] == keys[decided][inside]
        held_in_arrays[decided] = found
    decisions: dict[int, Decision] = {}
    overlay, exempted = snapshot.overlay, snapshot.exempted
    for i in range(count):
        measures = under[i]
        if measures is None:
            outcomes[i] = REFUSED
            continue
        if decided[i]:
            number = numbers[i]
            if not (held_in_arrays[i] or number in overlay or number in exempted):
                continue  # nothing held: allowed, with nothing to say
        else:
            try:
                number = parse_subject(numbers[i], field="subject").number
            except FieldError as error:
                errors[i] = error
                outcomes[i] = REFUSED
                continue
        if not measures:
            continue
        held = snapshot.held(number)
        if held is NOTHING:
            continue
        decision = decide(entries[i].action, measures, in_force(held, measures, entries[i].action, day))
        decisions[i] = decision
        outcomes[i] = RESTRICTED if decision.outcome == "restricted" else ALLOWED
    return Screened(outcomes=outcomes, decisions=decisions, errors=errors, randoms=os.urandom(16 * count))
