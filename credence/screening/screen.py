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
from collections.abc import Iterable, Mapping, Sequence
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
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DASHES = [8, 12, 16, 20]  # where a UUID's text puts its dashes, among its 32 hex digits


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

    def references(self) -> list[str]:
        """Every entry's reference: its decision's, or a random UUID (version 4) of its own, made
        for the whole manifest at once (one string format per entry cost more than screening)."""
        raw = np.frombuffer(self.randoms, dtype=np.uint8).reshape(-1, 16)
        version = raw.copy()
        version[:, 6] = (raw[:, 6] & 0x0F) | 0x40
        version[:, 8] = (raw[:, 8] & 0x3F) | 0x80
        digits = np.empty((len(raw), 32), dtype=np.uint8)
        digits[:, 0::2] = _HEX[version >> 4]
        digits[:, 1::2] = _HEX[version & 0x0F]
        text = np.insert(digits, _DASHES, ord("-"), axis=1).tobytes().decode("ascii")
        found = [text[36 * i : 36 * i + 36] for i in range(len(raw))]
        for i, decided in self.decisions.items():
            found[i] = decided.reference
        return found


@dataclass(frozen=True, slots=True)
class Manifest:
    """A manifest by columns: each entry's subject, and the code of its request (action and
    attributes) among the manifest's distinct requests (a train's passengers ask few)."""

    subjects: Sequence[str]
    codes: npt.NDArray[np.int32]
    requests: Sequence[tuple[str, dict[str, Any]]]

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> "Manifest":
        subjects: list[str] = []
        codes: list[int] = []
        seen: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
        requests: list[tuple[str, dict[str, Any]]] = []
        for entry in entries:
            shape = (entry.action, tuple(sorted((str(k), str(v)) for k, v in entry.attributes.items())))
            code = seen.get(shape)
            if code is None:
                code = seen[shape] = len(requests)
                requests.append((entry.action, entry.attributes))
            subjects.append(entry.subject)
            codes.append(code)
        return cls(subjects, np.asarray(codes, dtype=np.int32), requests)

    def __len__(self) -> int:
        return len(self.subjects)


def _members(keys: npt.NDArray[np.int64], query: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which of ``query`` the sorted ``keys`` hold."""
    if not keys.size or not query.size:
        return np.zeros(query.size, dtype=bool)
    at = np.searchsorted(keys, query)
    at[at == keys.size] = 0
    found: npt.NDArray[np.bool_] = keys[at] == query
    return found


def screen(
    index: Index,
    manifest: Manifest | Sequence[Entry],
    *,
    at: datetime,
    refused: Mapping[int, FieldError] | None = None,
) -> Screened:
    """Answer every entry of a manifest on the legal day of ``at`` from the index's snapshot
    (one snapshot for the whole manifest, so a change landing meanwhile applies to all or none).
    ``refused`` holds entries the caller refuses before any lookup (an action outside the
    provider's scope), by position, with their errors."""
    if not isinstance(manifest, Manifest):
        manifest = Manifest.of(manifest)
    snapshot = index.snapshot
    day = legal_date(at).toordinal()
    count = len(manifest)
    outcomes = np.zeros(count, dtype=np.int8)
    errors: dict[int, FieldError] = {}
    # the vocabulary once per distinct request
    under: list[list[Any] | None] = []
    refusals: dict[int, FieldError] = {}
    for code, (action, attributes) in enumerate(manifest.requests):
        try:
            under.append(applicable(action, attributes, measures=index.measures)[1])
        except FieldError as error:
            under.append(None)
            refusals[code] = error
    codes = manifest.codes
    vocabulary_refused = np.isin(codes, list(refusals)) if refusals else np.zeros(count, dtype=bool)
    measured = np.asarray([bool(u) for u in under], dtype=bool)[codes] if count else np.zeros(0, dtype=bool)
    keys, decided = person_keys(manifest.subjects)
    held = _members(snapshot.people.keys, keys) | _members(snapshot.loose, keys)
    # one by one: the refused, the numbers the fast path could not decide, and the people held
    slow = vocabulary_refused | ~decided | (held & measured)
    refused = refused or {}
    if refused:
        slow[list(refused)] = True
    decisions: dict[int, Decision] = {}
    for i in np.flatnonzero(slow).tolist():
        code = int(codes[i])
        refusal = refused.get(i) or refusals.get(code)  # the caller's refusal first, as a check's 403 would be
        if refusal is not None:
            errors[i] = refusal
            outcomes[i] = REFUSED
            continue
        number = manifest.subjects[i]
        if not decided[i]:
            try:
                number = parse_subject(number, field="subject").number
            except FieldError as error:
                errors[i] = error
                outcomes[i] = REFUSED
                continue
        measures = under[code]
        if not measures:
            continue
        found = snapshot.held(number)
        if found is NOTHING:
            continue
        action = manifest.requests[code][0]
        decision = decide(action, measures, in_force(found, measures, action, day))
        decisions[i] = decision
        outcomes[i] = RESTRICTED if decision.outcome == "restricted" else ALLOWED
    return Screened(outcomes=outcomes, decisions=decisions, errors=errors, randoms=os.urandom(16 * count))
