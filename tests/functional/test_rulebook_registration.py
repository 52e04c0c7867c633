"""A published rulebook version is never edited: the registry keeps the SHA-256 of each version it
has scored with, refuses the same version with another text, and logs every version it takes."""

from datetime import UTC, datetime
from importlib.resources import files

import pytest
from sqlalchemy import Engine, select

from credence.exc import RulebookError
from credence.pipeline.rulebooks import register
from credence.rules.loader import group, load_text, shipped
from credence.store.orm import Event, Rulebook

NOW = datetime(2026, 11, 27, 4, tzinfo=UTC)
SUZHOU = (files("credence.rules.rulebooks") / "suzhou-osmanthus" / "1.0.yaml").read_text("utf-8")


def versions(engine: Engine) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        return {
            (r.scheme, r.version): r.sha256
            for r in conn.execute(select(Rulebook.scheme, Rulebook.version, Rulebook.sha256))
        }


def loaded_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(Event.seq).where(Event.tag == "rulebook.loaded")).all())


def test_each_version_is_registered_once_with_an_event(engine: Engine) -> None:
    books = group(shipped())
    with engine.begin() as conn:
        assert register(conn, books, now=NOW) == 4
    with engine.begin() as conn:
        assert register(conn, books, now=NOW) == 0  # the same texts again: nothing new
    assert set(versions(engine)) == {
        ("suzhou-osmanthus", "1.0"),
        ("rongcheng-credit", "1.0"),
        ("national-defaulters", "2017"),
        ("civil-aviation-bans", "2018"),
    }
    assert loaded_events(engine) == 4


def test_an_edited_published_version_is_refused_and_a_new_version_taken(engine: Engine) -> None:
    with engine.begin() as conn:
        register(conn, group(shipped()), now=NOW)
    edited = SUZHOU.replace("points: -3", "points: -4")
    refused = r"edited\.yaml: suzhou-osmanthus version 1\.0 is illustrative"
    with pytest.raises(RulebookError, match=refused), engine.begin() as conn:
        register(conn, group([load_text(edited, file="edited.yaml")]), now=NOW)
    newer = edited.replace('version: "1.0"', 'version: "1.1"').replace("2020-01-01", "2027-01-01")
    with engine.begin() as conn:
        assert (
            register(conn, group([load_text(SUZHOU, file="1.0.yaml"), load_text(newer, file="1.1.yaml")]), now=NOW) == 1
        )
    assert ("suzhou-osmanthus", "1.1") in versions(engine)


def test_a_draft_may_change_and_each_change_is_logged(engine: Engine) -> None:
    draft = SUZHOU.replace("status: illustrative", "status: draft").replace('version: "1.0"', 'version: "2.0-draft"')
    with engine.begin() as conn:
        register(conn, group([load_text(draft, file="draft.yaml")]), now=NOW)
    before = versions(engine)[("suzhou-osmanthus", "2.0-draft")]
    with engine.begin() as conn:
        changed = draft.replace("points: -3", "points: -4")
        assert register(conn, group([load_text(changed, file="draft.yaml")]), now=NOW) == 1
    assert versions(engine)[("suzhou-osmanthus", "2.0-draft")] != before
    assert loaded_events(engine) == 2
