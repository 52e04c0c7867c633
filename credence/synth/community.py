"""An export without ID numbers: residents' committees' volunteer rosters (``community.csv``).

Residents' committees keep their own volunteer rosters and send certified hours with a name, a
birth date, an address (district code and street) and a phone, never an ID number. Rows are
written as a clerk types them, so they carry the corruption record linkage must survive:
typos, homophone characters, traditional forms, a name in pinyin given name first, a day and
month transposed, a year off by one, missing fields, an address the person has since left, a
mistyped phone; common names are shared (Faker's surname weights give many a 张伟). A few rows
are about people the registry does not know (volunteers from elsewhere): no link is right.

The true identity of each row (the ID number, or nothing for an outsider) goes to
``linkage_truth.csv``, the ground truth ``credence resolve evaluate`` reads: it is not a feed.
Every draw comes from streams of this export's own, so the other feeds of a seed are as before.
"""

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from pypinyin import Style, lazy_pinyin

from credence.resolve.scripts import traditional
from credence.synth import addresses, regions
from credence.synth.malform import FeedShape
from credence.synth.people import PeopleFactory, Person
from credence.synth.sink import FeedSink
from credence.synth.window import Window

FILE = "community.csv"
COLUMNS = ("entry_id", "committee", "name", "birth_date", "district", "address", "phone", "year", "hours", "issued_on")
TRUTH_FILE = "linkage_truth.csv"
TRUTH_COLUMNS = ("source", "source_record_id", "id_number")
SOURCE = "community"

# Rates (no DOMAIN.md figures; chosen to exercise each corruption in a small city): ~2% of
# adults register hours with a committee in a year; 3% of rows are outsiders.
PER_YEAR = 0.02
OUTSIDER_SHARE = 0.03
# Each corruption is drawn on its own, so a row may carry several.
TYPO = 0.04  # a given-name character mistyped
HOMOPHONE = 0.05  # a given-name character replaced by one read the same
TRADITIONAL = 0.04  # the name in traditional characters
PINYIN = 0.02  # the name in pinyin, given name first ("Wei Zhang")
TRANSPOSED = 0.03  # day and month swapped (when both can be a month)
YEAR_OFF = 0.03  # the birth year one off
NO_BIRTH_DATE = 0.03
NO_ADDRESS = 0.05
NO_PHONE = 0.2
FORMER_ADDRESS = 0.08  # an address the person lived at before (another district)
PHONE_TYPO = 0.02
# Characters common in given names, besides Faker's own, so that most have a homophone to be
# mistaken for (伟 and 玮, 静 and 靖, 丽 and 莉 and 俐).
NAME_CHARACTERS = (
    "伟玮炜苇薇维卫为静靖婧敬晶菁丽莉俐利立力黎敏闽珉民明铭鸣名芳方舫坊红宏鸿虹洪"
    "军君均钧俊峻骏杰洁婕捷涛韬滔桃勇永咏泳颖英莹瑛营斌彬滨宾霞夏峡辉慧惠晖徽"
    "娜纳琳林霖淋磊蕾雷垒华桦骅花秀绣强蔷墙平萍苹评玲灵凌铃龄燕艳雁彦晨辰臣琛"
)

SHAPE = FeedShape(
    record_id="entry_id",
    subject_id="name",
    required=("hours",),
    numeric=("hours", "year"),
    dates=("issued_on",),
    out_of_range=(("hours", "9000"),),
)


class Community:
    """Writes the rosters' rows and their ground truth, one person at a time."""

    def __init__(self, out_dir: Path, *, seed: int, window: Window) -> None:
        self.sink = FeedSink(out_dir / FILE, SHAPE, rng=random.Random(f"{seed}/community/noise"), columns=COLUMNS)
        self._truth_file = (out_dir / TRUTH_FILE).open("w", encoding="utf-8", newline="")
        self._truth = csv.writer(self._truth_file, lineterminator="\n")
        self._truth.writerow(TRUTH_COLUMNS)
        self._rng = random.Random(f"{seed}/community")
        self._seed = seed
        self._window = window
        self._serial = 0
        # outsiders are people of another city's factory: names and dates like everyone's
        self._outsiders = PeopleFactory(seed * 7919 + 13, window.today)
        self._given = sorted(_given_characters(self._outsiders) | set(NAME_CHARACTERS))
        self._homophones = _homophone_groups(self._given)

    def person(self, person: Person) -> None:
        rng = self._rng
        for year in range(self._window.start.year, self._window.today.year):
            if rng.random() < PER_YEAR and date(year, 12, 31) >= person.adult_from:
                self._entry(person, year, truth=person.id_number)
                if rng.random() < OUTSIDER_SHARE / (1 - OUTSIDER_SHARE):
                    outsider = self._outsiders.make()
                    if outsider.adult_from <= date(year, 12, 31):
                        self._entry(outsider, year, truth="")

    def close(self) -> int:
        self._truth_file.close()
        return self.sink.close()

    def _entry(self, person: Person, year: int, *, truth: str) -> None:
        rng = self._rng
        self._serial += 1
        issued = min(date(year + 1, rng.randint(1, 3), rng.randint(1, 28)), self._window.today)
        district, street = person.district, addresses.home_of(self._seed, person.id_number)
        if rng.random() < FORMER_ADDRESS:
            district = regions.other_district(rng, person.district)
            street = addresses.former_of(self._seed, person.id_number)
        row = {
            "entry_id": f"COM-{self._serial:08d}",
            "committee": person.district,  # the committee's district, where the hours were served
            "name": self._name(person.name),
            "birth_date": self._birth_date(person.birth_date),
            "district": "" if rng.random() < NO_ADDRESS else district,
            "address": "" if rng.random() < NO_ADDRESS else street,
            "phone": self._phone(person.phone),
            "year": str(year),
            "hours": str(max(1, int(rng.lognormvariate(2.8, 0.9)))),
            "issued_on": issued.isoformat(),
        }
        self.sink.write(row, plain=True)
        self._truth.writerow((SOURCE, row["entry_id"], truth))

    def _name(self, name: str) -> str:
        rng = self._rng
        chars = list(name)
        if len(chars) > 1 and rng.random() < TYPO:
            chars[rng.randrange(1, len(chars))] = rng.choice(self._given)
        if len(chars) > 1 and rng.random() < HOMOPHONE:
            at = rng.randrange(1, len(chars))
            group = self._homophones.get(chars[at], ())
            if len(group) > 1:
                chars[at] = rng.choice([c for c in group if c != chars[at]])
        written = "".join(chars)
        if rng.random() < TRADITIONAL:
            written = traditional(written)
        if rng.random() < PINYIN:
            surname, given = "".join(lazy_pinyin(written[0])), "".join(lazy_pinyin(written[1:]))
            written = f"{given.capitalize()} {surname.capitalize()}"
        return written

    def _birth_date(self, born: date) -> str:
        rng = self._rng
        if rng.random() < NO_BIRTH_DATE:
            return ""
        year, month, day = born.year, born.month, born.day
        if day <= 12 and day != month and rng.random() < TRANSPOSED:
            month, day = day, month
        if rng.random() < YEAR_OFF:
            year += rng.choice((-1, 1))
        try:
            return date(year, month, day).isoformat()
        except ValueError:  # 29 February moved to a year without one
            return (date(year, month, 28) + timedelta(days=1)).isoformat()

    def _phone(self, phone: str) -> str:
        rng = self._rng
        if rng.random() < NO_PHONE:
            return ""
        if rng.random() < PHONE_TYPO:
            at = rng.randrange(3, len(phone))
            digit = str((int(phone[at]) + rng.randint(1, 9)) % 10) if phone[at].isdigit() else phone[at]
            return phone[:at] + digit + phone[at + 1 :]
        return phone


def _given_characters(factory: PeopleFactory) -> set[str]:
    """Every character of the given names the people factory draws from."""
    return {char for names in factory.given_names() for name in names for char in name}


def _homophone_groups(characters: list[str]) -> dict[str, tuple[str, ...]]:
    """Each character with the characters read the same (pinyin without tones)."""
    groups: dict[str, list[str]] = {}
    for char in characters:
        groups.setdefault(lazy_pinyin(char, style=Style.NORMAL)[0], []).append(char)
    return {char: tuple(group) for group in groups.values() for char in group}
