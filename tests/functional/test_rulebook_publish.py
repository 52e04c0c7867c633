"""``credence rulebook publish``: a draft is published only when it passes the legal profiles it
names, takes effect no earlier than today and has a what-if report of its very text; each
missing precondition is refused with its reason and leaves the file and the registry as they were."""

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from credence.audit import EventTag
from credence.store.orm import Event, Rulebook
from tests.common.gate import credence

ROOT = Path(__file__).resolve().parents[2]
SUZHOU = ROOT / "credence/rules/rulebooks/suzhou-osmanthus/1.0.yaml"
TODAY = "2026-12-02"


def draft(tmp: Path, *, effective: str = "2027-01-01", profiles: str = "[eu-ai-act, gdpr, fcra]") -> Path:
    """The Suzhou points as a draft of a scheme of one's own (as ``credence demo`` writes one)."""
    text = SUZHOU.read_text("utf-8")
    body = text[text.index("\nscheme:") + 1 :]
    for field, value in (
        ("scheme", "my-city"),
        ("status", "draft"),
        ("effective_from", effective),
        ("profiles", profiles),
    ):
        body, count = re.subn(rf"^{field}: .*$", f"{field}: {value}", body, count=1, flags=re.MULTILINE)
        assert count == 1, field
    path = tmp / "my-city.yaml"
    path.write_text("# my city's points, a draft\n" + body, encoding="utf-8")
    return path


def report_of(engine: Engine, path: Path) -> Path:
    made = credence(engine, "rulebook", "simulate", str(path), "--as-of", TODAY, "--json")
    found = path.with_suffix(".what-if.json")
    found.write_text(made.stdout, encoding="utf-8")
    return found


def publish(engine: Engine, path: Path, report: Path) -> Any:
    return credence(engine, "rulebook", "publish", str(path), "--report", str(report), "--today", TODAY, check=False)


def registered(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Rulebook.scheme, Rulebook.status, Rulebook.sha256).where(Rulebook.scheme == "my-city")
        )
        return [tuple(r) for r in rows]


def published_events(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        found = conn.execute(select(Event.data).where(Event.tag == EventTag.RULEBOOK_PUBLISHED))
        return [dict(d) for d in found.scalars()]


def test_a_lawful_simulated_draft_is_published_with_its_text_digests_and_what_if(
    engine: Engine, tmp_path: Path
) -> None:
    path = draft(tmp_path)
    report = report_of(engine, path)
    original = path.read_text("utf-8")
    draft_sha = hashlib.sha256(original.encode()).hexdigest()
    assert json.loads(report.read_text())["draft_sha256"] == draft_sha
    done = publish(engine, path, report)
    assert done.returncode == 0, done.stdout + done.stderr
    text = path.read_text("utf-8")
    assert text == original.replace("\nstatus: draft\n", "\nstatus: published\n")  # that line alone changed
    sha = hashlib.sha256(text.encode()).hexdigest()
    assert registered(engine) == [("my-city", "published", sha)]
    (event,) = published_events(engine)
    assert event["scheme"] == "my-city"
    assert event["version"] == "1.0"
    assert event["sha256"] == sha
    assert event["draft_sha256"] == draft_sha
    assert event["report_sha256"] == hashlib.sha256(report.read_bytes()).hexdigest()
    assert event["text"] == text
    assert event["what_if"]["as_of"] == TODAY
    assert "subjects" in event["what_if"]
    # published is final: the same command again is refused, and the file stays as it is
    again = publish(engine, path, report)
    assert again.returncode == 2
    assert "is published, not a draft" in again.stdout + again.stderr
    assert path.read_text("utf-8") == text


def _refused(engine: Engine, path: Path, report: Path, reason: str) -> None:
    before = path.read_bytes()
    done = publish(engine, path, report)
    assert done.returncode == 2, done.stdout
    assert reason in " ".join((done.stdout + done.stderr).split())
    assert path.read_bytes() == before
    assert registered(engine) == []
    assert published_events(engine) == []


def test_a_draft_that_fails_a_profile_it_names_is_refused_with_each_violation(engine: Engine, tmp_path: Path) -> None:
    path = draft(tmp_path, profiles="[eu-ai-act, credence]")
    report = report_of(engine, path)
    _refused(engine, path, report, "not lawful under its profiles, 8 violation(s): rulebook: credence/legal-basis")
    _refused(engine, path, report, "rule traffic-offence: credence/legal-basis (Credence DESIGN P5)")


def test_a_draft_that_names_no_profile_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = draft(tmp_path, profiles="[]")
    _refused(engine, path, report_of(engine, path), "names no legal profile")


def test_a_draft_that_would_reach_back_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = draft(tmp_path, effective="2026-01-01")
    _refused(engine, path, report_of(engine, path), "effective_from 2026-01-01 is in the past (today is 2026-12-02)")


def test_a_report_of_another_text_or_no_report_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = draft(tmp_path)
    report = report_of(engine, path)
    path.write_text(path.read_text("utf-8").replace("title: ", "title: edited "), encoding="utf-8")
    _refused(engine, path, report, "the what-if report is of another text")
    garbage = tmp_path / "notes.json"
    garbage.write_text('{"subjects": 3}', encoding="utf-8")
    _refused(engine, path, garbage, "not a what-if report")
    garbage.write_text("not json", encoding="utf-8")
    _refused(engine, path, garbage, "not a what-if report")


@pytest.mark.parametrize("status", ["published", "illustrative"])
def test_only_a_draft_is_published(engine: Engine, tmp_path: Path, status: str) -> None:
    path = draft(tmp_path)
    report = report_of(engine, path)
    path.write_text(path.read_text("utf-8").replace("status: draft", f"status: {status}"), encoding="utf-8")
    _refused(engine, path, report, f"is {status}, not a draft")
