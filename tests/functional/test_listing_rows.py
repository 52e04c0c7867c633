"""The typed listing row: its fields are the columns of ``listings``, its id is derived as the
stored ids always were, and a row stored in bulk reads back equal on both stores."""

import uuid
from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, select

from credence.lists.rows import COLUMNS, ListingRow, listing
from credence.model.ids import derived_id
from credence.store import bulk, versioned
from credence.store.orm import Listing

SUBJECT, ORG, DECISION, SCORE = (uuid.UUID(int=n) for n in (1, 2, 3, 4))


def bound() -> ListingRow:
    return listing(
        list_id="dishonest-defaulters",
        rulebook="national-defaulters",
        rulebook_version="2017",
        subject=SUBJECT,
        role="legal_representative",
        listed=ORG,
        decision=DECISION,
        occasion=DECISION,
        start_date=date(2024, 10, 15),
        legal_basis="SPC Provisions 2017, art. 1",
        ground=2,
        case_number="(2024)苏05执1号",
        court="Suzhou Intermediate People's Court",
        end_date=date(2026, 10, 15),
        end_reason="term",
    )


def test_the_row_has_the_columns_of_listings_in_their_order() -> None:
    """Every value column, in order; ``derived_at`` is the version's transaction time, not the row's."""
    assert list(versioned.columns(Listing)) == list(COLUMNS)
    assert [c.name for c in Listing.__table__.columns] == [*COLUMNS, "derived_at"]


def test_ids_are_derived_as_before() -> None:
    """Decided listings by their decision record, redlist entries by their start day: the ids
    stored before the row type existed are the ids it derives."""
    row = bound()
    assert row.id == derived_id("listing", "dishonest-defaulters", "2017", SUBJECT, "legal_representative", DECISION)
    red = listing(
        list_id="suzhou-redlist",
        rulebook="suzhou-osmanthus",
        rulebook_version="1.0",
        subject=SUBJECT,
        role="subject",
        listed=SUBJECT,
        decision=SCORE,
        occasion=date(2026, 11, 27),
        start_date=date(2026, 11, 27),
        legal_basis="basis",
    )
    assert red.id == derived_id("listing", "suzhou-redlist", "1.0", SUBJECT, "subject", date(2026, 11, 27))
    assert (red.decision_record_id, red.ground, red.end_date) == (SCORE, None, None)
    with pytest.raises(FrozenInstanceError):
        row.role = "subject"  # type: ignore[misc]


def test_a_row_stored_in_bulk_reads_back_equal(engine: Engine) -> None:
    row = bound()
    assert row.as_dict() == dict(zip(COLUMNS, row.as_values(), strict=True))
    with engine.begin() as conn:
        bulk.insert_rows(conn, Listing, (*COLUMNS, "derived_at"), [(*row.as_values(), datetime.now(UTC))])
    with engine.connect() as conn:
        [stored] = conn.execute(select(Listing.__table__)).mappings().all()
    assert ListingRow.stored(stored) == row
