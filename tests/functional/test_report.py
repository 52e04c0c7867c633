"""The published statistics count people, by year of listing and district of residence: listed,
removed after fulfilling the obligation, and restricted from flights and trains on the day."""

from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from credence.pipeline.report import Row, rows
from tests.common.feeds import Registry, person_id

COURT = "Suzhou Intermediate People's Court"
ACTIVE = person_id(date(1970, 1, 1), seq=801)  # listed 2025, ground 1: no end date
PERFORMED = person_id(date(1971, 2, 2), seq=803)  # listed 2025, deleted 2026-01-05 after performing
SETTLED = person_id(date(1972, 3, 3), region="371082", seq=805)  # listed 2025, settlement performed
TERM = person_id(date(1973, 4, 4), seq=807)  # listed 2024 on ground 2: the two years ran out
WITHDRAWN = person_id(date(1974, 5, 5), seq=809)  # listed 2024, deleted at the creditor's request
TWICE = person_id(date(1975, 6, 6), seq=811)  # two cases in 2025: one person
LATE = person_id(date(1977, 9, 9), seq=817)  # listed 2026
MINOR = person_id(date(2012, 7, 7), seq=813)  # never listed
REP = person_id(date(1976, 8, 8), seq=815)  # legal representative of a listed company
COMPANY = "91110000600037341L"
AS_OF = date(2026, 11, 27)


def decision(id_number: str, case: str, day: str, ground: int = 1, **extra: object) -> dict[str, object]:
    return {
        "id_number": id_number,
        "kind": "defaulter_listing_decision",
        "date": day,
        "region": "",
        "attrs": {"case_number": case, "court": COURT, "ground": ground, **extra},
    }


def deletion(id_number: str, case: str, day: str, reason: str) -> dict[str, object]:
    return {
        "id_number": id_number,
        "kind": "defaulter_deletion",
        "date": day,
        "region": "",
        "attrs": {"case_number": case, "reason": reason},
    }


def registry(engine: Engine, tmp_path: Path) -> Registry:
    reg = Registry(engine, tmp_path)
    reg.feed(
        "police",
        [
            {
                "id": "HK-ACTIVE",
                "id_number": ACTIVE,
                "kind": "residence",
                "date": "2018-01-01",
                "region": "320506",
                "attrs": {"region": "320506", "status": "registered"},
            }
        ],
    )
    reg.feed(
        "court",
        [
            decision(ACTIVE, "C-1", "2025-06-01"),
            decision(PERFORMED, "C-2", "2025-03-01"),
            deletion(PERFORMED, "C-2", "2026-01-05", "performed"),
            decision(SETTLED, "C-3", "2025-04-01"),
            deletion(SETTLED, "C-3", "2025-10-01", "settlement_performed"),
            decision(TERM, "C-4", "2024-02-01", ground=2),
            decision(WITHDRAWN, "C-5", "2024-05-01"),
            deletion(WITHDRAWN, "C-5", "2025-01-01", "creditor_request"),
            decision(TWICE, "C-6", "2025-02-01"),
            decision(TWICE, "C-7", "2025-08-01"),
            decision(MINOR, "C-8", "2025-02-01"),
            decision(LATE, "C-10", "2026-03-01"),
        ],
    )
    return reg


def table(engine: Engine, as_of: date) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    with engine.connect() as conn:
        found = rows(conn, as_of=as_of)
    assert all(isinstance(r, Row) for r in found)
    return {
        (r.period, r.district): (r.listed, r.removed_after_fulfilment, r.restricted_flights, r.restricted_trains)
        for r in found
    }


def test_counts_match_a_small_registry(engine: Engine, tmp_path: Path) -> None:
    registry(engine, tmp_path)
    # (year listed, district): (listed, removed after fulfilment, restricted from flights, from trains)
    assert table(engine, AS_OF) == {
        ("2024", "320505"): (2, 0, 0, 0),  # TERM ran out, WITHDRAWN was not a fulfilment
        ("2025", "320505"): (2, 1, 1, 1),  # PERFORMED removed; TWICE once for two cases, restricted
        ("2025", "320506"): (1, 0, 1, 1),  # ACTIVE, by the district of the residence record
        ("2025", "371082"): (1, 1, 0, 0),  # SETTLED, by the address code of the ID (no residence record)
        ("2026", "320505"): (1, 0, 1, 1),  # LATE
    }


def test_counts_are_as_of_the_day_asked(engine: Engine, tmp_path: Path) -> None:
    registry(engine, tmp_path)
    assert table(engine, date(2025, 12, 1)) == {
        ("2024", "320505"): (2, 0, 1, 1),  # TERM still listed until 2026-02-01
        ("2025", "320505"): (2, 0, 2, 2),  # PERFORMED not yet removed
        ("2025", "320506"): (1, 0, 1, 1),
        ("2025", "371082"): (1, 1, 0, 0),
    }  # LATE, listed after the day, is not in it


def test_an_organisation_is_listed_once_and_its_representative_restricted(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    reg.feed("court", [decision(COMPANY, "C-9", "2025-09-01", ground=2, legal_representative=REP)])
    assert table(engine, AS_OF) == {
        ("2025", "110000"): (1, 0, 1, 1),  # the company: listed and restricted
        ("2025", "320505"): (0, 0, 1, 1),  # its legal representative: restricted, not listed
    }


def test_a_retracted_residence_no_longer_gives_the_district(engine: Engine, tmp_path: Path) -> None:
    reg = registry(engine, tmp_path)
    withdrawn = {
        "id": "HK-ACTIVE",
        "id_number": ACTIVE,
        "kind": "residence",
        "date": "2018-01-01",
        "region": "320506",
        "attrs": {"region": "320506", "status": "registered"},
        "retracted": True,
    }
    reg.feed("police", [withdrawn])
    found = table(engine, AS_OF)
    assert ("2025", "320506") not in found
    assert found[("2025", "320505")] == (3, 1, 2, 2)  # ACTIVE now counts by the ID's address code
