"""derived state over valid and transaction time: score intervals, listing versions, active
measures, exemptions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 01:00:00

Each derived table keeps its current rows with ``derived_at`` and a ``*_history`` table of the
versions later refreshes replaced. Listings already stored count as derived at the migration.
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Columns = Callable[[], list[sa.Column[object]]]


def _score_interval() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("scheme", sa.String(length=64), nullable=False),
        sa.Column("rulebook_version", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
    ]


def _listing() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("listed_subject_id", sa.Uuid(), nullable=False),
        sa.Column("ground", sa.Integer(), nullable=True),
        sa.Column("case_number", sa.String(length=100), nullable=True),
        sa.Column("court", sa.String(length=200), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=64), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("decision_record_id", sa.Uuid(), nullable=False),
        sa.Column("rulebook", sa.String(length=64), nullable=False),
        sa.Column("rulebook_version", sa.String(length=32), nullable=False),
    ]


def _active_measure() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("measure_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("effect", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("listed_subject_id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=True),
        sa.Column("list_id", sa.String(length=64), nullable=True),
        sa.Column("listing_start", sa.Date(), nullable=True),
        sa.Column("court", sa.String(length=200), nullable=True),
        sa.Column("case_number", sa.String(length=100), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=False),
    ]


def _exemption() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("case_number", sa.String(length=100), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
    ]


def _versioned(name: str, columns: Columns, index: list[str], *, current: bool = True) -> None:
    """A current table (unless it exists) and its history, each with an index on ``index``."""
    at = sa.Column("derived_at", sa.DateTime(timezone=True), nullable=False)
    if current:
        op.create_table(name, *columns(), at, sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")))
        op.create_index(f"ix_{name}_subject", name, index, unique=False)
    history = f"{name.removesuffix('s')}_history"
    op.create_table(
        history,
        *columns(),
        sa.Column("derived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", "derived_at", name=op.f(f"pk_{history}")),
    )
    op.create_index(f"ix_{history}_subject", history, index, unique=False)


def upgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("derived_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
        )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.alter_column("derived_at", server_default=None)
        batch_op.create_index("ix_listings_listed", ["listed_subject_id"], unique=False)
    _versioned("listings", _listing, ["subject_id"], current=False)
    _versioned("active_measures", _active_measure, ["subject_id", "action"])
    op.create_index("ix_active_measures_listed", "active_measures", ["listed_subject_id"], unique=False)
    _versioned("exemptions", _exemption, ["subject_id", "day"])
    _versioned("score_intervals", _score_interval, ["subject_id", "scheme"])


def downgrade() -> None:
    op.drop_index("ix_active_measures_listed", table_name="active_measures")
    for name in ("score_interval_history", "score_intervals", "exemption_history", "exemptions", "active_measure_history", "active_measures", "listing_history"):
        op.drop_index(f"ix_{name}_subject", table_name=name)
        op.drop_table(name)
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index("ix_listings_listed")
        batch_op.drop_column("derived_at")
