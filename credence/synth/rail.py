"""China Railway's passenger-incident feed (``rail.jsonl``): fare evasion and smoking; national."""

import random
from datetime import date, timedelta
from pathlib import Path

from credence.synth.malform import FeedShape, Row
from credence.synth.people import Person
from credence.synth.sink import FeedSink
from credence.synth.window import Window

FILE = "rail.jsonl"

# DOMAIN.md (Flight and rail bans, 2018) names fare dodging and smoking on high-speed trains; it
# gives no incident rates, so these are assumptions.
FARE_EVASION_PER_YEAR = 0.003
SMOKING_PER_YEAR = 0.0003
# "Three times in a year means a 90-day wait" (DOMAIN.md): a few adults dodge fares three times
# within a year so the rule has cases.
REPEAT_DODGER_SHARE = 0.0005
TRAIN_CLASSES = {"G": 0.5, "D": 0.3, "K": 0.15, "Z": 0.05}
HIGH_SPEED = ("G", "D")  # smoking bans concern high-speed trains
FIRST_NUMBER = {"G": 1, "D": 1, "K": 1, "Z": 1}
LAST_NUMBER = {"G": 9999, "D": 9999, "K": 9999, "Z": 400}


def _amend(row: Row, rng: random.Random) -> Row | None:
    """A corrected train number."""
    return {**row, "train": row["train"][0] + str(rng.randint(1, LAST_NUMBER[row["train"][0]]))}


SHAPE = FeedShape(
    record_id="incident_id",
    subject_id="passenger_id",
    required=("train",),
    dates=("date",),
    kind=("incident", "littering"),
    amend=_amend,
)


class Rail:
    def __init__(self, out_dir: Path, *, seed: int, window: Window) -> None:
        self.sink = FeedSink(out_dir / FILE, SHAPE, rng=random.Random(f"{seed}/rail/noise"))
        self._rng = random.Random(f"{seed}/rail")
        self._window = window
        self._serial = 0
        self._classes = tuple(TRAIN_CLASSES)
        self._class_weights = tuple(TRAIN_CLASSES.values())

    def person(self, person: Person) -> None:
        rng, window = self._rng, self._window
        for day in window.yearly(rng, FARE_EVASION_PER_YEAR, lo=person.adult_from):
            self._incident(person, "fare_evasion", day, self._train())
        for day in window.yearly(rng, SMOKING_PER_YEAR, lo=person.adult_from):
            self._incident(person, "smoking", day, self._train(HIGH_SPEED))
        if rng.random() < REPEAT_DODGER_SHARE:
            first = window.day(rng, max(person.adult_from, window.start), window.today - timedelta(300))
            if first is not None:
                for gap in (0, rng.randint(20, 120), rng.randint(150, 300)):
                    self._incident(person, "fare_evasion", first + timedelta(gap), self._train())

    def _train(self, classes: tuple[str, ...] | None = None) -> str:
        rng = self._rng
        kind = rng.choice(classes) if classes else rng.choices(self._classes, self._class_weights)[0]
        return f"{kind}{rng.randint(FIRST_NUMBER[kind], LAST_NUMBER[kind])}"

    def _incident(self, person: Person, incident: str, day: date, train: str) -> None:
        self._serial += 1
        row: Row = {
            "incident_id": f"RLY-{self._serial:08d}",
            "passenger_id": person.id_in_feed(self._rng),
            "incident": incident,
            "train": train,
            "date": day.isoformat(),
        }
        self.sink.write(row)
