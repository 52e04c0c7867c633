"""Region codes (GB/T 2260) for the synthetic city, read from python-stdnum's ``cn/loc.dat``.

The city is the nine districts of Suzhou (Jiangsu) and Rongcheng (Shandong). Birth-place codes
in resident IDs come from the national list of codes still valid today (no end year).
"""

import bisect
import random
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Residents by Suzhou district in millions (2020 census, rounded; not a DOMAIN.md figure): the
# weights only shape where people live.
SUZHOU_DISTRICTS: dict[str, float] = {
    "320505": 0.83,  # 虎丘区
    "320506": 1.39,  # 吴中区
    "320507": 0.89,  # 相城区
    "320508": 0.92,  # 姑苏区
    "320509": 1.54,  # 吴江区
    "320581": 1.67,  # 常熟市
    "320582": 1.43,  # 张家港市
    "320583": 2.09,  # 昆山市
    "320585": 0.83,  # 太仓市
}
RONGCHENG = "371082"
SUZHOU_SHARE = 0.8  # brief: about 80% of the synthetic city lives in Suzhou, 20% in Rongcheng

DISTRICT_NAMES: dict[str, str] = {
    "320505": "苏州市虎丘区",
    "320506": "苏州市吴中区",
    "320507": "苏州市相城区",
    "320508": "苏州市姑苏区",
    "320509": "苏州市吴江区",
    "320581": "常熟市",
    "320582": "张家港市",
    "320583": "昆山市",
    "320585": "太仓市",
    RONGCHENG: "荣成市",
}
PROVINCE_ABBREVIATION = {"32": "苏", "37": "鲁"}
CITY_CODE = {"3205": "320500", "3710": "371000"}  # city-level codes (blood stations)
CITY_NAME = {"3205": "苏州市", "3710": "威海市"}

_SUZHOU_CODES = tuple(SUZHOU_DISTRICTS)
_SUZHOU_WEIGHTS = tuple(SUZHOU_DISTRICTS.values())
_COUNTY = re.compile(r'^  (\d{4}) county="(?:\[(\d{4})?-(\d{4})?\])?[^"]*"')
_PROVINCE = re.compile(r"^(\d{2}) ")


@dataclass(frozen=True, slots=True)
class AddressCode:
    code: str
    since: int  # first year the code was assigned (0 when loc.dat gives none)


def city_of(district: str) -> str:
    return district[:4]


def court_name(district: str) -> str:
    return f"{DISTRICT_NAMES[district]}人民法院"


def court_code(district: str) -> str:
    """The court's short code in case numbers, e.g. 苏0505 in (2021)苏0505执123号."""
    return PROVINCE_ABBREVIATION[district[:2]] + district[2:]


def random_district(rng: random.Random) -> str:
    if rng.random() < SUZHOU_SHARE:
        return rng.choices(_SUZHOU_CODES, _SUZHOU_WEIGHTS)[0]
    return RONGCHENG


def neighbour_district(rng: random.Random, district: str) -> str:
    """Another district of the same city (Rongcheng has one, so itself)."""
    if district == RONGCHENG:
        return district
    return rng.choice([code for code in _SUZHOU_CODES if code != district])


def other_district(rng: random.Random, district: str) -> str:
    """Any other district of the synthetic city (Suzhou's or Rongcheng)."""
    return rng.choice([code for code in DISTRICT_NAMES if code != district])


@cache
def current_codes() -> tuple[AddressCode, ...]:
    """Every 6-digit code valid today (no end year), oldest assignment first."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text("utf-8")
    codes: list[AddressCode] = []
    province = ""
    for line in text.splitlines():
        if head := _PROVINCE.match(line):
            province = head.group(1)
            continue
        if (county := _COUNTY.match(line)) and county.group(3) is None:
            codes.append(AddressCode(province + county.group(1), int(county.group(2) or 0)))
    codes.sort(key=lambda c: c.since)
    return tuple(codes)


@cache
def _pool(prefix: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Codes under ``prefix`` (county level only when the prefix is national), oldest first."""
    if prefix:
        entries = [c for c in current_codes() if c.code.startswith(prefix) and c.code[4:] != "01"]
    else:
        entries = [c for c in current_codes() if c.code[4:] not in {"00", "01"}]
    return tuple(c.code for c in entries), tuple(c.since for c in entries)


def _pick(rng: random.Random, prefix: str, assigned: int) -> str | None:
    codes, since = _pool(prefix)
    valid = bisect.bisect_right(since, assigned)
    return codes[rng.randrange(valid)] if valid else None


def birth_address(rng: random.Random, *, home: str, assigned: int, local: bool) -> str:
    """An address code for an ID first issued in year ``assigned``, valid then and today.

    ``local`` people get a code of their home city (the district itself when it already
    existed, else another code of the city, else of the province); the others get a county
    anywhere in China.
    """
    if local:
        if _since(home) <= assigned:
            return home
        if nearby := _pick(rng, home[:4], assigned) or _pick(rng, home[:2], assigned):
            return nearby
    return _pick(rng, "", assigned) or _pool("")[0][0]


@cache
def _since(code: str) -> int:
    for entry in current_codes():
        if entry.code == code:
            return entry.since
    raise ValueError(f"address code {code} is not valid today")
