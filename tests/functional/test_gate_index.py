"""The gate's index answers as the library check does (one answer everywhere, part 1).

Generated histories (listings, extensions, deletions, amendments, retractions, court
exemptions, and an organisation whose listing binds its legal representative) are fed batch by
batch through the real ingest path. The index is loaded after the first batch and then only
follows the measure-change journal, as a running gate does; after every batch, at instants
around the listings, every person and request is asked of the index, of a manifest screening
and of ``check(known_at=now)``, and the decisions must agree. The index a fresh load builds must
hold exactly what the followed one holds.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from credence.screening import index as gate_index
from credence.screening.check import Decision, check
from credence.screening.screen import REFUSED, RESTRICTED, Entry, screen
from tests.common.histories import CASES, PEOPLE, History, days
from tests.functional.test_check_tables import REQUESTS, instants, with_exemptions
from tests.functional.test_properties import PROPERTY

ORG = "91110000600037341L"
FEED_START = datetime(2026, 11, 27, 4, tzinfo=UTC)


@st.composite
def gate_histories(draw: st.DrawFn) -> History:
    """``with_exemptions`` histories, plus an organisation listed (binding one of the people as
    its legal representative) and perhaps extended or deleted in a later batch."""
    history = draw(with_exemptions())
    if draw(st.booleans()):
        day, case = draw(days), draw(st.sampled_from(CASES))
        history.days.add(day)
        rep = draw(st.sampled_from(PEOPLE))
        attrs = {"case_number": case, "court": "Suzhou Intermediate People's Court", "ground": 2}
        listing = {
            "id": "org-listing",
            "id_number": ORG,
            "kind": "defaulter_listing_decision",
            "date": day.isoformat(),
            "region": "",
            "attrs": {**attrs, "legal_representative": rep},
        }
        history.batches[0].setdefault("court", []).append(listing)
        follow = draw(st.sampled_from(["none", "defaulter_listing_extension", "defaulter_deletion"]))
        if follow != "none":
            later = day + timedelta(days=draw(st.integers(1, 900)))
            history.days.add(later)
            extra = {"years": 1} if follow == "defaulter_listing_extension" else {"reason": "performed"}
            row = {
                "id": "org-follow",
                "id_number": ORG,
                "kind": follow,
                "date": later.isoformat(),
                "region": "",
                "attrs": {"case_number": case, **extra},
            }
            history.batches[-1].setdefault("court", []).append(row)
    return history


def essentials(decision: Decision) -> tuple[Any, ...]:
    """What the gate's answer is made of: outcome, measure, legal basis, appeal, notices."""
    return (
        str(decision.outcome),
        decision.measure,
        decision.legal_basis,
        decision.appeal,
        decision.exemption,
        decision.notices,
        decision.notice_legal_bases,
    )


def held(snapshot: gate_index.Snapshot, number: str) -> tuple[Any, ...]:
    found = snapshot.held(number)
    return (sorted(found.listed, key=repr), sorted(found.exempted.items()))


@settings(PROPERTY, max_examples=15)
@given(history=gate_histories())
def test_the_index_and_a_screening_answer_as_check_does(
    new_engine: Callable[[], Engine], tmp_path: Path, history: History
) -> None:
    from tests.common.feeds import Registry

    engine = new_engine()
    reg = Registry(engine, tmp_path, now=FEED_START)
    subjects = [*PEOPLE, ORG]
    followed: gate_index.Follower | None = None
    times: list[datetime] = []
    for batch in history.batches:
        for source, rows in sorted(batch.items()):
            result = reg.feed(source, rows, as_of=date(2026, 11, 27))
            assert result.quarantined == 0, result.reasons
        times.append(reg.now)
        if followed is None:
            with engine.connect() as conn:
                followed = gate_index.Follower(engine, gate_index.Index(gate_index.load(conn)))
        else:
            followed.follow()
        index = followed.index
        known = reg.now + timedelta(seconds=1)
        with engine.connect() as conn:
            for at in instants(times, history):
                manifest = [Entry(s, action, attributes) for s in subjects for action, attributes in REQUESTS]
                screened = screen(index, manifest, at=at)
                for i, entry in enumerate(manifest):
                    expected = check(conn, entry.subject, entry.action, entry.attributes, at=at, known_at=known)
                    got = index(entry.subject, entry.action, entry.attributes, at=at)
                    assert essentials(got) == essentials(expected), (at, entry)
                    assert screened.outcomes[i] != REFUSED
                    assert (screened.outcomes[i] == RESTRICTED) == (str(expected.outcome) == "restricted"), (at, entry)
                    if i in screened.decisions:
                        assert essentials(screened.decisions[i]) == essentials(expected), (at, entry)
    assert followed is not None
    with engine.connect() as conn:
        fresh = gate_index.load(conn)
    for number in subjects:
        assert held(fresh, number) == held(followed.index.snapshot, number), number
    assert fresh.seq == followed.index.snapshot.seq


def test_a_case_number_is_split_and_joined_back_exactly() -> None:
    patterns = gate_index.Interner()
    for case in ["(2021)苏0505执123号", "(2021)苏0505执0123号", "执号", "", "(2024)沪01执恢12号之一", "12345678901"]:
        code, serial = gate_index.split_case(case, patterns)
        assert gate_index.join_case(patterns.values[code], serial) == case
    code, serial = gate_index.split_case(None, patterns)
    assert gate_index.join_case(patterns.values[code], serial) is None


def test_a_million_listed_people_cost_under_32_bytes_each_in_the_arrays() -> None:
    day = date(2025, 6, 1).toordinal()
    measures = frozenset({("no-flights", "flight"), ("no-rail-first", "rail_ticket")})
    people = (
        (
            10_000_000_000_000_000 + n * 7,
            gate_index.Listed(
                day,
                gate_index.OPEN,
                measures,
                "dishonest-judgment-defaulters",
                f"court {n % 3000}",
                f"(2025)苏{n % 3000:04d}执{n}号",
            ),
        )
        for n in range(1_000_000)
    )
    arrays = gate_index.build_arrays(people)
    assert arrays.people == 1_000_000
    assert arrays.nbytes / arrays.people <= 32
    assert len(arrays.case_values) == 3000
    assert arrays.listed(10_000_000_000_000_000 + 7 * 123)[0].case_number == "(2025)苏0123执123号"
    assert arrays.listed(10_000_000_000_000_001) == ()
    assert np.all(np.diff(arrays.keys) > 0)
