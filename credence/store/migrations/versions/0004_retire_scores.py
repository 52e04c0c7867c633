"""retire the one-day scores table: score intervals are the stored scores

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:00:00

``scores`` held each subject's score on the day of the last refresh, which the score interval
holding that day already says (``ScoreInterval.holds``). Nothing is lost in dropping it; a
downgrade recreates it empty, and the next refresh under the older code fills it again. Redlist
entries stored before this revision started on the day a refresh saw the grade; the next refresh
of each subject replaces them with entries derived from its score intervals.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("scores")


def downgrade() -> None:
    op.create_table(
        "scores",
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("scheme", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rulebook_version", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "scheme", name=op.f("pk_scores")),
    )
