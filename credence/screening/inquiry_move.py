"""The inquiry log's move: staged rows into the indexed ``inquiries`` table, sorted by key.

Why two tables: the index on ``number_sha256`` is keyed by a hash, so the rows of a 0.1 s flush
land on as many random index pages as there are rows, and each commit rewrote hundreds of pages
to the WAL (BENCHMARKS.md, "The gate"). A flush now appends to ``inquiries_staged``, which has no
index but its serial key; every few seconds a move inserts the staged rows into ``inquiries``
in key order (neighbouring keys share an index page, written once per move) and deletes them
from the staging table, in one transaction.

Invariants: a staged row keeps its id in ``inquiries``; the database refuses to delete a staged
row whose id is not yet in ``inquiries`` (the migration's trigger), so a crash anywhere loses
nothing, and the move commits or rolls back whole, so no reader sees a row in both tables or in
neither. One mover at a time: on SQLite the database's write lock serialises them; on
PostgreSQL a transaction-level advisory lock, which a second gate worker's mover finds taken and
skips its turn (it would otherwise wait on the first's uncommitted ids and fail on their key).
"""

from sqlalchemy import Connection, delete, exists, insert, select, text

from credence.store.orm import Inquiry, StagedInquiry

# pg_try_advisory_xact_lock(int4, int4): "CRED" and this lock's number (store.lock holds 1)
PG_KEYS = {"a": 0x43524544, "b": 2}
COPIED = (
    "id",
    "batch",
    "provider_id",
    "number_sha256",
    "action",
    "attributes",
    "decision",
    "reference",
    "at",
    "asked_at",
)


class MoveMismatchError(RuntimeError):
    """The staged rows deleted are not the rows inserted: the move is rolled back."""


def move(conn: Connection) -> int:
    """Move every staged inquiry into ``inquiries``, in the caller's transaction; returns how
    many, 0 as well when another process is moving (PostgreSQL).

    Raises:
        MoveMismatchError: the delete did not take exactly the rows the insert wrote.
    """
    if (
        conn.dialect.name == "postgresql"
        and not conn.execute(text("SELECT pg_try_advisory_xact_lock(:a, :b)"), PG_KEYS).scalar_one()
    ):
        return 0
    staged = StagedInquiry.__table__.c
    ordered = select(*(staged[name] for name in COPIED)).order_by(staged.number_sha256, staged.id)
    # preserve_rowcount: SQLAlchemy leaves an INSERT's rowcount unread (-1) on psycopg otherwise
    copy = insert(Inquiry).from_select(list(COPIED), ordered).execution_options(preserve_rowcount=True)
    inserted = conn.execute(copy).rowcount
    if not inserted:
        return 0
    # exactly the rows now in both: a row staged by a flush committed meanwhile stays staged
    deleted = conn.execute(delete(StagedInquiry).where(exists().where(Inquiry.id == StagedInquiry.id))).rowcount
    if deleted != inserted:
        raise MoveMismatchError(f"moved {inserted:,} staged inquiries but removed {deleted:,}")
    return int(inserted)
