"""The record-kind catalogue: typed attributes coerced from text, refusals naming the field."""

from datetime import date
from typing import Any

import pytest

from credence.exc import FieldError
from credence.model.catalogue import (
    Attribute,
    AttrType,
    Polarity,
    default_catalogue,
    load_catalogue,
    parse_date,
)
from credence.model.identifiers import SubjectKind

CATALOGUE = default_catalogue()

DATED = """
kinds:
  court_hearing:
    title: A hearing
    polarity: neutral
    context: judicial
    attributes:
      heard_on: {type: date, required: true}
      adjourned_to: date
      count: {type: int, min: 1, max: 9}
"""


def refused(kind: str, raw: dict[str, Any]) -> FieldError:
    with pytest.raises(FieldError) as info:
        CATALOGUE.kind(kind).coerce(raw)
    return info.value


def test_default_catalogue_has_typed_kinds() -> None:
    blood = CATALOGUE.kind("blood_donation")
    assert blood.polarity is Polarity.FAVOURABLE
    assert blood.subject is SubjectKind.PERSON
    assert blood.attributes["volume_ml"].type is AttrType.INT
    assert CATALOGUE.kind("tax_arrears").subject is None
    types = CATALOGUE.attribute_types()
    assert types["granted"] is AttrType.BOOL
    assert types["legal_representative"] is AttrType.ID
    assert types["case_number"] is AttrType.STR


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(FieldError) as info:
        CATALOGUE.kind("jaywalking", field="records[3].kind")
    assert info.value.field == "records[3].kind"
    assert "jaywalking" in info.value.reason


@pytest.mark.parametrize(("text", "value"), [("200", 200), (" 450 ", 450), ("+800", 800)])
def test_int_from_text(text: str, value: int) -> None:
    assert CATALOGUE.kind("blood_donation").coerce({"volume_ml": text}) == {"volume_ml": value}


@pytest.mark.parametrize("text", ["2.5", "two hundred", "200ml", "0x10"])
def test_non_integer_text_is_refused(text: str) -> None:
    err = refused("blood_donation", {"volume_ml": text})
    assert err.field == "attributes.volume_ml"
    assert "whole number" in err.reason


def test_str_and_id_from_text_are_stripped() -> None:
    coerced = CATALOGUE.kind("defaulter_listing_decision").coerce(
        {
            "case_number": " (2020)苏05执123号 ",
            "court": "苏州市中级人民法院",
            "ground": "3",
            "legal_representative": " 110101199003070011 ",
        }
    )
    assert coerced["case_number"] == "(2020)苏05执123号"
    assert coerced["court"] == "苏州市中级人民法院"
    assert coerced["ground"] == 3
    assert coerced["legal_representative"] == "110101199003070011"
    # absent optional values: None, and False for booleans
    assert coerced["obligation"] is None
    assert coerced["principal"] is None
    assert coerced["full_security"] is False
    assert coerced["performance"] is None


@pytest.mark.parametrize("text", ["true", "TRUE", "1", "yes", "Y", "t", "是", " True "])
def test_bool_true_from_text(text: str) -> None:
    coerced = CATALOGUE.kind("scheme_consent").coerce({"scheme": "x", "granted": text})
    assert coerced["granted"] is True


@pytest.mark.parametrize("text", ["false", "False", "0", "no", "N", "f", "否"])
def test_bool_false_from_text(text: str) -> None:
    coerced = CATALOGUE.kind("scheme_consent").coerce({"scheme": "x", "granted": text})
    assert coerced["granted"] is False


def test_bool_values_pass_through_and_nonsense_is_refused() -> None:
    kind = CATALOGUE.kind("scheme_consent")
    assert kind.coerce({"scheme": "x", "granted": True})["granted"] is True
    assert kind.coerce({"scheme": "x", "granted": False})["granted"] is False
    with pytest.raises(FieldError) as info:
        kind.coerce({"scheme": "x", "granted": "maybe"})
    assert info.value.field == "attributes.granted"
    assert "true or false" in info.value.reason


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_required_missing_is_refused_naming_the_attribute(missing: Any) -> None:
    err = refused("blood_donation", {"volume_ml": missing})
    assert err.field == "attributes.volume_ml"
    assert "required" in err.reason
    assert str(err).startswith("attributes.volume_ml: ")


def test_required_absent_key_is_refused() -> None:
    err = refused("residence", {"region": "320505"})
    assert err.field == "attributes.status"
    assert "required" in err.reason
    err = refused("scheme_consent", {"scheme": "rongcheng-credit", "granted": ""})
    assert err.field == "attributes.granted"


def test_prefix_is_part_of_the_field_name() -> None:
    with pytest.raises(FieldError) as info:
        CATALOGUE.kind("blood_donation").coerce({}, prefix="records[7].attributes")
    assert info.value.field == "records[7].attributes.volume_ml"


@pytest.mark.parametrize(
    ("kind", "name", "text", "reason"),
    [
        ("blood_donation", "volume_ml", "49", "at least 50"),
        ("blood_donation", "volume_ml", "801", "at most 800"),
        ("blood_donation", "volume_ml", "-200", "at least 50"),
        ("defaulter_listing_extension", "years", "0", "at least 1"),
        ("defaulter_listing_extension", "years", "4", "at most 3"),
    ],
)
def test_out_of_range_is_refused(kind: str, name: str, text: str, reason: str) -> None:
    raw = {"case_number": "c1", name: text} if kind != "blood_donation" else {name: text}
    err = refused(kind, raw)
    assert err.field == f"attributes.{name}"
    assert reason in err.reason


@pytest.mark.parametrize("text", ["50", "800"])
def test_range_bounds_are_inclusive(text: str) -> None:
    assert CATALOGUE.kind("blood_donation").coerce({"volume_ml": text}) == {"volume_ml": int(text)}


def test_choice_is_checked() -> None:
    kind = CATALOGUE.kind("residence")
    assert kind.coerce({"region": "320505", "status": " resident "})["status"] == "resident"
    with pytest.raises(FieldError) as info:
        kind.coerce({"region": "320505", "status": "moved"})
    assert info.value.field == "attributes.status"
    assert "registered, resident, left" in info.value.reason
    assert "'moved'" in info.value.reason


def test_unknown_attribute_is_refused() -> None:
    err = refused("blood_donation", {"volume_ml": "200", "colour": "red"})
    assert err.field == "attributes.colour"
    assert "'colour'" in err.reason
    assert "volume_ml" in err.reason  # says what was expected


@pytest.mark.parametrize("text", ["2024-02-29", "20240229", " 2024-02-29 ", date(2024, 2, 29)], ids=str)
def test_dates_accept_iso_and_compact_forms(text: Any) -> None:
    kind = load_catalogue(DATED).kind("court_hearing")
    assert kind.attributes["heard_on"].type is AttrType.DATE
    coerced = kind.coerce({"heard_on": text})
    assert coerced == {"heard_on": "2024-02-29", "adjourned_to": None, "count": None}


@pytest.mark.parametrize("text", ["2023-02-29", "20230229", "2024/02/29", "29.02.2024", "soon"])
def test_bad_dates_are_refused_naming_the_field(text: str) -> None:
    kind = load_catalogue(DATED).kind("court_hearing")
    with pytest.raises(FieldError) as info:
        kind.coerce({"heard_on": "2024-01-01", "adjourned_to": text})
    assert info.value.field == "attributes.adjourned_to"
    assert "YYYY-MM-DD" in info.value.reason


def test_parse_date_directly() -> None:
    assert parse_date("19991231", field="d") == date(1999, 12, 31)
    assert parse_date("1999-12-31", field="d") == date(1999, 12, 31)
    with pytest.raises(FieldError) as info:
        parse_date("19991331", field="records[0].valid_date")
    assert info.value.field == "records[0].valid_date"


def test_attribute_coerce_without_kind() -> None:
    attr = Attribute(name="n", type=AttrType.INT, required=True, minimum=0)
    assert attr.coerce("7", field="x.n") == 7
    assert attr.coerce(7, field="x.n") == 7
    with pytest.raises(FieldError) as info:
        attr.coerce("-1", field="x.n")
    assert info.value.field == "x.n"


def test_one_attribute_name_has_one_type() -> None:
    text = """
kinds:
  a: {title: A, polarity: neutral, context: civic, attributes: {amount: int}}
  b: {title: B, polarity: neutral, context: civic, attributes: {amount: str}}
"""
    with pytest.raises(ValueError, match="amount"):
        load_catalogue(text)
