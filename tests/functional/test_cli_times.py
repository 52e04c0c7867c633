"""Times on the command line are read one way for every flag, through the installed entry point.

A time without a zone (``check --at``, ``explain --known-at``) is legal time in Asia/Shanghai,
whatever the machine's zone; a time with a zone or offset is that instant; ``--as-of`` is the
calendar day as written. The registry: DEBTOR listed from 2025-06-01, the court's decision
recorded at 2025-06-01T08:00:01Z (16:00:01 in Shanghai). So at 12:00 on 1 June the registry did
not know of the listing if 12:00 is Shanghai time (04:00Z), and did if it were UTC or New York
time (12:00Z, 16:00Z): the answer tells which reading the CLI took.
"""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from credence.cli import app
from credence.settings import get_settings
from tests.common.feeds import listed_debtor, person_id
from tests.conftest import fresh_engine

CREDENCE = Path(sys.executable).parent / "credence"
DEBTOR = person_id(date(1981, 3, 9), seq=411)
NOON = "2025-06-01T12:00"  # 04:00Z read as Shanghai time: before the decision was recorded
AFTERNOON = "2025-06-01T16:30"  # 08:30Z read as Shanghai time: after it


def flat(text: str) -> str:
    """Output with Rich's wrapping and help boxes undone, for assertions on phrases."""
    return " ".join(re.sub("[│╭╮╰╯─]", " ", text).split())


@pytest.fixture
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """SQLite only: what is tested is how the CLI reads a flag, and each run starts a process
    (seconds); check() and explain() at an instant are tested on both stores elsewhere."""
    for engine in fresh_engine("sqlite", request, tmp_path):
        listed_debtor(engine, tmp_path, DEBTOR)
        yield engine.url.render_as_string(hide_password=False)


def credence(url: str, *args: str, tz: str = "America/New_York") -> str:
    """The installed entry point in a machine zone of ``tz``; its stdout (it must succeed)."""
    env = {k: v for k, v in os.environ.items() if k != "CREDENCE_DEBUG"}
    env.update(CREDENCE_DATABASE_URL=url, COLUMNS="400", TZ=tz)
    done = subprocess.run(  # noqa: S603 - our own entry point, fixed arguments
        [str(CREDENCE), *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def outcome(url: str, at: str, *, tz: str = "America/New_York") -> str:
    return flat(credence(url, "check", DEBTOR, "flight", "--at", at, tz=tz)).split(" ")[0]


def explained(url: str, known_at: str, *, tz: str = "America/New_York") -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        credence(url, "explain", DEBTOR, "--json", "--as-of", "2025-06-01", "--known-at", known_at, tz=tz)
    )
    return found


def test_check_at_reads_a_naive_time_as_shanghai_legal_time_and_a_zoned_one_as_given(url: str) -> None:
    assert outcome(url, NOON) == "allowed"  # 04:00Z: the decision was not yet known
    assert outcome(url, AFTERNOON) == "restricted"  # 08:30Z: it was
    assert outcome(url, f"{NOON}+00:00") == "restricted"  # the same wall time in UTC is after it


def test_explain_known_at_reads_times_as_check_at_does(url: str) -> None:
    assert explained(url, NOON)["listings"] == []
    listed = explained(url, f"{NOON}Z")["listings"]
    assert [(x["list_id"], x["start_date"]) for x in listed] == [("dishonest-judgment-defaulters", "2025-06-01")]


@pytest.mark.parametrize("tz", ["America/New_York", "UTC"])
def test_the_machines_time_zone_changes_no_answer(url: str, tz: str) -> None:
    """Read as the machine's local time, NOON would be after the decision in both zones."""
    assert outcome(url, NOON, tz=tz) == "allowed"
    found = explained(url, NOON, tz=tz)
    assert found["listings"] == []
    assert found["as_of"] == "2025-06-01"  # the calendar day as written, not shifted by a zone


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("CREDENCE_DATABASE_URL", f"sqlite:///{tmp_path / 'registry.db'}")
    monkeypatch.delenv("CREDENCE_DEBUG", raising=False)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


NAIVE = "ISO 8601; without a zone, Asia/Shanghai legal time (2026-03-01T08:00 = 2026-03-01T00:00Z)"


@pytest.mark.parametrize(
    ("command", "flag", "says"),
    [
        ("check", "--at TIME", NAIVE),
        ("explain", "--known-at TIME", NAIVE),
        ("explain", "--as-of DAY", "a calendar day, YYYY-MM-DD, the legal date in Asia/Shanghai"),
    ],
)
def test_each_time_flag_says_how_it_reads_a_time_in_its_help(
    runner: CliRunner, command: str, flag: str, says: str
) -> None:
    shown = flat(runner.invoke(app, [command, "--help"]).output)
    assert flag in shown, shown
    assert says in shown.split(flag, 1)[1].split(" --", 1)[0], shown


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["check", DEBTOR, "flight", "--at", "1 June"], "--at '1 June': expected an ISO 8601 time"),
        (["explain", DEBTOR, "--known-at", "2025-06-01T25:00"], "--known-at '2025-06-01T25:00': expected an ISO 8601"),
        (["explain", DEBTOR, "--as-of", "2025-06-01T10:00"], "--as-of '2025-06-01T10:00': expected a calendar day"),
        (
            ["check", DEBTOR, "flight", "--at", "9999-12-31T23:00-05:00"],
            "--at '9999-12-31T23:00-05:00': expected a time",
        ),
    ],
)
def test_a_malformed_time_is_one_line_naming_the_flag(runner: CliRunner, args: list[str], expected: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"error: {expected}"), result.stderr
