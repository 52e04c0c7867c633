"""The point-of-service answer the old way, as a reference for the tables that replaced it.

Before the active-measures table, ``check()`` derived the subject's listings again from the
records known at the instant asked, and looked exemptions up in those records. That path is
kept here, in the tests only, so a property can compare it with what ``check()`` now reads.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from credence import resolve
from credence.batch import evaluate
from credence.batch.store import StoreBackend
from credence.lists.derive import derive
from credence.lists.measures import Effect, default_measures
from credence.model.time import legal_date
from credence.rules.loader import Scheme


def old_check(
    conn: Connection,
    schemes: dict[str, Scheme],
    id_number: str,
    action: str,
    attributes: dict[str, Any],
    *,
    at: datetime,
) -> tuple[Any, ...]:
    """(outcome, measure, list, listing id, exemption, notices, rewards) as the old path gave them
    (the request is taken as already valid)."""
    subject = resolve.find(conn, id_number, field="subject")
    if subject is None:
        return ("allowed", None, None, None, None, (), ())
    day = legal_date(at)
    applicable = [m for m in default_measures() if m.applies_to(action, attributes)]
    everyone = derive(conn, schemes, known_at=at)  # every decision as known at ``at``
    listings = sorted(
        (
            r
            for r in everyone
            if r.subject_id == subject and r.start_date <= day and (r.end_date is None or r.end_date > day)
        ),
        key=lambda r: (r.start_date, r.list_id, str(r.id)),
    )
    records = StoreBackend(conn, known_at=at, scope=[subject])
    exemptions = evaluate.exemptions(records)
    notices: list[str] = []
    exempted: tuple[Any, ...] | None = None
    for measure in applicable:
        for listing in listings:
            if listing.list_id not in measure.lists:
                continue
            if measure.effect is Effect.NOTICE:
                notices.append(measure.title)
                continue
            found = sorted(
                str(e["reason"])
                for e in exemptions
                if e["day"] == day and e["action"] == action and e["case_number"] == listing.case_number
            )
            exemption = found[0] if found else None
            answer = ("allowed" if exemption else "restricted", measure.id, listing.list_id, listing.id, exemption)
            if not exemption:
                return (*answer, (), ())
            exempted = exempted or answer
    rewards: list[str] = []
    graded = [m for m in applicable if m.effect is Effect.REWARD]
    if graded:
        grades = {
            name: evaluate.scores(records, schemes[name], as_of=day).get(subject, (0, None))[1]
            for name in {name for m in graded for name in m.grades}
            if name in schemes
        }
        rewards = [m.title for m in graded if any(grades.get(s) in g for s, g in m.grades.items())]
    if exempted:
        return (*exempted, tuple(notices), tuple(rewards))
    return ("allowed", None, None, None, None, tuple(notices), tuple(rewards))
