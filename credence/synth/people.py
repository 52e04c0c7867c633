"""Synthetic residents: names, sex, birth dates, real-looking resident IDs, phones and districts.

Every resident ID is built from a real GB/T 2260 address code (valid when the ID was first issued
and still valid today), the birth date, a sequence number (odd for men, even for women) and the
ISO 7064 MOD 11-2 check character, and is then checked with ``parse_resident_id``.
"""

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import phonenumbers
from faker import Faker
from stdnum.cn import ric

from credence.model.identifiers import Sex, parse_resident_id
from credence.synth import regions
from credence.synth.window import add_years

# Age bands (lowest age, highest age, share). Under 18: 18%, from DOMAIN.md Statistics
# (1.41bn people, 1.15bn adults, so 1 - 1.15/1.41 = 18.4% minors). The split of the adults is an
# assumption shaped like an ageing city (no DOMAIN.md figure).
AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (0, 17, 0.18),
    (18, 29, 0.14),
    (30, 44, 0.22),
    (45, 59, 0.25),
    (60, 79, 0.17),
    (80, 99, 0.04),
)
# Born in the home city, by city (no DOMAIN.md figure; Suzhou has many migrants).
LOCAL_BIRTH_SHARE = {"3205": 0.6, "3710": 0.85}
# Brief: ~3% of people hold a first-generation (15-digit) ID too. Those IDs went to people born
# in the 1900s (the upgrade assumes century 19); about half the population was born by 1984, so
# 6% of them.
LEGACY_BORN_BY = 1984
LEGACY_SHARE_OF_ELIGIBLE = 0.06
# Brief: ~0.5% of feed rows carry the 15-digit form: 3% of people x 1/6 of their rows.
LEGACY_FORM_IN_ROW = 1 / 6
FIRST_ID_YEAR = 1986  # IDs for people born earlier were issued from the mid-1980s
ADULT_AGE = 18


@dataclass(frozen=True, slots=True)
class Person:
    id_number: str
    name: str
    sex: Sex
    birth_date: date
    phone: str
    district: str
    legacy: bool  # also known to agencies by the 15-digit form of the ID
    adult_from: date  # 18th birthday

    @property
    def legacy_number(self) -> str:
        """The 15-digit first-generation form: address(6) + YYMMDD + sequence(3)."""
        return self.id_number[:6] + self.id_number[8:17]

    @property
    def city(self) -> str:
        return regions.city_of(self.district)

    def id_in_feed(self, rng: random.Random) -> str:
        """The ID as an agency writes it: now and then the 15-digit form for legacy holders."""
        if self.legacy and rng.random() < LEGACY_FORM_IN_ROW:
            return self.legacy_number
        return self.id_number


def resident_id(address: str, birth: date, sequence: int) -> str:
    body = f"{address}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check char


class PeopleFactory:
    """Makes people one at a time; IDs are unique within one factory."""

    def __init__(self, seed: int, today: date) -> None:
        self._rng = random.Random(f"{seed}/people")
        faker = Faker("zh_CN")
        faker.seed_instance(seed)
        self._phone = faker.phone_number
        # Faker's zh_CN name data, drawn with our stream: its own draws cost ~25 us a name
        names = next(p for p in faker.get_providers() if hasattr(p, "first_names_female"))
        self._surnames = tuple(names.last_names)
        self._surname_weights = tuple(itertools.accumulate(names.last_names.values()))
        self._given = {
            Sex.MALE: tuple(names.first_names_male),
            Sex.FEMALE: tuple(names.first_names_female),
        }
        self._today = today
        self._issued: set[str] = set()
        self._bands = [(low, high) for low, high, _ in AGE_BANDS]
        self._band_weights = [share for _, _, share in AGE_BANDS]

    def given_names(self) -> tuple[tuple[str, ...], ...]:
        """The given names drawn from, men's and women's."""
        return tuple(self._given.values())

    def _valid_phone(self) -> str:
        """One of Faker's numbers that the numbering plan knows: some of its prefixes were never
        issued, and ingest refuses those (model.contacts)."""
        while True:
            number = self._phone()
            if phonenumbers.is_valid_number(phonenumbers.parse(number, "CN")):
                return number

    def make(self) -> Person:
        rng = self._rng
        sex = Sex.MALE if rng.random() < 0.51 else Sex.FEMALE
        low, high = rng.choices(self._bands, self._band_weights)[0]
        age_days = int((rng.randint(low, high) + rng.random()) * 365.25)
        birth = self._today - timedelta(days=age_days)
        district = regions.random_district(rng)
        address = regions.birth_address(
            rng,
            home=district,
            assigned=max(birth.year, FIRST_ID_YEAR),
            local=rng.random() < LOCAL_BIRTH_SHARE[district[:4]],
        )
        number = self._unique_id(address, birth, sex)
        parsed = parse_resident_id(number)
        if parsed.birth_date != birth or parsed.sex is not sex:
            raise AssertionError(f"generated ID {number} does not say what was meant")
        # zh_CN's name_male() is not gendered; its first-name lists are
        surname = rng.choices(self._surnames, cum_weights=self._surname_weights)[0]
        return Person(
            id_number=number,
            name=surname + rng.choice(self._given[sex]),
            sex=sex,
            birth_date=birth,
            phone=self._valid_phone(),
            district=district,
            legacy=birth.year <= LEGACY_BORN_BY and rng.random() < LEGACY_SHARE_OF_ELIGIBLE,
            adult_from=add_years(birth, ADULT_AGE),
        )

    def _unique_id(self, address: str, birth: date, sex: Sex) -> str:
        while True:
            half = self._rng.randrange(1, 500)
            sequence = 2 * half - 1 if sex is Sex.MALE else 2 * half  # odd men, even women
            number = resident_id(address, birth, sequence)
            if number not in self._issued and number[:6] + number[8:17] not in self._issued:
                self._issued.add(number)
                self._issued.add(number[:6] + number[8:17])
                return number


def iter_people(count: int, *, seed: int, today: date) -> Iterator[Person]:
    factory = PeopleFactory(seed, today)
    for _ in range(count):
        yield factory.make()
