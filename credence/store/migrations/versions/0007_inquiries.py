"""the gate's inquiry log: who asked about whom, for what, and the answer

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inquiries",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("batch", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("number_sha256", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=36), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiries")),
    )
    op.create_index("ix_inquiries_number_sha256", "inquiries", ["number_sha256"])
    # append-only, as records and events are (the function is the first migration's)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER inquiries_append_only BEFORE UPDATE OR DELETE ON inquiries "
            "FOR EACH ROW EXECUTE FUNCTION credence_append_only()"
        )
        op.execute(
            "CREATE TRIGGER inquiries_no_truncate BEFORE TRUNCATE ON inquiries "
            "FOR EACH STATEMENT EXECUTE FUNCTION credence_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER inquiries_no_{action.lower()} BEFORE {action} ON inquiries "
            "BEGIN SELECT RAISE(ABORT, 'inquiries is append-only'); END"
        )


def downgrade() -> None:
    op.drop_table("inquiries")  # its triggers go with it
