"""The core path end to end: feeds in, scores, listings and measures out, on both stores."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from stdnum.cn import ric

from credence.screening.check import check
from credence.store.orm import Event, Listing, Quarantine, ScoreInterval, Subject
from tests.common.feeds import Registry, person_id

ADULT = person_id(date(1980, 5, 17))


def registered(id_number: str, region: str = "320505", since: str = "2020-01-01") -> dict[str, object]:
    return {
        "id_number": id_number,
        "kind": "residence",
        "date": since,
        "attrs": {"region": region, "status": "registered"},
    }


def score_of(engine: Engine, id_number: str, scheme: str, *, day: date) -> int | None:
    """The stored score on ``day``: the score interval that holds it."""
    with engine.connect() as conn:
        return conn.execute(
            select(ScoreInterval.score)
            .join(Subject, Subject.id == ScoreInterval.subject_id)
            .where(Subject.id_number == id_number, ScoreInterval.scheme == scheme, ScoreInterval.holds(day))
        ).scalar()


def test_suzhou_134_from_raw_records_and_never_more(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    reg.feed("police", [registered(ADULT)])
    reg.feed(
        "blood_bank",
        [
            {"id_number": ADULT, "kind": "blood_donation", "date": f"202{i}-03-01", "attrs": {"volume_ml": 200}}
            for i in range(5)
        ],
    )
    reg.feed(
        "volunteers",
        [
            {
                "id_number": ADULT,
                "kind": "volunteer_hours",
                "date": "2024-12-31",
                "attrs": {"hours": 260, "year": 2024},
            },
            {
                "id_number": ADULT,
                "kind": "volunteer_hours",
                "date": "2025-12-31",
                "attrs": {"hours": 260, "year": 2025},
            },
        ],
    )
    assert score_of(engine, ADULT, "suzhou-osmanthus", day=reg.now.date()) == 134
    reg.feed(
        "blood_bank",
        [
            {
                "id_number": ADULT,
                "kind": "blood_donation",
                "date": "2026-05-01",
                "attrs": {"volume_ml": 400},
            }
        ],
    )
    reg.feed(
        "volunteers",
        [
            {
                "id_number": ADULT,
                "kind": "volunteer_hours",
                "date": "2026-06-30",
                "attrs": {"hours": 900, "year": 2026},
            }
        ],
    )
    assert score_of(engine, ADULT, "suzhou-osmanthus", day=reg.now.date()) == 134


def decision(
    id_number: str, *, case: str = "(2025)苏05执123号", day: str = "2025-06-01", ground: int = 1, **extra: object
) -> dict[str, object]:
    return {
        "id_number": id_number,
        "kind": "defaulter_listing_decision",
        "date": day,
        "region": "",
        "attrs": {"case_number": case, "court": "Suzhou Intermediate People's Court", "ground": ground, **extra},
    }


AT = datetime(2026, 1, 10, 4, 0, tzinfo=UTC)
# check() answers as the registry knew it at ``at``: the court's feeds arrive before AT
FED = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


def test_restricted_debtor_rail_and_flights(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path, now=FED)
    reg.feed("court", [decision(ADULT)])
    with engine.connect() as conn:
        assert (
            check(conn, ADULT, "rail_ticket", {"train_type": "D", "seat_class": "second"}, at=AT).outcome == "allowed"
        )
        for attrs in (
            {"train_type": "G", "seat_class": "second"},
            {"train_type": "D", "seat_class": "first"},
        ):
            got = check(conn, ADULT, "rail_ticket", attrs, at=AT)
            assert got.outcome == "restricted"
            assert got.measure == "no-high-speed-rail"
            assert "High Consumption" in (got.legal_basis or "")
        assert check(conn, ADULT, "flight", {}, at=AT).outcome == "restricted"
        before = datetime(2025, 5, 31, 4, 0, tzinfo=UTC)
        assert check(conn, ADULT, "flight", {}, at=before).outcome == "allowed"


def test_deletion_lifts_measures_at_once(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path, now=FED)
    reg.feed("court", [decision(ADULT)])
    reg.feed(
        "court",
        [
            {
                "id_number": ADULT,
                "kind": "defaulter_deletion",
                "date": "2026-01-05",
                "region": "",
                "attrs": {"case_number": "(2025)苏05执123号", "reason": "performed"},
            }
        ],
    )
    with engine.connect() as conn:
        assert check(conn, ADULT, "flight", {}, at=AT).outcome == "allowed"
        during = datetime(2025, 12, 1, 4, 0, tzinfo=UTC)
        assert check(conn, ADULT, "flight", {}, at=during).outcome == "restricted"
        events = conn.execute(text("SELECT tag FROM events WHERE tag LIKE 'listing.%' ORDER BY seq")).scalars().all()
    assert events == ["listing.start", "listing.end"]


def test_minor_is_never_listed(engine: Engine, tmp_path: Path) -> None:
    minor = person_id(date(2010, 2, 1), seq=222)
    reg = Registry(engine, tmp_path)
    reg.feed("court", [decision(minor, day="2025-06-01")])
    with engine.connect() as conn:
        assert conn.execute(select(Listing)).first() is None
        assert check(conn, minor, "flight", {}, at=AT).outcome == "allowed"


@pytest.mark.parametrize(
    ("ground", "ext", "end"),
    [(2, None, date(2027, 6, 1)), (3, 3, date(2030, 6, 1)), (1, None, None)],
)
def test_listing_durations(engine: Engine, tmp_path: Path, ground: int, ext: int | None, end: date | None) -> None:
    reg = Registry(engine, tmp_path)
    reg.feed("court", [decision(ADULT, ground=ground)])
    if ext:
        reg.feed(
            "court",
            [
                {
                    "id_number": ADULT,
                    "kind": "defaulter_listing_extension",
                    "date": "2027-01-01",
                    "region": "",
                    "attrs": {"case_number": "(2025)苏05执123号", "years": ext},
                },
                {
                    "id_number": ADULT,
                    "kind": "defaulter_listing_extension",
                    "date": "2027-02-01",
                    "region": "",
                    "attrs": {"case_number": "(2025)苏05执123号", "years": 3},
                },
            ],
        )
    with engine.connect() as conn:
        listing = conn.execute(select(Listing.__table__)).one()
    assert listing.start_date == date(2025, 6, 1)
    assert listing.end_date == end


def test_art3_exclusion_and_organisation_binds_its_people(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path, now=FED)
    reg.feed("court", [decision(ADULT, full_security=True)])
    with engine.connect() as conn:
        assert conn.execute(select(Listing)).first() is None
    rep = person_id(date(1975, 1, 2), seq=333)
    org = "91110000600037341L"
    reg.feed("court", [decision(org, case="(2025)苏05执999号", ground=2, legal_representative=rep)])
    with engine.connect() as conn:
        roles = sorted(conn.execute(select(Listing.role)).scalars())
        assert roles == ["legal_representative", "subject"]
        got = check(conn, rep, "flight", {}, at=AT)
        assert got.outcome == "restricted"
        assert got.appeal is not None
        assert "(2025)苏05执999号" in got.appeal


def test_same_file_twice_changes_nothing_and_amendment_is_a_new_version(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    row = {
        "id": "T-1",
        "id_number": ADULT,
        "kind": "traffic_offence",
        "date": "2026-10-01",
        "attrs": {"offence_code": "1345", "fine_yuan": 200},
    }
    first = reg.feed("police", [row])
    again = reg.feed("police", [row])
    amended = reg.feed("police", [{**row, "attrs": {"offence_code": "1345", "fine_yuan": 100}}])
    assert (first.accepted, again.unchanged, amended.amended) == (1, 1, 1)
    with engine.connect() as conn:
        versions = (
            conn.execute(text("SELECT version FROM records WHERE source_record_id = 'T-1' ORDER BY version"))
            .scalars()
            .all()
        )
    assert versions == [1, 2]


def test_records_are_append_only_in_the_database(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    reg.feed("police", [registered(ADULT)])
    for statement in ("UPDATE records SET kind = 'x'", "DELETE FROM records", "DELETE FROM events"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


def test_bad_rows_are_quarantined_with_line_and_reason(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    bad_check = ADULT[:-1] + ("0" if ADULT[-1] != "0" else "1")
    result = reg.feed(
        "police",
        [
            registered(ADULT),
            {**registered(bad_check)},
            {"id_number": ADULT, "kind": "blood_donation", "date": "2026-01-01", "attrs": {"volume_ml": 200}},
            {"id_number": ADULT, "kind": "traffic_offence", "date": "2026-13-01", "attrs": {"offence_code": "1"}},
        ],
    )
    assert (result.accepted, result.quarantined) == (1, 3)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT line, field, reason FROM quarantine ORDER BY line")).all()
    assert [(r.line, r.field) for r in rows] == [(2, "id_number"), (3, "kind"), (4, "valid_date")]
    assert "check character" in rows[0].reason
    assert "not authorised" in rows[1].reason


def test_a_number_met_again_in_a_file_is_judged_as_the_first_time(engine: Engine, tmp_path: Path) -> None:
    # the checker keeps the numbers that passed; one that failed must fail again each time
    reg = Registry(engine, tmp_path)
    bad_check = ADULT[:-1] + ("0" if ADULT[-1] != "0" else "1")
    rows = [registered(ADULT), registered(bad_check), registered(ADULT, since="2021-01-01"), registered(bad_check)]
    result = reg.feed("police", rows)
    assert (result.accepted, result.quarantined) == (2, 2)
    with engine.connect() as conn:
        refused = conn.execute(text("SELECT line, field, reason FROM quarantine ORDER BY line")).all()
        subjects = conn.execute(text("SELECT id_number FROM subjects")).scalars().all()
    assert [(r.line, r.field) for r in refused] == [(2, "id_number"), (4, "id_number")]
    assert all("check character" in r.reason for r in refused)
    assert subjects == [ADULT]


def test_the_event_log_holds_no_personal_data(engine: Engine, tmp_path: Path) -> None:
    """Events are permanent: they name internal ids and fields, never an ID number, a birth date
    or a refused value (those stay in the quarantine row, which replay and review read)."""
    reg = Registry(engine, tmp_path)
    body = "320505" + "19800230" + "123"
    impossible = body + ric.calc_check_digit(body + "0")  # a correct check character, no 30 February
    reg.feed(
        "police",
        [
            registered(ADULT),
            registered(impossible),
            {"id_number": ADULT, "kind": "traffic_offence", "date": "2026-02-30", "attrs": {"offence_code": "1"}},
        ],
    )
    reg.feed("court", [decision(ADULT, ground=1)])
    with engine.connect() as conn:
        logged = " ".join(str(d) for d in conn.execute(select(Event.data)).scalars())
        held = " ".join(r for r in conn.execute(select(Quarantine.reason)).scalars())
    assert "19800230" in held  # the quarantine says exactly what was wrong
    for secret in (ADULT, ADULT[6:14], impossible, "19800230", "2026-02-30"):
        assert secret not in logged
