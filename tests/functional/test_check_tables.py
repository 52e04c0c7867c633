"""check() reads tables: on generated histories, at many instants, it answers exactly as the old
path that derived listings and exemptions again from the records known at that instant.

The histories are the ones the engine properties use (every agency, amendments and
retractions in later batches), with court exemptions for the listed cases added, fed as files
through the real ingest path; the instants are each batch's transaction time, a moment before
and after it, and days around the listings' starts and ends.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from credence.screening.check import check
from tests.common.feeds import SCHEMES
from tests.common.histories import CASES, PEOPLE, History, days, feed, histories
from tests.common.oracle import old_check
from tests.functional.test_properties import PROPERTY

REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("flight", {}),
    ("rail_ticket", {"train_type": "G", "seat_class": "second"}),
    ("rail_ticket", {"train_type": "K", "seat_class": "hard_seat"}),
    ("school_fees", {"school_type": "public", "fee_band": "ordinary"}),
    ("deposit", {}),
    ("phone_call", {}),
]


@st.composite
def with_exemptions(draw: st.DrawFn) -> History:
    """A history whose last batch adds a few court exemptions (flight or rail, a listed case)."""
    history = draw(histories())
    rows = []
    for n in range(draw(st.integers(0, 3))):
        day = draw(days)
        history.days.add(day)
        attrs = {
            "case_number": draw(st.sampled_from(CASES)),
            "action": draw(st.sampled_from(["flight", "rail_ticket"])),
            "reason": "illness",
        }
        person = draw(st.sampled_from(PEOPLE))
        kind = "consumption_exemption"
        rows.append(
            {
                "id": f"exempt-{n}",
                "id_number": person,
                "kind": kind,
                "date": day.isoformat(),
                "region": "",
                "attrs": attrs,
            }
        )
    if rows:
        history.batches[-1].setdefault("court", []).extend(rows)
    return history


def instants(times: list[datetime], history: History) -> list[datetime]:
    """Around each batch, and at noon (Shanghai) of the days the history names, as known at the end."""
    around = {t + timedelta(seconds=k) for t in times for k in (-1, 0, 1)}
    last = times[-1]
    picked = sorted(history.days)[:6]
    return sorted(
        around | {datetime(d.year, d.month, d.day, 4, tzinfo=UTC) for d in picked if d >= date(2019, 1, 2)} | {last}
    )


@settings(PROPERTY, max_examples=20)  # each example asks ~500 questions twice: the old path derives everyone
@given(history=with_exemptions())
def test_check_reads_what_the_old_path_derived(
    new_engine: Callable[[], Engine], tmp_path: Path, history: History
) -> None:
    engine = new_engine()
    times = feed(engine, tmp_path, history)
    with engine.connect() as conn:
        for at in instants(times, history):
            for person in PEOPLE:
                for action, attributes in REQUESTS:
                    got = check(conn, person, action, attributes, at=at)
                    new = (
                        str(got.outcome),
                        got.measure,
                        got.list_id,
                        got.listing_id,
                        got.exemption,
                        got.notices,
                        got.rewards,
                    )
                    assert new == old_check(conn, SCHEMES, person, action, attributes, at=at), (at, person, action)
