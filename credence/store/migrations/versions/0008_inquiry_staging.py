"""the inquiry log's staging table: flushes append to it, a move takes its rows into inquiries

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REFUSAL = "inquiries_staged is append-only; a row leaves it only once it is in inquiries"


def upgrade() -> None:
    op.create_table(
        "inquiries_staged",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiries_staged")),
        sqlite_autoincrement=True,  # never reuse an id: a moved row keeps its own in inquiries
    )
    if op.get_bind().dialect.name == "postgresql":
        # staged ids start above the rows logged before this table existed
        op.execute(
            "SELECT setval(pg_get_serial_sequence('inquiries_staged', 'id'), "
            "(SELECT COALESCE(max(id), 0) + 1 FROM inquiries), false)"
        )
        op.execute(
            f"""
            CREATE FUNCTION credence_staged_inquiry_moved() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM inquiries WHERE id = OLD.id) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION '{REFUSAL}';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER inquiries_staged_moved_only BEFORE UPDATE OR DELETE ON inquiries_staged "
            "FOR EACH ROW EXECUTE FUNCTION credence_staged_inquiry_moved()"
        )
        op.execute(
            "CREATE TRIGGER inquiries_staged_no_truncate BEFORE TRUNCATE ON inquiries_staged "
            "FOR EACH STATEMENT EXECUTE FUNCTION credence_append_only()"
        )
        return
    op.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'inquiries_staged', COALESCE(max(id), 0) FROM inquiries"
    )
    op.execute(
        "CREATE TRIGGER inquiries_staged_no_update BEFORE UPDATE ON inquiries_staged "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    )
    op.execute(
        "CREATE TRIGGER inquiries_staged_moved_only BEFORE DELETE ON inquiries_staged "
        "WHEN NOT EXISTS (SELECT 1 FROM inquiries WHERE id = OLD.id) "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    )


def downgrade() -> None:
    op.drop_table("inquiries_staged")  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION credence_staged_inquiry_moved()")
