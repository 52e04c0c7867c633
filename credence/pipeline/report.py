"""Published statistics, as the national reports print them, saying what each figure counts.

Every figure here counts people (subjects), never refused purchases: the registry records who
is restricted, and refusals happen at the gates.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import aliased

from credence.lists.measures import default_measures
from credence.store.orm import Listing, Record, ScoreInterval, Subject


@dataclass(frozen=True, slots=True)
class Row:
    period: str
    district: str
    listed: int
    removed_after_fulfilment: int
    restricted_flights: int
    restricted_trains: int


FULFILMENT = ("performed", "settlement_performed")


def _lists_for(action: str) -> set[str]:
    return {lst for m in default_measures() if m.action == action and m.effect.value == "restrict" for lst in m.lists}


def rows(conn: Connection, *, as_of: date) -> list[Row]:
    """Per year of listing and district of residence (latest residence record, else the ID's
    address code): people newly listed, people removed after fulfilling the obligation, and
    people restricted from flights and from trains at ``as_of``. The people a decision binds (an
    organisation's legal representative and others) are restricted, not listed: they count in
    the restrictions only."""
    flights, trains = _lists_for("flight"), _lists_for("rail_ticket")
    newer = aliased(Record)
    superseded = (
        select(newer.id)
        .where(
            newer.source_id == Record.source_id,
            newer.source_record_id == Record.source_record_id,
            newer.version > Record.version,
        )
        .exists()
    )
    residence = (  # the current version of the latest residence record, never a retracted one
        select(Record.attributes)
        .where(
            Record.subject_id == Listing.subject_id,
            Record.kind == "residence",
            Record.op == "assert",
            Record.valid_date <= as_of,
            ~superseded,
        )
        .order_by(Record.valid_date.desc(), Record.recorded_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = select(
        Listing.subject_id,
        Listing.list_id,
        Listing.start_date,
        Listing.end_date,
        Listing.end_reason,
        Listing.role,
        residence.label("residence"),
        Subject.address_code,
    ).join(Subject, Subject.id == Listing.subject_id)
    table: dict[tuple[str, str], dict[str, set[object]]] = {}
    for r in conn.execute(query):
        district = str((r.residence or {}).get("region") or r.address_code)
        start, end = r.start_date, r.end_date
        if start > as_of:
            continue  # not yet listed on the day
        cell = table.setdefault(
            (str(start.year), district),
            {k: set() for k in ("listed", "removed", "flights", "trains")},
        )
        if r.role == "subject":
            cell["listed"].add(r.subject_id)
            if end is not None and end <= as_of and r.end_reason in FULFILMENT:
                cell["removed"].add(r.subject_id)
        active = end is None or end > as_of
        if active and r.list_id in flights:
            cell["flights"].add(r.subject_id)
        if active and r.list_id in trains:
            cell["trains"].add(r.subject_id)
    return [
        Row(
            period,
            district,
            len(c["listed"]),
            len(c["removed"]),
            len(c["flights"]),
            len(c["trains"]),
        )
        for (period, district), c in sorted(table.items())
    ]


def grades(conn: Connection, *, day: date) -> dict[str, Counter[str | None]]:
    """Subjects by scheme and grade on ``day``, as the stored score intervals say."""
    graded: dict[str, Counter[str | None]] = {}
    held = ScoreInterval.holds(day)
    query = select(ScoreInterval.scheme, ScoreInterval.grade, func.count()).where(held)
    query = query.group_by(ScoreInterval.scheme, ScoreInterval.grade)
    for scheme, grade, n in conn.execute(query):
        graded.setdefault(scheme, Counter())[grade] = n
    return graded
