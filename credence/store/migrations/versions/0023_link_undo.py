"""record linkage: an officer's reason beside a judgement (an undone link says why)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a new nullable column: the append-only triggers of 0022 stay as they are
    op.add_column("link_judgements", sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("link_judgements", "note")  # SQLite 3.35+ drops a column in place
