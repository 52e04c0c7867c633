"""What a newcomer meets: the demo's "Try next" lines run as printed, piped output keeps its cells
whole, the report's chart reads without colour, ``score --engine store`` fills its summary,
``--version``, ``explain --example`` and ``demo --fresh`` on PostgreSQL.

The demo and the commands run as the installed entry point (``.venv/bin/credence``) in real
processes, from the repository root as ``make demo`` runs them, with stdout a pipe.
"""

import importlib.metadata
import json
import os
import re
import shlex
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

import credence
from credence.cli import app
from credence.cli.context import today
from credence.settings import get_settings
from credence.store.db import make_engine
from credence.store.orm import Listing, Record, ScoreInterval, Subject

ROOT = Path(__file__).resolve().parents[2]
CREDENCE = Path(sys.executable).parent / "credence"
PG_ADMIN = os.environ.get("CREDENCE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def run(argv: list[str], *, url: str) -> "subprocess.CompletedProcess[str]":
    """A command as a shell in the repository runs it: stdout a pipe, no COLUMNS."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "CREDENCE_DEBUG")}
    return subprocess.run(  # noqa: S603 - our own entry point
        argv, cwd=ROOT, env={**env, "CREDENCE_DATABASE_URL": url}, capture_output=True, text=True, timeout=600
    )


def ok(result: "subprocess.CompletedProcess[str]") -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


@dataclass(frozen=True)
class City:
    url: str
    out: str  # what `credence demo` printed
    engine: Engine


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    tmp = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{tmp / 'demo.db'}"
    out = ok(run([str(CREDENCE), "demo", "--people", "300", "--feeds", str(tmp / "feeds")], url=url))
    engine = make_engine(url)
    yield City(url=url, out=out, engine=engine)
    engine.dispose()


def try_next(out: str) -> list[str]:
    lines = out[out.index("Try next") :].splitlines()[1:]
    return [line.strip() for line in lines if line.strip()]


def test_every_try_next_line_runs_as_printed(city: City) -> None:
    assert "<ID>" not in city.out
    assert "the log is consistent" in city.out  # signed, cosigned by the demo's witness, verified
    assert "synthetic city" in city.out  # the full ID numbers shown are generated, and it says so
    lines = try_next(city.out)
    commands = [shlex.split(line, comments=True) for line in lines]
    assert {argv[1] for argv in commands} >= {"explain", "check", "score", "ingest", "report", "rulebook"}
    assert any("--rulebook" in argv for argv in commands)
    for line, argv in zip(lines, commands, strict=True):
        assert argv[0] == ".venv/bin/credence", line
        out = ok(run(argv, url=city.url))
        # a check line says what it will answer; it must
        if (said := re.search(r": (restricted|allowed)$", line)) is not None:
            assert out.startswith(said.group(1)), (line, out)


def test_piped_output_keeps_long_cells_whole(city: City) -> None:
    report = ok(run([str(CREDENCE), "report"], url=city.url))
    explained = ok(run([str(CREDENCE), "explain", "--example", "low"], url=city.url))
    as_json = ok(run([str(CREDENCE), "explain", "--example", "low", "--json"], url=city.url))
    for out in (report, explained, city.out):
        assert "…" not in out
    day = today()
    assert f"restricted from flights on {day}" in report
    assert f"restricted from trains on {day}" in report
    found = json.loads(as_json)
    assert found["schemes"]
    for s in found["schemes"]:
        # the table's title, and each explanation line as one row with all its cells on one text line
        title = f"{s['title']} v{s['version']} ({s['status']}): {s['score']} {s['grade'] or ''} (base {s['base']})"
        assert title in explained
        for line in s["lines"]:
            points = f"{line['points']:+d}" + (" (cap)" if line["capped"] else "")
            cells = [line["valid_date"], f"{line['source']}/{line['source_record_id']}", line["rule"], points]
            cells += [str(line["score_without"]), line["expires_on"] or "-", line["legal_basis"]]
            row = re.search(r"^│ " + r" +│ ".join(re.escape(c) for c in cells) + r" +│$", explained, re.M)
            assert row is not None, (cells, explained)
    assert max(len(line) for line in explained.splitlines()) > 80  # what Rich used to wrap or cut at 80 columns
    # rules stay a heading's width, not the pipe's
    rules = [line for line in city.out.splitlines() if line.startswith("─")]
    assert rules
    assert all(len(line) <= 100 for line in rules)


def test_the_report_chart_reads_the_same_without_colour(city: City) -> None:
    report = ok(run([str(CREDENCE), "report"], url=city.url))
    assert "\x1b[" not in report  # piped: no colour at all
    assert "(blue)" not in report
    assert "(red)" not in report
    figures = {
        m["year"]: (m["listed"], m["flights"])
        for m in re.finditer(
            r"^│ (?P<year>\d{4}) +│ (?P<listed>[\d,]+) +│ [\d,]+ +│ (?P<flights>[\d,]+) +│ [\d,]+ +│$", report, re.M
        )
    }
    assert figures
    bars = re.findall(
        r"^│ (\d{4}) +│ listed +[^\d│]*?([\d,]+) +│\n│ +│ barred from flights +[^\d│]*?([\d,]+) +│$", report, re.M
    )
    assert {year: (listed, flights) for year, listed, flights in bars} == figures


def test_score_with_the_store_engine_fills_its_summary(city: City) -> None:
    out = ok(run([str(CREDENCE), "score", "--engine", "store"], url=city.url))
    scored_as_of = re.search(r"scored as of (\d{4}-\d{2}-\d{2})", out)
    assert scored_as_of, out
    held = ScoreInterval.holds(date.fromisoformat(scored_as_of[1]))  # the day the run scored for
    with city.engine.connect() as conn:
        stored: dict[str, Counter[str]] = {}
        for scheme, grade, n in conn.execute(
            select(ScoreInterval.scheme, ScoreInterval.grade, func.count())
            .where(held)
            .group_by(ScoreInterval.scheme, ScoreInterval.grade)
        ):
            stored.setdefault(scheme, Counter())[str(grade)] = n
    assert set(stored) >= {"suzhou-osmanthus", "rongcheng-credit"}
    for scheme, grades in stored.items():
        row = re.search(rf"│ {scheme} +│ [\w.]+ +│ \w+ +│ ([\d,]+) +│ ([^│]+?) +│", out)
        assert row is not None, out
        assert int(row.group(1).replace(",", "")) == grades.total()
        shown = dict(part.rsplit(" ", 1) for part in row.group(2).split(", "))
        assert {g: int(n.replace(",", "")) for g, n in shown.items()} == grades


def test_explain_example_picks_the_subject_it_names(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDENCE_DATABASE_URL", city.url)
    get_settings.cache_clear()
    day = today()
    with city.engine.connect() as conn:
        top = conn.execute(
            select(ScoreInterval.subject_id)
            .join(Subject, Subject.id == ScoreInterval.subject_id)
            .where(ScoreInterval.scheme == "suzhou-osmanthus", ScoreInterval.holds(day))
            .order_by(ScoreInterval.score.desc(), Subject.id_number)
            .limit(1)
        ).scalar_one()
        bound = set(
            conn.execute(
                select(Listing.subject_id).where(
                    Listing.role != "subject", Listing.start_date <= day, Listing.end_date.is_(None)
                )
            ).scalars()
        )
    try:
        picked_top = CliRunner().invoke(app, ["explain", "--example", "top", "--json"])
        picked_bound = CliRunner().invoke(app, ["explain", "--example", "bound", "--json"])
    finally:
        get_settings.cache_clear()
    assert picked_top.exit_code == 0, picked_top.output
    assert f'"subject_id": "{top}"' in picked_top.stdout
    assert bound, "the 300-person city has a person bound by an organisation's listing"
    assert picked_bound.exit_code == 0, picked_bound.output
    assert any(f'"subject_id": "{b}"' in picked_bound.stdout for b in bound)


def test_explain_example_in_an_empty_registry_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDENCE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["explain", "--example", "listed"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert (
        result.stderr
        == "error: --example listed: the registry has no person listed today as the subject of a listing\n"
    )


def test_version() -> None:
    out = ok(run([str(CREDENCE), "--version"], url="sqlite:///unused.db"))
    assert out == f"credence {credence.__version__}\n"
    assert credence.__version__ == importlib.metadata.version("credence")


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database (not even migrated), dropped afterwards."""
    name = f"credence_demo_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as err:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is unreachable in CI: {err}")
        pytest.skip(f"PostgreSQL unreachable: {err}")
    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.postgres
def test_demo_fresh_on_postgres_starts_on_an_empty_database_and_refuses_a_full_one(
    empty_pg_url: str, tmp_path: Path
) -> None:
    demo = [str(CREDENCE), "demo", "--people", "300", "--feeds", str(tmp_path / "feeds")]
    out = ok(run(demo, url=empty_pg_url))
    assert "Try next" in out
    engine = make_engine(empty_pg_url)
    try:
        with engine.connect() as conn:
            records = conn.execute(select(func.count()).select_from(Record)).scalar_one()
        assert records > 0

        again = run(demo, url=empty_pg_url)
        assert again.returncode == 2
        assert "Traceback" not in again.stdout + again.stderr
        assert again.stdout == ""  # refused before generating anything
        (line,) = again.stderr.splitlines()
        assert line.startswith("error: demo --fresh: the registry postgresql://")
        assert "already holds records" in line
        assert "deletes only an embedded SQLite registry" in line
        assert "--no-fresh" in line
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(Record)).scalar_one() == records
    finally:
        engine.dispose()


def run_line(line: str, env: dict[str, str]) -> str:
    return subprocess.run(  # noqa: S603
        shlex.split(line), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout


def test_demo_serve_prints_a_key_and_curl_lines_that_answer_as_they_say(tmp_path: Path) -> None:
    """``make demo`` runs ``demo --serve``: after the city, a demo key and curl lines for a listed
    and an unlisted resident, then the gate itself; each line answers as its comment says, and
    the printed ``credence inquiries`` line shows the check."""
    import signal
    import time

    import httpx

    from tests.common.gate import free_port
    from tests.common.mail import mails

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "CREDENCE_DEBUG")}
    env["CREDENCE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.db'}"
    env["CREDENCE_DATA_DIR"] = str(tmp_path / "data")
    argv = [
        str(CREDENCE),
        "demo",
        "--people",
        "300",
        "--feeds",
        str(tmp_path / "feeds"),
        "--serve",
        "--port",
        str(port),
    ]
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        # a session of its own, as a terminal's: the worker and the mail catcher share its group
        process = subprocess.Popen(  # noqa: S603
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        printed = log.read_text()
        assert f"http://127.0.0.1:{port}" in printed
        curls = re.findall(r"^  # (.*)\n  (curl .*)$", printed, re.MULTILINE)
        assert [why for why, _ in curls] == ["on a list today: restricted", "on no list: allowed"], printed
        for why, line in curls:
            done = subprocess.run(shlex.split(line), capture_output=True, text=True, timeout=30, check=True)  # noqa: S603
            assert json.loads(done.stdout)["decision"] == why.rsplit(" ", 1)[1]
        asked = re.search(r"^  # then, who asked .*\n  (\S+credence inquiries \S+)$", printed, re.MULTILINE)
        assert asked, printed
        told = re.search(r"^  (\S+credence notices list \S+)   #", printed, re.MULTILINE)
        assert told, printed
        assert f"mails in {tmp_path / 'data' / 'mail'}/new" in printed
        # the log's lines run as printed: an outsider verifies the store, a witness cosigns over HTTP
        verify = re.search(r"^  (\S+credence audit verify .*)$", printed, re.MULTILINE)
        assert verify, printed
        assert "the log is consistent" in run_line(verify[1], env)
        witness = re.search(r"^  (\S+credence audit witness .* --once)$", printed, re.MULTILINE)
        assert witness, printed
        assert "cosigned credence.local/log at size" in run_line(witness[1], env)
        pages = re.search(r"^The pages: (\S+)/ ", printed, re.MULTILINE)
        assert pages, printed
        assert httpx.get(f"{pages[1]}/record/statistics", timeout=30).status_code == 200
        assert re.search(r"^The portal: at \S+/sign-in, sign in as the listed resident \S+;", printed, re.MULTILINE)
        officer = re.search(
            r"^The officers' console: at \S+/officers/sign-in, sign in as (\S+) ", printed, re.MULTILINE
        )
        assert officer, printed
        code_asked = httpx.post(f"{pages[1]}/v1/officers/sign-in/code", json={"name": officer[1]}, timeout=30)
        assert code_asked.status_code == 202
        while not any(officer[1] in m.to for m in mails(tmp_path / "data" / "mail")):  # the code reaches the catcher
            assert time.monotonic() < deadline + 60, printed
            time.sleep(0.5)
        while "delivered" not in (notices := run_line(told[1], env)):  # the worker is at work
            assert time.monotonic() < deadline + 300, notices
            time.sleep(1)
        assert any((tmp_path / "data" / "mail" / "new").iterdir())
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # Ctrl-C in a terminal: the gate, the worker, the catcher
        process.wait(timeout=30)
    # the gate recorded the listed resident's check; the printed line shows it
    shown = run_line(asked[1], env)
    assert "demo-airline-and-railway" in shown
    assert "restricted" in shown
