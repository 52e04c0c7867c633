"""The CLI's read commands: ``explain --rulebook`` end to end, and the reads they call.

``explain ID --rulebook PATH`` explains a subject under a rulebook from the command line as
``score --rulebook`` scores under it: the registry is the one ``credence demo`` builds, the
rulebook the draft it writes (a copy of the Suzhou points under the scheme ``my-city``), and each
command a real ``credence`` process. The reads the commands no longer make themselves (the
quarantine listing, whether a registry holds records, the example subjects) run on SQLite and
PostgreSQL.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select
from typer.testing import CliRunner

from credence import resolve
from credence.cli import app
from credence.cli.context import today
from credence.ingest.quarantine import Held, held
from credence.resolve import picks
from credence.settings import get_settings
from credence.store.db import make_engine
from credence.store.orm import Listing, Quarantine, ScoreInterval, Subject
from credence.store.registry import holds_records

ROOT = Path(__file__).resolve().parents[2]
CREDENCE = Path(sys.executable).parent / "credence"
PERSON = "110101199003070011"  # a resident ID with a valid check digit; no registry holds it
DRAFT = "my-city"  # the scheme of the rulebook `credence demo` writes
COPIED = "suzhou-osmanthus"  # the shipped scheme it copies


def start(*args: str, url: str) -> "subprocess.Popen[str]":
    """The installed entry point as a shell in the repository runs it (no COLUMNS: piped output)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "CREDENCE_DEBUG")}
    return subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
        [str(CREDENCE), *args],
        cwd=ROOT,
        env={**env, "CREDENCE_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: "subprocess.Popen[str]") -> str:
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stdout + stderr
    assert "Traceback" not in stderr
    return stdout


@dataclass(frozen=True)
class City:
    url: str
    rulebook: Path  # the draft the demo wrote
    engine: Engine


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    tmp = tmp_path_factory.mktemp("reads")
    url = f"sqlite:///{tmp / 'demo.db'}"
    finished(start("demo", "--people", "300", "--feeds", str(tmp / "feeds"), url=url))
    rulebook = tmp / "my-rules.yaml"
    assert rulebook.is_file()  # written beside the feeds
    assert f"credence explain ID --rulebook {rulebook}" in rulebook.read_text("utf-8")  # its header says how
    engine = make_engine(url)
    yield City(url=url, rulebook=rulebook, engine=engine)
    engine.dispose()


def by_scheme(explained: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["scheme"]: s for s in explained["schemes"]}


def test_explain_covers_an_outside_rulebook_as_score_scores_under_it(city: City) -> None:
    with city.engine.connect() as conn:
        subject = picks.highest_scored(conn, COPIED, day=today())
        assert subject is not None
        number = resolve.number_of(conn, subject)
    assert number is not None
    book = str(city.rulebook)
    running = [
        start("score", "--rulebook", book, "--dry-run", url=city.url),
        start("explain", number, "--json", url=city.url),
        start("explain", number, "--json", "--rulebook", book, url=city.url),
        start("explain", number, "--rulebook", book, url=city.url),
    ]
    scored, shipped_only, with_json, with_text = (finished(p) for p in running)

    assert DRAFT in scored  # the draft is scored under --dry-run ...
    assert "dry run: nothing written" in scored
    with city.engine.connect() as conn:  # ... and so nothing of it is stored
        assert conn.execute(select(func.count()).where(ScoreInterval.scheme == DRAFT)).scalar_one() == 0

    before, after = by_scheme(json.loads(shipped_only)), by_scheme(json.loads(with_json))
    assert DRAFT not in before
    assert set(after) == set(before) | {DRAFT}
    assert all(after[name] == before[name] for name in before)  # the shipped answers do not change
    draft, copied = after[DRAFT], after[COPIED]
    assert draft["status"] == "draft"
    assert draft["title"] == "My city's credit points (a draft)"
    assert draft["lines"]  # the top subject's score has reasons
    # the same rules as the Suzhou scheme: the same score, grade and lines, record by record
    same = ("version", "base", "score", "grade", "lines")
    assert {k: draft[k] for k in same} == {k: copied[k] for k in same}
    explained_on = date.fromisoformat(json.loads(with_json)["as_of"])  # the day the explain run asked about
    with city.engine.connect() as conn:
        stored = conn.execute(
            select(ScoreInterval.score, ScoreInterval.grade).where(
                ScoreInterval.subject_id == subject, ScoreInterval.scheme == COPIED, ScoreInterval.holds(explained_on)
            )
        ).one()
    assert (draft["score"], draft["grade"]) == (stored.score, stored.grade)

    text = " ".join(with_text.split())
    assert f"My city's credit points (a draft) v{draft['version']} (draft): {draft['score']}" in text
    for line in draft["lines"]:
        assert line["rule"] in text
        assert f"{line['source']}/{line['source_record_id']}" in text


FOLDER = "folder"
BAD_RULEBOOKS: dict[str, str | bytes | None] = {  # None: no such file
    "missing": None,
    FOLDER: None,
    "YAML syntax error": "scheme: [\n",
    "not a mapping": "- scheme\n",
    "empty": "",
    "not UTF-8": b"scheme: \xc0\n",
}


@pytest.mark.parametrize("case", BAD_RULEBOOKS)
def test_a_bad_rulebook_is_the_one_line_score_gives(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = tmp_path / "registry.db"
    monkeypatch.setenv("CREDENCE_DATABASE_URL", f"sqlite:///{registry}")
    monkeypatch.delenv("CREDENCE_DEBUG", raising=False)
    path = tmp_path if case == FOLDER else tmp_path / "my-rules.yaml"
    content = BAD_RULEBOOKS[case]
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    get_settings.cache_clear()
    try:
        lines = []
        for args in (["score", "--rulebook", str(path), "--dry-run"], ["explain", PERSON, "--rulebook", str(path)]):
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 2, result.output
            assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
            lines.append(result.stderr.splitlines())
    finally:
        get_settings.cache_clear()
    score_says, explain_says = lines
    assert len(explain_says) == 1
    assert explain_says[0].startswith("error: ")
    assert str(path) in explain_says[0] or path.name in explain_says[0]
    assert explain_says == score_says
    assert not registry.exists()  # refused before the registry is opened


def test_the_example_picks_are_the_subjects_they_name(city: City) -> None:
    """Each pick is the person of lowest ID number among those it names, or None when there is none."""
    day = today()
    in_force = (Listing.start_date <= day) & (Listing.end_date.is_(None) | (Listing.end_date > day))
    people = select(Subject.id).where(Subject.kind == "person").order_by(Subject.id_number).limit(1)
    on_a_list = select(Listing.subject_id).where(in_force)
    as_subject = on_a_list.where(Listing.role == "subject")
    as_bound = on_a_list.where(Listing.role != "subject")
    with city.engine.connect() as conn:
        expected = {
            "listed": conn.execute(people.where(Subject.id.in_(as_subject))).scalar(),
            "bound": conn.execute(people.where(Subject.id.in_(as_bound))).scalar(),
            "free": conn.execute(people.where(Subject.id.not_in(on_a_list))).scalar(),
        }
        found = {
            "listed": picks.listed_person(conn, day=day),
            "bound": picks.bound_person(conn, day=day),
            "free": picks.unlisted_person(conn, day=day),
        }
        assert found == expected
        assert found["bound"] is not None  # the demo's city has an organisation listed with its representative
        assert found["free"] is not None

        held = (ScoreInterval.scheme == COPIED) & ScoreInterval.holds(day)
        best, worst = conn.execute(
            select(func.max(ScoreInterval.score), func.min(ScoreInterval.score)).where(held)
        ).one()
        scores = select(ScoreInterval.score).where(held)
        top, low = picks.highest_scored(conn, COPIED, day=day), picks.lowest_scored(conn, COPIED, day=day)
        assert conn.execute(scores.where(ScoreInterval.subject_id == top)).scalar_one() == best
        assert conn.execute(scores.where(ScoreInterval.subject_id == low)).scalar_one() == worst
        assert best > worst
        assert picks.highest_scored(conn, "no-such-scheme", day=day) is None
        assert holds_records(conn)


RECEIVED = datetime(2026, 3, 1, tzinfo=UTC)


def quarantined(source: str, line: int, *, replayed: bool = False) -> dict[str, Any]:
    return {
        "source_id": source,
        "file": f"{source}.csv",
        "line": line,
        "field": "id_number" if line % 2 else None,
        "reason": f"reason {line}",
        "raw": {"id_number": "110101199003070011", "name": "Zhang San"},
        "received_at": RECEIVED,
        "replayed_at": RECEIVED + timedelta(days=1) if replayed else None,
    }


def test_the_quarantine_listing_filters_orders_and_leaves_the_raw_row_out(engine: Engine) -> None:
    with engine.begin() as conn:
        assert not holds_records(conn)  # a migrated registry with its source catalogue holds no one's data
        conn.execute(
            insert(Quarantine),
            [
                quarantined("court", 2),
                quarantined("tax", 3),
                quarantined("court", 4, replayed=True),
                quarantined("court", 5),
            ],
        )
    with engine.connect() as conn:
        assert holds_records(conn)
        waiting = held(conn)
        assert [(q.source_id, q.line) for q in waiting] == [("court", 2), ("tax", 3), ("court", 5)]
        assert [q.id for q in waiting] == sorted(q.id for q in waiting)
        assert waiting[0] == Held(
            id=waiting[0].id,
            source_id="court",
            file="court.csv",
            line=2,
            field=None,
            reason="reason 2",
            replayed_at=None,
        )
        assert "raw" not in {f.name for f in fields(Held)}  # ID numbers and names stay in the store
        assert [q.line for q in held(conn, source="court")] == [2, 5]
        everything = held(conn, source="court", replayed=True)
        assert [q.line for q in everything] == [2, 4, 5]
        replayed_at = everything[1].replayed_at
        assert replayed_at is not None
        assert replayed_at.date() == date(2026, 3, 2)
        assert [q.line for q in held(conn, replayed=True, limit=2)] == [2, 3]
        assert held(conn, source="nobody") == []
