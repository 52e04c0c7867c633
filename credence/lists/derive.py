"""Derive listings from decision records by executing each list rule's compiled SQL.

A listing row is written for the listed subject and one for each person the decision binds
(an organisation's legal representative, principal and actual controller). Rows carry
deterministic ids; a start or an end that appears writes an event in the same transaction.
"""

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, delete, select, text

from credence import audit, resolve
from credence.audit import Entry, EventTag
from credence.lists.rows import COLUMNS, ListingRow, listing
from credence.model.catalogue import Catalogue, default_catalogue
from credence.model.ids import as_uuid
from credence.rules.compile import Query, facts_sql, listing_query
from credence.rules.loader import Scheme
from credence.rules.targets import Dialect, Target
from credence.store import bulk
from credence.store.db import dialect_of
from credence.store.orm import Listing


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


Run = Callable[[Query], Sequence[Mapping[str, Any]]]
Lookup = Callable[[set[str]], dict[str, uuid.UUID]]  # bound ID numbers -> subjects (resolve.lookup)


def derive(
    conn: Connection,
    schemes: dict[str, Scheme],
    *,
    known_at: datetime,
    scope: Sequence[uuid.UUID] | None = None,
    catalogue: Catalogue | None = None,
) -> list[ListingRow]:
    """The listing rows the rules give for ``scope`` (everyone if None), as known at ``known_at``."""
    target = Target(Dialect(dialect_of(conn.engine)))
    facts = facts_sql(target, catalogue or default_catalogue(), known_at=known_at, scope=scope)

    def run(query: Query) -> Sequence[Mapping[str, Any]]:
        return [dict(row) for row in conn.execute(text(query.sql(facts))).mappings()]

    return listings(schemes, target, run=run, lookup=partial(resolve.lookup, conn), scope=scope)


def listings(
    schemes: dict[str, Scheme],
    target: Target,
    *,
    run: Run,
    lookup: Lookup,
    scope: Sequence[uuid.UUID] | None = None,
) -> list[ListingRow]:
    """Listing rows from each list rule's compiled SQL, executed by ``run`` on any engine where
    ``facts`` and ``subjects`` are in scope; ``lookup`` turns bound ID numbers into subjects."""
    rows: list[ListingRow] = []
    for scheme in schemes.values():
        for index, edition in enumerate(scheme.editions):
            window = scheme.window(index)
            for list_index, compiled in enumerate(edition.lists):
                rule = compiled.rule
                found = run(listing_query(edition, list_index, target, window=window, scope=scope))
                ids = lookup({r[role] for r in found for role in rule.binds if r[role]})
                for r in found:
                    listed = as_uuid(r["subject_id"])
                    decision = as_uuid(r["record_id"])
                    people = [("subject", listed)] + [
                        (role, ids[r[role]]) for role in rule.binds if r[role] and r[role] in ids
                    ]
                    start = _as_date(r["start_date"])
                    assert start is not None  # noqa: S101 - a listing starts on its decision's valid date
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
                            start_date=start,
                            legal_basis=rule.legal_basis,
                            ground=r["ground"],
                            case_number=r["case_number"],
                            court=r["court"],
                            end_date=_as_date(r["end_date"]),
                            end_reason=r["end_reason"],
                        )
                        for role, subject in people
                    )
    return rows


def refresh(
    conn: Connection,
    schemes: dict[str, Scheme],
    *,
    known_at: datetime,
    now: datetime,
    scope: Sequence[uuid.UUID] | None = None,
    rows: list[ListingRow] | None = None,
) -> tuple[int, int]:
    """Replace the listings of ``scope`` with ``rows`` (derived in the store if None: a rebuild
    passes the rows it derived in DuckDB); log starts and ends. Returns (started, ended)."""
    new = rows if rows is not None else derive(conn, schemes, known_at=known_at, scope=scope)
    decided = {c.rule.id for scheme in schemes.values() for e in scheme.editions for c in e.lists}
    old_query = select(Listing.id, Listing.end_date).where(Listing.list_id.in_(decided))
    if scope is not None:
        old_query = old_query.where(Listing.listed_subject_id.in_(list(scope)))
    old = dict(conn.execute(old_query).all())
    entries = []
    for row in new:
        data = {"listing_id": str(row.id), "list": row.list_id, "role": row.role}
        if row.id not in old:
            entries.append(
                Entry(
                    tag=EventTag.LISTING_START,
                    subject=row.subject_id,
                    actor="rules",
                    data={**data, "start": str(row.start_date)},
                )
            )
        if row.end_date is not None and old.get(row.id) != row.end_date:
            entries.append(
                Entry(
                    tag=EventTag.LISTING_END,
                    subject=row.subject_id,
                    actor="rules",
                    data={**data, "end": str(row.end_date), "reason": row.end_reason},
                )
            )
    stale = delete(Listing).where(Listing.list_id.in_(decided))  # redlists are kept by lists.redlist
    if scope is not None:
        stale = stale.where(Listing.listed_subject_id.in_(list(scope)))
    conn.execute(stale)
    bulk.insert_rows(conn, Listing, COLUMNS, [row.as_values() for row in new])
    audit.record_many(conn, entries, now=now)
    return (
        sum(1 for e in entries if e.tag is EventTag.LISTING_START),
        sum(1 for e in entries if e.tag is EventTag.LISTING_END),
    )
