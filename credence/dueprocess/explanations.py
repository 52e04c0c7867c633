"""Explain a subject's scores, listings and measures down to rule, legal basis, record and source.

Counterfactuals are computed by the engine, never by arithmetic here: "without this record"
is the compiled score with that record left out (``without_each_query``: every line's in one
statement), so a binding cap correctly shows no change.

Bitemporal throughout: scores, listings and measures are those of the day ``as_of`` as the
registry knew them at ``known_at``. A listing shows from its start date, if its decision was
recorded by ``known_at``; one that had ended by ``as_of`` still shows, with its end date and
``status = "ended"``, and carries no measure.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from credence.batch import evaluate
from credence.batch.store import StoreBackend
from credence.lists.known import known_listings
from credence.lists.measures import Effect, default_measures
from credence.rules.loader import Scheme


@dataclass
class Line:
    rule: str
    rule_title: str
    legal_basis: str
    record_id: str
    source: str
    source_record_id: str
    kind: str
    valid_date: str
    points: int
    raw_points: int
    expires_on: str | None
    score_without: int
    capped: bool


@dataclass
class SchemeExplanation:
    scheme: str
    title: str
    version: str
    status: str
    legal_basis: str
    base: int
    score: int
    grade: str | None
    lines: list[Line] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        # what dataclasses.asdict gives, without its deep copy of every leaf (all str, int or
        # None): a quarter of the portal's time for a subject with 200 lines
        return {**vars(self), "lines": [dict(vars(line)) for line in self.lines]}


@dataclass
class ListingExplanation:
    list_id: str
    role: str
    ground: int | None
    case_number: str | None
    court: str | None
    start_date: str
    end_date: str | None
    end_reason: str | None
    legal_basis: str
    decision_record: str
    measures: list[dict[str, str]]  # those in force on the day asked: none once the entry has ended
    status: str = "in_force"  # in_force | ended, on the day asked

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "measures": [dict(m) for m in self.measures]}


@dataclass
class Explanation:
    subject_id: str
    as_of: str
    schemes: list[SchemeExplanation]
    listings: list[ListingExplanation]

    def as_dict(self) -> dict[str, Any]:
        return {
            **vars(self),
            "schemes": [s.as_dict() for s in self.schemes],
            "listings": [listing.as_dict() for listing in self.listings],
        }


def explain(
    conn: Connection,
    schemes: dict[str, Scheme],
    subject: uuid.UUID,
    *,
    as_of: date,
    known_at: datetime,
) -> Explanation:
    known = StoreBackend(conn, known_at=known_at, scope=[subject])
    out: list[SchemeExplanation] = []
    for name, scheme in schemes.items():
        current = scheme.in_force(as_of)
        if current is None or current.book.score is None:
            continue
        scores = evaluate.scores(known, scheme, as_of=as_of)
        if subject not in scores:
            continue  # not covered by this scheme
        score, grade = scores[subject]
        # a record is scored by the version in force at its valid date: cite that version's rule
        rules = {(e.book.version, r.rule.id): r.rule for e in scheme.editions for r in e.rules}
        explanation = SchemeExplanation(
            scheme=name,
            title=current.book.title,
            version=current.book.version,
            status=current.book.status.value,
            legal_basis=current.book.legal_basis,
            base=current.book.score.base,
            score=score,
            grade=grade,
        )
        without_each = evaluate.without_each(known, scheme, as_of=as_of)
        for item in evaluate.lines(known, scheme, as_of=as_of):
            record_id = item["record_id"]
            without = without_each[record_id]
            rule = rules[(item["rulebook_version"], item["rule_id"])]
            explanation.lines.append(
                Line(
                    rule=rule.id,
                    rule_title=rule.title,
                    legal_basis=rule.legal_basis,
                    record_id=str(record_id),
                    source=item["source_id"],
                    source_record_id=item["source_record_id"],
                    kind=item["kind"],
                    valid_date=str(item["valid_date"]),
                    points=int(item["points"]),
                    raw_points=int(item["raw_points"]),
                    expires_on=str(item["expires_on"]) if item["expires_on"] else None,
                    score_without=without,
                    capped=int(item["points"]) != int(item["raw_points"]),
                )
            )
        out.append(explanation)
    listings = []
    measures = default_measures()
    redlists = {e.book.redlist.id for s in schemes.values() for e in s.editions if e.book.redlist}
    for listing in known_listings(conn, subject, known_at=known_at):
        if listing["start_date"] > as_of:
            continue  # not yet decided, or not yet in force, on the day asked
        ended = listing["end_date"] is not None and listing["end_date"] <= as_of
        # a blacklist carries its restrictions and notices; a redlist the rewards of its scheme's
        # grades; an entry that had ended by the day asked carries none
        red = listing["list_id"] in redlists
        attached = [
            {
                "measure": m.id,
                "title": m.title,
                "effect": m.effect.value,
                "legal_basis": m.legal_basis,
            }
            for m in measures
            if not ended
            and (
                (m.effect is Effect.REWARD and red and listing["rulebook"] in m.grades)
                or (m.effect is not Effect.REWARD and listing["list_id"] in m.lists)
            )
        ]
        listings.append(
            ListingExplanation(
                list_id=listing["list_id"],
                role=listing["role"],
                ground=listing["ground"],
                case_number=listing["case_number"],
                court=listing["court"],
                start_date=str(listing["start_date"]),
                end_date=str(listing["end_date"]) if listing["end_date"] else None,
                end_reason=listing["end_reason"],
                legal_basis=listing["legal_basis"],
                decision_record=str(listing["decision_record_id"]),
                measures=attached,
                status="ended" if ended else "in_force",
            )
        )
    return Explanation(subject_id=str(subject), as_of=str(as_of), schemes=out, listings=listings)
