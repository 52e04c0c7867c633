"""Link, undo and relink in any order leave the derived state of never having linked (issue 11).

A tiny city (five residents) and a court export of two list decisions without ID numbers: one
that links by itself (李娜) and one that waits for a clerk (张伟, two residents of that name and
birthday). Hypothesis draws a sequence of officers' undos, clerks' matches and no-matches and
linkage runs weighing again; a model of which rows are linked says what each step must do (an
undo of a row not linked is refused, a second match changes nothing). After the sequence the
derived state (listings, score intervals, measures, exemptions) must equal that of a clean
registry that received only the rows finally linked, with their ID numbers, and nothing else.
Examples run on SQLite, each on a copy of one linked registry; one fixed sequence runs on both
stores, PostgreSQL included.
"""

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from credence import resolve
from credence.exc import CredenceError
from credence.pipeline import linkage as jobs
from credence.resolve import review
from credence.store.db import make_engine
from tests.common.feeds import SCHEMES, Registry
from tests.common.linkage import LI_NA, MAPPINGS, ZHANG_WEI, court_models, decision, export, identified, proposals
from tests.common.linkage import register as register_residents
from tests.common.state import State, derived
from tests.functional.test_properties import PROPERTY

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
CASES = {"EXE-1": "(2026)苏05执101号", "EXE-2": "(2026)苏05执102号"}
ROWS = [
    decision(LI_NA, "EXE-1", case=CASES["EXE-1"]),  # links by itself
    decision(ZHANG_WEI, "EXE-2", case=CASES["EXE-2"], address="", phone=""),  # two 张伟: a clerk decides
]
Step = tuple[str, str]  # (what, row) ; row is "" for a linkage run
steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["undo", "match", "no_match"]), st.sampled_from(sorted(CASES))),
        st.just(("again", "")),
    ),
    max_size=6,
)


def linked_registry(engine: Engine, tmp: Path) -> Registry:
    """The residents registered, the export loaded and linked: EXE-1 applied, EXE-2 queued."""
    reg = Registry(engine, tmp, now=NOW)
    register_residents(reg)
    export(reg, ROWS)
    court_models(tmp / "models")
    linked, _ = jobs.link(engine, MAPPINGS, SCHEMES, models=tmp / "models", now=reg.tick(), as_of=reg.now.date())
    assert linked.proposed == {"court": {"auto": 1, "review": 1, "unlinked": 0}}
    return reg


def run(reg: Registry, sequence: list[Step]) -> dict[str, bool]:
    """Apply the steps, checking each against the model; returns which rows end linked."""
    linked = {"EXE-1": True, "EXE-2": False}
    sure = {"EXE-1": True, "EXE-2": False}  # applied by itself and never judged: no clerk judges it
    for what, row in sequence:
        now, day = reg.tick(), reg.now.date()
        if what == "again":
            jobs.link(reg.engine, MAPPINGS, SCHEMES, models=reg.tmp / "models", now=now, as_of=day, again=True)
            continue
        pair = proposals(reg.engine)[row].id
        if what == "undo":
            if not linked[row]:
                with pytest.raises(CredenceError, match="links nothing"):
                    jobs.undo(reg.engine, SCHEMES, pair, by="officer.zhao", reason="wrong", now=now, as_of=day)
                continue
            jobs.undo(reg.engine, SCHEMES, pair, by="officer.zhao", reason="wrong", now=now, as_of=day)
            linked[row] = sure[row] = False
            continue
        judgement = review.Judgement.MATCH if what == "match" else review.Judgement.NO_MATCH
        refused = "not review" if sure[row] else "resolve undo" if linked[row] and what == "no_match" else None
        if refused:
            with pytest.raises(CredenceError, match=refused):
                jobs.judge(reg.engine, MAPPINGS, SCHEMES, pair, judgement, by="clerk", now=now, as_of=day)
            continue
        jobs.judge(reg.engine, MAPPINGS, SCHEMES, pair, judgement, by="clerk", now=now, as_of=day)
        linked[row] = what == "match"
    return linked


def final_rows(reg: Registry, linked: dict[str, bool]) -> tuple[tuple[str, str], ...]:
    """(record id, ID number) of each row linked at the end, to the subject its pair names."""
    found = proposals(reg.engine)
    with reg.engine.connect() as conn:
        return tuple(
            (row, resolve.number_of(conn, found[row].subject_id) or "") for row, yes in sorted(linked.items()) if yes
        )


def never_linked(engine: Engine, tmp: Path, rows: tuple[tuple[str, str], ...]) -> State:
    """The derived state of a registry that only ever received ``rows`` with their ID numbers."""
    reg = Registry(engine, tmp, now=NOW)
    register_residents(reg)
    fed = [identified((number,), row, case=CASES[row]) for row, number in rows]
    if fed:
        reg.feed("court", fed)
    return derived(engine)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> tuple[Path, datetime]:
    """One linked SQLite registry (and its clock), copied for each example."""
    folder = tmp_path_factory.mktemp("linked")
    shutil.copy(sqlite_template, folder / "registry.db")
    engine = make_engine(f"sqlite:///{folder / 'registry.db'}")
    try:
        reg = linked_registry(engine, folder)
    finally:
        engine.dispose()
    return folder, reg.now


_clean: dict[tuple[tuple[str, str], ...], State] = {}  # by the rows finally linked: a few states in all


@settings(PROPERTY, max_examples=30)  # ~0.3 s an example: each runs on a copy of one linked registry
@given(sequence=steps)
def test_link_undo_and_relink_in_any_order_leave_the_state_of_never_having_linked(
    base: tuple[Path, datetime], sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, sequence: list[Step]
) -> None:
    linked, now = base
    folder = tmp_path_factory.mktemp("example")
    shutil.copy(linked / "registry.db", folder / "registry.db")
    shutil.copytree(linked / "models", folder / "models")
    engine = make_engine(f"sqlite:///{folder / 'registry.db'}")
    try:
        reg = Registry(engine, folder, now=now)
        rows = final_rows(reg, run(reg, sequence))
        got = derived(engine)
    finally:
        engine.dispose()
    if rows not in _clean:
        clean = tmp_path_factory.mktemp("clean")
        shutil.copy(sqlite_template, clean / "registry.db")
        other = make_engine(f"sqlite:///{clean / 'registry.db'}")
        try:
            _clean[rows] = never_linked(other, clean, rows)
        finally:
            other.dispose()
    assert got == _clean[rows], sequence


def test_one_sequence_on_both_stores(new_engine: Callable[[], Engine], tmp_path: Path) -> None:
    reg = linked_registry(new_engine(), tmp_path)
    sequence = [("undo", "EXE-1"), ("match", "EXE-2"), ("again", ""), ("match", "EXE-1"), ("undo", "EXE-2")]
    rows = final_rows(reg, run(reg, sequence))
    assert rows == (("EXE-1", LI_NA[0]),)
    clean = tmp_path / "clean"
    clean.mkdir()
    assert derived(reg.engine) == never_linked(new_engine(), clean, rows)
