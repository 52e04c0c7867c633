"""the snapshot export reads what is new by transaction time: records and subjects indexed by it

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 01:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a nightly `credence snapshot export` reads the rows after its high-water mark by range,
    # not by scanning tens of billions of records
    op.create_index("ix_records_recorded", "records", ["recorded_at"])
    op.create_index("ix_subjects_created", "subjects", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_subjects_created", table_name="subjects")
    op.drop_index("ix_records_recorded", table_name="records")
