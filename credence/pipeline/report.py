"""Published statistics, as the national reports print them, saying what each figure counts.

Every figure here counts people (subjects), never refused purchases: the registry records who
is restricted, and refusals happen at the gates.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text

from credence.lists.measures import default_measures


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
    return {
        lst
        for m in default_measures()
        if m.action == action and m.effect.value == "restrict"
        for lst in m.lists
    }


def rows(conn: Connection, *, as_of: date) -> list[Row]:
    """Per year of listing and district of residence (latest residence record, else the ID's
    address code): people newly listed, people removed after fulfilling the obligation, and
    people restricted from flights and from trains at ``as_of``."""
    flights, trains = _lists_for("flight"), _lists_for("rail_ticket")
    sql = text(
        """
        WITH home AS (
          SELECT s.id AS subject_id,
            COALESCE((SELECT r.attributes FROM records r WHERE r.subject_id = s.id AND r.kind = 'residence'
                      ORDER BY r.valid_date DESC, r.version DESC LIMIT 1), NULL) AS residence,
            s.address_code
          FROM subjects s WHERE s.id IN (SELECT subject_id FROM listings)
        )
        SELECT l.subject_id, l.list_id, l.start_date, l.end_date, l.end_reason, h.residence, h.address_code
        FROM listings l JOIN home h ON h.subject_id = l.subject_id
        """
    )
    import json

    table: dict[tuple[str, str], dict[str, set[object]]] = {}
    for r in conn.execute(sql):
        residence = (
            r.residence
            if isinstance(r.residence, dict)
            else json.loads(r.residence)
            if r.residence
            else {}
        )
        district = str(residence.get("region") or r.address_code)
        start = (
            r.start_date
            if isinstance(r.start_date, date)
            else date.fromisoformat(str(r.start_date))
        )
        end = (
            None
            if r.end_date is None
            else r.end_date
            if isinstance(r.end_date, date)
            else date.fromisoformat(str(r.end_date))
        )
        cell = table.setdefault(
            (str(start.year), district),
            {k: set() for k in ("listed", "removed", "flights", "trains")},
        )
        cell["listed"].add(r.subject_id)
        if end is not None and end <= as_of and r.end_reason in FULFILMENT:
            cell["removed"].add(r.subject_id)
        active = start <= as_of and (end is None or end > as_of)
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
