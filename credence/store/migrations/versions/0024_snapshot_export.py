"""the snapshot export reads the subjects made since its last export: subjects indexed by created_at

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 01:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a nightly `credence snapshot export` reads the subjects after its high-water mark by range.
    # Records need no new index: the export reads them source by source on the existing
    # ix_records_source_recorded; an index on recorded_at alone would also change SQLite's plan
    # for the facts query (it ranges over recorded_at), which is not this migration's to change
    op.create_index("ix_subjects_created", "subjects", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_subjects_created", table_name="subjects")
