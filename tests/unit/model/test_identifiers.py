"""Resident IDs (GB 11643) and unified social credit codes (GB 32100)."""

from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from credence.exc import FieldError
from credence.model.identifiers import (
    CreditCode,
    ResidentId,
    Sex,
    _compact,
    age_on,
    parse_credit_code,
    parse_resident_id,
    upgrade_legacy,
)

PROPERTY = settings(max_examples=100, deadline=None, database=None)

# Real GB/T 2260 county codes: Suzhou Huqiu, Rongcheng, Beijing Dongcheng, Shanghai Huangpu.
ADDRESSES = ("320505", "371082", "110101", "310101")
USCC = "91110000600037341L"


def check_char(body: str) -> str:
    # stdnum's calc_check_digit takes the full number and ignores its last character
    return ric.calc_check_digit(body + "0")


def make_id(address: str, birth: date, seq: int) -> str:
    body = f"{address}{birth:%Y%m%d}{seq:03d}"
    return body + check_char(body)


def make_legacy(address: str, birth: date, seq: int) -> str:
    return f"{address}{birth:%y%m%d}{seq:03d}"


def refused(value: str, field: str = "subject.id_number") -> FieldError:
    with pytest.raises(FieldError) as info:
        parse_resident_id(value, field=field)
    assert info.value.field == field
    return info.value


births = st.dates(min_value=date(1920, 1, 1), max_value=date(2024, 12, 31))
legacy_births = st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31))
sequences = st.integers(min_value=0, max_value=999)
addresses = st.sampled_from(ADDRESSES)


def test_helper_builds_numbers_stdnum_accepts() -> None:
    number = make_id("110101", date(1990, 3, 7), 1)
    assert number == "110101199003070011"
    assert ric.is_valid(number)


@pytest.mark.parametrize("address", ADDRESSES)
def test_valid_18_character_id_is_accepted_with_its_parts(address: str) -> None:
    number = make_id(address, date(1985, 12, 31), 123)
    parsed = parse_resident_id(number)
    assert parsed == ResidentId(number=number, birth_date=date(1985, 12, 31), sex=Sex.MALE, address_code=address)


@PROPERTY
@given(address=addresses, birth=births, seq=sequences)
def test_any_well_formed_id_round_trips(address: str, birth: date, seq: int) -> None:
    number = make_id(address, birth, seq)
    parsed = parse_resident_id(number)
    assert parsed.number == number
    assert parsed.birth_date == birth
    assert parsed.address_code == address
    assert parsed.sex is (Sex.MALE if seq % 2 else Sex.FEMALE)


def test_x_check_character_is_accepted_in_either_case() -> None:
    seq = next(s for s in range(1000) if make_id("320505", date(1990, 3, 7), s).endswith("X"))
    number = make_id("320505", date(1990, 3, 7), seq)
    assert parse_resident_id(number).number == number
    assert parse_resident_id(number.lower()).number == number
    assert parse_resident_id(f"  {number.lower()} ").number == number


def test_legacy_15_digit_id_is_upgraded() -> None:
    legacy = make_legacy("320505", date(1976, 5, 14), 13)
    assert legacy == "320505760514013"
    expected_body = "320505" + "19" + "760514" + "013"
    expected = expected_body + check_char(expected_body)
    assert upgrade_legacy(legacy) == expected
    parsed = parse_resident_id(legacy)
    assert parsed.number == expected
    assert len(parsed.number) == 18
    assert parsed.birth_date == date(1976, 5, 14)
    assert parsed.sex is Sex.MALE
    assert ric.calc_check_digit(parsed.number) == parsed.number[-1]


@PROPERTY
@given(address=addresses, birth=legacy_births, seq=sequences)
def test_legacy_and_current_numbers_of_one_person_agree(address: str, birth: date, seq: int) -> None:
    legacy = parse_resident_id(make_legacy(address, birth, seq))
    current = parse_resident_id(make_id(address, birth, seq))
    assert legacy == current
    assert upgrade_legacy(make_legacy(address, birth, seq)) == make_id(address, birth, seq)


@pytest.mark.parametrize(
    "value",
    ["", "3205051990030700", "32050519900307001", "3205051990030700188", "32050519900307001899"],
)
def test_bad_length_is_refused(value: str) -> None:
    err = refused(value)
    assert "18 characters" in err.reason
    assert f"got {len(value)}" in err.reason
    assert str(err).startswith("subject.id_number: ")


def test_non_digit_body_is_refused() -> None:
    body = "32050519900307A01"
    err = refused(body + "1")
    assert "digits" in err.reason


def test_non_digit_legacy_id_is_refused() -> None:
    err = refused("32050576051401A")
    assert "15-digit" in err.reason
    assert "digits" in err.reason


def test_bad_check_character_is_refused() -> None:
    number = make_id("320505", date(1990, 3, 7), 1)
    for wrong in "0123456789X":
        if wrong == number[-1]:
            continue
        err = refused(number[:-1] + wrong)
        assert "check character" in err.reason


@pytest.mark.parametrize("birth", ["19901307", "19900230", "19900100", "20230229", "19900732"])
def test_impossible_birth_date_with_correct_check_is_refused(birth: str) -> None:
    body = f"320505{birth}001"
    err = refused(body + check_char(body))
    assert "impossible birth date" in err.reason
    assert birth in err.reason


@pytest.mark.parametrize("address", ["990000", "000000", "320599"])
def test_never_assigned_address_code_is_refused(address: str) -> None:
    number = make_id(address, date(1990, 3, 7), 1)
    err = refused(number)
    assert "never assigned" in err.reason
    assert address in err.reason


def test_abolished_address_code_is_accepted_for_a_later_birth() -> None:
    # 110103 (Chongwen district, Beijing) was merged into Dongcheng in 2010; people keep the ID
    number = make_id("110103", date(2015, 3, 7), 2)
    assert not ric.is_valid(number)  # stdnum's own check demands the county existed at birth
    parsed = parse_resident_id(number)
    assert parsed.address_code == "110103"
    assert parsed.birth_date == date(2015, 3, 7)


def test_address_code_assigned_after_the_birth_is_accepted() -> None:
    # 320505 (Huqiu district, Suzhou) dates from 2000; an ID issued there may carry it anyway
    number = make_id("320505", date(1990, 3, 7), 1)
    assert not ric.is_valid(number)
    assert parse_resident_id(number).address_code == "320505"


def test_refusal_names_the_field_passed_in() -> None:
    assert refused("123", field="legal_representative").field == "legal_representative"
    with pytest.raises(FieldError) as info:
        parse_resident_id("123")
    assert info.value.field == "id_number"


@pytest.mark.parametrize(("seq", "sex"), [(1, Sex.MALE), (2, Sex.FEMALE), (999, Sex.MALE)])
def test_sex_comes_from_sequence_parity(seq: int, sex: Sex) -> None:
    assert parse_resident_id(make_id("371082", date(1970, 1, 1), seq)).sex is sex


def test_masked_hides_birth_month_and_day() -> None:
    number = make_id("371082", date(1976, 11, 23), 1)
    masked = parse_resident_id(number).masked
    assert masked == f"3710821976****{number[14:]}"
    assert len(masked) == 18
    assert "1123" not in masked


@PROPERTY
@given(address=addresses, birth=births, seq=sequences)
def test_masked_keeps_year_and_tail(address: str, birth: date, seq: int) -> None:
    number = make_id(address, birth, seq)
    masked = parse_resident_id(number).masked
    assert masked[:10] == number[:10]
    assert masked[10:14] == "****"
    assert masked[14:] == number[14:]


def test_age_on() -> None:
    birth = date(2000, 6, 15)
    assert age_on(birth, date(2018, 6, 14)) == 17
    assert age_on(birth, date(2018, 6, 15)) == 18


def test_valid_credit_code_is_accepted() -> None:
    assert parse_credit_code(USCC) == CreditCode(number=USCC, division_code="110000")
    assert parse_credit_code("9111 0000 6000-37341l").number == USCC


def test_bad_credit_code_check_character_is_refused() -> None:
    with pytest.raises(FieldError) as info:
        parse_credit_code(USCC[:-1] + "M", field="organisation.code")
    assert info.value.field == "organisation.code"
    assert "check character" in info.value.reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("9111000060003734", "18 characters"),
        ("A1110000600037341L", "format"),  # division part must be digits
        ("91110000I00037341L", "format"),  # I is not in the GB 32100 alphabet
    ],
)
def test_malformed_credit_code_is_refused(value: str, reason: str) -> None:
    with pytest.raises(FieldError) as info:
        parse_credit_code(value, field="code")
    assert info.value.field == "code"
    assert reason in info.value.reason


near_misses = st.one_of(
    st.text(),
    st.text(alphabet="0123456789Xx -", min_size=13, max_size=20),
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXYIOSVZ -", min_size=16, max_size=20),
)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(value=near_misses)
@example(value="\x00" * 18)
@example(value="320505760514013")
@example(value="")
def test_garbage_only_ever_raises_field_error(value: str) -> None:
    for parse in (parse_resident_id, parse_credit_code):
        refusal: FieldError | None = None
        try:
            parse(value, field="f")
        except FieldError as err:  # anything else escapes and fails the test
            refusal = err
        if refusal is not None:
            assert refusal.field == "f"
            assert refusal.reason


@pytest.mark.parametrize("value", ["²" * 15, "32050576051401²"])
def test_legacy_id_with_unicode_digits_raises_field_error(value: str) -> None:
    with pytest.raises(FieldError, match="digits"):
        parse_resident_id(value)


def _arabic_indic(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


@pytest.mark.parametrize(
    "value",
    [
        "3205051990030700²X",
        _arabic_indic("32050519900307001") + check_char("32050519900307001"),
    ],
)
def test_id_with_unicode_digits_is_refused_as_non_digit(value: str) -> None:
    with pytest.raises(FieldError, match="are digits"):
        parse_resident_id(value)


@PROPERTY
@given(value=st.text(max_size=24) | st.text(alphabet="0123456789xX `-²０１", max_size=20))
def test_compact_shortcut_is_stdnums_compact(value: str) -> None:
    # the ingest shortcut skips stdnum's Unicode clean-up only where it would change nothing
    assert _compact(value) == ric.compact(value)
