"""Derived state: what the rules give (scores, listings) and the one writer that stores it.

The incremental update and the full rebuild differ only in where the rules run (the store, for
the subjects records touched; the DuckDB snapshot, for everyone). Both derive with ``derive`` and
store with ``write``, so a rebuild writes what the incremental path would.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial

from sqlalchemy import Connection

from credence import audit, outbox, resolve
from credence.audit import Entry, EventTag
from credence.batch import evaluate
from credence.batch.backend import Backend, Row
from credence.lists import active, changes, effect, redlist
from credence.lists import derive as decided
from credence.lists.rows import ListingRow
from credence.model.ids import derived_id
from credence.pipeline import rulebooks
from credence.rules.loader import Scheme
from credence.store import versioned
from credence.store.orm import Exemption, ExemptionHistory, ScoreInterval, ScoreIntervalHistory

Scores = dict[str, evaluate.Scores]  # by scheme
EXEMPTION = ("subject_id", "action", "case_number", "day", "reason")


@dataclass(frozen=True, slots=True)
class Derived:
    scores: Scores
    listings: list[ListingRow] = field(default_factory=list)  # decided listings
    exemptions: list[Row] = field(default_factory=list)
    intervals: dict[str, list[Row]] = field(default_factory=dict)  # score intervals by scheme, as stored
    redlisted: list[ListingRow] = field(default_factory=list)  # redlist entries, from ``intervals``


@dataclass(frozen=True, slots=True)
class Written:
    scores: int = 0
    started: int = 0
    ended: int = 0


def scores(backend: Backend, schemes: dict[str, Scheme], *, as_of: date) -> Scores:
    """Each scheme in force on ``as_of`` with a score scale: its subjects' scores and grades."""
    return {name: evaluate.scores(backend, schemes[name], as_of=as_of) for name in _scored(schemes, as_of)}


def _scored(schemes: dict[str, Scheme], as_of: date) -> list[str]:
    """The schemes with an edition in force on ``as_of`` that has a score scale."""
    return [
        name
        for name, scheme in schemes.items()
        if (current := scheme.in_force(as_of)) is not None and current.book.score is not None
    ]


def on_day(intervals: dict[str, list[Row]], schemes: dict[str, Scheme], *, as_of: date) -> Scores:
    """The scores of ``as_of`` read off the intervals that hold it: what ``scores`` computes, for
    each scheme in force that day with a score scale (the intervals' contract, tested day by day)."""
    return {
        name: {
            row["subject_id"]: (int(row["score"]), row["grade"])
            for row in intervals.get(name, [])
            if row["valid_from"] <= as_of and (row["valid_to"] is None or as_of < row["valid_to"])
        }
        for name in _scored(schemes, as_of)
    }


def derive(backend: Backend, conn: Connection, schemes: dict[str, Scheme], *, as_of: date) -> Derived:
    """Every score interval (and from them the scores of ``as_of`` and the redlist entries), every
    decided listing and the exemptions, evaluated on ``backend``; ``conn`` (the store) turns the ID
    numbers a decision binds into subjects."""
    intervals = {
        name: [interval_row(name, row) for row in evaluate.score_intervals(backend, scheme)]
        for name, scheme in schemes.items()
        if any(e.book.score is not None for e in scheme.editions)
    }
    return Derived(
        scores=on_day(intervals, schemes, as_of=as_of),
        listings=decided.listings(backend, schemes, lookup=partial(resolve.lookup, conn)),
        exemptions=evaluate.exemptions(backend),
        intervals=intervals,
        redlisted=redlist.entries(schemes, intervals),
    )


def write(
    conn: Connection,
    schemes: dict[str, Scheme],
    derived: Derived,
    *,
    now: datetime,
    scope: Sequence[uuid.UUID] | None,
) -> Written:
    """Replace the stored state of ``scope`` (everyone if None) with ``derived``, in ``conn``'s
    transaction: score intervals (the stored scores), decided listings, redlist entries, the
    measures the listings and grades carry, and exemptions; interval changes, starts and ends are
    logged. Everything is written as versions (``store.versioned``), so what the registry knew at
    any instant stays readable. The caller registers the rulebooks (``pipeline.rulebooks``)."""
    for name, values in derived.intervals.items():
        scheme_of = versioned.among("subject_id", scope, scheme=[name])
        moved = versioned.replace(
            conn, ScoreInterval, ScoreIntervalHistory, values, where=scheme_of, now=now, keyed=True
        )
        audit.record_many(conn, [_changed(change) for change in moved], now=now)
        outbox.enqueue(conn, _score_notices(name, moved), now=now)
    started, ended = decided.refresh(conn, schemes, derived.listings, now=now, scope=scope)
    red_started, red_ended = redlist.refresh(conn, schemes, derived.redlisted, now=now, scope=scope)
    measured = active.refresh(conn, now=now, scope=scope, waits=effect.rules(schemes))

    exempted = [{"id": e["record_id"], **{k: e[k] for k in EXEMPTION}} for e in derived.exemptions]
    where = versioned.among("subject_id", scope)
    excused = versioned.replace(conn, Exemption, ExemptionHistory, exempted, where=where, now=now)
    audit.record_many(conn, [_excused(change) for change in sorted(excused, key=_by_id)], now=now)
    measured.update(row["subject_id"] for change in excused for row in (change.old, change.new) if row is not None)
    changes.journal(conn, measured, now=now)
    scored = sum(len(by_subject) for by_subject in derived.scores.values())  # on ``as_of``, as the CLI says
    return Written(scores=scored, started=started + red_started, ended=ended + red_ended)


def refresh(
    conn: Connection,
    schemes: dict[str, Scheme],
    backend: Backend,
    *,
    as_of: date,
    now: datetime,
    scope: Sequence[uuid.UUID] | None,
) -> tuple[Derived, Written]:
    """What every job does once it has chosen where the rules run: register the rulebooks, derive
    on ``backend`` and write, in ``conn``'s transaction."""
    rulebooks.register(conn, schemes, now=now)
    derived = derive(backend, conn, schemes, as_of=as_of)
    return derived, write(conn, schemes, derived, now=now, scope=scope)


def interval_row(scheme: str, row: Row) -> Row:
    """A row of ``score_intervals``, its id derived from everything it says."""
    parts = (row["subject_id"], row["valid_from"], row["valid_to"], row["score"], row["grade"])
    return {
        "id": derived_id("score-interval", scheme, row["rulebook_version"], *parts),
        "subject_id": row["subject_id"],
        "scheme": scheme,
        "rulebook_version": row["rulebook_version"],
        "score": int(row["score"]),
        "grade": row["grade"],
        "valid_from": row["valid_from"],
        "valid_to": row["valid_to"],
    }


SCORE_NOTICE_INTERVALS = 5  # the newest intervals a score notice lists; the portal shows them all


def _score_notices(scheme: str, moved: Sequence[versioned.Change]) -> list[outbox.Notice]:
    """One notice per subject whose score intervals under ``scheme`` changed, with the intervals
    now derived, newest first."""
    derived: dict[uuid.UUID, list[Row]] = {}
    for change in moved:
        if change.new is not None:
            derived.setdefault(change.new["subject_id"], []).append(change.new)
    notices = []
    for subject, rows in derived.items():
        rows.sort(key=lambda row: row["valid_from"], reverse=True)
        shown = rows[:SCORE_NOTICE_INTERVALS]
        facts = {
            "scheme": scheme,
            "version": shown[0]["rulebook_version"],
            "intervals": [
                {
                    "from": str(row["valid_from"]),
                    "to": None if row["valid_to"] is None else str(row["valid_to"]),
                    "score": row["score"],
                    "grade": row["grade"],
                    "version": row["rulebook_version"],
                }
                for row in shown
            ],
            "more": len(rows) - len(shown),
        }
        notices.append(outbox.Notice(subject=subject, kind=outbox.NoticeKind.SCORE, facts=facts))
    return notices


def _by_id(change: versioned.Change) -> str:
    return str((change.new or change.old or {})["id"])


def _excused(change: versioned.Change) -> Entry:
    """The event of an exemption granted (or changed), or withdrawn (internal ids only)."""
    row = change.new or change.old
    assert row is not None  # noqa: S101 - a change has one side at least
    data = {"exemption_id": str(row["id"]), "action": row["action"], "day": str(row["day"])}
    tag = EventTag.EXEMPTION_GRANTED if change.new is not None else EventTag.EXEMPTION_WITHDRAWN
    return Entry(tag=tag, subject=row["subject_id"], actor="rules", data=data)


def _changed(change: versioned.Change) -> Entry:
    """The event of a score interval that appeared or went (internal ids, no personal data)."""
    row = change.new or change.old
    assert row is not None  # noqa: S101 - a change has one side at least
    data = {
        "interval_id": str(row["id"]),
        "scheme": row["scheme"],
        "version": row["rulebook_version"],
        "from": str(row["valid_from"]),
        "to": None if row["valid_to"] is None else str(row["valid_to"]),
        "score": row["score"],
        "grade": row["grade"],
        "state": "derived" if change.new is not None else "superseded",
    }
    return Entry(tag=EventTag.SCORE_INTERVAL, subject=row["subject_id"], actor="rules", data=data)
