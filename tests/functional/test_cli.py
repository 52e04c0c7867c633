"""The ``credence`` command against a temporary SQLite registry named by CREDENCE_DATABASE_URL.

The workflow runs in-process (Typer's CliRunner: one import, fast); the installed entry point is
run as real subprocesses for ``db upgrade``, ``explain --json`` and ``check``."""

import csv
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from credence.cli import app
from credence.cli.context import console, today
from credence.dueprocess.explanations import Line, ListingExplanation, SchemeExplanation
from credence.ingest.mapping import load_mappings as mappings
from credence.settings import get_settings
from credence.store.db import make_engine
from credence.store.orm import Listing, Quarantine, ScoreInterval, Subject

ROOT = Path(__file__).resolve().parents[2]
CONNECTORS = ROOT / "connectors"
CREDENCE = Path(sys.executable).parent / "credence"


@dataclass(frozen=True)
class Built:
    url: str
    feeds: Path
    engine: Engine
    day: date  # the day ``credence score`` scored for (its legal date when it ran)


def flat(text: str) -> str:
    """Output with Rich's wrapping undone, for assertions on phrases."""
    return " ".join(text.split())


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Built]:
    """A registry of 300 generated people: generate, ingest, score, all through the CLI."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CREDENCE_DATABASE_URL", url)
    monkeypatch.setattr(console, "width", 400)  # keep Rich from wrapping or cutting table cells
    get_settings.cache_clear()
    feeds = tmp_path / "feeds"
    out = invoke("generate", "--people", "300", "--out", str(feeds))
    assert "court.csv" in out
    assert (feeds / "people.csv").exists()
    out = flat(invoke("ingest", "--feeds", str(feeds), "--connectors", str(CONNECTORS)))
    for name in mappings(CONNECTORS).values():
        assert name.file in out
    out = flat(invoke("score"))
    assert re.search(r"[1-9][\d,]* scores written", out), out
    scored_as_of = re.search(r"scored as of (\d{4}-\d{2}-\d{2})", out)
    assert scored_as_of, out
    # the DuckDB rebuild lists exactly whom ingest already listed incrementally
    assert "listings started 0, ended 0" in out
    assert "suzhou-osmanthus" in out
    engine = make_engine(url)
    yield Built(url=url, feeds=feeds, engine=engine, day=date.fromisoformat(scored_as_of[1]))
    engine.dispose()
    get_settings.cache_clear()


def listed_subject(engine: Engine) -> tuple[str, str, str]:
    """A person listed today or bound by a listing (an organisation's legal representative, say),
    with the case and court."""
    day = today()
    with engine.connect() as conn:
        row = conn.execute(
            select(Subject.id_number, Listing.case_number, Listing.court)
            .join(Listing, Listing.subject_id == Subject.id)
            .where(
                Subject.kind == "person",
                Listing.start_date <= day,
                Listing.end_date.is_(None) | (Listing.end_date > day),
            )
            .order_by(Subject.id_number)
            .limit(1)
        ).one()
    return row.id_number, str(row.case_number), str(row.court)


def test_report_check_and_replay_in_process(built: Built) -> None:
    with built.engine.connect() as conn:
        listings = conn.execute(select(Listing.subject_id).where(Listing.role == "subject")).scalars().all()
        scored = conn.execute(select(ScoreInterval.subject_id).where(ScoreInterval.holds(built.day))).scalars().all()
    assert listings
    assert scored

    out = flat(invoke("report"))
    assert "counts people, not refused purchases" in out
    assert "By district of residence" in out
    assert "Listed by year" in out  # the same figures as a bar chart
    assert "█" in out
    years = {int(y) for y in re.findall(r"│ (\d{4}) │", out)}
    assert years
    assert all(2000 < y <= today().year for y in years)

    debtor, case, court = listed_subject(built.engine)
    out = flat(invoke("check", debtor, "flight"))
    assert out.startswith("restricted (flight)")
    assert "measure: No air travel" in out
    assert "Restricting High Consumption" in out
    assert f"appeal to: {court}, case {case}" in out
    assert flat(invoke("check", debtor, "rail_ticket", "train_type=D", "seat_class=second")).startswith("allowed")
    assert flat(invoke("check", debtor, "rail_ticket", "train_type=G", "seat_class=second")).startswith("restricted")
    assert flat(invoke("check", debtor, "flight", "--at", "2000-01-01")).startswith("allowed")
    refused = CliRunner().invoke(app, ["check", "12345", "flight"])
    assert refused.exit_code == 2
    assert "18 characters" in refused.output

    # explain --json of a restricted person: the listing, its legal basis and its measures
    with built.engine.connect() as conn:
        debtor_id = conn.execute(select(Subject.id).where(Subject.id_number == debtor)).scalar_one()
    listed = json.loads(invoke("explain", debtor, "--json"))
    assert listed["subject_id"] == str(debtor_id)
    assert listed["listings"]
    for listing in listed["listings"]:
        assert set(listing) == {f.name for f in fields(ListingExplanation)}
        assert listing["case_number"] == case
        assert listing["legal_basis"]
        assert {m["measure"] for m in listing["measures"]} >= {"no-flights", "no-high-speed-rail"}
    # bitemporal: as the registry knew it before any feed arrived, no scheme scored anyone
    assert json.loads(invoke("explain", debtor, "--json", "--known-at", "2000-01-01T00:00:00"))["schemes"] == []
    assert json.loads(invoke("explain", debtor, "--json", "--as-of", "2019-06-01"))["as_of"] == "2019-06-01"

    # quarantine: fix one refused ID number through --fixes; it is applied once
    with built.engine.connect() as conn:
        pending = conn.execute(
            select(Quarantine.id, Quarantine.source_id, Quarantine.raw)
            .where(Quarantine.replayed_at.is_(None), Quarantine.field == "id_number")
            .order_by(Quarantine.id)
        ).all()
        waiting = len(conn.execute(select(Quarantine.id).where(Quarantine.replayed_at.is_(None))).all())
    assert pending
    target = pending[0]
    listed_rows = flat(invoke("quarantine", "--limit", "1000"))
    row_of_target = re.compile(rf"│ {target.id} │ {target.source_id} │")
    assert row_of_target.search(listed_rows)
    assert target.raw.get(mappings(CONNECTORS)[target.source_id].fields.id_number, "?") not in listed_rows
    column = mappings(CONNECTORS)[target.source_id].fields.id_number
    assert isinstance(column, str)
    with (built.feeds / "people.csv").open(encoding="utf-8") as handle:
        someone = next(csv.DictReader(handle))["id_number"]
    fixes = built.feeds.parent / "fixes.json"
    fixes.write_text(json.dumps({str(target.id): {column: someone}}), encoding="utf-8")
    args = ["ingest", "--replay", "--fixes", str(fixes), "--connectors", str(CONNECTORS)]
    assert f"replayed 1 rows; {waiting - 1:,} still refused" in flat(invoke(*args))
    assert f"replayed 0 rows; {waiting - 1:,} still refused" in flat(invoke(*args))
    with built.engine.connect() as conn:
        replayed = conn.execute(select(Quarantine.replayed_at).where(Quarantine.id == target.id)).scalar_one()
    assert replayed is not None
    assert not row_of_target.search(flat(invoke("quarantine", "--limit", "1000")))
    assert row_of_target.search(flat(invoke("quarantine", "--all", "--limit", "1000")))


@pytest.mark.parametrize(
    ("rule", "edit", "message"),
    [
        ("blood-donation", {"points": "2 * floor_div(volume_litres, 100)"}, "volume_litres"),
        ("traffic-offence", {"kinds": ["speeding"]}, "unknown record kind 'speeding'"),
    ],
)
def test_a_bad_rulebook_is_refused_naming_file_and_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rule: str, edit: dict[str, object], message: str
) -> None:
    monkeypatch.setenv("CREDENCE_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    monkeypatch.setattr(console, "width", 400)
    get_settings.cache_clear()
    book = yaml.safe_load((ROOT / "credence/rules/rulebooks/suzhou-osmanthus/1.0.yaml").read_text("utf-8"))
    book["scheme"] = "my-city"
    next(r for r in book["rules"] if r["id"] == rule).update(edit)
    path = tmp_path / "my-city.yaml"
    path.write_text(yaml.safe_dump(book, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["score", "--rulebook", str(path)])
    get_settings.cache_clear()
    assert result.exit_code == 2
    out = flat(result.output)
    assert str(path) in out
    assert f"rule {rule}" in out
    assert message in out
    assert not (tmp_path / "unused.db").exists()  # refused before touching the registry


def run(*args: str, url: str, cwd: Path) -> "subprocess.Popen[str]":
    env = {**os.environ, "CREDENCE_DATABASE_URL": url, "COLUMNS": "400"}
    return subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
        [str(CREDENCE), *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(process: "subprocess.Popen[str]") -> str:
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    return stdout


def test_entry_point_upgrade_and_explain_json(built: Built, tmp_path: Path) -> None:
    """Two real processes, run side by side (each spends seconds importing)."""
    with built.engine.connect() as conn:
        top = conn.execute(
            select(Subject.id_number, Subject.id, ScoreInterval.score)
            .join(ScoreInterval, ScoreInterval.subject_id == Subject.id)
            .where(ScoreInterval.scheme == "suzhou-osmanthus", ScoreInterval.holds(built.day))
            .order_by(ScoreInterval.score.desc(), Subject.id_number)
            .limit(1)
        ).one()
    fresh = tmp_path / "fresh.db"
    work = tmp_path / "elsewhere"  # no connectors, no credence.db: nothing found by accident
    work.mkdir()
    running = [
        run("db", "upgrade", url=f"sqlite:///{fresh}", cwd=work),
        run("explain", top.id_number, "--json", url=built.url, cwd=work),
    ]
    upgraded, top_json = (finished(p) for p in running)

    assert "newest migration" in upgraded
    assert not (work / "credence.db").exists()
    upgraded_store = make_engine(f"sqlite:///{fresh}")
    with upgraded_store.connect() as conn:
        assert conn.execute(select(Subject.id)).all() == []  # the schema is there, empty
    upgraded_store.dispose()

    explained = json.loads(top_json)
    assert set(explained) == {"subject_id", "as_of", "schemes", "listings"}
    assert explained["subject_id"] == str(top.id)  # the internal id, not the ID number
    assert top.id_number not in top_json
    assert date.fromisoformat(explained["as_of"]) == today()
    suzhou = next(s for s in explained["schemes"] if s["scheme"] == "suzhou-osmanthus")
    assert set(suzhou) == {f.name for f in fields(SchemeExplanation)}
    assert suzhou["score"] == top.score
    assert suzhou["lines"]
    for line in suzhou["lines"]:
        assert set(line) == {f.name for f in fields(Line)}
        assert isinstance(line["points"], int)
        assert isinstance(line["score_without"], int)
        assert line["legal_basis"]
        assert line["source"]
        uuid.UUID(line["record_id"])
    assert suzhou["base"] + sum(line["points"] for line in suzhou["lines"]) == suzhou["score"]


@pytest.mark.parametrize("engine_name", ["duckdb", "store"])
def test_a_dry_run_summarises_and_writes_nothing(built: Built, engine_name: str) -> None:
    def stored() -> list[tuple[object, ...]]:
        with built.engine.connect() as conn:
            held = select(ScoreInterval.id, ScoreInterval.derived_at).where(ScoreInterval.holds(built.day))
            return [tuple(r) for r in conn.execute(held.order_by(ScoreInterval.id))]

    before = stored()
    out = flat(invoke("score", "--engine", engine_name, "--dry-run"))
    assert "dry run: nothing written" in out
    assert re.search(r"suzhou-osmanthus │ 1\.0 │ illustrative │ [1-9][\d,]* │ .*AAA", out), out
    assert stored() == before


def test_the_demo_runs_end_to_end_on_a_small_city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDENCE_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("CREDENCE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(console, "width", 400)
    get_settings.cache_clear()
    try:
        out = flat(invoke("demo", "--people", "400", "--feeds", str(tmp_path / "feeds")))
    finally:
        get_settings.cache_clear()
    steps = ("1. a synthetic city", "2. ingest", "3. statistics", "4. the transparency log", "5. three explanations")
    for step in (*steps, "the log is consistent", "Try next"):
        assert step in out
    assert (tmp_path / "data" / "log.key").stat().st_mode & 0o777 == 0o600  # the demo's own key, made once
    assert "counts people, not refused purchases" in out
    # each explanation is headed by a command that runs as printed, and the ID masked as the SPC publishes it
    assert re.search(r"credence explain --example (top|listed|bound|low): \d{10}\*{4}\w{4}", out)


def test_generate_counts_each_person_once_on_its_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The generator reports a running count; the bar ends at the people asked for, not their sum."""
    monkeypatch.setattr(console, "width", 400)
    out = invoke("generate", "--people", "2500", "--out", str(tmp_path / "feeds"))
    assert "2500/2500" in out, out
