"""The Public Security Bureau's feed (``police.jsonl``): residence, traffic and public order.

Nested JSON lines: ``{"event_id", "citizen_id", "type", "date", "place", "details": {...}}``.
Every person has at least one household-registration or residence event.
"""

import copy
import random
from datetime import date, timedelta
from pathlib import Path

from credence.synth import addresses, regions
from credence.synth.malform import FeedShape, Row
from credence.synth.people import Person
from credence.synth.sink import FeedSink
from credence.synth.window import Window

FILE = "police.jsonl"

# Household registration (no DOMAIN.md figures): most are registered where they live; the rest
# hold a residence permit from a day in the window (so about 1 in 6 of them for under a year);
# a few moved between districts and have a "left" event first.
RESIDENT_ONLY_SHARE = 0.15
MOVED_SHARE = 0.03
BIRTH_REGISTRATION_DAYS = 60
# Traffic offences: ~10% of adults a year (brief; DOMAIN.md has no rate, only Rongcheng's
# deduction per ticket). Code: (description, fine in yuan); a synthetic code table.
TRAFFIC_PER_YEAR = 0.10
TRAFFIC_CODES: dict[str, tuple[str, int]] = {
    "1039": ("parking in a prohibited place", 150),
    "1625": ("running a red light", 200),
    "1303": ("speeding by 20-50%", 200),
    "1345": ("ignoring lane markings", 100),
    "1240": ("not wearing a seat belt", 50),
    "1018": ("using a phone while driving", 100),
}
ELSEWHERE_SHARE = 0.1  # offences in another district of the same city
# Public order offences: ~0.5% of adults a year (brief; no DOMAIN.md figure).
PUBLIC_ORDER_PER_YEAR = 0.005
PUBLIC_ORDER_OFFENCES = ("fighting", "disturbing_public_order", "petty_theft", "gambling")
FINE_ONLY_SHARE = 0.4  # no detention
# Of the traffic records the police later correct, the share quashed on appeal and withdrawn
# (no DOMAIN.md figure; it exercises retraction in every city).
QUASHED_SHARE = 0.5
MAX_DETENTION_DAYS = 15
# Contact details given at household registration (no DOMAIN.md figure): most adults leave a
# phone, fewer an email; some leave nothing, and the registry must say it cannot reach them.
# Minors are reached through no contact of their own here.
PHONE_SHARE = 0.9
EMAIL_SHARE = 0.6
MAIL_DOMAINS = ("example.com", "example.net", "example.org")  # RFC 2606: never a real inbox


def _amend(row: Row, rng: random.Random) -> Row | None:
    """A corrected fine, a fine quashed on appeal (the record withdrawn), or a corrected detention."""
    fixed = copy.deepcopy(row)
    details = fixed["details"]
    if row["type"] == "traffic" and rng.random() < QUASHED_SHARE:
        fixed["withdrawn"] = True
    elif row["type"] == "traffic":
        details["fine"] = max(0, details["fine"] - 50 * rng.randint(1, 2))
    elif row["type"] == "public_order":
        details["detention_days"] = max(0, details["detention_days"] + rng.choice((-2, -1, 2)))
    else:
        return None
    return fixed


SHAPE = FeedShape(
    record_id="event_id",
    subject_id="citizen_id",
    required=("details.code", "details.offence", "details.region"),
    numeric=("details.fine", "details.detention_days"),
    dates=("date",),
    kind=("type", "parking"),
    out_of_range=(("details.detention_days", 30), ("details.fine", -200)),
    amend=_amend,
)


class Police:
    def __init__(self, out_dir: Path, *, seed: int, window: Window) -> None:
        self.sink = FeedSink(out_dir / FILE, SHAPE, rng=random.Random(f"{seed}/police/noise"))
        self._rng = random.Random(f"{seed}/police")
        self._seed = seed
        self._window = window
        self._serial = 0
        self._traffic_codes = tuple(TRAFFIC_CODES)
        # its own stream, so that adding contacts left every other event of a seed as it was
        self._contact_rng = random.Random(f"{seed}/police/contact")
        self._contacts = 0

    def person(self, person: Person) -> None:
        rng, window = self._rng, self._window
        self._residence(person)
        self._contact(person)
        for day in window.yearly(rng, TRAFFIC_PER_YEAR, lo=person.adult_from):
            code = rng.choice(self._traffic_codes)
            details = {"code": code, "fine": TRAFFIC_CODES[code][1]}
            self._event(person, "traffic", day, self._place(person), details)
        for day in window.yearly(rng, PUBLIC_ORDER_PER_YEAR, lo=person.adult_from):
            detention = 0 if rng.random() < FINE_ONLY_SHARE else rng.randint(1, MAX_DETENTION_DAYS)
            details = {"offence": rng.choice(PUBLIC_ORDER_OFFENCES), "detention_days": detention}
            self._event(person, "public_order", day, self._place(person), details)

    def _residence(self, person: Person) -> None:
        rng, window = self._rng, self._window
        status = "resident" if rng.random() < RESIDENT_ONLY_SHARE else "registered"
        if person.birth_date >= window.start:  # newborns are registered within weeks
            late = timedelta(days=rng.randint(0, BIRTH_REGISTRATION_DAYS))
            day = min(person.birth_date + late, window.today)
        elif rng.random() < MOVED_SHARE:
            before = regions.other_district(rng, person.district)
            left = window.day(rng, hi=window.today - timedelta(days=30)) or window.start
            self._hukou(person, left, before, "left", addresses.former_of(self._seed, person.id_number))
            day = left + timedelta(days=rng.randint(0, 30))
        elif status == "resident":
            day = window.day(rng) or window.today
        else:  # carried over from the old register during the first year of the feed
            day = window.start + timedelta(days=rng.randrange(365))
        self._hukou(person, day, person.district, status, addresses.home_of(self._seed, person.id_number))

    def _contact(self, person: Person) -> None:
        rng = self._contact_rng
        if person.adult_from > self._window.today:
            return
        details: Row = {}
        if rng.random() < PHONE_SHARE:
            details["phone"] = person.phone
        if rng.random() < EMAIL_SHARE:
            details["email"] = f"r{rng.randrange(10**9):09d}@{rng.choice(MAIL_DOMAINS)}"
        if not details:
            return
        self._contacts += 1
        day = max(person.adult_from, self._window.start) + timedelta(days=rng.randrange(30))
        row: Row = {
            "event_id": f"PSB-C{self._contacts:08d}",
            "citizen_id": person.id_number,
            "type": "contact",
            "date": min(day, self._window.today).isoformat(),
            "place": person.district,
            "details": details,
        }
        # plain: the feed's noise stream stays that of the other events (malformed contact rows
        # are the tests' business: tests/functional/test_notices.py)
        self.sink.write(row, plain=True)

    def _hukou(self, person: Person, day: date, region: str, status: str, address: str) -> None:
        # the household register holds the resident's name and street address: what record
        # linkage compares an unidentified export's rows with (credence.resolve.register)
        details = {"region": region, "status": status, "name": person.name, "address": address}
        self._event(person, "hukou", day, region, details)

    def _place(self, person: Person) -> str:
        if self._rng.random() < ELSEWHERE_SHARE:
            return regions.neighbour_district(self._rng, person.district)
        return person.district

    def _event(self, person: Person, kind: str, day: date, place: str, details: Row) -> None:
        self._serial += 1
        row: Row = {
            "event_id": f"PSB-{self._serial:08d}",
            "citizen_id": person.id_in_feed(self._rng),
            "type": kind,
            "date": day.isoformat(),
            "place": place,
            "details": details,
        }
        self.sink.write(row)
