"""The days over which a listing's measures apply: from its decision day, or, where its rule
says the measures wait (``takes_effect``), from the day after the subject was told and a period
ran, as the outbox recorded the notice reaching them.

A listing decided today whose notice has not reached its subject yet carries no measure: it
gets one when the worker records the delivery (the worker then refreshes the listed subject),
starting on the period's first free day, so the gate needs no job on that day either. A period
the calendar cannot count (a year it has no data for) is not guessed: the measure waits, and
the refusal is logged with the listing's internal id.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection

from credence import logs
from credence.disputes import rows as rows_of_disputes
from credence.disputes.rows import Standing
from credence.model.calendars import CalendarError
from credence.model.time import legal_date
from credence.outbox import NoticeKind, claims
from credence.rules.loader import Scheme
from credence.rules.schema import TakesEffect

log = logs.get_logger(__name__)

Row = dict[str, Any]
RuleKey = tuple[str, str, str]  # rulebook, version, list
TERM_ENDED = "term_ended"  # the end reason of a listing that ran its term (rules.compile)


def rules(schemes: dict[str, Scheme]) -> dict[RuleKey, TakesEffect]:
    """The lists whose measures wait, by (rulebook, version, list id)."""
    return {
        (name, edition.book.version, compiled.rule.id): compiled.rule.takes_effect
        for name, scheme in schemes.items()
        for edition in scheme.editions
        for compiled in edition.lists
        if compiled.rule.takes_effect is not None
    }


def windows(conn: Connection, listings: Iterable[Row], waits: dict[RuleKey, TakesEffect]) -> list[Row]:
    """``listings`` (rows of ``listings``) with the days their measures apply, as ``effect_from``
    and ``effect_to``; a listing whose measures do not apply yet, or no longer can, is left out.
    An open dispute of a listing's decision ends its measures where it says (``disputes.rows``:
    from its filing if the rulebook suspends the record meanwhile, the day after the agency's
    deadline in any case), so a dispute left unanswered needs no job on its deadline."""
    rows = list(listings)
    waiting = {row["id"] for row in rows if _key(row) in waits and waits[_key(row)].after_notice}
    told = claims.reached(conn, sorted(waiting), kind=NoticeKind.LISTING_START.value) if waiting else {}
    disputed = rows_of_disputes.standing(conn, sorted({row["decision_record_id"] for row in rows})) if rows else {}
    return [
        clipped
        for clipped in (_clip(row, disputed.get(row["decision_record_id"])) for row in _dated(rows, waits, told))
        if clipped is not None
    ]


def _clip(row: Row, standing: Standing | None) -> Row | None:
    if standing is None:
        return row
    ends = standing.effect_ends()
    if row["effect_to"] is None or ends < row["effect_to"]:
        row = {**row, "effect_to": ends}
    return row if row["effect_to"] > row["effect_from"] else None


def _dated(rows: list[Row], waits: dict[RuleKey, TakesEffect], told: dict[Any, claims.Reached]) -> list[Row]:
    out = []
    for row in rows:
        rule = waits.get(_key(row))
        if rule is None:
            out.append({**row, "effect_from": row["start_date"], "effect_to": row["end_date"]})
            continue
        try:
            starts = _starts(row, rule, told.get(row["id"]))
        except CalendarError as error:
            log.warning("listing.effect_undated", listing=str(row["id"]), list=row["list_id"], error=error.detail)
            continue
        if starts is None:
            continue
        starts = max(starts, row["start_date"])
        ends = row["end_date"]
        if ends is not None and rule.term_from == "effect" and row["end_reason"] == TERM_ENDED:
            ends += starts - row["start_date"]  # an ending record ends it on its own day
        if ends is not None and ends <= starts:
            continue  # ended before it could take effect
        out.append({**row, "effect_from": starts, "effect_to": ends})
    return out


def _key(row: Row) -> RuleKey:
    return (row["rulebook"], row["rulebook_version"], row["list_id"])


def _starts(row: Row, rule: TakesEffect, told: claims.Reached | None) -> date | None:
    """The first day the measures apply, or None while they wait for the subject to be told."""
    base: date
    if not rule.after_notice:
        base = row["start_date"]
    elif told is not None and told.at is not None:
        base = legal_date(told.at)
    elif told is not None and told.unreachable and rule.unreachable == "proceed":
        base = row["start_date"]
    else:
        return None
    if rule.period is None:
        return base + timedelta(days=1)
    return rule.period.counted().first_day_after(base)
