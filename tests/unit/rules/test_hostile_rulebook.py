"""Hostile rulebooks: a value that would reach the compiled SQL is refused at load unless it fits
its pattern, with the file and the field named; free text (titles, legal bases) never reaches the
SQL; strings inside expressions reach it only as SQLGlot literals, which every engine reads back
as the same text. The functional half (tests/functional/test_hostile_rulebook_engines.py) runs hostile
rulebooks on the SQLite and PostgreSQL stores and the DuckDB snapshot."""

import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import duckdb
import pytest
import yaml
from sqlglot import exp

from credence.exc import RulebookError
from credence.rules.compile import items_query, listing_query, score_query
from credence.rules.expressions import Where, parse
from credence.rules.loader import LoadedRulebook, group, load_text
from credence.rules.targets import Dialect, Target

# quotes, statement ends, both comment markers, backslashes, NUL and other control characters,
# a line break, driver placeholders (SQLAlchemy's ":name", pyformat's "%s", qmark's "?")
HOSTILE = [
    "1'; DROP TABLE records; --",
    '1"; DROP TABLE records; --',
    "1' OR '1'='1",
    "a;b",
    "a--b",
    "a/*b*/",
    "a*/b",
    "a\\b",
    "a\\'b",
    "a\x00b",
    "a\x1bb",
    "a\nb",
    "a b",
    "a :name",
    "a %s %",
    "a ?",
    "",
]
SHIPPED = "credence.rules.rulebooks"
FILE = "hostile.yaml"


def shipped_data(path: str) -> dict[str, Any]:
    data = yaml.safe_load(resources.files(SHIPPED).joinpath(path).read_text("utf-8"))
    assert isinstance(data, dict)
    return data


SUZHOU = "suzhou-osmanthus/1.0.yaml"
RONGCHENG = "rongcheng-credit/1.0.yaml"
DEFAULTERS = "national-defaulters/2017.yaml"


def load(data: dict[str, Any], file: str = FILE) -> LoadedRulebook:
    return load_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), file=file)


def refusal(data: dict[str, Any], file: str = FILE) -> str:
    with pytest.raises(RulebookError) as info:
        load(data, file)
    message = str(info.value)
    assert message.startswith(f"{file}: "), message
    assert message.isprintable(), "the error is one printable line"
    return message


Setter = Callable[[dict[str, Any], str], None]


def at(*path: str | int) -> Setter:
    def put(data: dict[str, Any], value: str) -> None:
        node: Any = data
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return put


# (shipped file, where the hostile value goes, the field the error must name)
REACHES_SQL: list[tuple[str, Setter, str]] = [
    (SUZHOU, at("version"), "version"),
    (SUZHOU, at("scheme"), "scheme"),
    (SUZHOU, at("grades", 0, "grade"), "grades.0.grade"),
    (SUZHOU, at("rules", 0, "id"), "rules.0.id"),
    (SUZHOU, at("rules", 0, "kinds", 0), "rules.0.kinds.0"),
    (RONGCHENG, at("redlist", "id"), "redlist.id"),
    (RONGCHENG, at("redlist", "grades", 0), "redlist.grades.0"),
    (DEFAULTERS, at("version"), "version"),
    (DEFAULTERS, at("lists", 0, "id"), "lists.0.id"),
    (DEFAULTERS, at("lists", 0, "decision_kind"), "lists.0.decision_kind"),
    (DEFAULTERS, at("lists", 0, "key"), "lists.0.key"),
    (DEFAULTERS, at("lists", 0, "ground"), "lists.0.ground"),
    (DEFAULTERS, at("lists", 0, "court"), "lists.0.court"),
    (DEFAULTERS, at("lists", 0, "ending_kinds", 0), "lists.0.ending_kinds.0"),
    (DEFAULTERS, at("lists", 0, "ending_reason"), "lists.0.ending_reason"),
    (DEFAULTERS, at("lists", 0, "binds", 0), "lists.0.binds.0"),
    (DEFAULTERS, at("lists", 0, "extension", "kind"), "lists.0.extension.kind"),
    (DEFAULTERS, at("lists", 0, "extension", "attribute"), "lists.0.extension.attribute"),
]


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
@pytest.mark.parametrize(
    ("path", "put", "field"), REACHES_SQL, ids=[f"{p.split('/')[0]}:{f}" for p, _, f in REACHES_SQL]
)
def test_a_hostile_value_that_would_reach_sql_is_refused_naming_file_and_field(
    path: str, put: Setter, field: str, value: str
) -> None:
    data = shipped_data(path)
    put(data, value)
    message = refusal(data)
    assert f": {field}" in message, message


def test_the_refusal_quotes_the_value_and_shows_the_pattern() -> None:
    data = shipped_data(SUZHOU)
    data["version"] = "1.0'; DROP TABLE scores; --"
    message = refusal(data)
    assert message.startswith(f"{FILE}: version: String should match pattern '^[0-9A-Za-z][0-9A-Za-z._-]{{0,31}}$'")
    assert '(got "1.0\'; DROP TABLE scores; --")' in message


def test_a_refused_rule_id_is_not_echoed_raw() -> None:
    data = shipped_data(SUZHOU)
    data["rules"][0]["id"] = "x\ny"
    message = refusal(data)
    assert "rules.0.id: " in message
    assert "(rule " not in message
    assert "'x\\ny'" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [("version", "1" * 33), ("grades.0.grade", "A" * 17), ("scheme", "s" * 65), ("rules.0.id", "r" * 65)],
)
def test_values_longer_than_their_columns_are_refused(field: str, value: str) -> None:
    data = shipped_data(SUZHOU)
    put = {"version": at("version"), "grades.0.grade": at("grades", 0, "grade"), "scheme": at("scheme")}
    put.get(field, at("rules", 0, "id"))(data, value)
    assert f": {field}" in refusal(data)


@pytest.mark.parametrize("grade", ["AAA", "A+", "B-", "AA1", "a"])
def test_plain_grade_names_load(grade: str) -> None:
    data = shipped_data(SUZHOU)
    data["grades"][0]["grade"] = grade
    assert load(data).book.grades[0].grade == grade


@pytest.mark.parametrize("version", ["1.0", "2017", "2.0-draft", "1.1_rc", "v3", "x" * 32])
def test_plain_versions_load(version: str) -> None:
    data = shipped_data(SUZHOU)
    data["version"] = version
    assert load(data).book.version == version


# Free text: loads with any printable character, is refused with a control character.
FREE_TEXT: list[tuple[str, Setter, str]] = [
    (SUZHOU, at("title"), "title"),
    (SUZHOU, at("legal_basis"), "legal_basis"),
    (SUZHOU, at("rules", 0, "title"), "rules.0.title"),
    (SUZHOU, at("rules", 0, "legal_basis"), "rules.0.legal_basis"),
    (RONGCHENG, at("redlist", "title"), "redlist.title"),
    (RONGCHENG, at("redlist", "legal_basis"), "redlist.legal_basis"),
    (DEFAULTERS, at("lists", 0, "title"), "lists.0.title"),
    (DEFAULTERS, at("lists", 0, "legal_basis"), "lists.0.legal_basis"),
]
FREE_TEXT_IDS = [f"{p.split('/')[0]}:{f}" for p, _, f in FREE_TEXT]


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f", "\x08"], ids=repr)
@pytest.mark.parametrize(("path", "put", "field"), FREE_TEXT, ids=FREE_TEXT_IDS)
def test_a_control_character_in_free_text_is_refused(path: str, put: Setter, field: str, control: str) -> None:
    data = shipped_data(path)
    put(data, f"Art. 1{control}; DROP TABLE records")
    message = refusal(data)
    assert f": {field}" in message
    assert f"control character U+{ord(control):04X} at position 7" in message


def test_a_nul_written_raw_in_the_file_is_refused() -> None:
    text = resources.files(SHIPPED).joinpath(SUZHOU).read_text("utf-8").replace("version: ", "version: \x00", 1)
    with pytest.raises(RulebookError, match=FILE):
        load_text(text, file=FILE)


def hostile_free_text(data: Any, value: str) -> Any:
    """``data`` with every title and legal basis, at any depth, set to ``value``."""
    if isinstance(data, dict):
        return {k: value if k in ("title", "legal_basis") else hostile_free_text(v, value) for k, v in data.items()}
    if isinstance(data, list):
        return [hostile_free_text(v, value) for v in data]
    return data


def compiled_sql(book: LoadedRulebook, dialect: Dialect) -> list[str]:
    scheme = group([book])[book.book.scheme]
    target = Target(dialect)
    subject = [uuid.UUID(int=7)]
    out = []
    for as_of in (date(2016, 1, 1), date(2020, 6, 1), date(2026, 11, 27)):
        for query in (
            score_query(scheme, target, as_of=as_of),
            score_query(scheme, target, as_of=as_of, scope=subject, exclude=subject),
            items_query(scheme, target, as_of=as_of, scope=subject),
        ):
            out.append(query.sql("SELECT 1") if query else "")
    for index, edition in enumerate(scheme.editions):
        for list_index in range(len(edition.lists)):
            out.append(listing_query(edition, list_index, target, window=scheme.window(index), scope=subject).sql())
    return out


TEXT_HOSTILE = [v for v in HOSTILE if v and not any(c in v for c in "\x00\x1b")]


@pytest.mark.parametrize("value", TEXT_HOSTILE, ids=repr)
@pytest.mark.parametrize("path", [SUZHOU, RONGCHENG, DEFAULTERS])
def test_hostile_titles_and_legal_bases_load_and_never_reach_the_sql(path: str, value: str) -> None:
    plain = load(shipped_data(path))
    hostile = load(hostile_free_text(shipped_data(path), value))
    assert hostile.book.title == value
    assert all(r.rule.legal_basis == value for r in hostile.rules)
    assert all(c.rule.legal_basis == value for c in hostile.lists)
    for dialect in Dialect:
        assert compiled_sql(hostile, dialect) == compiled_sql(plain, dialect)


def engines() -> dict[Dialect, Callable[[str], Any]]:
    lite = sqlite3.connect(":memory:")
    duck = duckdb.connect()
    return {
        Dialect.SQLITE: lambda sql: lite.execute(sql).fetchone(),
        Dialect.DUCKDB: lambda sql: duck.execute(sql).fetchone(),
    }


@pytest.mark.parametrize("value", [v for v in HOSTILE if "\x00" not in v], ids=repr)
def test_a_string_literal_reads_back_as_itself_in_sqlite_and_duckdb(value: str) -> None:
    """Target.text, and a string inside a rule expression, are the same text on the engine."""
    quoted = "'" + value.replace("'", "''") + "'"
    expression = parse(f"citation = {quoted}", fields={"citation"}, where=Where(FILE, "r", "when"))
    for dialect, run in engines().items():
        target = Target(dialect)
        assert run(f"SELECT {target.text(value)}") == (value,)
        as_column = f"SELECT {expression.sql(dialect, table='f')} FROM (SELECT {target.text(value)} AS citation) f"
        assert run(as_column) == (True,)
        assert ":name" not in target.text(value)  # SQLAlchemy's text() would read a bind parameter


def test_ids_and_dates_render_as_literals_on_every_engine() -> None:
    for dialect, run in engines().items():
        target = Target(dialect)
        assert run(f"SELECT {target.date(date(2024, 2, 29))}")[0] in ("2024-02-29", date(2024, 2, 29))
        ids = [uuid.UUID(int=1), uuid.UUID(int=2)]
        assert run(f"SELECT COUNT(*) FROM (SELECT {target.uuid(ids[1])} AS x) t WHERE x IN ({target.uuids(ids)})") == (
            1,
        )
        assert target.uuids([]) == "NULL"
        assert run(f"SELECT {target.number(-12)}") == (-12,)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("1 -- a comment", "comments are not allowed"),
        ("1 /* DROP TABLE records */", "comments are not allowed"),
        ("1; DROP TABLE records", "not allowed in a rule expression"),
        ("volume_ml > 'unclosed", "an unclosed quote or comment"),
        ("1 /* unclosed", "an unclosed quote or comment"),
        ("(SELECT 1 FROM records)", "not allowed in a rule expression"),
    ],
)
def test_hostile_expressions_are_refused_with_file_and_rule(expression: str, message: str) -> None:
    data = shipped_data(SUZHOU)
    data["rules"][0]["points"] = expression
    error = refusal(data)
    assert f"rule {data['rules'][0]['id']}, points" in error
    assert message in error


def test_a_control_character_in_an_expression_is_refused() -> None:
    data = shipped_data(SUZHOU)
    data["rules"][0]["when"] = "volume_ml > 0 OR citation = 'a\x00'"
    assert "rules.0.when" in refusal(data)


@pytest.mark.parametrize(
    ("put", "role", "kind"),
    [
        (at("lists", 0, "ending_reason"), "ending_reason", "defaulter_deletion"),
        (at("lists", 0, "extension", "attribute"), "extension.attribute", "defaulter_listing_extension"),
    ],
)
def test_a_listing_column_must_be_an_attribute_of_its_kind(put: Setter, role: str, kind: str) -> None:
    data = shipped_data(DEFAULTERS)
    put(data, "amount_yuan")  # a catalogue attribute, but not of that kind
    message = refusal(data)
    assert f"list dishonest-judgment-defaulters: {role}: record kind {kind} has no attribute 'amount_yuan'" in message


def test_a_target_takes_a_dialect_not_a_bare_string() -> None:
    with pytest.raises(TypeError, match="Dialect"):
        Target("sqlite")  # type: ignore[arg-type]
    assert Target(Dialect("postgres")).dialect is Dialect.POSTGRES
    with pytest.raises(ValueError, match="mysql"):
        Dialect("mysql")


@pytest.mark.parametrize("dialect", list(Dialect))
def test_the_fast_rendering_is_what_sqlglot_renders(dialect: Dialect) -> None:
    """Target renders with the dialect's generator directly, skipping sql()'s copy; the text must
    be exactly SQLGlot's own, for values hostile and plain."""
    target = Target(dialect)
    for value in [v for v in HOSTILE if "\x00" not in v and ":name" not in v]:
        assert target.text(value) == exp.Literal.string(value).sql(dialect=dialect.value)
    for name in ("volume_ml", "year", "a b", 'x"y'):
        assert target.identifier(name) == exp.to_identifier(name).sql(dialect=dialect.value)
        assert target.column(name, table="f") == exp.column(name, table="f").sql(dialect=dialect.value)
    for number in (0, -216, 2**40):
        assert target.number(number) == exp.Literal.number(number).sql(dialect=dialect.value)
    if dialect is not Dialect.SQLITE:
        day = exp.cast(exp.Literal.string("2024-02-29"), exp.DataType.Type.DATE)
        assert target.date(date(2024, 2, 29)) == day.sql(dialect=dialect.value)
        instant = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
        cast = exp.cast(exp.Literal.string(instant.isoformat()), exp.DataType.Type.TIMESTAMPTZ)
        assert target.timestamp(instant) == cast.sql(dialect=dialect.value)
