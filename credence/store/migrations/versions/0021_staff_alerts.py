"""alerts to auditors: which events were mailed to which auditor

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_alerts",
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("officer_id", sa.Uuid(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_seq", "officer_id", name=op.f("pk_staff_alerts")),
    )
    # the few events auditors are told of, found without reading the log
    alerted = sa.text("tag IN ('breaker.tripped', 'manual.denied')")
    op.create_index("ix_events_alerts", "events", ["seq"], sqlite_where=alerted, postgresql_where=alerted)


def downgrade() -> None:
    op.drop_index("ix_events_alerts", table_name="events")
    op.drop_table("staff_alerts")
