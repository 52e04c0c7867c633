"""notices.about: the row a notice tells of (a listing), so a delivery can date its effect

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ADD COLUMN needs no table rebuild on either engine, so the append-only triggers stay as they are
    op.add_column("notices", sa.Column("about", sa.Uuid(), nullable=True))
    op.create_index("ix_notices_about", "notices", ["about"])


def downgrade() -> None:
    op.drop_index("ix_notices_about", table_name="notices")
    op.drop_column("notices", "about")
