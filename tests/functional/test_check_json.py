"""``credence check --json`` prints the library's ``Decision`` whole, through the installed entry point."""

import json
import os
import subprocess
import sys
import uuid
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from credence.screening.check import Decision
from credence.store.orm import Listing, Subject
from tests.common.feeds import listed_debtor, person_id

CREDENCE = Path(sys.executable).parent / "credence"
DEBTOR = person_id(date(1981, 3, 9), seq=411)
STRANGER = person_id(date(1990, 1, 1), seq=5)
AT = "2026-01-10T12:00+08:00"
FIELDS = {f.name for f in fields(Decision)}


@pytest.fixture
def listed(engine: Engine, tmp_path: Path) -> Engine:
    listed_debtor(engine, tmp_path, DEBTOR)
    return engine


def check_json(engine: Engine, id_number: str) -> dict[str, Any]:
    env = {**os.environ, "CREDENCE_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    done = subprocess.run(  # noqa: S603 - our own entry point, fixed arguments
        [str(CREDENCE), "check", id_number, "flight", "--at", AT, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found: dict[str, Any] = json.loads(done.stdout)  # stdout is the JSON and nothing else
    return found


def test_a_listed_subject_is_restricted_with_every_field(listed: Engine) -> None:
    with listed.connect() as conn:
        listing = conn.execute(
            select(Listing.id, Listing.case_number, Listing.court)
            .join(Subject, Subject.id == Listing.subject_id)
            .where(Subject.id_number == DEBTOR)
        ).one()
    decision = check_json(listed, DEBTOR)
    assert set(decision) == FIELDS
    assert decision["outcome"] == "restricted"
    assert decision["action"] == "flight"
    assert uuid.UUID(decision["reference"])
    assert decision["measure"] == "no-flights"
    assert decision["measure_title"] == "No air travel"
    assert decision["list_id"] == "dishonest-judgment-defaulters"
    assert decision["listing_id"] == str(listing.id)
    assert "Restricting High Consumption" in decision["legal_basis"]
    assert decision["appeal"] == f"{listing.court}, case {listing.case_number}"
    assert decision["exemption"] is None
    assert decision["notices"] == []
    assert decision["notice_legal_bases"] == []
    assert decision["rewards"] == []


def test_an_unlisted_subject_is_allowed_with_every_field(listed: Engine) -> None:
    decision = check_json(listed, STRANGER)
    assert set(decision) == FIELDS
    reference = decision.pop("reference")
    assert uuid.UUID(reference)
    assert decision == {
        "outcome": "allowed",
        "action": "flight",
        "measure": None,
        "measure_title": None,
        "list_id": None,
        "listing_id": None,
        "legal_basis": None,
        "appeal": None,
        "exemption": None,
        "notices": [],
        "notice_legal_bases": [],
        "rewards": [],
    }
