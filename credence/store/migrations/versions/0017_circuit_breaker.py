"""the mass-listing circuit breaker: sources.breaker, holds, quarantine.hold_id, records by source and time

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN on both stores: a batch (copy and rename) of sources would drop nothing,
    # but records must never go through one, since its append-only triggers would go with it
    op.add_column("sources", sa.Column("breaker", sa.JSON(), nullable=True))
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("threshold", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_holds_source_id_sources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    op.create_index("ix_holds_source", "holds", ["source_id", "closed_at"], unique=False)
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(sa.Column("hold_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_quarantine_hold_id_holds"), "holds", ["hold_id"], ["id"])
        batch.create_index("ix_quarantine_hold", ["hold_id"], unique=False)
    op.create_index("ix_records_source_recorded", "records", ["source_id", "recorded_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_records_source_recorded", table_name="records")
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_index("ix_quarantine_hold")
        batch.drop_constraint(op.f("fk_quarantine_hold_id_holds"), type_="foreignkey")
        batch.drop_column("hold_id")
    op.drop_index("ix_holds_source", table_name="holds")
    op.drop_table("holds")
    op.drop_column("sources", "breaker")
