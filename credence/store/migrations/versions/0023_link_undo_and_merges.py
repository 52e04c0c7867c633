"""record linkage: an officer's reason beside a judgement (an undone link says why); subject
merges and splits (append-only)

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
    op.create_table(
        "subject_merges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("judgement", sa.String(length=8), nullable=False),
        sa.Column("kept_id", sa.Uuid(), nullable=False),
        sa.Column("absorbed_id", sa.Uuid(), nullable=False),
        sa.Column("ground", sa.String(length=16), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["kept_id"], ["subjects.id"], name=op.f("fk_subject_merges_kept_id_subjects")),
        sa.ForeignKeyConstraint(
            ["absorbed_id"], ["subjects.id"], name=op.f("fk_subject_merges_absorbed_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_merges")),
    )
    op.create_index("ix_subject_merges_kept", "subject_merges", ["kept_id"])
    op.create_index("ix_subject_merges_absorbed", "subject_merges", ["absorbed_id"])
    # append-only, as links and judgements are (the function is the first migration's)
    table = "subject_merges"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION credence_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION credence_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def downgrade() -> None:
    op.drop_table("subject_merges")
    op.drop_column("link_judgements", "note")  # SQLite 3.35+ drops a column in place
