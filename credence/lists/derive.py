"""Derive listings from decision records by executing each list rule's compiled SQL.

A listing row is written for the listed subject and one for each person the decision binds
(an organisation's legal representative, principal and actual controller). Rows carry
deterministic ids; a start or an end that appears writes an event in the same transaction.
"""

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

from sqlalchemy import Connection

from credence import audit, resolve
from credence.audit import Entry, EventTag
from credence.batch import evaluate
from credence.batch.backend import Backend
from credence.batch.store import StoreBackend
from credence.lists import effect, notices
from credence.lists.rows import ListingRow, listing
from credence.rules.loader import Scheme
from credence.rules.schema import TakesEffect
from credence.store import versioned
from credence.store.orm import Listing, ListingHistory

Lookup = Callable[[set[str]], dict[str, uuid.UUID]]  # bound ID numbers -> subjects (resolve.lookup)


def derive(
    conn: Connection, schemes: dict[str, Scheme], *, known_at: datetime, scope: Sequence[uuid.UUID] | None = None
) -> list[ListingRow]:
    """The listing rows the rules give for ``scope`` (everyone if None), from the records in the
    store as known at ``known_at``."""
    backend = StoreBackend(conn, known_at=known_at, scope=scope)
    return listings(backend, schemes, lookup=partial(resolve.lookup, conn))


def listings(backend: Backend, schemes: dict[str, Scheme], *, lookup: Lookup) -> list[ListingRow]:
    """Listing rows from each list rule, evaluated on ``backend`` (the store, or the DuckDB
    snapshot for a rebuild); ``lookup`` turns bound ID numbers into subjects, because a snapshot
    carries no ID numbers."""
    rows: list[ListingRow] = []
    for scheme in schemes.values():
        for index, edition in enumerate(scheme.editions):
            window = scheme.window(index)
            for list_index, compiled in enumerate(edition.lists):
                rule = compiled.rule
                found = evaluate.decisions(backend, edition, list_index, window=window)
                ids = lookup({r[role] for r in found for role in rule.binds if r[role]})
                for r in found:
                    listed, decision = r["subject_id"], r["record_id"]
                    people = [("subject", listed)] + [
                        (role, ids[r[role]]) for role in rule.binds if r[role] and r[role] in ids
                    ]
                    rows.extend(
                        listing(
                            list_id=rule.id,
                            rulebook=scheme.name,
                            rulebook_version=edition.book.version,
                            subject=subject,
                            role=role,
                            listed=listed,
                            decision=decision,
                            occasion=decision,
                            start_date=r["start_date"],
                            legal_basis=rule.legal_basis,
                            ground=r["ground"],
                            case_number=r["case_number"],
                            court=r["court"],
                            end_date=r["end_date"],
                            end_reason=r["end_reason"],
                        )
                        for role, subject in people
                    )
    return rows


def refresh(
    conn: Connection,
    schemes: dict[str, Scheme],
    rows: list[ListingRow],
    *,
    now: datetime,
    scope: Sequence[uuid.UUID] | None = None,
) -> tuple[int, int]:
    """Make ``rows`` the current decided listings of ``scope`` (everyone if None), as versions
    derived at ``now``; log starts and ends. Returns (started, ended)."""
    decided = {c.rule.id for scheme in schemes.values() for e in scheme.editions for c in e.lists}
    # redlists are kept by lists.redlist
    where = versioned.among("listed_subject_id", scope, list_id=decided)
    return store(conn, rows, where=where, now=now, waits=effect.rules(schemes))


def store(
    conn: Connection,
    rows: Sequence[ListingRow],
    *,
    where: versioned.Where,
    now: datetime,
    waits: dict[effect.RuleKey, TakesEffect] | None = None,
) -> tuple[int, int]:
    """Make ``rows`` the current listings of the part of ``listings`` that ``where`` selects, as
    versions derived at ``now``, and log each start, and each end when it first appears or moves
    (a known future end too: it needs no job on the day). A row that goes without an end (its
    decision retracted, or its grade never reached after all) is superseded and logs nothing: it
    never ended in law. ``waits`` names the lists whose measures wait for the notice (their
    start notice says so). Returns (started, ended); decided listings and redlists both store here."""
    values = [row.as_dict() for row in rows]
    changes = versioned.replace(conn, Listing, ListingHistory, values, where=where, now=now)
    entries = []
    for change in changes:
        if change.new is None:
            continue
        row = change.new
        data = {"listing_id": str(row["id"]), "list": row["list_id"], "role": row["role"]}
        if change.old is None:
            entries.append(
                Entry(
                    tag=EventTag.LISTING_START,
                    subject=row["subject_id"],
                    actor="rules",
                    data={**data, "start": str(row["start_date"])},
                )
            )
        before = change.old["end_date"] if change.old is not None else None
        if row["end_date"] is not None and before != row["end_date"]:
            entries.append(
                Entry(
                    tag=EventTag.LISTING_END,
                    subject=row["subject_id"],
                    actor="rules",
                    data={**data, "end": str(row["end_date"]), "reason": row["end_reason"]},
                )
            )
    audit.record_many(conn, entries, now=now)
    notices.listings(conn, changes, now=now, waits=waits or {})
    return (
        sum(1 for e in entries if e.tag is EventTag.LISTING_START),
        sum(1 for e in entries if e.tag is EventTag.LISTING_END),
    )
