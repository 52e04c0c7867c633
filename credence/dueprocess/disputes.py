"""Filing and answering disputes, each in one transaction with its event, its notice to the
subject and, for an upheld dispute, the correction record.

A dispute is routed to the record's source agency with a deadline: the rulebooks that count the
record's kind say how long (the court's correction review: 15 days; 30 by default) and whether
the record keeps its effect meanwhile; a record several rulebooks count takes the shortest
deadline, and is suspended if any of them suspends it. An upheld dispute writes a correction
record (the record retracted, or amended with the officer's corrected attributes) as the source's
next version, with a new transaction time, so the history keeps both. Each step puts the subject
in ``pending_subjects``: ``credence worker`` refreshes their measures (a suspension, the day after
a deadline, a correction), and the gate follows.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, union

from credence import outbox, resolve
from credence.disputes import evidence as files
from credence.disputes import recusals, rows
from credence.disputes.rows import Filed
from credence.exc import FieldError
from credence.ingest.loader import LoadResult, mark_pending, write_batch
from credence.ingest.records import Candidate, subject_ref
from credence.lists.measures import Effect, default_measures
from credence.model.catalogue import Catalogue, default_catalogue
from credence.model.time import legal_date
from credence.outbox import Notice, NoticeKind, hooks
from credence.outbox import facts as common
from credence.rules.compile import SUSPENSION_KIND
from credence.rules.loader import Scheme, shipped_schemes
from credence.rules.schema import Disputes
from credence.store.orm import Listing, ListingHistory, Record

DEFAULT = Disputes()
REGISTRY = "registry"  # the source of the registry's own records (sources.yaml)
SUSPENSION_BASIS = "the registry's dispute procedure: a record's effect while disputed (its rulebooks' disputes:)"


@dataclass(frozen=True, slots=True)
class Policy:
    respond_by: date
    suspends: bool


def policy(schemes: dict[str, Scheme], kind: str, *, filed: date) -> Policy:
    """The deadline and suspension the rulebooks counting ``kind`` set for a dispute filed on
    ``filed`` (the default where none counts it)."""
    found = [
        edition.book.disputes
        for scheme in schemes.values()
        for edition in scheme.editions
        if kind in _kinds(edition.book)
    ] or [DEFAULT]
    return Policy(
        respond_by=min(d.answer_within.counted().last_day(filed) for d in found),
        suspends=any(d.suspends for d in found),
    )


def _kinds(book: Any) -> set[str]:
    used = {k for rule in book.rules for k in rule.kinds}
    for listed in book.lists:
        used |= {listed.decision_kind, *listed.ending_kinds}
        if listed.extension is not None:
            used.add(listed.extension.kind)
    return used


def file(
    engine: Engine,
    *,
    subject: uuid.UUID,
    record: uuid.UUID,
    statement: str,
    evidence: Sequence[bytes] = (),
    now: datetime,
    schemes: dict[str, Scheme] | None = None,
) -> Filed:
    """A signed-in subject disputes one of their records; returns the dispute and its receipt."""
    checked = files.checked(list(evidence))
    with engine.begin() as conn:
        found = rows.record_of(conn, subject, record)
        if found is None:
            raise FieldError("record_id", "no record about you has this id")
        rule = policy(schemes or shipped_schemes(), found.kind, filed=legal_date(now))
        filed = rows.file(
            conn,
            subject=subject,
            record=found,
            statement=statement,
            evidence=checked,
            respond_by=rule.respond_by,
            suspends=rule.suspends,
            now=now,
        )
        outbox.enqueue(conn, [_notice(conn, NoticeKind.DISPUTE_FILED, filed)], now=now)
        _suspend(conn, filed, now=now, catalogue=default_catalogue())
        mark_pending(conn, {subject}, now=now)
    return filed


@dataclass(frozen=True, slots=True)
class Correction:
    """What an upheld dispute changes: the record withdrawn, or these attributes corrected."""

    retract: bool = False
    attributes: dict[str, Any] | None = None


def decide(
    engine: Engine,
    dispute: uuid.UUID,
    *,
    agency: str,
    officer: str,
    upheld: bool,
    note: str = "",
    correction: Correction | None = None,
    now: datetime,
    catalogue: Catalogue | None = None,
    officer_id: uuid.UUID | None = None,
) -> Filed:
    """The agency's officer answers: rejected, or upheld with its correction record. An officer
    (``officer_id``) who declared a relation to the subject stands aside (``disputes.recusals``)."""
    if upheld and correction is None:
        raise FieldError("correction", "an upheld dispute says what it corrects: retract, or the corrected attributes")
    if not upheld and correction is not None:
        raise FieldError("correction", "a rejected dispute corrects nothing")
    with engine.begin() as conn:
        found = rows.answerable(conn, dispute, agency=agency, now=now)
        if officer_id is not None:
            recusals.require_unrelated(conn, officer_id, found.subject)
        corrected = None
        if correction is not None:
            corrected = _correct(conn, found, correction, now=now, catalogue=catalogue or default_catalogue())
            _tell_providers(conn, found, corrected, now=now)
        decided = rows.decide(
            conn, found, agency=agency, officer=officer, upheld=upheld, note=note, correction=corrected, now=now
        )
        _suspend(conn, found, now=now, catalogue=catalogue or default_catalogue(), answered=True)
        outbox.enqueue(conn, [_notice(conn, NoticeKind.DISPUTE_DECIDED, decided)], now=now)
        mark_pending(conn, {decided.subject}, now=now)
    return decided


def _correct(
    conn: Connection, found: Filed, correction: Correction, *, now: datetime, catalogue: Catalogue
) -> uuid.UUID:
    """Write the correction as the record's next version, through ingest's one write path."""
    newest = conn.execute(
        select(Record)
        .where(Record.source_id == found.source)
        .where(
            Record.source_record_id
            == select(Record.source_record_id).where(Record.id == found.record).scalar_subquery()
        )
        .order_by(Record.version.desc())
        .limit(1)
    ).one()
    number = resolve.number_of(conn, newest.subject_id)
    if number is None:
        raise FieldError("record_id", "the record's subject is gone")
    kind = catalogue.kinds[newest.kind]
    attributes = dict(newest.attributes)
    if correction.attributes:
        unknown = sorted(set(correction.attributes) - set(kind.attributes))
        if unknown:
            raise FieldError(f"correction.attributes.{unknown[0]}", f"not an attribute of {newest.kind}")
        attributes |= kind.coerce({**attributes, **correction.attributes}, prefix="correction.attributes")
    related = tuple(
        subject_ref(attributes[name], field=f"attributes.{name}")
        for name, attribute in kind.attributes.items()
        if attribute.type.value == "id" and attributes.get(name)
    )
    candidate = Candidate(
        op="retract" if correction.retract else "assert",
        source_record_id=newest.source_record_id,
        subject=subject_ref(number, field="id_number"),
        kind=newest.kind,
        valid_date=newest.valid_date,
        jurisdiction=newest.jurisdiction,
        legal_basis=newest.legal_basis,
        attributes=attributes,
        related=related,
    )
    result = LoadResult(file=f"dispute {found.receipt}")
    written = write_batch(
        conn,
        source=found.source,
        file=f"dispute {found.receipt}",
        candidates=[(0, candidate)],
        rejected=[],
        now=now,
        result=result,
        catalogue=catalogue,
    )
    if not written:
        raise FieldError("correction", "it changes nothing in the record")
    return written[0]


def _suspend(conn: Connection, filed: Filed, *, now: datetime, catalogue: Catalogue, answered: bool = False) -> None:
    """The registry's ``record_suspension`` record for ``filed``, through ingest's one write path,
    so that scores follow the dispute as measures do (``rules.compile._pieces``). Filed: the
    record stops counting from today if the dispute suspends it, else from the day after the
    deadline (a lapse, undone by a timely answer). Answered in time: a suspending dispute's window
    ends today (``resumes_on``); a lapse that never came is withdrawn."""
    number = resolve.number_of(conn, filed.subject)
    if number is None:
        return
    disputed = conn.execute(select(Record.source_record_id).where(Record.id == filed.record)).scalar_one()
    today = legal_date(now)
    attributes: dict[str, Any] = {
        "suspended_source": filed.source,
        "suspended_record": disputed,
        "dispute": filed.receipt,
    }
    if answered and filed.suspends:
        attributes["resumes_on"] = today.isoformat()
    kind = catalogue.kinds[SUSPENSION_KIND]
    candidate = Candidate(
        op="retract" if answered and not filed.suspends else "assert",
        source_record_id=f"suspension-{filed.receipt}",
        subject=subject_ref(number, field="id_number"),
        kind=SUSPENSION_KIND,
        valid_date=legal_date(filed.filed_at) if filed.suspends else filed.respond_by + timedelta(days=1),
        jurisdiction="",
        legal_basis=SUSPENSION_BASIS,
        attributes=kind.coerce(attributes, prefix="suspension"),
        related=(),
    )
    label = f"dispute {filed.receipt}"
    write_batch(
        conn,
        source=REGISTRY,
        file=label,
        candidates=[(0, candidate)],
        rejected=[],
        now=now,
        result=LoadResult(file=label),
        catalogue=catalogue,
    )


def _tell_providers(conn: Connection, found: Filed, corrected: uuid.UUID, *, now: datetime) -> int:
    """A webhook call to every provider told ``restricted`` for an action that a listing decided
    by the corrected record restricts (from the gate's inquiry log)."""
    same = select(Record.source_record_id).where(Record.id == found.record).scalar_subquery()
    versions = select(Record.id).where(Record.source_id == found.source, Record.source_record_id == same)
    decided = union(
        *(select(t.list_id).where(t.decision_record_id.in_(versions)) for t in (Listing, ListingHistory))
    ).subquery()
    lists = set(conn.scalars(select(decided.c.list_id)))
    actions = {m.action for m in default_measures() if m.effect is Effect.RESTRICT and m.lists & lists}
    number = resolve.number_of(conn, found.subject)
    if not actions or number is None:
        return 0
    return hooks.owe_correction(conn, number=number, actions=actions, correction=corrected, now=now)


def _notice(conn: Connection, kind: NoticeKind, filed: Filed) -> Notice:
    record = common.records(conn, [filed.record]).get(filed.record, common.NO_RECORD)
    facts = {
        **record,
        "dispute_id": str(filed.id),
        "receipt": filed.receipt,
        "respond_by": str(filed.respond_by),
        "suspends": filed.suspends,
        "state": filed.state,
        "note": filed.note,
        "correction_record_id": str(filed.correction) if filed.correction else None,
    }
    return Notice(subject=filed.subject, kind=kind, facts=facts)
