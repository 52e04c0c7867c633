"""the transparency log: leaves, perfect nodes, salts, checkpoints; events.xact on PostgreSQL

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("log_leaves", "log_nodes", "log_checkpoints")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("events") as batch:
        # the writing transaction's id: entries are integrated in (xact, seq) order once every
        # transaction below the oldest still running has ended (docs/decisions/0003-log-sequencing.md)
        batch.add_column(
            sa.Column(
                "xact",
                sa.BigInteger(),
                nullable=True,
                server_default=sa.text("(pg_current_xact_id()::text)::bigint") if postgres else None,
            )
        )
        batch.create_index("ix_events_xact_seq", ["xact", "seq"])
    op.create_table(
        "log_leaves",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("xact", sa.BigInteger(), nullable=True),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("subject_hash", sa.LargeBinary(length=32), nullable=True),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_log_leaves")),
        sa.UniqueConstraint("seq", name=op.f("uq_log_leaves_seq")),
    )
    op.create_index("ix_log_leaves_subject_hash", "log_leaves", ["subject_hash"])
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_log_nodes")),
    )
    op.create_table(
        "log_salts",
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_log_salts")),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_log_checkpoints")),
    )
    # append-only, as records and events are (the function is the first migration's)
    for table in APPEND_ONLY:
        if postgres:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION credence_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION credence_append_only()"
            )
            continue
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def downgrade() -> None:
    for table in ("log_checkpoints", "log_salts", "log_nodes", "log_leaves"):
        op.drop_table(table)  # their triggers go with them
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_xact_seq")
        batch.drop_column("xact")
