"""credit-repair applications and their evidence

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "repair_applications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("receipt", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.String(length=32), nullable=False),
        sa.Column("source_record_id", sa.String(length=200), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("scheme", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("respond_by", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("repair_record_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_applications")),
        sa.UniqueConstraint("receipt", name=op.f("uq_repair_applications_receipt")),
    )
    op.create_index("ix_repair_applications_subject", "repair_applications", ["subject_id"])
    op.create_index("ix_repair_applications_source", "repair_applications", ["source_id", "respond_by"])
    # one open application per record: a second while one is open is refused by the database too
    op.create_index(
        "ux_repair_applications_open_record",
        "repair_applications",
        ["source_id", "source_record_id"],
        unique=True,
        sqlite_where=sa.text("state = 'open'"),
        postgresql_where=sa.text("state = 'open'"),
    )
    op.create_table(
        "repair_evidence",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["repair_applications.id"],
            name=op.f("fk_repair_evidence_application_id_repair_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_evidence")),
    )
    op.create_index("ix_repair_evidence_application", "repair_evidence", ["application_id"])


def downgrade() -> None:
    op.drop_table("repair_evidence")
    op.drop_index("ux_repair_applications_open_record", table_name="repair_applications")
    op.drop_table("repair_applications")
