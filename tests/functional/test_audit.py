"""One way to log: ``audit.record`` names tag, subject, actor and data by keyword, the bulk form
takes typed entries, and the stored tag strings are the ones the log has always held."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from credence import audit
from credence.audit import Entry, EventTag
from credence.store.orm import Event

NOW = datetime(2026, 11, 27, 4, tzinfo=UTC)
SUBJECT = uuid.UUID(int=9)


def logged(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Event.tag, Event.subject_id, Event.actor, Event.data).order_by(Event.seq))
        return [tuple(r) for r in rows]


def test_the_stored_tags_never_change() -> None:
    assert {t.name: t.value for t in EventTag} == {
        "RECORD_ACCEPTED": "record.accepted",
        "RECORD_QUARANTINED": "record.quarantined",
        "RECORD_REPLAYED": "record.replayed",
        "LISTING_START": "listing.start",
        "LISTING_END": "listing.end",
        "RULEBOOK_LOADED": "rulebook.loaded",
        "RULEBOOK_PUBLISHED": "rulebook.published",
        "SCORE_INTERVAL": "score.interval",
        "MEASURE_APPLIED": "measure.applied",
        "MEASURE_LIFTED": "measure.lifted",
        "EXEMPTION_GRANTED": "exemption.granted",
        "EXEMPTION_WITHDRAWN": "exemption.withdrawn",
        "PROVIDER_KEY_ISSUED": "provider.key_issued",
        "PROVIDER_KEY_REVOKED": "provider.key_revoked",
        "PROVIDER_WEBHOOK": "provider.webhook",
        "INQUIRY_BATCH": "inquiry.batch",
        "NOTICE_DELIVERED": "notice.delivered",
        "DISPUTE_FILED": "dispute.filed",
        "DISPUTE_DECIDED": "dispute.decided",
        "REPAIR_FILED": "repair.filed",
        "REPAIR_DECIDED": "repair.decided",
        "NOTICE_UNREACHABLE": "notice.unreachable",
        "OFFICER_ADDED": "officer.added",
        "OFFICER_REVOKED": "officer.revoked",
        "OFFICER_RELATION": "officer.relation",
        "MANUAL_REQUESTED": "manual.requested",
        "MANUAL_APPROVED": "manual.approved",
        "MANUAL_REFUSED": "manual.refused",
        "MANUAL_DENIED": "manual.denied",
        "SIGN_IN_CODE_ISSUED": "sign_in.code_issued",
        "SIGN_IN_SUCCEEDED": "sign_in.succeeded",
        "SIGN_IN_FAILED": "sign_in.failed",
        "SIGN_IN_LOCKED": "sign_in.locked",
        "SESSION_ENDED": "session.ended",
        "BREAKER_TRIPPED": "breaker.tripped",
        "BREAKER_HELD": "breaker.held",
        "BREAKER_RELEASED": "breaker.released",
        "BREAKER_REJECTED": "breaker.rejected",
        "AGENCY_KEY_ISSUED": "agency.key_issued",
        "AGENCY_KEY_REVOKED": "agency.key_revoked",
        "SUBMISSION_ACCEPTED": "submission.accepted",
        "SUBMISSION_REFUSED": "submission.refused",
        "LINK_PROPOSED": "link.proposed",
        "LINK_JUDGED": "link.judged",
        "LINK_UNDONE": "link.undone",
        "SUBJECT_MERGED": "subject.merged",
        "SUBJECT_SPLIT": "subject.split",
    }


def test_record_and_record_many_append_in_order(engine: Engine) -> None:
    with engine.begin() as conn:
        audit.record(conn, tag=EventTag.LISTING_START, subject=SUBJECT, actor="rules", data={"n": 0}, now=NOW)
        entries = [
            Entry(tag=EventTag.LISTING_END, subject=SUBJECT, actor="rules", data={"n": 1}),
            Entry(tag=EventTag.RECORD_QUARANTINED, subject=None, actor="source:police", data={"n": 2}),
        ]
        assert audit.record_many(conn, entries, now=NOW) == 2
        assert audit.record_many(conn, [], now=NOW) == 0
    assert logged(engine) == [
        ("listing.start", SUBJECT, "rules", {"n": 0}),
        ("listing.end", SUBJECT, "rules", {"n": 1}),
        ("record.quarantined", None, "source:police", {"n": 2}),
    ]


def test_the_subject_must_be_named_and_nothing_is_positional() -> None:
    with pytest.raises(TypeError):
        Entry(EventTag.LISTING_START, SUBJECT, "rules", {})  # type: ignore[misc]
    with pytest.raises(TypeError):
        Entry(tag=EventTag.LISTING_START, actor="rules", data={})  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        audit.record(None, tag=EventTag.LISTING_START, actor="rules", data={}, now=NOW)  # type: ignore[arg-type, call-arg]
