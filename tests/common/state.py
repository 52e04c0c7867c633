"""The whole state of a registry as plain, comparable values, for "same as a clean run" checks.

Two registries loaded from the same feeds hold the same facts but not the same internal ids
(subjects get random ids, and listing ids are derived from them) nor the same transaction times
(a resumed load learns its rows later than a clean one). Both are left out: subjects appear by
their ID numbers, listings by what they say, and times not at all. Everything else is kept, in
the order the registry keeps it (the event log in append order).
"""

import json
import uuid
from typing import Any

from sqlalchemy import Engine, func, select

from credence.model.ids import as_uuid
from credence.store.orm import (
    ActiveMeasure,
    Event,
    Exemption,
    Hold,
    Listing,
    PendingSubject,
    Quarantine,
    Record,
    ScoreInterval,
    ScoreIntervalHistory,
    Subject,
)

State = dict[str, list[Any]]


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def snapshot(engine: Engine) -> State:
    with engine.connect() as conn:
        numbers: dict[uuid.UUID, str] = dict(conn.execute(select(Subject.id, Subject.id_number)).all())

        def who(value: Any) -> str | None:
            return None if value is None else numbers[as_uuid(value)]

        listings = {
            row.id: (
                row.list_id,
                who(row.subject_id),
                row.role,
                who(row.listed_subject_id),
                row.ground,
                row.case_number,
                row.court,
                str(row.start_date),
                str(row.end_date),
                row.end_reason,
                row.legal_basis,
                str(row.decision_record_id),
                row.rulebook,
                row.rulebook_version,
            )
            for row in conn.execute(select(Listing.__table__))
        }

        def interval(row: Any) -> tuple[Any, ...]:
            return (who(row.subject_id), row.scheme, row.rulebook_version, row.score, row.grade)

        intervals = {
            row.id: (*interval(row), str(row.valid_from), str(row.valid_to))
            for table in (ScoreInterval, ScoreIntervalHistory)
            for row in conn.execute(select(table.__table__))
        }

        def event_data(data: dict[str, Any]) -> Any:
            # listing and interval ids are derived from the random subject id: name them by content
            if data.get("listing_id") is not None:
                data = {**data, "listing_id": listings.get(as_uuid(data["listing_id"]), "gone")}
            if "interval_id" in data:
                data = {**data, "interval_id": intervals.get(as_uuid(data["interval_id"]), "gone")}
            if "measure_row" in data:  # derived from the listing's id: the rest of the entry names it
                data = {**data, "measure_row": "derived"}
            return _plain(data)

        return {
            "subjects": sorted(
                (r.id_number, r.kind, str(r.birth_date), r.address_code)
                for r in conn.execute(select(Subject.__table__))
            ),
            "records": sorted(
                (
                    str(r.id),
                    who(r.subject_id),
                    r.source_id,
                    r.source_record_id,
                    r.version,
                    r.op,
                    r.kind,
                    str(r.valid_date),
                    r.jurisdiction,
                    r.legal_basis,
                    json.dumps(r.attributes, sort_keys=True),
                    r.content_hash,
                )
                for r in conn.execute(select(Record.__table__))
            ),
            "quarantine": [
                (
                    q.source_id,
                    q.file,
                    q.line,
                    q.field,
                    q.reason,
                    json.dumps(q.raw, sort_keys=True),
                    bool(q.replayed_at),
                    q.hold_id is not None,
                )
                for q in conn.execute(select(Quarantine.__table__).order_by(Quarantine.id))
            ],
            "holds": [
                (h.source_id, h.file, h.threshold, h.reason, _plain(h.counts), h.outcome, h.closed_by, h.note)
                for h in conn.execute(select(Hold.__table__).order_by(Hold.id))
            ],
            "events": _blocks_sorted(
                [
                    (e.tag, who(e.subject_id), e.actor, event_data(e.data))
                    for e in conn.execute(select(Event.__table__).order_by(Event.seq))
                ]
            ),
            "listings": sorted(listings.values(), key=str),
            "score_intervals": sorted(
                (*interval(r), str(r.valid_from), str(r.valid_to))
                for r in conn.execute(select(ScoreInterval.__table__))
            ),
            "active_measures": sorted(
                (
                    who(r.subject_id),
                    r.measure_id,
                    r.action,
                    r.effect,
                    str(r.valid_from),
                    str(r.valid_to),
                    who(r.listed_subject_id),
                    r.list_id,
                    r.case_number,
                )
                for r in conn.execute(select(ActiveMeasure.__table__))
            ),
            "exemptions": sorted(
                (who(r.subject_id), r.action, r.case_number, str(r.day), r.reason)
                for r in conn.execute(select(Exemption.__table__))
            ),
            "pending": [conn.execute(select(func.count()).select_from(PendingSubject)).scalar_one()],
        }


DERIVED = ("listings", "score_intervals", "active_measures", "exemptions")


def derived(engine: Engine) -> State:
    """What the registry derives from its records (listings, score intervals, measures,
    exemptions), with a listing's deciding record named by source and source record id rather
    than by version: a record withdrawn and applied again is a later version of the same record."""
    with engine.connect() as conn:
        named = {
            str(i): f"{s}:{r}" for i, s, r in conn.execute(select(Record.id, Record.source_id, Record.source_record_id))
        }
    state = snapshot(engine)
    listings = sorted(((*row[:11], named.get(row[11], row[11]), *row[12:]) for row in state["listings"]), key=str)
    return {part: listings if part == "listings" else state[part] for part in DERIVED}


# a refresh's events of these tags follow derived ids, which hold random subject ids
RUNS = ("score.interval", "measure.applied", "measure.lifted", "exemption.granted", "exemption.withdrawn")


def _blocks_sorted(events: list[Any]) -> list[Any]:
    """The log in append order, except that each run of ``score.interval`` events (one refresh's,
    for one scheme) is sorted: within a refresh they follow the engine's row order, which no
    query fixes and random subject ids would make differ between two registries anyway."""
    out: list[Any] = []
    run: list[Any] = []
    for entry in [*events, None]:
        if entry is not None and entry[0] in RUNS:
            run.append(entry)
            continue
        out.extend(sorted(run, key=str))
        run = []
        if entry is not None:
            out.append(entry)
    return out


def differences(left: State, right: State) -> dict[str, tuple[int, int, Any]]:
    """Per part that differs: both sizes and the first differing entry (for a readable failure)."""
    out: dict[str, tuple[int, int, Any]] = {}
    for part in left:
        a, b = left[part], right[part]
        if a != b:
            first = next(((x, y) for x, y in zip(a, b, strict=False) if x != y), None)
            out[part] = (len(a), len(b), first)
    return out
