"""Hostile rulebooks on every engine: the SQLite store, the PostgreSQL store and the DuckDB snapshot.

The shipped rulebooks are rewritten with free text full of quotes, semicolons, comment markers,
backslashes and driver placeholders in every title and legal basis, and with the same text as a
string literal in every rule's condition and the list's conditions (compared against the record
kind, so the conditions mean what they meant). Scored, listed and rebuilt on each engine, they
give exactly the plain rulebooks' scores and listings, and no table is dropped or changed; when
their listings are written, the hostile legal basis is stored as the very text. A hostile value
where the SQL would use it (version, grade, rule id) is refused by the installed CLI with one line
naming the file and the field, and the registry is left as it was.
"""

import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, MetaData, Table, inspect, select, text

from credence.batch import duckdb
from credence.batch.store import StoreBackend
from credence.lists import derive
from credence.lists.rows import ListingRow
from credence.pipeline import rulebooks
from credence.pipeline import state as derived_state
from credence.rules.expressions import Where, parse
from credence.rules.loader import Scheme, group, load_text
from credence.rules.targets import Dialect, Target
from credence.store.db import dialect_of
from credence.store.orm import Rulebook
from tests.common.engines import relist, store_scores
from tests.common.feeds import SCHEMES, Registry, person_id

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 4, tzinfo=UTC)
HOSTILE = "O'Brien\"s rule'); DROP TABLE records; -- /* */ \\' :name %s ? 第十条"
# as a literal in a rule expression, quotes doubled as SQL (and the rulebook language) spell them
IN_SQL = "'" + HOSTILE.replace("'", "''") + "'"
SHIPPED = ("national-defaulters/2017.yaml", "rongcheng-credit/1.0.yaml", "suzhou-osmanthus/1.0.yaml")
CREDENCE = Path(sys.executable).parent / "credence"


def shipped_text(path: str) -> str:
    return resources.files("credence.rules.rulebooks").joinpath(path).read_text("utf-8")


def hostile_text(data: Any) -> Any:
    """``data`` with every title and legal basis set to HOSTILE, at any depth."""
    if isinstance(data, dict):
        return {k: HOSTILE if k in ("title", "legal_basis") else hostile_text(v) for k, v in data.items()}
    if isinstance(data, list):
        return [hostile_text(v) for v in data]
    return data


def hostile_book(path: str) -> str:
    data = hostile_text(yaml.safe_load(shipped_text(path)))
    never = f"kind = {IN_SQL}"  # no record has that kind: the condition adds nothing
    for rule in data.get("rules", []):
        rule["when"] = f"({rule['when']}) AND NOT ({never})" if rule.get("when") else f"NOT ({never})"
    for listed in data.get("lists", []):
        listed["excluded_when"] = f"({listed['excluded_when']}) OR {never}"
        for duration in listed["durations"]:
            duration["when"] = f"({duration['when']}) AND NOT ({never})"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


HOSTILE_SCHEMES = group([load_text(hostile_book(path), file=f"hostile/{path}") for path in SHIPPED])
SCORED = [name for name, s in SCHEMES.items() if any(e.book.score for e in s.editions)]

SUZHOU = person_id(date(1980, 3, 4), region="320505", seq=101)
RONGCHENG = person_id(date(1975, 7, 8), region="371082", seq=102)
RONGCHENG_LOW = person_id(date(1977, 1, 2), region="371082", seq=106)
DEBTOR = person_id(date(1990, 12, 31), region="320505", seq=104)
PAID = person_id(date(1985, 5, 5), region="320505", seq=105)
CASE_1, CASE_2 = "(2025)苏05执1号", "(2025)苏05执2号"
COURT = "Suzhou Intermediate People's Court"
DECIDED = {"court": COURT}


def row(who: str, kind: str, day: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {"id_number": who, "kind": kind, "date": day, "region": who[:6], "attrs": attrs}


FEEDS: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "police",
        [
            row(p, "residence", "2018-01-01", {"region": p[:6], "status": "registered"})
            for p in (SUZHOU, RONGCHENG, RONGCHENG_LOW, DEBTOR, PAID)
        ]
        + [
            row(SUZHOU, "traffic_offence", "2026-05-01", {"offence_code": "1345"}),
            row(SUZHOU, "public_order_offence", "2026-02-01", {"offence": "disturbance", "detention_days": 5}),
            row(RONGCHENG_LOW, "traffic_offence", "2026-05-01", {"offence_code": "1345"}),
        ],
    ),
    (
        "credit_office",
        [
            row(p, "scheme_consent", "2020-01-01", {"scheme": "rongcheng-credit", "granted": True})
            for p in (RONGCHENG, RONGCHENG_LOW)
        ]
        + [row(RONGCHENG, "heroic_act", f"2026-0{m}-01", {"citation": "river rescue"}) for m in (3, 4)],
    ),
    ("blood_bank", [row(SUZHOU, "blood_donation", "2026-03-01", {"volume_ml": 400})]),
    ("volunteers", [row(SUZHOU, "volunteer_hours", "2025-12-01", {"hours": 72, "year": 2025})]),
    ("rail", [row(SUZHOU, "fare_evasion", "2026-04-01", {"train_number": "G7"})]),
    ("tax", [row(SUZHOU, "tax_arrears", "2026-03-01", {"amount_yuan": 20000})]),
    ("bank", [row(RONGCHENG_LOW, "bank_arrears", "2026-06-01", {"amount_yuan": 3000})]),
    (
        "court",
        [
            row(SUZHOU, "court_debt_default", "2026-01-10", {"case_number": "C-9"}),
            row(RONGCHENG_LOW, "contract_breach_judgment", "2026-02-10", {"case_number": "C-8"}),
            row(DEBTOR, "defaulter_listing_decision", "2025-06-01", {"case_number": CASE_1, **DECIDED, "ground": 2}),
            row(DEBTOR, "defaulter_listing_extension", "2026-01-01", {"case_number": CASE_1, "years": 1}),
            row(PAID, "defaulter_listing_decision", "2025-03-01", {"case_number": CASE_2, **DECIDED, "ground": 1}),
            row(PAID, "defaulter_deletion", "2026-02-01", {"case_number": CASE_2, "reason": "performed"}),
        ],
    ),
]
for _source, _rows in FEEDS:  # courts and the railway report no region
    for _row in _rows:
        if _source in ("court", "rail"):
            _row["region"] = ""


def fed(engine: Engine, tmp: Path) -> Registry:
    reg = Registry(engine, tmp, now=NOW)
    for source, rows in FEEDS:
        result = reg.feed(source, rows, as_of=TODAY)
        assert result.quarantined == 0, result.reasons
    return reg


def state(engine: Engine) -> dict[str, list[str]]:
    """Every table of the registry and its rows, in a stable order."""
    meta = MetaData()
    out = {}
    with engine.connect() as conn:
        for name in sorted(inspect(engine).get_table_names()):
            table = Table(name, meta, autoload_with=conn)
            out[name] = sorted(repr(tuple(r)) for r in conn.execute(select(table)))
    return out


def stored_listings(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(Table("listings", MetaData(), autoload_with=conn))).mappings()]


def listing_rows(rows: Sequence[ListingRow | dict[str, Any]]) -> list[tuple[str, ...]]:
    """Listing rows (derived, or read from the table) without their legal basis, the one column
    where the free text lands, and the time a stored version was derived (a redlist entry that
    takes the hostile legal basis is a new version)."""
    plain = [r.as_dict() if isinstance(r, ListingRow) else r for r in rows]
    left_out = ("legal_basis", "derived_at")
    return sorted(tuple(str(v) for k, v in sorted(r.items()) if k not in left_out) for r in plain)


def scores(engine: Engine, schemes: dict[str, Scheme], *, as_of: date, known_at: datetime) -> dict[str, Any]:
    with engine.connect() as conn:
        return {n: store_scores(conn, schemes[n], as_of=as_of, known_at=known_at) for n in SCORED}


def test_hostile_free_text_changes_no_score_listing_or_table_on_any_engine(engine: Engine, tmp_path: Path) -> None:
    reg = fed(engine, tmp_path)
    before = state(engine)
    assert before["listings"], "the history lists someone"

    for as_of in (date(2026, 1, 1), TODAY, date(2027, 6, 1)):
        plain = scores(engine, SCHEMES, as_of=as_of, known_at=reg.now)
        assert scores(engine, HOSTILE_SCHEMES, as_of=as_of, known_at=reg.now) == plain, f"store, as of {as_of}"
    graded = scores(engine, SCHEMES, as_of=TODAY, known_at=reg.now)
    assert {score for by in graded.values() for score, _ in by.values()} - {100, 1000}, "rules counted"
    with engine.connect() as conn:
        listed = derive.derive(conn, SCHEMES, known_at=reg.now)
        hostile_listed = derive.derive(conn, HOSTILE_SCHEMES, known_at=reg.now)
    assert listed, "the decisions list the debtors"
    assert listing_rows(hostile_listed) == listing_rows(listed)
    assert {r.legal_basis for r in hostile_listed} == {HOSTILE}

    with engine.connect() as conn:
        snap = duckdb.take(conn, known_at=reg.now)
        tables = sorted(snap.db.execute("SHOW TABLES").fetchall())
        counts = {name: snap.db.execute(f"SELECT COUNT(*) FROM {name}").fetchone() for (name,) in tables}
        for as_of in (date(2026, 1, 1), TODAY, date(2027, 6, 1)):
            plain_duck = derived_state.scores(snap, {n: SCHEMES[n] for n in SCORED}, as_of=as_of)
            hostile_duck = derived_state.scores(snap, {n: HOSTILE_SCHEMES[n] for n in SCORED}, as_of=as_of)
            assert hostile_duck == plain_duck, f"DuckDB, as of {as_of}"
            assert plain_duck == scores(engine, SCHEMES, as_of=as_of, known_at=reg.now)
        assert listing_rows(relist(snap, conn, HOSTILE_SCHEMES)) == listing_rows(listed)
        assert sorted(snap.db.execute("SHOW TABLES").fetchall()) == tables
        assert {name: snap.db.execute(f"SELECT COUNT(*) FROM {name}").fetchone() for (name,) in tables} == counts
    assert state(engine) == before, "reading under the hostile rulebooks changed the registry"

    # writing derived state under them: the same rows, the legal basis stored as the very text
    before_listings = stored_listings(engine)
    with engine.begin() as conn:
        derived = derived_state.derive(StoreBackend(conn, known_at=reg.now), conn, HOSTILE_SCHEMES, as_of=TODAY)
        derived_state.write(conn, HOSTILE_SCHEMES, derived, now=reg.now, scope=None)
    after = state(engine)
    # a redlist entry is derived from the grade intervals under its edition, as a blacklist entry
    # is from its decision: it takes the hostile legal basis too, and its plain version, derived
    # by an earlier refresh, is history now
    versions = ("listings", "listing_history")
    assert {k: v for k, v in after.items() if k not in versions} == {
        k: v for k, v in before.items() if k not in versions
    }
    assert before["listing_history"] == []
    assert after["listing_history"]
    assert all("rongcheng-trustworthy" in row for row in after["listing_history"])
    stored = stored_listings(engine)
    blacklist = [r for r in stored if r["list_id"] == "dishonest-judgment-defaulters"]
    assert blacklist
    assert {r["legal_basis"] for r in blacklist} == {HOSTILE}
    assert {r["legal_basis"] for r in stored if r["list_id"] == "rongcheng-trustworthy"} == {HOSTILE}
    assert listing_rows(stored) == listing_rows(before_listings)


def test_the_cli_refuses_a_hostile_version_in_one_line_and_leaves_the_registry(engine: Engine, tmp_path: Path) -> None:
    """The loader's refusals of every field are in tests/unit/rules/test_hostile_rulebook.py; here
    one of them goes through the installed entry point against each store (a process start costs
    seconds, so one)."""
    fed(engine, tmp_path)
    before = state(engine)
    text = shipped_text("suzhou-osmanthus/1.0.yaml")
    assert 'version: "1.0"' in text
    book = tmp_path / "hostile.yaml"
    book.write_text(text.replace('version: "1.0"', 'version: "1.0\'; DROP TABLE records; --"', 1), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "CREDENCE_DEBUG")}
    env["CREDENCE_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    result = subprocess.run(  # noqa: S603 - our own entry point, fixed arguments
        [str(CREDENCE), "score", "--rulebook", str(book)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {book}: version: String should match pattern"), lines[0]
    assert "DROP TABLE records" in lines[0]  # quoted back, so the author sees what was refused
    assert state(engine) == before


@pytest.mark.parametrize("value", [HOSTILE, "a\\", "\\'", "' :x", "%", "%%s", "'\n--"], ids=repr)
def test_a_hostile_literal_reads_back_as_itself_in_the_store(engine: Engine, value: str) -> None:
    """The store runs compiled SQL through SQLAlchemy's text(): a literal, alone or in a rule
    expression, is the same text there (PostgreSQL's standard strings keep backslashes)."""
    target = Target(Dialect(dialect_of(engine)))
    quoted = "'" + value.replace("'", "''") + "'"
    expression = parse(f"citation = {quoted}", fields={"citation"}, where=Where("test", "r", "when"))
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT {target.text(value)}")).scalar() == value
        row = f"(SELECT {target.text(value)} AS citation) f"
        matched = f"SELECT CASE WHEN {expression.sql(target.dialect)} THEN 1 ELSE 0 END FROM {row}"
        assert conn.execute(text(matched)).scalar() == 1


def test_a_hostile_rulebook_is_registered_with_its_text_as_written(engine: Engine) -> None:
    """The registry keeps every rulebook it scored with (body as JSON): the hostile text is
    stored and read back as the very text on each store."""
    text = hostile_book("suzhou-osmanthus/1.0.yaml").replace("version: '1.0'", "version: 9.9-hostile", 1)
    book = load_text(text, file="hostile.yaml")
    assert book.book.version == "9.9-hostile"
    with engine.begin() as conn:
        assert rulebooks.register(conn, group([book]), now=NOW) == 1
    with engine.connect() as conn:
        body = conn.execute(
            select(Rulebook.body).where(Rulebook.scheme == "suzhou-osmanthus", Rulebook.version == "9.9-hostile")
        ).scalar_one()
    assert body["title"] == HOSTILE
    assert {r["legal_basis"] for r in body["rules"]} == {HOSTILE}
    assert all(IN_SQL in r["when"] for r in body["rules"])
