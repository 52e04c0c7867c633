"""two officers: manual actions, their decisions, officers' roles and declared relations

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # every officer before this revision reviewed and answered for one agency: the officer role
    with op.batch_alter_table("officers") as batch:
        batch.add_column(sa.Column("role", sa.String(length=16), nullable=False, server_default="officer"))
    op.create_table(
        "manual_actions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("receipt", sa.String(length=24), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("source_record_id", sa.String(length=200), nullable=False),
        sa.Column("valid_date", sa.Date(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=12), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_actions")),
        sa.UniqueConstraint("receipt", name=op.f("uq_manual_actions_receipt")),
    )
    op.create_index("ix_manual_actions_agency", "manual_actions", ["agency", "requested_at"])
    op.create_index("ix_manual_actions_subject", "manual_actions", ["subject_id"])
    op.create_table(
        "manual_decisions",
        # one decision per action: a second approver racing the first is refused by the key
        sa.Column("action_id", sa.Uuid(), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["manual_actions.id"], name=op.f("fk_manual_decisions_action_id_manual_actions")
        ),
        sa.PrimaryKeyConstraint("action_id", name=op.f("pk_manual_decisions")),
    )
    op.create_table(
        "officer_relations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("officer_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("relation", sa.String(length=32), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_relations")),
    )
    op.create_index("ix_officer_relations_officer_subject", "officer_relations", ["officer_id", "subject_id"])


def downgrade() -> None:
    op.drop_table("officer_relations")
    op.drop_table("manual_decisions")
    op.drop_table("manual_actions")
    with op.batch_alter_table("officers") as batch:
        batch.drop_column("role")
