"""Deliberately malformed copies of feed rows, the kinds of mistakes real agency feeds carry.

A malformed row is an extra copy of a good row with one fault; its source record id is the good
row's id prefixed with the fault's marker (e.g. ``BADCHK-PSB-00001234``), so tests and people can
tell the planted faults from the rest.
"""

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from stdnum.cn import ric, uscc

from credence.model.identifiers import SubjectKind, subject_kind_of, upgrade_legacy

Row = dict[str, Any]
Amend = Callable[[Row, random.Random], Row | None]


class Malformation(StrEnum):
    """Each fault with the marker that prefixes the malformed row's record id."""

    BAD_CHECK_CHARACTER = "BADCHK"
    IMPOSSIBLE_BIRTH_DATE = "BADDOB"
    WRONG_ID_LENGTH = "BADLEN"
    MISSING_REQUIRED = "MISSING"
    NOT_A_NUMBER = "NOTNUM"
    BAD_DATE = "BADDATE"
    UNKNOWN_KIND = "BADKIND"
    OUT_OF_RANGE = "RANGE"


@dataclass(frozen=True, slots=True)
class FeedShape:
    """Where a feed keeps what the malformer touches: column names or dotted JSON paths.

    For the lists, the first path present and non-empty in a row is used; a fault that finds
    none does not apply to that row.
    """

    record_id: str
    subject_id: str
    required: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    kind: tuple[str, str] | None = None  # path, a value the mapping does not know
    out_of_range: tuple[tuple[str, Any], ...] = ()  # path, a value outside its bounds
    amend: Amend | None = field(default=None)


def get_path(row: Row, path: str) -> Any:
    node: Any = row
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def set_path(row: Row, path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = row
    for part in parents:
        node = node[part]
    node[leaf] = value


def drop_path(row: Row, path: str) -> None:
    """Remove a JSON key, or empty a CSV cell (a flat row's key stays, as a column must)."""
    *parents, leaf = path.split(".")
    node = row
    for part in parents:
        node = node[part]
    if parents:
        del node[leaf]
    else:
        node[leaf] = ""


def _present(row: Row, paths: tuple[str, ...]) -> str | None:
    for path in paths:
        if get_path(row, path) not in (None, ""):
            return path
    return None


def _bad_check(number: str) -> str:
    if subject_kind_of(number) is SubjectKind.ORGANISATION:
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        wrong = alphabet[(alphabet.index(uscc.calc_check_digit(number[:17])) + 7) % 31]
        return number[:17] + wrong
    full = upgrade_legacy(number) if len(number) == 15 else number
    digits = "0123456789X"
    return full[:17] + digits[(digits.index(ric.calc_check_digit(full)) + 3) % 11]


def _impossible_birth_date(number: str) -> str | None:
    if subject_kind_of(number) is SubjectKind.ORGANISATION:
        return None
    full = upgrade_legacy(number) if len(number) == 15 else number
    body = full[:10] + "0230" + full[14:17]  # 30 February, with a correct check character
    return body + ric.calc_check_digit(body + "0")


def _bad_date(value: Any) -> str:
    text = str(value)
    return f"{text[:4]}-02-30" if "-" in text else f"{text[:4]}0230"


def malform(row: Row, fault: Malformation, shape: FeedShape) -> Row | None:
    """A copy of ``row`` with ``fault``, or None when the fault does not fit this row."""
    bad = copy.deepcopy(row)
    subject = str(get_path(row, shape.subject_id) or "")
    match fault:
        case Malformation.BAD_CHECK_CHARACTER:
            set_path(bad, shape.subject_id, _bad_check(subject))
        case Malformation.IMPOSSIBLE_BIRTH_DATE:
            number = _impossible_birth_date(subject)
            if number is None:
                return None
            set_path(bad, shape.subject_id, number)
        case Malformation.WRONG_ID_LENGTH:
            set_path(bad, shape.subject_id, subject[:-1])
        case Malformation.MISSING_REQUIRED:
            if (path := _present(row, shape.required)) is None:
                return None
            drop_path(bad, path)
        case Malformation.NOT_A_NUMBER:
            if (path := _present(row, shape.numeric)) is None:
                return None
            set_path(bad, path, f"约{get_path(row, path)}")  # "about 200": not a number
        case Malformation.BAD_DATE:
            if (path := _present(row, shape.dates)) is None:
                return None
            set_path(bad, path, _bad_date(get_path(row, path)))
        case Malformation.UNKNOWN_KIND:
            if shape.kind is None:
                return None
            set_path(bad, shape.kind[0], shape.kind[1])
        case Malformation.OUT_OF_RANGE:
            candidates = [(p, v) for p, v in shape.out_of_range if get_path(row, p) not in (None, "")]
            if not candidates:
                return None
            set_path(bad, *candidates[0])
    set_path(bad, shape.record_id, f"{fault.value}-{get_path(row, shape.record_id)}")
    return bad
