"""explain(): every point has its rule, legal basis, record and source; the score without each
record comes from the engine, so a record under a binding cap changes nothing; an expiring
record says when it stops counting, and it does stop then."""

import json
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from credence.batch import duckdb, evaluate
from credence.batch.store import StoreBackend
from credence.dueprocess.explanations import Explanation, Line, explain
from credence.rules.loader import group, load_text
from credence.store.orm import Subject
from tests.common.feeds import SCHEMES, Registry, person_id

PERSON = person_id(date(1985, 4, 2), seq=617)
CASE = "(2025)苏05执777号"
COURT = "Suzhou Intermediate People's Court"
TODAY = date(2026, 11, 27)


def row(rid: str, kind: str, day: str, **attrs: object) -> dict[str, object]:
    return {"id": rid, "id_number": PERSON, "kind": kind, "date": day, "attrs": attrs}


def fed(engine: Engine, tmp_path: Path) -> Registry:
    reg = Registry(engine, tmp_path)
    reg.feed(
        "police",
        [
            row("HK-1", "residence", "2019-01-01", region="320505", status="registered"),
            row("TR-1", "traffic_offence", "2026-10-01", offence_code="1345", fine_yuan=200),
        ],
    )
    # four donations of 400 ml are 32 points against a lifetime cap of 20
    reg.feed("blood_bank", [row(f"BD-{i}", "blood_donation", f"202{i}-03-01", volume_ml=400) for i in range(1, 5)])
    reg.feed("tax", [row("TAX-1", "tax_arrears", "2025-03-01", amount_yuan=20000)])
    reg.feed("volunteers", [row("VH-1", "volunteer_hours", "2024-12-31", hours=100, year=2024)])
    decision = row("DEC-1", "defaulter_listing_decision", "2025-06-01", case_number=CASE, court=COURT, ground=2)
    reg.feed("court", [{**decision, "region": ""}])
    return reg


def explained(engine: Engine, reg: Registry, as_of: date = TODAY, id_number: str = PERSON) -> Explanation:
    with engine.connect() as conn:
        subject = conn.execute(select(Subject.id).where(Subject.id_number == id_number)).scalar_one()
        return explain(conn, SCHEMES, subject, as_of=as_of, known_at=reg.now)


def lines_by_record(found: Explanation, scheme: str) -> dict[str, Line]:
    [explanation] = [s for s in found.schemes if s.scheme == scheme]
    return {line.source_record_id: line for line in explanation.lines}


def test_each_line_names_rule_basis_source_and_points(engine: Engine, tmp_path: Path) -> None:
    found = explained(engine, fed(engine, tmp_path))
    # registered in Suzhou: only the Suzhou scheme scores this person (Rongcheng covers 371082)
    assert [s.scheme for s in found.schemes] == ["suzhou-osmanthus"]
    [suzhou] = found.schemes
    assert (suzhou.base, suzhou.score, suzhou.grade, suzhou.version) == (100, 109, "A", "1.0")
    lines = lines_by_record(found, "suzhou-osmanthus")
    assert set(lines) == {"TR-1", "BD-1", "BD-2", "BD-3", "BD-4", "TAX-1", "VH-1"}
    assert suzhou.base + sum(line.points for line in lines.values()) == suzhou.score
    expected = {
        "TR-1": ("traffic-offence", "police", "traffic_offence", -3),
        "TAX-1": ("tax-arrears", "tax", "tax_arrears", -10),
        "VH-1": ("volunteer-service", "volunteers", "volunteer_hours", 2),
        "BD-1": ("blood-donation", "blood_bank", "blood_donation", 8),
    }
    for record, (rule, source, kind, points) in expected.items():
        line = lines[record]
        assert (line.rule, line.source, line.kind, line.points) == (rule, source, kind, points)
        assert line.legal_basis == "none published"  # the Suzhou rulebook's own statement
        assert line.rule_title
        assert line.record_id
    assert lines["TR-1"].valid_date == "2026-10-01"
    # the listing, with its legal basis and the measures it carries
    [listing] = found.listings
    assert (listing.list_id, listing.role, listing.case_number, listing.ground) == (
        "dishonest-judgment-defaulters",
        "subject",
        CASE,
        2,
    )
    assert (listing.start_date, listing.end_date, listing.end_reason) == ("2025-06-01", "2027-06-01", "term_ended")
    assert "Fa Shi [2017] No. 7" in listing.legal_basis
    measures = {m["measure"]: m for m in listing.measures}
    assert {"no-flights", "no-high-speed-rail", "caller-notice"} <= set(measures)
    assert "rongcheng-deposit-waiver" not in measures  # a reward never attaches to a blacklisting
    assert "High Consumption" in measures["no-flights"]["legal_basis"]
    assert json.loads(json.dumps(found.as_dict()))["schemes"][0]["lines"]


def test_counterfactuals_come_from_the_engine(engine: Engine, tmp_path: Path) -> None:
    lines = lines_by_record(explained(engine, fed(engine, tmp_path)), "suzhou-osmanthus")
    assert lines["TR-1"].score_without == 112
    assert lines["TAX-1"].score_without == 119
    assert lines["VH-1"].score_without == 107
    # 8 + 8 + 4 of the cap's 20, the fourth donation gets nothing; without any one of them the
    # other three still reach the cap, so the score does not move
    donations = [lines[f"BD-{i}"] for i in range(1, 5)]
    assert [(d.points, d.raw_points, d.capped) for d in donations] == [
        (8, 8, False),
        (8, 8, False),
        (4, 8, True),
        (0, 8, True),
    ]
    assert {d.score_without for d in donations} == {109}


def test_counterfactual_equals_the_score_of_someone_who_never_had_the_record(engine: Engine, tmp_path: Path) -> None:
    twin = person_id(date(1985, 4, 2), seq=619)
    reg = Registry(engine, tmp_path)
    common: list[dict[str, Any]] = [
        {"kind": "residence", "date": "2019-01-01", "attrs": {"region": "320505", "status": "registered"}},
        {"kind": "traffic_offence", "date": "2026-03-01", "attrs": {"offence_code": "1", "fine_yuan": 50}},
        {"kind": "public_order_offence", "date": "2025-02-01", "attrs": {"offence": "noise", "detention_days": 0}},
    ]
    extra = {
        "id": "PO-2",
        "kind": "public_order_offence",
        "date": "2025-02-02",
        "attrs": {"offence": "affray", "detention_days": 5},
    }
    reg.feed(
        "police",
        [{"id_number": PERSON, **r} for r in common]
        + [{"id_number": twin, **r} for r in common]
        + [{"id_number": PERSON, **extra}],
    )
    line = lines_by_record(explained(engine, reg), "suzhou-osmanthus")["PO-2"]
    assert line.points == -15
    [twin_scores] = explained(engine, reg, id_number=twin).schemes
    assert line.score_without == twin_scores.score == 100 - 3 - 8


def test_an_expiring_record_says_when_it_stops_counting_and_stops_then(engine: Engine, tmp_path: Path) -> None:
    reg = fed(engine, tmp_path)
    lines = lines_by_record(explained(engine, reg), "suzhou-osmanthus")
    assert lines["TR-1"].expires_on == "2027-10-01"  # one year after the offence
    assert lines["TAX-1"].expires_on == "2028-03-01"  # three years after the arrears
    assert lines["BD-1"].expires_on is None  # favourable records with no expiry in the rulebook
    assert lines["VH-1"].expires_on is None
    expiry = date.fromisoformat("2027-10-01")
    last_day = explained(engine, reg, as_of=expiry - timedelta(days=1))
    on_expiry = explained(engine, reg, as_of=expiry)
    assert "TR-1" in lines_by_record(last_day, "suzhou-osmanthus")
    assert "TR-1" not in lines_by_record(on_expiry, "suzhou-osmanthus")
    assert on_expiry.schemes[0].score == last_day.schemes[0].score + 3


def test_each_line_cites_the_rulebook_version_its_record_was_scored_under(engine: Engine, tmp_path: Path) -> None:
    """A rule id kept across versions: a 2025 offence cites version 1.0, a 2026 one version 2.0."""
    shipped_text = (files("credence.rules.rulebooks") / "suzhou-osmanthus" / "1.0.yaml").read_text("utf-8")
    v1 = load_text(shipped_text, file="1.0.yaml")
    newer = shipped_text.replace('version: "1.0"', 'version: "2.0"').replace(
        "effective_from: 2020-01-01", "effective_from: 2026-01-01"
    )
    newer = newer.replace("title: Traffic offence with a fine", "title: Traffic offence with a fine (2026 wording)")
    schemes = group([v1, load_text(newer, file="2.0.yaml")])
    reg = Registry(engine, tmp_path)
    reg.feed(
        "police",
        [
            row("HK-1", "residence", "2019-01-01", region="320505", status="registered"),
            row("TR-1", "traffic_offence", "2025-12-01", offence_code="1345"),
            row("TR-2", "traffic_offence", "2026-10-01", offence_code="1345"),
        ],
    )
    with engine.connect() as conn:
        subject = conn.execute(select(Subject.id).where(Subject.id_number == PERSON)).scalar_one()
        found = explain(conn, schemes, subject, as_of=TODAY, known_at=reg.now)
    [suzhou] = found.schemes
    titles = {line.source_record_id: line.rule_title for line in suzhou.lines}
    assert titles == {"TR-1": "Traffic offence with a fine", "TR-2": "Traffic offence with a fine (2026 wording)"}


def test_every_counterfactual_in_one_statement_equals_leaving_each_record_out(engine: Engine, tmp_path: Path) -> None:
    """``without_each`` (all of a subject's lines at once) gives, for every counting record, what
    the score query gives with that record excluded; the DuckDB snapshot gives the same."""
    reg = fed(engine, tmp_path)
    scheme = SCHEMES["suzhou-osmanthus"]
    with engine.connect() as conn:
        subject = conn.execute(select(Subject.id).where(Subject.id_number == PERSON)).scalar_one()
        store = StoreBackend(conn, known_at=reg.now, scope=[subject])
        snapshot = duckdb.take(conn, known_at=reg.now)
        for day in (TODAY, date(2025, 6, 1), date(2024, 1, 1)):
            at_once = evaluate.without_each(store, scheme, as_of=day)
            assert at_once.keys() == {line["record_id"] for line in evaluate.lines(store, scheme, as_of=day)}
            for record, score in at_once.items():
                assert score == evaluate.scores(store, scheme, as_of=day, exclude=[record])[subject][0]
            assert evaluate.without_each(snapshot, scheme, as_of=day) == at_once
