"""Favourable and consent records: the blood stations, the volunteer federation, the credit office.

Files: ``blood_bank.csv``, ``volunteers.csv`` and ``credit_office.jsonl``. One Suzhou resident
(the "Suzhou 134" story) gets exactly five 200 ml donations and 520 certified volunteer hours.
"""

import random
from datetime import date, timedelta
from pathlib import Path

from credence.model.identifiers import age_on
from credence.synth import regions
from credence.synth.malform import FeedShape, Row
from credence.synth.people import Person
from credence.synth.sink import FeedSink
from credence.synth.window import Window, add_years

BLOOD_FILE = "blood_bank.csv"
BLOOD_COLUMNS = ("donation_id", "donor_id", "volume_ml", "donated_on", "station_region")
VOLUNTEER_FILE = "volunteers.csv"
VOLUNTEER_COLUMNS = ("cert_id", "volunteer_id", "year", "hours", "issued_on", "district")
CREDIT_FILE = "credit_office.jsonl"

# ~2-3% of eligible adults donate each year (brief; DOMAIN.md gives no rate, only Nanjing's
# "trustworthy cards" for donors). Donors are 18 to 60; some give twice in a year.
DONOR_PER_YEAR = 0.025
DONOR_MAX_AGE = 60
SECOND_DONATION_SHARE = 0.3
VOLUMES = {200: 0.35, 300: 0.25, 400: 0.40}
# Certified volunteers per year and their hours: assumptions (no DOMAIN.md figure).
VOLUNTEER_PER_YEAR = 0.06
MAX_HOURS = 1500
# Rongcheng scores only with consent (DOMAIN.md City point schemes): ~85% of adult residents
# consent (brief), a few withdraw later. Heroic acts (+30 in Rongcheng) are rare everywhere.
SCHEME = "rongcheng-credit"
CONSENT_SHARE = 0.85
WITHDRAWAL_SHARE = 0.04
HEROIC_SHARE = 0.0005
HEROIC_DEEDS = (
    "救助落水儿童",
    "协助民警制止抢劫",
    "火灾中救出被困邻居",
    "拦停失控车辆",
    "勇斗持刀歹徒",
)
# The "Suzhou 134" story: five 200 ml donations and 520 volunteer hours over four years.
STORY_DONATIONS = 5
STORY_VOLUME = 200
STORY_HOURS = (150, 120, 140, 110)


def _amend_hours(row: Row, rng: random.Random) -> Row | None:
    return {**row, "hours": str(max(1, int(row["hours"]) + rng.choice((-8, -4, 4, 12))))}


def _amend_volume(row: Row, rng: random.Random) -> Row | None:
    del rng
    return {**row, "volume_ml": "300" if row["volume_ml"] == "400" else "200"}


BLOOD_SHAPE = FeedShape(
    record_id="donation_id",
    subject_id="donor_id",
    required=("volume_ml",),
    numeric=("volume_ml",),
    dates=("donated_on",),
    out_of_range=(("volume_ml", "5000"),),
    amend=_amend_volume,
)
VOLUNTEER_SHAPE = FeedShape(
    record_id="cert_id",
    subject_id="volunteer_id",
    required=("hours",),
    numeric=("hours", "year"),
    dates=("issued_on",),
    out_of_range=(("hours", "9000"),),
    amend=_amend_hours,
)
CREDIT_SHAPE = FeedShape(
    record_id="ref",
    subject_id="id_number",
    required=("scheme", "citation"),
    dates=("date",),
    kind=("kind", "complaint"),
)


class Civic:
    def __init__(self, out_dir: Path, *, seed: int, window: Window) -> None:
        def sink(name: str, shape: FeedShape, columns: tuple[str, ...] | None) -> FeedSink:
            rng = random.Random(f"{seed}/{name}/noise")
            return FeedSink(out_dir / name, shape, rng=rng, columns=columns)

        self.blood = sink(BLOOD_FILE, BLOOD_SHAPE, BLOOD_COLUMNS)
        self.volunteers = sink(VOLUNTEER_FILE, VOLUNTEER_SHAPE, VOLUNTEER_COLUMNS)
        self.credit = sink(CREDIT_FILE, CREDIT_SHAPE, None)
        self._rng = random.Random(f"{seed}/civic")
        self._window = window
        self._serial = 0
        self._volumes = tuple(VOLUMES)
        self._volume_weights = tuple(VOLUMES.values())
        self.story: Person | None = None

    def person(self, person: Person) -> None:
        if self.story is None and self._fits_story(person):
            self.story = person
            self._story(person)
        else:
            self._donations(person)
            self._certificates(person)
        self._credit_office(person)

    def _fits_story(self, person: Person) -> bool:
        window = self._window
        return (
            person.city == "3205"
            and not person.legacy
            and age_on(person.birth_date, window.start) >= 25
            and age_on(person.birth_date, window.today) <= 50
        )

    def _story(self, person: Person) -> None:
        window = self._window
        step = (window.today - window.start).days // (STORY_DONATIONS + 1)
        for n in range(STORY_DONATIONS):
            day = window.start + timedelta(days=step * (n + 1))
            self._donation(person, day, STORY_VOLUME, plain=True)
        last_year = window.today.year - 1
        for n, hours in enumerate(STORY_HOURS):
            self._certificate(person, last_year - n, hours, plain=True)

    def _donations(self, person: Person) -> None:
        rng, window = self._rng, self._window
        too_old = add_years(person.birth_date, DONOR_MAX_AGE + 1)
        for day in window.yearly(rng, DONOR_PER_YEAR, lo=person.adult_from):
            if day >= too_old:
                continue
            volume = rng.choices(self._volumes, self._volume_weights)[0]
            self._donation(person, day, volume)
            again = day + timedelta(days=rng.randint(180, 300))
            if rng.random() < SECOND_DONATION_SHARE and again <= window.today:
                self._donation(person, again, volume)

    def _donation(self, person: Person, day: date, volume: int, *, plain: bool = False) -> None:
        self._serial += 1
        row: Row = {
            "donation_id": f"BLD-{self._serial:08d}",
            "donor_id": person.id_number if plain else person.id_in_feed(self._rng),
            "volume_ml": str(volume),
            "donated_on": day.isoformat(),
            "station_region": regions.CITY_CODE[person.city],
        }
        self.blood.write(row, plain=plain)

    def _certificates(self, person: Person) -> None:
        rng = self._rng
        for year in range(self._window.start.year, self._window.today.year):
            if rng.random() < VOLUNTEER_PER_YEAR and date(year, 12, 31) >= person.adult_from:
                self._certificate(person, year, min(MAX_HOURS, max(1, int(rng.lognormvariate(3.2, 1.0)))))

    def _certificate(self, person: Person, year: int, hours: int, *, plain: bool = False) -> None:
        rng = self._rng
        issued = date(year + 1, rng.randint(1, 3), rng.randint(1, 28))
        if issued > self._window.today:
            issued = self._window.today
        self._serial += 1
        row: Row = {
            "cert_id": f"VOL-{person.district}-{self._serial:08d}",
            "volunteer_id": person.id_number if plain else person.id_in_feed(rng),
            "year": str(year),
            "hours": str(hours),
            "issued_on": issued.isoformat(),
            "district": person.district,
        }
        self.volunteers.write(row, plain=plain)

    def _credit_office(self, person: Person) -> None:
        rng, window = self._rng, self._window
        if person.district == regions.RONGCHENG and rng.random() < CONSENT_SHARE:
            consented = window.day(rng, person.adult_from)
            if consented is not None:
                self._credit(person, consented, {"kind": "consent", "scheme": SCHEME, "granted": True})
                if rng.random() < WITHDRAWAL_SHARE:
                    withdrawn = window.day(rng, consented + timedelta(days=1))
                    if withdrawn is not None:
                        self._credit(
                            person,
                            withdrawn,
                            {"kind": "consent", "scheme": SCHEME, "granted": False},
                        )
        if rng.random() < HEROIC_SHARE and (day := window.day(rng, person.adult_from)):
            citation = f"{regions.CITY_NAME[person.city]}见义勇为表彰（{day.year}）：{rng.choice(HEROIC_DEEDS)}"
            self._credit(person, day, {"kind": "commendation", "citation": citation})

    def _credit(self, person: Person, day: date, values: Row) -> None:
        self._serial += 1
        row: Row = {
            "ref": f"CRO-{self._serial:08d}",
            "id_number": person.id_in_feed(self._rng),
            **values,
            "date": day.isoformat(),
            "district": person.district,
        }
        self.credit.write(row)
