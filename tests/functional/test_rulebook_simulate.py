"""``credence rulebook simulate``: a draft against a small city, each change's effect known in
advance, asserted count by count; the JSON shape; and that the registry is left as it was.

The city (as of 2026-11-27, the records known since 2026-11-27T04:00Z):

- six Suzhou residents (320505, registered since 2019) born 2010, 2000, 1990, 1975, 1960, 1950;
  the ones born 2000 and 1975 have a traffic offence on 2026-06-01 (-3 for a year): four score
  100 (grade A) and two 97 (B);
- three Rongcheng residents (371082, registered since 2015, consent since 2020): one with two
  heroic acts (+30 each, 1,060, AAA: on the redlist, the deposit waiver), one with one (1,030,
  AA), one with none (1,000, A);
- two dishonest judgment defaulters from Beijing (no city scheme covers them): one listed on
  ground 1 from 2025-06-01 (no end date, in force), one on ground 2 from 2023-06-01 (two years:
  ended 2025-06-01).
"""

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, inspect, select, table
from typer.testing import CliRunner

from credence.cli import app
from credence.cli.context import console
from credence.exc import CredenceError
from credence.lists.measures import default_measures
from credence.pipeline import simulate
from credence.rules.loader import LoadedRulebook, load_text
from credence.settings import get_settings
from credence.store.orm import Subject
from tests.common.feeds import SCHEMES, Registry, person_id
from tests.conftest import fresh_engine

ROOT = Path(__file__).resolve().parents[2]
BOOKS = ROOT / "credence/rules/rulebooks"
AS_OF = date(2026, 11, 27)
SUZHOU = [person_id(date(year, 3, 1), seq=200 + i) for i, year in enumerate((2010, 2000, 1990, 1975, 1960, 1950))]
OFFENDERS = [SUZHOU[1], SUZHOU[3]]
RONGCHENG = [person_id(date(1983, 6, 1), region="371082", seq=300 + i) for i in range(3)]
HERO, BRAVE, CITIZEN = RONGCHENG
DEBTORS = [person_id(date(1980, 1, 1), region="110101", seq=400 + i) for i in range(2)]


@dataclass
class City:
    engine: Engine
    path: Path
    now: datetime
    ids: dict[str, uuid.UUID]  # ID number -> internal subject id


def build(engine: Engine, tmp: Path) -> City:
    reg = Registry(engine, tmp, now=datetime(2026, 11, 27, 4, tzinfo=UTC))
    resident = [
        {
            "id_number": p,
            "kind": "residence",
            "date": "2019-01-01",
            "attrs": {"region": "320505", "status": "registered"},
        }
        for p in SUZHOU
    ] + [
        {
            "id_number": p,
            "region": "371082",
            "kind": "residence",
            "date": "2015-03-01",
            "attrs": {"region": "371082", "status": "registered"},
        }
        for p in RONGCHENG
    ]
    reg.feed("police", resident, as_of=AS_OF)
    consent = {"scheme": "rongcheng-credit", "granted": True}
    reg.feed(
        "credit_office",
        [
            {"id_number": p, "region": "371082", "kind": "scheme_consent", "date": "2020-02-01", "attrs": consent}
            for p in RONGCHENG
        ]
        + [
            {"id_number": who, "region": "371082", "kind": "heroic_act", "date": day, "attrs": {"citation": "rescue"}}
            for who, day in ((HERO, "2026-10-01"), (HERO, "2026-11-01"), (BRAVE, "2026-11-01"))
        ],
        as_of=AS_OF,
    )
    fine = {"offence_code": "1345", "fine_yuan": 200}
    reg.feed(
        "police",
        [{"id_number": p, "kind": "traffic_offence", "date": "2026-06-01", "attrs": fine} for p in OFFENDERS],
        as_of=AS_OF,
    )
    court = "Beijing No. 1 Intermediate People's Court"
    reg.feed(
        "court",
        [
            {
                "id_number": who,
                "region": "",
                "kind": "defaulter_listing_decision",
                "date": day,
                "attrs": {"case_number": f"(2023)京01执{n}号", "court": court, "ground": ground},
            }
            for n, (who, day, ground) in enumerate(((DEBTORS[0], "2025-06-01", 1), (DEBTORS[1], "2023-06-01", 2)))
        ],
        as_of=AS_OF,
    )
    with engine.connect() as conn:
        ids = dict(conn.execute(select(Subject.id_number, Subject.id)).all())
    return City(engine=engine, path=tmp, now=reg.tick(), ids=ids)


@pytest.fixture
def city(engine: Engine, tmp_path: Path) -> City:
    return build(engine, tmp_path)


@pytest.fixture
def sqlite_city(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[City]:
    for made in fresh_engine("sqlite", request, tmp_path):
        yield build(made, tmp_path)


def draft(scheme: str, version: str, *edits: tuple[str, str], extra: str = "") -> LoadedRulebook:
    """The shipped rulebook of ``scheme`` as a draft ``version``, each (old, new) edit made once."""
    text = (BOOKS / scheme / f"{version.split('-')[0]}.yaml").read_text("utf-8")
    text = text.replace(f'version: "{version.split("-")[0]}"', f'version: "{version}"', 1)
    text = text.replace("status: illustrative", "status: draft", 1).replace("status: published", "status: draft", 1)
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return load_text(text + extra, file=f"{scheme}-{version}.yaml")


def run(city: City, book: LoadedRulebook, **kwargs: Any) -> simulate.Simulation:
    return simulate.simulate(city.engine, SCHEMES, book, against=None, as_of=AS_OF, now=city.now, **kwargs)


RAISED = ("    points: -3\n    cap: {max: 15, per: year}", "    points: -6\n    cap: {max: 15, per: year}")


def test_raising_one_deduction_moves_exactly_the_subjects_it_applies_to(city: City) -> None:
    counts = _state(city.engine)
    found = run(city, draft("suzhou-osmanthus", "1.0-draft", RAISED))
    assert _state(city.engine) == counts  # on either store, not a row more (no rulebook registered, no event)
    assert (found.scheme, found.draft, found.against, found.draft_status) == (
        "suzhou-osmanthus",
        "1.0-draft",
        "1.0",
        "draft",
    )
    assert (found.subjects, found.score_changed, found.grade_changed, found.listing_changed) == (6, 2, 0, 0)
    assert (found.newly_scored, found.no_longer_scored) == (0, 0)
    assert found.grades == []
    assert found.measures == []
    assert found.histogram == [simulate.Bin(low=-3, high=-3, subjects=2)]
    assert {m.subject_id for m in found.movers} == {str(city.ids[p]) for p in OFFENDERS}
    for mover in found.movers:
        assert (mover.score_before, mover.score_after, mover.change) == (97, 94, -3)
        assert (mover.grade_before, mover.grade_after) == ("B", "B")
        assert mover.lines == [simulate.LineChange(rule="traffic-offence", before=-3, after=-6)]
    # the offenders were born in 2000 (26) and 1975 (51), and live in 320505
    bands = {g.group: (g.subjects, g.score) for g in found.age_bands}
    assert bands == {"<18": (1, 0), "18-29": (1, 1), "30-44": (1, 0), "45-59": (1, 1), "60+": (2, 0)}
    assert [(g.group, g.subjects, g.score, g.grade, g.listing) for g in found.districts] == [("320505", 6, 2, 0, 0)]


@pytest.mark.parametrize(("grades", "listed"), [("[AAA]", 0), ("[A]", 4)])
def test_a_redlist_lists_exactly_the_subjects_in_its_grades(city: City, grades: str, listed: int) -> None:
    """Suzhou gains a redlist: on AAA, which nobody here reaches, it lists nobody and nothing
    changes; on A, it lists the four residents at 100 and no score or grade moves."""
    extra = (
        "redlist:\n  id: suzhou-exemplary\n  title: Exemplary residents\n"
        f"  grades: {grades}\n  legal_basis: none published\n"
    )
    found = run(city, draft("suzhou-osmanthus", "1.0-draft", extra=extra))
    assert (found.subjects, found.score_changed, found.grade_changed, found.listing_changed) == (6, 0, 0, listed)
    assert (found.grades, found.measures, found.histogram, found.movers) == ([], [], [], [])
    assert sum(g.listing for g in found.age_bands) == listed


def test_tightening_a_band_edge_moves_the_grade_ends_the_redlist_entry_and_frees_the_reward(city: City) -> None:
    """Rongcheng's AAA from 1,070 instead of 1,050: the hero (1,060) drops to AA, leaves the
    redlist and loses the deposit waiver; no score changes."""
    edits = (
        ("{grade: AAA, min: 1050, max: 2000}", "{grade: AAA, min: 1070, max: 2000}"),
        (
            "{grade: AA, min: 1030, max: 1049}",
            "{grade: AA, min: 1030, max: 1069}",
        ),
    )
    found = run(city, draft("rongcheng-credit", "1.0-draft", *edits))
    assert (found.subjects, found.score_changed, found.grade_changed, found.listing_changed) == (3, 0, 1, 1)
    assert found.grades == [simulate.GradeMove(before="AAA", after="AA", subjects=1)]
    assert found.measures == [
        simulate.MeasureChange(measure="rongcheng-deposit-waiver", effect="reward", newly=0, freed=1)
    ]
    assert (found.histogram, found.movers) == ([], [])
    assert [(g.group, g.grade, g.listing) for g in found.districts] == [("371082", 1, 1)]


def test_changing_list_durations_frees_one_defaulter_and_lists_another_under_every_measure(city: City) -> None:
    """Ground 1 for a year (the 2025 listing ends 2026-06-01) and grounds 2 to 6 for five years
    (the 2023 listing runs to 2028-06-01): on 2026-11-27 one defaulter is freed of each measure
    of the list and the other newly under it."""
    edits = (
        ('- {when: "ground = 1", term: null}', '- {when: "ground = 1", term: {years: 1}}'),
        (
            '- {when: "ground BETWEEN 2 AND 6", term: {years: 2}}',
            '- {when: "ground BETWEEN 2 AND 6", term: {years: 5}}',
        ),
    )
    found = run(city, draft("national-defaulters", "2017-draft", *edits))
    assert (found.against, found.subjects, found.listing_changed) == ("2017", 2, 2)
    assert (found.score_changed, found.grade_changed, found.grades, found.movers) == (0, 0, [], [])
    listed = [m for m in default_measures() if "dishonest-judgment-defaulters" in m.lists]
    assert len(listed) == 13
    assert found.measures == [
        simulate.MeasureChange(measure=m.id, effect=m.effect.value, newly=1, freed=1) for m in listed
    ]
    assert [(g.group, g.subjects, g.listing) for g in found.districts] == [("110101", 2, 2)]
    assert [(g.group, g.listing) for g in found.age_bands] == [("45-59", 2)]


def test_a_draft_of_a_new_scheme_scores_everyone_it_covers_newly(city: City) -> None:
    """``credence demo``'s kind of draft: Suzhou's body under a scheme the registry does not have."""
    book = draft("suzhou-osmanthus", "1.0-draft", ("scheme: suzhou-osmanthus", "scheme: my-city"))
    found = run(city, book)
    assert (found.scheme, found.against) == ("my-city", None)
    assert (found.subjects, found.score_changed, found.newly_scored, found.grade_changed) == (6, 6, 6, 6)
    assert found.grades == [
        simulate.GradeMove(before=None, after="A", subjects=4),
        simulate.GradeMove(before=None, after="B", subjects=2),
    ]
    assert (found.histogram, found.movers, found.measures) == ([], [], [])
    with pytest.raises(CredenceError, match="scheme my-city is not among the registry's rulebooks"):
        simulate.simulate(city.engine, SCHEMES, book, against="1.0", as_of=AS_OF, now=city.now)


def test_a_draft_for_another_version_or_no_version_is_refused(city: City) -> None:
    book = draft("suzhou-osmanthus", "1.0-draft", RAISED)
    with pytest.raises(CredenceError, match=r"--against suzhou-osmanthus@0\.9: no such version"):
        simulate.simulate(city.engine, SCHEMES, book, against="0.9", as_of=AS_OF, now=city.now)
    with pytest.raises(CredenceError, match="no edition in force on 2019-12-31"):
        simulate.simulate(city.engine, SCHEMES, book, against=None, as_of=date(2019, 12, 31), now=city.now)


def _state(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        names = inspect(conn).get_table_names()
        return {name: conn.execute(select(func.count()).select_from(table(name))).scalar_one() for name in names}


def _invoke(city: City, *args: str) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(console, "width", 400)
        patch.setenv("CREDENCE_DATABASE_URL", str(city.engine.url))
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, ["rulebook", "simulate", *args])
        finally:
            get_settings.cache_clear()
    return result.exit_code, result.stdout, result.stderr


def _draft_file(city: City) -> Path:
    text = (BOOKS / "suzhou-osmanthus/1.0.yaml").read_text("utf-8")
    text = text.replace('version: "1.0"', 'version: "1.1-draft"').replace("status: illustrative", "status: draft")
    path = city.path / "suzhou-1.1-draft.yaml"
    path.write_text(text.replace(*RAISED), "utf-8")
    return path


def test_json_has_every_field_and_internal_ids_only_and_nothing_is_written(sqlite_city: City) -> None:
    city = sqlite_city
    database = Path(str(city.engine.url.database))
    counts, digest = _state(city.engine), hashlib.sha256(database.read_bytes()).hexdigest()
    code, out, err = _invoke(city, str(_draft_file(city)), "--as-of", "2026-11-27", "--json")
    assert code == 0, err
    found = json.loads(out)
    assert set(found) == {
        "scheme",
        "draft",
        "draft_file",
        "draft_sha256",
        "draft_status",
        "against",
        "as_of",
        "subjects",
        "score_changed",
        "grade_changed",
        "listing_changed",
        "newly_scored",
        "no_longer_scored",
        "grades",
        "measures",
        "histogram",
        "districts",
        "age_bands",
        "movers",
        "seconds",
    }
    assert (found["draft"], found["against"], found["score_changed"]) == ("1.1-draft", "1.0", 2)
    assert found["histogram"] == [{"low": -3, "high": -3, "subjects": 2}]
    assert set(found["movers"][0]) == {
        "subject_id",
        "score_before",
        "score_after",
        "grade_before",
        "grade_after",
        "change",
        "lines",
    }
    assert found["movers"][0]["lines"] == [{"rule": "traffic-offence", "before": -3, "after": -6}]
    assert not any(p in out for p in SUZHOU + RONGCHENG)  # internal ids, never an ID number
    # the terminal form, then: the counts, the chart, the movers, and still nothing written
    code, out, err = _invoke(city, str(_draft_file(city)), "--against", "suzhou-osmanthus@1.0", "--as-of", "2026-11-27")
    assert code == 0, err
    assert "Score changes" in out
    assert "traffic-offence -3 → -6" in out
    assert "nothing written" in out
    assert not any(p in out for p in SUZHOU + RONGCHENG)
    assert _state(city.engine) == counts
    assert hashlib.sha256(database.read_bytes()).hexdigest() == digest


def test_against_another_scheme_is_refused_with_exit_2(sqlite_city: City) -> None:
    code, _, err = _invoke(sqlite_city, str(_draft_file(sqlite_city)), "--against", "rongcheng-credit@1.0")
    assert code == 2
    assert "--against 'rongcheng-credit@1.0': expected suzhou-osmanthus@VERSION" in err
