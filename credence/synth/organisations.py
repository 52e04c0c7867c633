"""Synthetic companies with unified social credit codes (GB 32100) and their responsible people.

A code is: registration authority and entity category (``91`` enterprise, ``92`` individual
business), the 6-digit division code, the 9-character organisation code (8 characters and its
GB 11714 check character) and the ISO 7064 MOD 31 check character (``stdnum.cn.uscc``).
``stdnum``'s ``uscc.validate`` checks only the last one; the inner one is made right anyway.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from faker import Faker
from stdnum.cn import uscc

from credence.model.identifiers import age_on, parse_credit_code
from credence.synth import regions
from credence.synth.people import Person

PEOPLE_PER_COMPANY = 200  # brief: about one company per 200 people
INDIVIDUAL_BUSINESS_SHARE = 0.15  # entity category 2 (no DOMAIN.md figure)
OFFICER_MIN_AGE = 24  # adult throughout the 6-year window
OFFICER_MAX_AGE = 75
PRINCIPAL_IS_REPRESENTATIVE = 0.5  # no DOMAIN.md figure
CONTROLLER_IS_REPRESENTATIVE = 0.6  # no DOMAIN.md figure

_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_BODY_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # uscc's alphabet: no I, O, S, V, Z


@dataclass(frozen=True, slots=True)
class Organisation:
    credit_code: str
    name: str
    district: str
    legal_representative: str
    principal: str
    actual_controller: str

    @property
    def city(self) -> str:
        return regions.city_of(self.district)


def organisation_code_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body (A=10 ... Z=35)."""
    total = sum(int(c, 36) * w for c, w in zip(body, _GB11714_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def organisation_code_body(rng: random.Random) -> str:
    """Codes issued since 2015 start with MA (e.g. 91320505MA1...); the rest from the USCC alphabet.

    The letters also keep the first 17 characters from looking like a resident ID's digits,
    which is how ``subject_kind_of`` tells the two apart.
    """
    return "MA" + "".join(rng.choice(_BODY_ALPHABET) for _ in range(6))


def credit_code(category: str, division: str, body: str) -> str:
    prefix = category + division + body + organisation_code_check(body)
    return prefix + uscc.calc_check_digit(prefix)


def build_organisations(population: Sequence[Person], *, seed: int, today: date) -> list[Organisation]:
    rng = random.Random(f"{seed}/organisations")
    faker = Faker("zh_CN")
    faker.seed_instance(seed + 1)
    officers: dict[str, list[Person]] = {}
    for person in population:
        if OFFICER_MIN_AGE <= age_on(person.birth_date, today) <= OFFICER_MAX_AGE:
            officers.setdefault(person.city, []).append(person)
    if not officers:
        return []
    issued: set[str] = set()
    out: list[Organisation] = []
    for _ in range(max(1, len(population) // PEOPLE_PER_COMPANY)):
        district = regions.random_district(rng)
        pool = officers.get(district[:4]) or next(iter(officers.values()))
        category = "92" if rng.random() < INDIVIDUAL_BUSINESS_SHARE else "91"
        code = credit_code(category, district, organisation_code_body(rng))
        while code in issued:
            code = credit_code(category, district, organisation_code_body(rng))
        issued.add(code)
        parse_credit_code(code)  # raises if the code were wrong
        representative = rng.choice(pool).id_number
        out.append(
            Organisation(
                credit_code=code,
                name=faker.company(),
                district=district,
                legal_representative=representative,
                principal=representative if rng.random() < PRINCIPAL_IS_REPRESENTATIVE else rng.choice(pool).id_number,
                actual_controller=representative
                if rng.random() < CONTROLLER_IS_REPRESENTATIVE
                else rng.choice(pool).id_number,
            )
        )
    return out
