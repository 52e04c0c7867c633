"""Loading rulebooks: the shipped ones load; bad ones are refused with file, rule and position."""

import re
from datetime import date

import pytest

from credence.exc import RulebookError
from credence.rules.loader import LoadedRulebook, group, load_text, shipped
from credence.rules.targets import Dialect

FILE = "x.yaml"

BANDS = """\
  - {grade: A, min: 100, max: 200}
  - {grade: B, min: 0, max: 99}
"""


def book(
    *,
    rules: str = "",
    grades: str = BANDS,
    lists: str = "",
    version: str = "1.0",
    effective_from: str = "2020-01-01",
    scale: str = "{base: 100, floor: 0, ceiling: 200}",
) -> str:
    text = f"""\
scheme: demo
title: Demo scheme
version: "{version}"
jurisdiction: "3205"
status: illustrative
effective_from: {effective_from}
legal_basis: none published
score: {scale}
grades:
{grades}"""
    if rules:
        text += "rules:\n" + rules
    if lists:
        text += "lists:\n" + lists
    return text


def rule(points: str, *, when: str | None = None, kinds: str = "[blood_donation]") -> str:
    text = f"""\
  - id: my-rule
    title: A rule
    kinds: {kinds}
    points: "{points}"
    legal_basis: none published
"""
    if when is not None:
        text += f'    when: "{when}"\n'
    return text


def refusal(text: str, file: str = FILE) -> str:
    with pytest.raises(RulebookError) as info:
        load_text(text, file=file)
    message = str(info.value)
    assert file in message
    return message


def test_every_shipped_rulebook_loads() -> None:
    books = shipped()
    files = {b.file for b in books}
    assert {
        "rulebooks/national-defaulters/2017.yaml",
        "rulebooks/rongcheng-credit/1.0.yaml",
        "rulebooks/suzhou-osmanthus/1.0.yaml",
    } <= files
    for loaded in books:
        assert isinstance(loaded, LoadedRulebook)
        assert re.fullmatch(r"[0-9a-f]{64}", loaded.sha256)
        assert len(loaded.rules) == len(loaded.book.rules)
        assert len(loaded.lists) == len(loaded.book.lists)
        for compiled in loaded.rules:
            for target in Dialect:
                assert compiled.points.sql(target)
                if compiled.when:
                    assert compiled.when.sql(target)
    schemes = group(books)
    assert {"national-defaulters", "rongcheng-credit", "suzhou-osmanthus"} <= set(schemes)


def test_shipped_rule_expressions_name_their_fields() -> None:
    books = {b.book.scheme: b for b in shipped()}
    suzhou = {r.rule.id: r for r in books["suzhou-osmanthus"].rules}
    assert suzhou["blood-donation"].points.fields == {"volume_ml"}
    assert suzhou["traffic-offence"].points.fields == frozenset()
    defaulters = books["national-defaulters"].lists[0]
    assert defaulters.excluded_when is not None
    assert [months for _when, months in defaulters.durations] == [None, 24]


def test_a_good_rulebook_loads() -> None:
    loaded = load_text(book(rules=rule("2 * floor_div(volume_ml, 100)")), file=FILE)
    assert loaded.file == FILE
    assert loaded.key == ("demo", "1.0")
    assert loaded.rules[0].points.fields == {"volume_ml"}


@pytest.mark.parametrize("role", ["points", "when"])
def test_unknown_field_is_refused_with_position(role: str) -> None:
    expr = "2 * floor_div(volum_ml, 100)"
    text = book(rules=rule(expr) if role == "points" else rule("1", when=f"{expr} > 0"))
    message = refusal(text)
    assert "rule my-rule" in message
    assert role in message
    assert "unknown field 'volum_ml'" in message
    assert f"column {expr.index('volum_ml') + 1}" in message
    assert "volume_ml" in message  # lists the fields the kinds do have


def test_field_of_another_kind_is_unknown() -> None:
    message = refusal(book(rules=rule("CASE WHEN hours > 10 THEN 1 ELSE 0 END")))
    assert "unknown field 'hours'" in message
    assert "column 11" in message


def test_unknown_function_is_refused_with_position() -> None:
    expr = "1 + flor_div(volume_ml, 100)"
    message = refusal(book(rules=rule(expr)))
    assert "rule my-rule" in message
    assert "unknown function 'flor_div'" in message
    assert f"column {expr.index('flor_div') + 1}" in message
    assert "floor_div" in message  # names what is allowed


def test_wrong_arity_is_refused() -> None:
    message = refusal(book(rules=rule("floor_div(volume_ml)")))
    assert "rule my-rule" in message
    assert "floor_div takes 2 arguments" in message


@pytest.mark.parametrize("expr", ["volume_ml >=", "(volume_ml + 1", "volume_ml + )"])
def test_syntax_error_is_refused(expr: str) -> None:
    message = refusal(book(rules=rule(expr)))
    assert "rule my-rule" in message
    assert "syntax error" in message


def test_division_is_refused() -> None:
    message = refusal(book(rules=rule("volume_ml / 100")))
    assert "rule my-rule" in message
    assert "'/' is not allowed" in message
    assert "floor_div" in message


@pytest.mark.parametrize("number", ["1.5", "0.5", "1e3"])
def test_non_integer_number_is_refused(number: str) -> None:
    message = refusal(book(rules=rule(f"volume_ml * {number}")))
    assert "rule my-rule" in message
    assert f"number {number} is not a whole number" in message


def test_disallowed_construct_is_refused() -> None:
    message = refusal(book(rules=rule("(SELECT 1)")))
    assert "rule my-rule" in message
    assert "not allowed" in message


def test_unknown_record_kind_in_a_rule_is_refused() -> None:
    message = refusal(book(rules=rule("-5", kinds="[blood_donation, jaywalking]")))
    assert "rule my-rule" in message
    assert "unknown record kind 'jaywalking'" in message


def test_unknown_record_kind_in_a_list_is_refused() -> None:
    lists = """\
  - id: my-list
    title: A list
    decision_kind: defaulter_listing_decision
    key: case_number
    ground: ground
    court: court
    durations: [{when: "ground = 1", term: null}]
    ending_kinds: [no_such_deletion]
    ending_reason: reason
    legal_basis: none published
"""
    message = refusal(book(lists=lists), file="lists.yaml")
    assert "my-list" in message
    assert "unknown record kind 'no_such_deletion'" in message


def test_schema_error_names_the_rule() -> None:
    text = book(rules=rule("1").replace("    legal_basis: none published\n", ""))
    message = refusal(text)
    assert "rule my-rule" in message
    assert "legal_basis" in message


def test_invalid_yaml_is_refused() -> None:
    message = refusal("scheme: [unclosed\n")
    assert "not valid YAML" in message


def test_duplicate_rule_ids_are_refused() -> None:
    message = refusal(book(rules=rule("1") + rule("2")))
    assert "unique" in message


@pytest.mark.parametrize(
    "grades",
    [
        pytest.param("  - {grade: A, min: 101, max: 200}\n  - {grade: B, min: 0, max: 99}\n", id="gap"),
        pytest.param("  - {grade: A, min: 99, max: 200}\n  - {grade: B, min: 0, max: 99}\n", id="overlap"),
        pytest.param(
            "  - {grade: A, min: 50, max: 200}\n  - {grade: B, min: 0, max: 99}\n",
            id="wide-overlap",
        ),
        pytest.param(
            "  - {grade: A, min: 100, max: 200}\n  - {grade: B, min: 0, max: 99}\n  - {grade: C, min: 0, max: 99}\n",
            id="duplicate",
        ),
    ],
)
def test_bands_must_meet_without_gap_or_overlap(grades: str) -> None:
    message = refusal(book(grades=grades))
    assert "without gap or overlap" in message


@pytest.mark.parametrize(
    ("grades", "covered"),
    [
        pytest.param(
            "  - {grade: A, min: 100, max: 199}\n  - {grade: B, min: 0, max: 99}\n",
            "0..199",
            id="short-of-ceiling",
        ),
        pytest.param(
            "  - {grade: A, min: 100, max: 200}\n  - {grade: B, min: 1, max: 99}\n",
            "1..200",
            id="short-of-floor",
        ),
        pytest.param(
            "  - {grade: A, min: 100, max: 250}\n  - {grade: B, min: -10, max: 99}\n",
            "-10..250",
            id="past-both-ends",
        ),
    ],
)
def test_bands_must_reach_floor_and_ceiling(grades: str, covered: str) -> None:
    message = refusal(book(grades=grades))
    assert "must cover 0..200" in message
    assert covered in message


def test_band_with_min_above_max_is_refused() -> None:
    # an empty band B [101, 100] between A and C, which otherwise tile the scale
    grades = (
        "  - {grade: A, min: 0, max: 100}\n  - {grade: B, min: 101, max: 100}\n  - {grade: C, min: 101, max: 200}\n"
    )
    assert "min above max" in refusal(book(grades=grades))


def test_top_band_with_min_above_max_is_refused() -> None:
    # on a 0..200 scale, A runs past the ceiling and B [251, 200] is empty and unreachable
    grades = "  - {grade: A, min: 0, max: 250}\n  - {grade: B, min: 251, max: 200}\n"
    with pytest.raises(RulebookError, match="min above max"):
        load_text(book(grades=grades), file=FILE)


def test_rules_need_a_scale() -> None:
    text = book(rules=rule("1")).replace("score: {base: 100, floor: 0, ceiling: 200}\n", "")
    text = text.replace("grades:\n" + BANDS, "")
    assert "need a score scale" in refusal(text)


def test_scale_must_be_ordered() -> None:
    assert "floor <= base <= ceiling" in refusal(book(scale="{base: 300, floor: 0, ceiling: 200}"))


def _loaded(version: str, effective_from: str, file: str) -> LoadedRulebook:
    return load_text(book(version=version, effective_from=effective_from), file=file)


def test_group_orders_versions_and_picks_the_one_in_force() -> None:
    v2 = _loaded("2.0", "2022-01-01", "v2.yaml")
    v1 = _loaded("1.0", "2020-01-01", "v1.yaml")
    scheme = group([v2, v1])["demo"]
    assert [e.book.version for e in scheme.editions] == ["1.0", "2.0"]
    assert scheme.in_force(date(2019, 12, 31)) is None
    assert scheme.in_force(date(2020, 1, 1)) is v1
    assert scheme.in_force(date(2021, 12, 31)) is v1
    assert scheme.in_force(date(2022, 1, 1)) is v2
    assert scheme.window(0) == (date(2020, 1, 1), date(2022, 1, 1))
    assert scheme.window(1) == (date(2022, 1, 1), None)


def test_group_refuses_two_versions_with_one_effective_date() -> None:
    a = _loaded("1.0", "2020-01-01", "a.yaml")
    b = _loaded("1.1", "2020-01-01", "b.yaml")
    with pytest.raises(RulebookError) as info:
        group([a, b])
    assert "a.yaml" in str(info.value)
    assert "b.yaml" in str(info.value)


def test_group_refuses_one_version_id_twice() -> None:
    a = _loaded("1.0", "2020-01-01", "a.yaml")
    b = _loaded("1.0", "2021-01-01", "b.yaml")
    with pytest.raises(RulebookError, match="clashes"):
        group([a, b])


def test_group_refuses_a_version_id_reused_later() -> None:
    a = _loaded("1.0", "2020-01-01", "a.yaml")
    b = _loaded("2.0", "2021-01-01", "b.yaml")
    c = _loaded("1.0", "2022-01-01", "c.yaml")
    with pytest.raises(RulebookError, match="clashes"):
        group([a, b, c])
