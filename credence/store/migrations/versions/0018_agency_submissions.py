"""signed submissions: agencies' public keys, and the submissions whose nonces they spent

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agency_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_agency_keys_source_id_sources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_keys")),
    )
    op.create_index("ix_agency_keys_source", "agency_keys", ["source_id"], unique=False)
    op.create_table(
        "submissions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("file", sa.String(length=100), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["key_id"], ["agency_keys.id"], name=op.f("fk_submissions_key_id_agency_keys")),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_submissions_source_id_sources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("source_id", "nonce", name="uq_submissions_source_nonce"),
    )


def downgrade() -> None:
    op.drop_table("submissions")
    op.drop_index("ix_agency_keys_source", table_name="agency_keys")
    op.drop_table("agency_keys")
