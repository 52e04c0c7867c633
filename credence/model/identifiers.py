"""National identifiers: the resident ID (GB 11643) and the unified social credit code (GB 32100).

Format, check character and birth date are checked with python-stdnum's functions (the birth
date is read from the number as ``ric.get_birth_date`` reads it, without compacting the number
a second time: ingest checks every row, and stdnum's Unicode clean-up was most of that cost).
The address code is accepted when GB/T 2260 ever assigned it: stdnum's own ``validate`` also
demands that the county existed in the birth year, which rejects many real IDs, so that check
is not used.
Every library exception becomes a ``FieldError`` that names the field and the reason.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.util import isdigits

from credence.exc import FieldError


class SubjectKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True, slots=True)
class ResidentId:
    number: str
    birth_date: date
    sex: Sex
    address_code: str

    @property
    def masked(self) -> str:
        """The public form (SPC 2017 Art. 6): birth month and day hidden."""
        return f"{self.number[:10]}****{self.number[14:]}"


@dataclass(frozen=True, slots=True)
class CreditCode:
    number: str
    division_code: str


@cache
def address_ever_assigned(code: str) -> bool:
    try:
        results = numdb.get("cn/loc").info(code)
    except Exception:
        return False
    return any("county" in props for _part, props in results)


def _compact(value: str) -> str:
    """``ric.compact``; an ASCII letters-and-digits value has nothing for stdnum's per-character
    Unicode clean-up (or its strip) to change, so it is only upper-cased."""
    if value.isascii() and value.isalnum():
        return value.upper()
    return str(ric.compact(value))


def upgrade_legacy(number: str) -> str:
    """Turn a 15-digit first-generation ID into its 18-character form (century 19, new check)."""
    body = number[:6] + "19" + number[6:]
    return body + ric.calc_check_digit(body + "0")


def parse_resident_id(value: str, *, field: str = "id_number") -> ResidentId:
    """Check a resident ID and return its parts; the 15-digit form is accepted and upgraded.

    Raises:
        FieldError: naming ``field`` and the reason (bad length, format, check character,
            impossible birth date, unknown address code).
    """
    number = _compact(value) if isinstance(value, str) else ""
    if len(number) == 15:
        if not isdigits(number):  # ASCII digits only: str.isdigit also takes '²'
            raise FieldError(field, "a 15-digit resident ID has digits only")
        number = upgrade_legacy(number)
    try:
        if len(number) != 18:
            raise InvalidLength()
        if not isdigits(number[:17]):
            raise InvalidFormat()
        if number[-1] != ric.calc_check_digit(number):
            raise InvalidChecksum()
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))  # as ric.get_birth_date
    except InvalidLength:
        raise FieldError(field, f"a resident ID has 18 characters (or 15 digits), got {len(number)}") from None
    except InvalidFormat:
        raise FieldError(field, "the first 17 characters of a resident ID are digits") from None
    except InvalidChecksum:
        raise FieldError(field, "bad check character (ISO 7064 MOD 11-2)") from None
    except (InvalidComponent, ValueError):
        raise FieldError(field, f"impossible birth date {number[6:14]}") from None
    if not address_ever_assigned(number[:6]):
        raise FieldError(field, f"address code {number[:6]} was never assigned in GB/T 2260")
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return ResidentId(number=number, birth_date=birth, sex=sex, address_code=number[:6])


def parse_credit_code(value: str, *, field: str = "id_number") -> CreditCode:
    """Check a unified social credit code (GB 32100).

    Raises:
        FieldError: naming ``field`` and the reason.
    """
    try:
        number = uscc.validate(value)
    except InvalidLength:
        raise FieldError(field, "a unified social credit code has 18 characters") from None
    except InvalidFormat:
        raise FieldError(field, "bad format for a unified social credit code") from None
    except InvalidChecksum:
        raise FieldError(field, "bad check character (ISO 7064 MOD 31)") from None
    except Exception as exc:
        raise FieldError(field, f"not a unified social credit code ({type(exc).__name__})") from None
    return CreditCode(number=number, division_code=number[2:8])


def parse_subject(value: str, *, field: str = "id_number") -> ResidentId | CreditCode:
    """A resident ID or a credit code. Both have 18 characters and a credit code may be all
    digits, so shape alone cannot tell them apart: the number that passes its check wins, and
    when neither does, the error is the one for the likelier kind."""
    compact = str(value).strip().upper()
    looks_personal = len(compact) == 15 or (
        len(compact) == 18 and compact[:17].isdigit() and compact[-1] in "0123456789X"
    )
    try:
        return parse_resident_id(compact, field=field)
    except FieldError as person_error:
        try:
            return parse_credit_code(compact, field=field)
        except FieldError as org_error:
            raise person_error if looks_personal else org_error from None


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def subject_kind_of(value: str) -> SubjectKind:
    """A guess from shape alone (no validation); ``parse_subject`` is the authority."""
    compact = value.strip().upper()
    if len(compact) == 15 or (len(compact) == 18 and compact[:17].isdigit() and compact[-1] in "0123456789X"):
        return SubjectKind.PERSON
    return SubjectKind.ORGANISATION


def masked(id_number: str) -> str:
    """An ID number as the SPC publishes it: a resident's birth month and day hidden; a credit
    code is public."""
    parsed = parse_subject(id_number)
    return parsed.masked if isinstance(parsed, ResidentId) else parsed.number
