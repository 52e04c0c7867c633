"""The registry's tables.

Invariants: ``records`` and ``events`` are append-only (the database refuses UPDATE and DELETE by
trigger, see the first migration); a correction is a new version of a record under the same
(source, source record id). ``score_intervals``, ``listings``, ``active_measures`` and
``exemptions`` are derived and carry deterministic ids, so a rebuild writes the same rows.

Derived state over valid time: a score interval, a listing, an active measure and an exemption
hold for an interval of days (from ``start_date`` or ``valid_from``; the end NULL for "until further notice").
The table holds each row's current version with the transaction time it was derived at
(``derived_at``); a version a later refresh replaced or removed moves to the table's history
(``*_history``) with ``superseded_at``. The state on a day as the registry knew it at an instant
is then a lookup over both (``store.versioned.known_query``); nothing is re-derived.
"""

import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class Source(Base):
    """An agency that feeds the registry, with what it is authorised to submit."""

    __tablename__ = "sources"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kinds: Mapped[list[str]] = mapped_column(JSON)
    jurisdictions: Mapped[list[str]] = mapped_column(JSON)  # region-code prefixes; "" = national
    # circuit-breaker thresholds (model.thresholds.Thresholds.as_data), None for a source without
    breaker: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Subject(Base):
    __tablename__ = "subjects"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    birth_date: Mapped[date | None] = mapped_column(Date)
    address_code: Mapped[str] = mapped_column(String(6))
    created_at: Mapped[datetime]

    # the snapshot export reads the subjects made since its last run (migration 0024)
    __table_args__ = (Index("ix_subjects_created", "created_at"),)


class Record(Base):
    __tablename__ = "records"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"))
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    source_record_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(8))  # assert | retract
    kind: Mapped[str] = mapped_column(String(64))
    valid_date: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime]
    jurisdiction: Mapped[str] = mapped_column(String(12))
    legal_basis: Mapped[str] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("source_id", "source_record_id", "version"),
        Index("ix_records_subject", "subject_id", "kind"),
        # the circuit breaker counts a source's records of the last hour and day; the snapshot
        # export reads each source's records since its last run
        Index("ix_records_source_recorded", "source_id", "recorded_at"),
    )


class Quarantine(Base):
    """A row that could not be accepted, with where it came from and why; replayable."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(String(64))
    file: Mapped[str] = mapped_column(Text)
    line: Mapped[int] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    replayed_at: Mapped[datetime | None]
    # a row the source's circuit breaker held (not refused): applied only when its hold is released
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id"))

    __table_args__ = (Index("ix_quarantine_hold", "hold_id"),)


class Hold(Base):
    """A source's circuit breaker, tripped: the adverse rows it held wait here for an officer.

    Open while ``closed_at`` is NULL; while a source has an open hold every adverse row it sends
    joins it. An officer releases it (the rows apply, with a new transaction time) or rejects it
    (they stay unapplied); ``outcome``, ``closed_by`` and ``note`` say which, who and why.
    """

    __tablename__ = "holds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    opened_at: Mapped[datetime]
    file: Mapped[str] = mapped_column(Text)  # the file whose load tripped it
    threshold: Mapped[str] = mapped_column(String(16))  # per_hour, per_day or share
    reason: Mapped[str] = mapped_column(Text)  # counts and limits, never personal data
    counts: Mapped[dict[str, Any]]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # released or rejected
    closed_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_holds_source", "source_id", "closed_at"),)


class FeedLoad(Base):
    """How far each feed file has been read: the ledger that makes loading a function of the feeds.

    ``prefix_digest`` is the SHA-256 of the file's first ``offset`` bytes, committed in the same
    transaction as the rows read from them. A file whose first ``offset`` bytes hash the same is
    read from ``offset`` on: the same file again reads nothing, a load killed mid-file resumes
    where its last batch committed, and a file that grew by appending reads only what is new.
    """

    __tablename__ = "feed_loads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(String(64))
    file: Mapped[str] = mapped_column(Text)  # the name it was last read under; identity is the digest
    offset: Mapped[int] = mapped_column(BigInteger)
    line: Mapped[int] = mapped_column(Integer)  # physical lines up to ``offset``
    rows: Mapped[int] = mapped_column(Integer)  # rows (statements) up to ``offset``
    prefix_digest: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_feed_loads_source", "source_id"),)


class PendingSubject(Base):
    """Subjects whose records landed but whose derived state has not been refreshed yet.

    Written in the transaction that writes their records, removed in the one that rescores them,
    so a process killed between the two leaves the work for the next run instead of losing it.
    """

    __tablename__ = "pending_subjects"
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    since: Mapped[datetime]


class Event(Base):
    """The append-only event log: each entry becomes a leaf of the Merkle tree (``LogLeaf``).

    ``xact`` is the writing transaction's id on PostgreSQL (a column default), NULL on SQLite:
    ``seq`` alone does not give the order entries commit in on PostgreSQL (see
    docs/decisions/0003-log-sequencing.md)."""

    __tablename__ = "events"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    tag: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]]
    recorded_at: Mapped[datetime]
    xact: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_events_xact_seq", "xact", "seq"),
        # the few events auditors are told of (dueprocess.alerts), found without reading the log
        Index(
            "ix_events_alerts",
            "seq",
            sqlite_where=text("tag IN ('breaker.tripped', 'manual.denied')"),
            postgresql_where=text("tag IN ('breaker.tripped', 'manual.denied')"),
        ),
    )


class LogLeaf(Base):
    """The Merkle tree's leaves: event ``seq`` at contiguous leaf index ``idx``, its leaf hash
    and its subject's commitment (what a subject finds their entries by). Append-only."""

    __tablename__ = "log_leaves"
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    xact: Mapped[int | None] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    subject_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))

    __table_args__ = (Index("ix_log_leaves_subject_hash", "subject_hash"),)


class LogNode(Base):
    """Perfect subtrees above the leaves: node ``(level, idx)`` covers leaves ``[idx * 2**level,
    (idx + 1) * 2**level)``; a proof reads O(log n) of them. Append-only."""

    __tablename__ = "log_nodes"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogSalt(Base):
    """Each subject's salt for the log's commitments. Not append-only: deleting a subject's salt
    (erasure) leaves every leaf, and so the tree, verifiable, and the entries unlinkable."""

    __tablename__ = "log_salts"
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime]


class Checkpoint(Base):
    """Every signed checkpoint of the log (C2SP signed note), one per tree size. Append-only."""

    __tablename__ = "log_checkpoints"
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime]


class Rulebook(Base):
    """Every rulebook version the registry has scored with; a published version never changes."""

    __tablename__ = "rulebooks"
    scheme: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    effective_from: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]]
    loaded_at: Mapped[datetime]


class Derived:
    """Since when the registry knows a derived row's current version (see the module's docstring)."""

    derived_at: Mapped[datetime]


class Superseded:
    """A version that a later refresh replaced: known from ``derived_at`` until ``superseded_at``."""

    derived_at: Mapped[datetime] = mapped_column(primary_key=True)
    superseded_at: Mapped[datetime]


class ScoreIntervalColumns:
    """A subject's score and grade under one scheme over an interval of days, and the edition
    whose scale and grades gave them (``valid_to`` NULL: until further notice)."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scheme: Mapped[str] = mapped_column(String(64))
    rulebook_version: Mapped[str] = mapped_column(String(32))
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str | None] = mapped_column(String(16))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class ScoreInterval(ScoreIntervalColumns, Derived, Base):
    """The stored scores: a subject's score and grade on day D is the interval that holds D."""

    __tablename__ = "score_intervals"
    __table_args__ = (Index("ix_score_intervals_subject", "subject_id", "scheme"),)

    @classmethod
    def holds(cls, day: date) -> ColumnElement[bool]:
        """The intervals that hold ``day``: half-open, ``valid_to`` the first day without it."""
        return (cls.valid_from <= day) & (cls.valid_to.is_(None) | (cls.valid_to > day))


class ScoreIntervalHistory(ScoreIntervalColumns, Superseded, Base):
    __tablename__ = "score_interval_history"
    __table_args__ = (Index("ix_score_interval_history_subject", "subject_id", "scheme"),)


class ListingColumns:
    """A list entry: the subject, or a person bound by an organisation's listing."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    list_id: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    role: Mapped[str] = mapped_column(String(32))  # subject | legal_representative | ...
    listed_subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    ground: Mapped[int | None] = mapped_column(Integer)
    case_number: Mapped[str | None] = mapped_column(String(100))
    court: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(64))
    legal_basis: Mapped[str] = mapped_column(Text)
    decision_record_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    rulebook: Mapped[str] = mapped_column(String(64))
    rulebook_version: Mapped[str] = mapped_column(String(32))


class Listing(ListingColumns, Derived, Base):
    __tablename__ = "listings"
    # by listed subject too: a refresh replaces the listings of the subjects it rescored
    __table_args__ = (Index("ix_listings_subject", "subject_id"), Index("ix_listings_listed", "listed_subject_id"))


class ListingHistory(ListingColumns, Superseded, Base):
    __tablename__ = "listing_history"
    __table_args__ = (Index("ix_listing_history_subject", "subject_id"),)


class ActiveMeasureColumns:
    """A measure that applies to a subject over an interval of days, through a listing (a
    restriction or a notice) or a grade (a reward): what the point of service reads."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    measure_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    effect: Mapped[str] = mapped_column(String(16))  # restrict | notice | reward
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    listed_subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # whose listing (or grade) it comes through
    listing_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    list_id: Mapped[str | None] = mapped_column(String(64))
    listing_start: Mapped[date | None] = mapped_column(Date)
    court: Mapped[str | None] = mapped_column(String(200))
    case_number: Mapped[str | None] = mapped_column(String(100))
    legal_basis: Mapped[str] = mapped_column(Text)


class ActiveMeasure(ActiveMeasureColumns, Derived, Base):
    __tablename__ = "active_measures"
    __table_args__ = (
        Index("ix_active_measures_subject", "subject_id", "action"),
        Index("ix_active_measures_listed", "listed_subject_id"),
    )


class ActiveMeasureHistory(ActiveMeasureColumns, Superseded, Base):
    __tablename__ = "active_measure_history"
    __table_args__ = (Index("ix_active_measure_history_subject", "subject_id", "action"),)


class ExemptionColumns:
    """A one-off exemption the deciding court granted: one action, one day, one case."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the exemption record's id
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(64))
    case_number: Mapped[str | None] = mapped_column(String(100))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)


class Exemption(ExemptionColumns, Derived, Base):
    __tablename__ = "exemptions"
    __table_args__ = (Index("ix_exemptions_subject", "subject_id", "day"),)


class ExemptionHistory(ExemptionColumns, Superseded, Base):
    __tablename__ = "exemption_history"
    __table_args__ = (Index("ix_exemption_history_subject", "subject_id", "day"),)


class MeasureChange(Base):
    """The journal the gate's in-memory index follows: one row per transaction that changed the
    active measures or exemptions of some subjects, numbered in commit order.

    Writers are serialised by the registry's writer lock (``store.lock``), so ``seq`` (the
    previous maximum plus one) is taken by one transaction at a time and a reader that has seen
    ``seq`` N has seen every change up to N. ``subjects`` lists the subject ids whose rows
    changed, or is NULL when so many did that a reader should reload everything.
    """

    __tablename__ = "measure_changes"
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    changed_at: Mapped[datetime]
    subjects: Mapped[list[str] | None] = mapped_column(JSON)


class Provider(Base):
    """A service provider's API key: who may ask the gate about which actions, and how often.

    The key itself is never stored: only its public prefix (to find the row) and its SHA-256.
    ``seq`` is the registry-wide change counter of this table: issuing or revoking a key sets it
    above every other row's, so a gate process knows its cached key table is stale by reading
    ``max(seq)`` alone.
    """

    __tablename__ = "providers"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_sha256: Mapped[str] = mapped_column(String(64))
    actions: Mapped[list[str]] = mapped_column(JSON)
    rate: Mapped[float] = mapped_column(Float)  # checks per second
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    seq: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_providers_name", "name"), Index("ix_providers_seq", "seq"))


class _InquiryColumns:
    """The columns of an inquiry, staged or moved (the two tables hold the same rows)."""

    batch: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    number_sha256: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]]
    decision: Mapped[str] = mapped_column(String(16))  # allowed | restricted | refused
    reference: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime]  # the instant asked about
    asked_at: Mapped[datetime]


class Inquiry(_InquiryColumns, Base):
    """The gate's inquiry log: which provider asked about which subject, when, for what action,
    and what it was told. Append-only (the database refuses UPDATE and DELETE, as for events).

    The subject is kept as the SHA-256 of its canonical number, the key a subject's own look-up
    (``credence inquiries``, the portal) finds their rows by, whether or not the registry held
    them when they were asked about. It is a look-up key, not anonymisation: an ID number's space
    is small enough to search, so this table is as sensitive as ``subjects``. ``number_sha256``
    is NULL for a manifest entry whose number could not be read. Each flush of a gate process
    writes one ``batch`` and one ``inquiry.batch`` event naming it.

    Rows arrive through ``inquiries_staged`` (``StagedInquiry``) and keep the id they were
    staged with.
    """

    __tablename__ = "inquiries"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)

    __table_args__ = (Index("ix_inquiries_number_sha256", "number_sha256"),)


class Notice(Base):
    """The outbox: a notice to a subject, written in the transaction of the change it tells of,
    with the facts it states snapshotted then (never recomputed at delivery). Append-only; its
    delivery's state is in ``notice_deliveries``, each try in ``notice_attempts``."""

    __tablename__ = "notices"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the Message-ID and idempotency key
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(32))  # outbox.NoticeKind
    facts: Mapped[dict[str, Any]]  # internal ids, codes, dates, titles: what the templates render
    respond_by: Mapped[date | None] = mapped_column(Date)  # the last day to dispute, where one may
    created_at: Mapped[datetime]
    # the row it tells of, where its delivery matters to the registry: a listing whose measures
    # wait for its subject to be told (lists.effect)
    about: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (Index("ix_notices_subject", "subject_id"), Index("ix_notices_about", "about"))


class NoticeDelivery(Base):
    """Where a notice's delivery stands; the one mutable row of the outbox. A worker claims it by
    a lease (``lease_owner`` until ``lease_until``; on PostgreSQL the claim also skips rows
    another worker has locked), sends, and settles it; a lease that runs out is claimed again."""

    __tablename__ = "notice_deliveries"
    notice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # pending | delivered | unreachable | failed
    attempts: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    email_at: Mapped[datetime | None]  # when the mail server took it
    sms_at: Mapped[datetime | None]  # when the SMS gateway took it
    delivered_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(200))  # the last failure's class and code, no address

    __table_args__ = (Index("ix_notice_deliveries_due", "state", "next_at"),)


class NoticeAttempt(Base):
    """Each try to send a notice on one channel, to the contact record it used. Append-only."""

    __tablename__ = "notice_attempts"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    notice_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    contact_record_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    attempt: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool]
    error: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime]

    __table_args__ = (Index("ix_notice_attempts_notice", "notice_id"),)


class StagedInquiry(_InquiryColumns, Base):
    """Inquiries flushed and not yet moved into ``inquiries``: a gate's flushes append here, to a
    table with no index but its serial key, so a flush every 0.1 s writes a few pages at the
    table's end instead of one random index page per row; a move every few seconds takes the
    rows into ``inquiries`` sorted by key (``screening.inquiries.move``).

    The database refuses UPDATE (and TRUNCATE), and a DELETE of any row not already in
    ``inquiries`` under the same id: the move's is the only removal it allows, and a crash between
    the two tables can lose nothing. Ids are never reused (SQLite ``AUTOINCREMENT``; a
    PostgreSQL sequence) and start above every id of ``inquiries``, so a moved row keeps its own.
    """

    __tablename__ = "inquiries_staged"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)

    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy's own form)


class Dispute(Base):
    """A subject's dispute of a record about them, routed to the record's source agency with a
    deadline (``respond_by``, the last day it may answer). Its state is the one mutable part:
    open, then upheld or rejected by an officer of that agency; every step is an event. An open
    dispute past its deadline has lapsed: the record lost its effect the day after it
    (``lists.effect``), and no answer revives it."""

    __tablename__ = "disputes"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    receipt: Mapped[str] = mapped_column(String(24), unique=True)  # what the subject quotes
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    source_id: Mapped[str] = mapped_column(String(32))
    source_record_id: Mapped[str] = mapped_column(String(200))
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the version disputed
    statement: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime]
    respond_by: Mapped[date] = mapped_column(Date)
    suspends: Mapped[bool]  # the record has no effect while the dispute is open
    state: Mapped[str] = mapped_column(String(12))  # open | upheld | rejected
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))  # the officer's account name
    note: Mapped[str | None] = mapped_column(Text)
    correction_record_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        Index("ix_disputes_subject", "subject_id"),
        Index("ix_disputes_record", "source_id", "source_record_id"),
        Index(
            "ux_disputes_open_record",
            "source_id",
            "source_record_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )


class DisputeEvidence(Base):
    """A file given with a dispute, typed by its content; kept whole, with its digest."""

    __tablename__ = "dispute_evidence"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    dispute_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("disputes.id"))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_dispute_evidence_dispute", "dispute_id"),)


class RepairApplication(Base):
    """A subject's application for credit repair of a record about them (a rule's ``repair``
    clause), routed to the record's source agency with a deadline. Its state is the one mutable
    part: open, then granted (with the ``credit_repair`` record it wrote) or refused by an
    officer of that agency; every step is an event."""

    __tablename__ = "repair_applications"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    receipt: Mapped[str] = mapped_column(String(24), unique=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    source_id: Mapped[str] = mapped_column(String(32))
    source_record_id: Mapped[str] = mapped_column(String(200))
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the version applied against
    scheme: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime]
    respond_by: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12))  # open | granted | refused
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    repair_record_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        Index("ix_repair_applications_subject", "subject_id"),
        Index("ix_repair_applications_source", "source_id", "respond_by"),
        Index(
            "ux_repair_applications_open_record",
            "source_id",
            "source_record_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )


class RepairEvidence(Base):
    """A file given with a repair application (proof of payment, of corrected conduct)."""

    __tablename__ = "repair_evidence"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("repair_applications.id"))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_repair_evidence_application", "application_id"),)


class ProviderHook(Base):
    """Where a service provider is told that an answer it was given rests on a corrected record."""

    __tablename__ = "provider_hooks"
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]


class ProviderCall(Base):
    """A webhook call owed to a provider (a correction of a record behind restricted answers it
    was given: their references, never a number or a name), delivered by the worker at least once
    under its id (the Idempotency-Key), HMAC-signed, retried with backoff, with the provider's
    acknowledgement (its HTTP status and reply) kept."""

    __tablename__ = "provider_calls"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(32))  # record_corrected
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    status: Mapped[int | None] = mapped_column(Integer)
    ack: Mapped[str | None] = mapped_column(String(500))  # the provider's reply, cut to 500 characters
    error: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_provider_calls_due", "state", "next_at"),
        Index("ix_provider_calls_provider", "provider_id"),
    )


class Officer(Base):
    """An agency officer's account: the agency (a source id) they act for and the address their
    sign-in codes go to. Revoked, not deleted: the events name the row's id."""

    __tablename__ = "officers"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    agency: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))  # personal data: never logged, never in an event
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # officer (reviews, requests manual actions) or second_officer (reviews, approves them):
    # model.roles; no account does both
    role: Mapped[str] = mapped_column(String(16), server_default="officer")

    __table_args__ = (Index("ix_officers_name", "name"),)


class SignInChallenge(Base):
    """The one-time-code bookkeeping of one account, subject or officer, registered or not.

    ``account`` is an HMAC-SHA256 (keyed by ``CREDENCE_SIGN_IN_KEY``) of the kind and the
    normalised ID number or officer name, never the number itself, so the table does not say who
    asked and an unregistered number gets exactly the row a registered one gets. ``code_hmac`` is
    the live code's HMAC under the same key (NULL once used, expired by a lock-out, or never
    issued); the code itself is never stored anywhere. ``failures`` counts wrong codes since the
    last success or lock-out, across codes, so asking for a new code gives no new attempts."""

    __tablename__ = "sign_in_challenges"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # subject | officer
    code_hmac: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None]


class AccountSession(Base):
    """A signed-in subject's or officer's session. Only the SHA-256 of its token is stored."""

    __tablename__ = "account_sessions"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)  # what the events name
    kind: Mapped[str] = mapped_column(String(8))  # subject | officer
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    officer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # the session's longest life, however active
    ended_at: Mapped[datetime | None]


class AgencyKey(Base):
    """An agency's Ed25519 public key for signed submissions (``POST /v1/submissions``),
    registered by an administrator. ``id`` is the key's fingerprint (``ingest.signatures.key_id``),
    which a batch names; revoked, not deleted: the events and the submissions name the row."""

    __tablename__ = "agency_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # the raw 32 bytes
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_agency_keys_source", "source_id"),)


class Submission(Base):
    """A signed batch an agency pushed, once its signature, time and nonce passed: the nonce is
    spent here (unique per source), so the same signed batch is never applied twice. ``file`` is
    the name its rows were loaded under (their quarantine rows carry it); the counts are the load's."""

    __tablename__ = "submissions"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    key_id: Mapped[str] = mapped_column(ForeignKey("agency_keys.id"))
    nonce: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]  # the batch's own timestamp
    received_at: Mapped[datetime]
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the batch's canonical JSON, the signed bytes
    signature: Mapped[str] = mapped_column(String(100))  # base64, as received
    file: Mapped[str] = mapped_column(String(100))
    rows: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, Any] | None]  # the load's outcome; None while it runs

    __table_args__ = (UniqueConstraint("source_id", "nonce", name="uq_submissions_source_nonce"),)


class ManualAction(Base):
    """An officer's request that a record be written (or withdrawn) by hand for their agency: a
    demerit, a favourable record, a listing decision. It takes effect only once a second officer
    of the agency approves it (``ManualDecision``); until then nothing about the subject changes.
    Written once, never changed."""

    __tablename__ = "manual_actions"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    receipt: Mapped[str] = mapped_column(String(24), unique=True)
    agency: Mapped[str] = mapped_column(String(32))
    requested_by: Mapped[uuid.UUID] = mapped_column(Uuid)  # officers.id
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    op: Mapped[str] = mapped_column(String(8))  # assert | retract
    kind: Mapped[str] = mapped_column(String(64))
    source_record_id: Mapped[str] = mapped_column(String(200))  # the record it writes or withdraws
    valid_date: Mapped[date] = mapped_column(Date)
    jurisdiction: Mapped[str] = mapped_column(String(12))
    attributes: Mapped[dict[str, Any]]
    legal_basis: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_manual_actions_agency", "agency", "requested_at"),
        Index("ix_manual_actions_subject", "subject_id"),
    )


class ManualDecision(Base):
    """A second officer's approval (with the record it wrote) or refusal of a manual action; the
    key allows one per action, so two approvers racing each other cannot both apply it."""

    __tablename__ = "manual_decisions"
    action_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manual_actions.id"), primary_key=True)
    decided_by: Mapped[uuid.UUID] = mapped_column(Uuid)  # officers.id
    approved: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)
    record_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decided_at: Mapped[datetime]


class OfficerRelation(Base):
    """A relation an officer declared to a subject (kin, spouse, business partner, rival): from
    then on they may not request, approve or decide anything about that subject. Declared, never
    withdrawn: a relation that ended is still a reason to stand aside."""

    __tablename__ = "officer_relations"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    officer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    relation: Mapped[str] = mapped_column(String(32))
    declared_at: Mapped[datetime]

    __table_args__ = (Index("ix_officer_relations_officer_subject", "officer_id", "subject_id"),)


class StaffAlert(Base):
    """An alert mailed to one auditor about one event (a circuit breaker tripped, an officer's
    manual action denied): written after the mail left, so each (event, auditor) is sent at
    least once and, once recorded, never again."""

    __tablename__ = "staff_alerts"
    event_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    officer_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    sent_at: Mapped[datetime]


class Link(Base):
    """What record linkage proposed for one unidentified (quarantined) row: append-only.

    The best candidate subject with its match weight, the model version that weighed it, and
    the waterfall (the prior, and per comparison the level reached and the weight it added).
    ``outcome`` is ``auto`` (applied through ingest's write path when proposed), ``review``
    (waits for a clerk's judgement in ``link_judgements``) or ``unlinked`` (nothing above the
    review threshold). A row linked again (``credence resolve link --again``) gets a new
    proposal; the newest counts."""

    __tablename__ = "links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    quarantine_id: Mapped[int] = mapped_column(ForeignKey("quarantine.id"))
    source_id: Mapped[str] = mapped_column(String(64))
    source_record_id: Mapped[str] = mapped_column(String(200))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("subjects.id"))
    match_weight: Mapped[float | None] = mapped_column(Float)
    match_probability: Mapped[float | None] = mapped_column(Float)
    margin: Mapped[float | None] = mapped_column(Float)  # over the next candidate
    model: Mapped[str] = mapped_column(String(80))  # <source>-v<N>
    contributions: Mapped[dict[str, Any]]
    # what a clerk may see of both sides, masked when proposed (identity.masked): the queue
    # never reads a raw row or the register again
    masked: Mapped[dict[str, Any]]
    outcome: Mapped[str] = mapped_column(String(12))  # auto | review | unlinked
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_links_quarantine", "quarantine_id"),
        Index("ix_links_outcome", "outcome", "source_id"),
    )


class LinkJudgement(Base):
    """A clerk's judgement of a proposed pair: append-only, the newest counts (nomenklatura's
    resolver keeps its judgements the same way)."""

    __tablename__ = "link_judgements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id"))
    judgement: Mapped[str] = mapped_column(String(12))  # match | no_match | undone
    decided_by: Mapped[str] = mapped_column(String(64))  # the clerk or officer
    created_at: Mapped[datetime]
    # why (an undone link's reason): kept here, never in the audit log, as it may name the person
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_link_judgements_link", "link_id"),)


class SubjectMerge(Base):
    """An officer's judgement that two subjects are one person (``merge``: the absorbed subject's
    records moved to the kept one, ``moved`` naming them) or, later, that they are not (``split``:
    those records moved back). Append-only; the newest row of a pair counts."""

    __tablename__ = "subject_merges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    judgement: Mapped[str] = mapped_column(String(8))  # merge | split
    kept_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"))
    absorbed_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"))
    ground: Mapped[str] = mapped_column(String(16))  # reissued | legacy | duplicate
    moved: Mapped[list[list[str]]] = mapped_column(JSON)  # [source, source record id] of each record moved
    decided_by: Mapped[str] = mapped_column(String(64))  # the officer
    note: Mapped[str] = mapped_column(Text)  # why: kept here, never in the audit log
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_subject_merges_kept", "kept_id"),
        Index("ix_subject_merges_absorbed", "absorbed_id"),
    )
