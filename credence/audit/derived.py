"""Every derived row has its event, and matches it: records, current listings, current score
intervals, current active measures and exemptions. A row written or edited behind the
application's back has no event, or one that says otherwise.
"""

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Connection, select

from credence.audit import raw
from credence.audit.tags import EventTag
from credence.store.orm import ActiveMeasure, Exemption, Listing, Record, ScoreInterval

STREAM = 20_000


class Reporting(Protocol):
    derived_rows: int

    def problem(self, text: str) -> None: ...


def _events(conn: Connection, tag: EventTag) -> Iterator[tuple[uuid.UUID | None, dict[str, Any]]]:
    """The subject and data of every event of ``tag``, in log order (read as the driver gives
    them: over a million events, SQLAlchemy's processing of each row costs more than the check)."""
    query = "SELECT subject_id, data FROM events WHERE tag = ? ORDER BY seq"
    if conn.dialect.paramstyle != "qmark":
        query = query.replace("?", "%s")
    result = conn.execution_options(stream_results=True).exec_driver_sql(query, (tag.value,))
    for chunk in result.partitions(STREAM):
        for subject, data in chunk:
            yield None if subject is None else uuid.UUID(bytes=raw.key(subject)), raw.json_value(data)


def _day(value: date | None) -> str | None:
    return None if value is None else str(value)


def check(conn: Connection, report: Reporting) -> None:
    _records(conn, report)
    _listings(conn, report)
    _intervals(conn, report)
    _measures(conn, report)
    _exemptions(conn, report)


def _records(conn: Connection, report: Reporting) -> None:
    logged = {data.get("record_id"): (subject, data) for subject, data in _events(conn, EventTag.RECORD_ACCEPTED)}
    rows = select(Record.id, Record.subject_id, Record.kind, Record.version, Record.op)
    for rid, subject, kind, version, op in conn.execution_options(yield_per=STREAM).execute(rows):
        report.derived_rows += 1
        found = logged.get(str(rid))
        if found is None:
            report.problem(f"record {rid}: no record.accepted event (written behind the log's back)")
            continue
        said, data = found
        if (said, data.get("kind"), data.get("version"), data.get("op")) != (subject, kind, version, op):
            report.problem(f"record {rid}: differs from its record.accepted event (subject, kind, version or op)")


def _listings(conn: Connection, report: Reporting) -> None:
    starts: dict[str | None, tuple[uuid.UUID | None, dict[str, Any]]] = {}
    for subject, data in _events(conn, EventTag.LISTING_START):
        starts[data.get("listing_id")] = (subject, data)
    ends = {data.get("listing_id"): data for _, data in _events(conn, EventTag.LISTING_END)}
    rows = select(Listing.id, Listing.subject_id, Listing.list_id, Listing.role, Listing.start_date, Listing.end_date)
    for lid, subject, list_id, role, start, end in conn.execution_options(yield_per=STREAM).execute(rows):
        report.derived_rows += 1
        found = starts.get(str(lid))
        if found is None:
            report.problem(f"listing {lid}: no listing.start event (written behind the log's back)")
            continue
        said, data = found
        if (said, data.get("list"), data.get("role"), data.get("start")) != (subject, list_id, role, _day(start)):
            report.problem(f"listing {lid}: differs from its listing.start event (subject, list, role or start)")
        if end is not None and (ends.get(str(lid)) or {}).get("end") != _day(end):
            report.problem(f"listing {lid}: its end {end} has no listing.end event saying so")


def _intervals(conn: Connection, report: Reporting) -> None:
    derived: dict[str | None, tuple[uuid.UUID | None, dict[str, Any]]] = {}
    for subject, data in _events(conn, EventTag.SCORE_INTERVAL):
        if data.get("state") == "derived":
            derived[data.get("interval_id")] = (subject, data)
    rows = select(
        ScoreInterval.id,
        ScoreInterval.subject_id,
        ScoreInterval.scheme,
        ScoreInterval.rulebook_version,
        ScoreInterval.score,
        ScoreInterval.grade,
        ScoreInterval.valid_from,
        ScoreInterval.valid_to,
    )
    for iid, subject, scheme, version, score, grade, start, end in conn.execution_options(yield_per=STREAM).execute(
        rows
    ):
        report.derived_rows += 1
        found = derived.get(str(iid))
        if found is None:
            report.problem(f"score interval {iid}: no score.interval event (written behind the log's back)")
            continue
        said, data = found
        logged = (said, data.get("scheme"), data.get("version"), data.get("score"), data.get("grade"))
        logged_days = (data.get("from"), data.get("to"))
        if logged != (subject, scheme, version, score, grade) or logged_days != (_day(start), _day(end)):
            report.problem(f"score interval {iid}: differs from its score.interval event (score, grade or days)")


def _measures(conn: Connection, report: Reporting) -> None:
    latest: dict[str | None, tuple[uuid.UUID | None, dict[str, Any]]] = {}
    for subject, data in _events(conn, EventTag.MEASURE_APPLIED):  # in log order: the last one holds
        latest[data.get("measure_row")] = (subject, data)
    rows = select(
        ActiveMeasure.id,
        ActiveMeasure.subject_id,
        ActiveMeasure.measure_id,
        ActiveMeasure.action,
        ActiveMeasure.valid_from,
        ActiveMeasure.valid_to,
    )
    for mid, subject, measure, action, start, end in conn.execution_options(yield_per=STREAM).execute(rows):
        report.derived_rows += 1
        found = latest.get(str(mid))
        if found is None:
            report.problem(f"active measure {mid}: no measure.applied event (written behind the log's back)")
            continue
        said, data = found
        logged = (said, data.get("measure"), data.get("action"), data.get("from"), data.get("to"))
        if logged != (subject, measure, action, _day(start), _day(end)):
            report.problem(f"active measure {mid}: differs from its measure.applied event (measure, action or days)")


def _exemptions(conn: Connection, report: Reporting) -> None:
    latest = {data.get("exemption_id"): (subject, data) for subject, data in _events(conn, EventTag.EXEMPTION_GRANTED)}
    rows = select(Exemption.id, Exemption.subject_id, Exemption.action, Exemption.day)
    for eid, subject, action, day in conn.execution_options(yield_per=STREAM).execute(rows):
        report.derived_rows += 1
        found = latest.get(str(eid))
        if found is None:
            report.problem(f"exemption {eid}: no exemption.granted event (written behind the log's back)")
            continue
        said, data = found
        if (said, data.get("action"), data.get("day")) != (subject, action, _day(day)):
            report.problem(f"exemption {eid}: differs from its exemption.granted event (action or day)")
