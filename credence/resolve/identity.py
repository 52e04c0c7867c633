"""What identifies a person where a record has no ID number, made comparable.

``Identity`` is what a row says of its person (name, birth date, address, phone) as an agency
wrote it; ``features`` turns it into the columns the linkage model compares: the name in
simplified characters (traditional and variant forms folded), its pinyin without tones (so that
homophones meet), the pinyin with surname and given name swapped (a name written given name
first, as in "Wei Zhang"), the surname, the birth date and its parts (for a transposed day and
month, or a year off by one), the district code and the street, and the phone's digits.
Pure functions: no I/O, nothing logged.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from pypinyin import Style, lazy_pinyin

from credence.resolve.scripts import simplified

LATIN = re.compile(r"[a-z]+")
DISTRICT = re.compile(r"\d{6}")
DATE = re.compile(r"(\d{4})\D?(\d{1,2})\D?(\d{1,2})")
SEPARATORS = re.compile(r"[\s·・.\-_,，]+")
PHONE_DIGITS = 11  # a mainland mobile number; a landline's last 11 digits are as good a key

# The columns ``features`` gives, in order: what the model's comparisons and blocking rules read.
COLUMNS = (
    "name_norm",
    "name_pinyin",
    "name_swapped",
    "surname",
    "birth_date",
    "birth_year",
    "birth_month",
    "birth_day",
    "district",
    "street",
    "phone",
)


@dataclass(frozen=True, slots=True)
class Identity:
    """A person as a row (or the register) names them; any part may be missing."""

    name: str | None = None
    birth_date: str | None = None
    district: str | None = None
    address: str | None = None
    phone: str | None = None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


@lru_cache(maxsize=200_000)
def name_forms(name: str) -> tuple[str, str, str, str | None] | None:
    """(simplified name, pinyin, pinyin with surname and given name swapped, surname) of a
    name in characters or in pinyin; None for a name with nothing comparable in it."""
    text = SEPARATORS.sub(" ", unicodedata.normalize("NFKC", name)).strip().lower()
    latin = LATIN.findall(text)
    if latin and "".join(latin) == text.replace(" ", ""):
        # pinyin: which part is the surname cannot be told, so both orders are kept
        return "".join(latin), "".join(latin), "".join(reversed(latin)), None
    chars = simplified(text.replace(" ", ""))
    if not chars:
        return None
    syllables = lazy_pinyin(chars, style=Style.NORMAL, errors="ignore")
    surname, given = lazy_pinyin(chars[0], style=Style.NORMAL, errors="ignore"), syllables[1:]
    return chars, "".join(syllables), "".join(given) + "".join(surname), chars[0]


def birth_parts(value: str | None) -> tuple[str, int, int, int] | None:
    """The ISO date and its year, month and day, of a date written YYYY-MM-DD, YYYYMMDD or
    YYYY/M/D; None if it is no calendar date."""
    if not value or not (found := DATE.fullmatch(value)):
        return None
    year, month, day = (int(part) for part in found.groups())
    try:
        return date(year, month, day).isoformat(), year, month, day
    except ValueError:
        return None


def phone_digits(value: str | None) -> str | None:
    digits = re.sub(r"\D", "", value or "")
    if digits.startswith("86") and len(digits) == PHONE_DIGITS + 2:
        digits = digits[2:]
    return digits[-PHONE_DIGITS:] or None


def street_of(value: str | None) -> str | None:
    if not value:
        return None
    return simplified(SEPARATORS.sub("", value)) or None


def features(identity: Identity) -> dict[str, Any]:  # Any: text and whole numbers, by column
    """The comparable columns (``COLUMNS``) of one identity."""
    name = _text(identity.name)
    forms = name_forms(name) if name else None
    born = birth_parts(_text(identity.birth_date))
    district = _text(identity.district)
    return {
        "name_norm": forms[0] if forms else None,
        "name_pinyin": forms[1] if forms else None,
        "name_swapped": forms[2] if forms else None,
        "surname": forms[3] if forms else None,
        "birth_date": born[0] if born else None,
        "birth_year": born[1] if born else None,
        "birth_month": born[2] if born else None,
        "birth_day": born[3] if born else None,
        "district": district if district and DISTRICT.fullmatch(district) else None,
        "street": street_of(_text(identity.address)),
        "phone": phone_digits(_text(identity.phone)),
    }


def masked(identity: Identity) -> dict[str, str]:
    """What a clerk's queue may show of an identity: the surname and the name's length, the
    birth year and month, the district code, the street without its number, the phone's last
    four digits. Never a whole name, birth date or phone."""
    name = _text(identity.name) or ""
    forms = name_forms(name) if name else None
    born = birth_parts(_text(identity.birth_date))
    phone = phone_digits(_text(identity.phone)) or ""
    street = street_of(_text(identity.address)) or ""
    if forms and forms[3]:
        shown_name = forms[3] + "*" * (len(forms[0]) - 1)
    elif forms:
        shown_name = forms[0][:1].upper() + "*" * (len(forms[0]) - 1)
    else:
        shown_name = ""
    return {
        "name": shown_name,
        "born": f"{born[1]}-{born[2]:02d}-**" if born else "",
        "district": _text(identity.district) or "",
        "street": re.sub(r"\d+", "*", street),
        "phone": f"*******{phone[-4:]}" if len(phone) >= 4 else "",
    }
