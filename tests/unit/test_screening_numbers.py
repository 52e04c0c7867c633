"""The vectorised resident-ID fast path agrees with parse_subject: exact when decided, and
deciding every canonical valid ID."""

import random
from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from credence.exc import FieldError
from credence.model.identifiers import ResidentId, address_ever_assigned, parse_subject
from credence.screening.numbers import assigned_table, person_key, person_keys

PROPERTY = settings(max_examples=300, deadline=None, database=None)
CODES = [f"{c:06d}" for c in np.flatnonzero(assigned_table())]


def make_id(address: str, birth: date, seq: int) -> str:
    # not %Y: glibc writes year 1 as "1", and parse_resident_id accepts years 0001-0999 too
    body = f"{address}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def accepted_unchanged(value: str) -> bool:
    try:
        subject = parse_subject(value)
    except FieldError:
        return False
    return isinstance(subject, ResidentId) and subject.number == value


valid_ids = st.builds(
    make_id,
    st.sampled_from(CODES),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.integers(0, 999),
)


def mutate(value: str, how: int, pos: int, other: int, char: str) -> str:
    pos %= len(value)
    other %= len(value)
    if how == 0:
        return value[:pos] + char + value[pos + 1 :]
    if how == 1:
        chars = list(value)
        chars[pos], chars[other] = chars[other], chars[pos]
        return "".join(chars)
    if how == 2:
        return value[:pos] + value[pos + 1 :]
    if how == 3:
        return value[:pos] + char + value[pos:]
    if how == 4:
        return value.replace("X", "x") if "X" in value else value[:-1] + "x"
    if how == 5:  # a full-width or other Unicode digit in place of an ASCII one
        digit = "０１２３４５６７８９٠١٢٣٤٥٦٧٨٩"[int(value[pos]) if value[pos].isdigit() else 0]
        return value[:pos] + digit + value[pos + 1 :]
    if how == 6:
        return f" {value}" if pos % 2 else f"{value} "
    if how == 7:  # an impossible or boundary birth date with the check character made right
        body = value[:6] + ["19810230", "00000101", "20230229", "20240229", "19991301", "19990100"][pos % 6]
        return (
            make_id(body[:6], date(2000, 1, 1), 0)[:0]
            + body
            + value[14:17]
            + ric.calc_check_digit(body + value[14:17] + "0")
        )
    # an address code never assigned, check character made right
    code = f"{other * 7919 % 1_000_000:06d}"
    body = code + value[6:17]
    return body + ric.calc_check_digit(body + "0")


def test_table_agrees_with_the_model_on_every_listed_code_and_random_ones() -> None:
    table = assigned_table()
    rng = random.Random(2260)
    sample = {int(c) for c in CODES} | {int(c) + d for c in CODES for d in (-1, 1) if 0 < int(c) < 999_999}
    sample |= {rng.randrange(1_000_000) for _ in range(20_000)}
    for code in sample:
        assert table[code] == address_ever_assigned.__wrapped__(f"{code:06d}"), code


@PROPERTY
@given(st.lists(valid_ids, min_size=1, max_size=50))
def test_every_valid_id_is_decided_with_its_key(numbers: list[str]) -> None:
    keys, decided = person_keys(numbers)
    assert decided.all()
    assert keys.tolist() == [person_key(n) for n in numbers] == [int(n[:17]) for n in numbers]
    assert all(accepted_unchanged(n) for n in numbers)


@PROPERTY
@given(
    valid_ids,
    st.integers(0, 8),
    st.integers(0, 100),
    st.integers(0, 10_000),
    st.characters(codec="utf-8"),
)
def test_decided_exactly_when_parse_subject_accepts_unchanged(
    number: str, how: int, pos: int, other: int, char: str
) -> None:
    value = mutate(number, how, pos, other, char)
    keys, decided = person_keys([value, number])
    assert bool(decided[0]) == accepted_unchanged(value), value
    if decided[0]:
        assert keys[0] == int(value[:17])
    assert decided[1]


@PROPERTY
@given(st.lists(st.one_of(st.text(max_size=20), st.text("0123456789Xx ", min_size=17, max_size=19)), max_size=20))
def test_random_strings_are_decided_only_when_accepted_unchanged(values: list[str]) -> None:
    _keys, decided = person_keys(values)
    assert decided.tolist() == [accepted_unchanged(v) for v in values]


def test_empty_input() -> None:
    keys, decided = person_keys([])
    assert keys.shape == decided.shape == (0,)
    assert keys.dtype == np.int64
    assert decided.dtype == np.bool_


def test_mixed_batch() -> None:
    good = make_id("110101", date(1990, 3, 7), 1)
    x_id = next(
        make_id("320505", date(1985, 6, 1), s) for s in range(1000) if make_id("320505", date(1985, 6, 1), s)[-1] == "X"
    )
    values = [
        good,
        x_id,
        x_id.lower(),  # accepted by parse_subject, but canonicalised
        "110101900307001",  # 15-digit: accepted, upgraded
        f" {good}",
        "91110000600037341L",  # an organisation
        "110101199002300011",
        "１" + good[1:],
        good[:-1] + ("0" if good[-1] != "0" else "1"),
        "",
    ]
    keys, decided = person_keys(values)
    assert decided.tolist() == [True, True] + [False] * 8
    assert keys[:2].tolist() == [int(good[:17]), int(x_id[:17])]
    assert decided.tolist() == [accepted_unchanged(v) for v in values]
