"""A listing row, as derived and as stored in ``listings``: one type, one constructor.

``listing()`` is the only way a derived row is made, so its id is derived in one place:
``("listing", list id, rulebook version, subject, role, occasion)``, where the occasion is the
decision record for a list a decision decides and the start day for a redlist entry (whose
first score interval may change, when a later record changes the score inside its run, while the
entry stays the same). A rebuild therefore writes the same ids as the incremental path.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from credence.model.ids import as_uuid, derived_id


@dataclass(frozen=True, slots=True)
class ListingRow:
    """One row of ``listings``: the listed subject, or a person the decision binds (``role``)."""

    id: uuid.UUID
    list_id: str
    subject_id: uuid.UUID
    role: str  # subject | legal_representative | principal | actual_controller
    listed_subject_id: uuid.UUID
    ground: int | None
    case_number: str | None
    court: str | None
    start_date: date
    end_date: date | None
    end_reason: str | None
    legal_basis: str
    decision_record_id: uuid.UUID  # for a redlist entry, the first score interval of its run
    rulebook: str
    rulebook_version: str

    def as_values(self) -> tuple[Any, ...]:
        """The values in the order of ``COLUMNS``, for ``store.bulk.insert_rows``."""
        return tuple(getattr(self, name) for name in COLUMNS)

    def as_dict(self) -> dict[str, Any]:
        """Column name to value, as a row read from ``listings`` is."""
        return {name: getattr(self, name) for name in COLUMNS}

    @classmethod
    def stored(cls, row: Mapping[str, Any]) -> "ListingRow":
        """A row read back from ``listings`` (ids as any engine hands them back)."""
        values = {name: row[name] for name in COLUMNS}
        for name in ("id", "subject_id", "listed_subject_id", "decision_record_id"):
            values[name] = as_uuid(values[name])
        return cls(**values)


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ListingRow))


def listing(
    *,
    list_id: str,
    rulebook: str,
    rulebook_version: str,
    subject: uuid.UUID,
    role: str,
    listed: uuid.UUID,
    decision: uuid.UUID,
    occasion: uuid.UUID | date,
    start_date: date,
    legal_basis: str,
    ground: int | None = None,
    case_number: str | None = None,
    court: str | None = None,
    end_date: date | None = None,
    end_reason: str | None = None,
) -> ListingRow:
    """A derived listing row with its deterministic id (see the module's docstring)."""
    return ListingRow(
        id=derived_id("listing", list_id, rulebook_version, subject, role, occasion),
        list_id=list_id,
        subject_id=subject,
        role=role,
        listed_subject_id=listed,
        ground=ground,
        case_number=case_number,
        court=court,
        start_date=start_date,
        end_date=end_date,
        end_reason=end_reason,
        legal_basis=legal_basis,
        decision_record_id=decision,
        rulebook=rulebook,
        rulebook_version=rulebook_version,
    )
