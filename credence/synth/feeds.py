"""Generate the synthetic city: ground truth and one feed file per agency.

One pass over the people, each new person's rows going to every agency's file at once (nothing
is kept per row, so memory stays flat); the companies' rows follow. Every random draw comes from
``random.Random`` streams and a Faker seeded from ``seed``: the same seed gives the same files.
"""

import csv
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Protocol

from credence.synth.civic import Civic
from credence.synth.community import Community
from credence.synth.court import Court
from credence.synth.finance import Bank, Tax
from credence.synth.organisations import Organisation, build_organisations
from credence.synth.people import Person, iter_people
from credence.synth.police import Police
from credence.synth.rail import Rail
from credence.synth.sink import FeedSink
from credence.synth.window import Window

PEOPLE_FILE = "people.csv"
ORGANISATIONS_FILE = "organisations.csv"
PEOPLE_COLUMNS = ("id_number", "name", "sex", "birth_date", "phone", "district")
ORGANISATION_COLUMNS = (
    "credit_code",
    "name",
    "district",
    "legal_rep_id",
    "principal_id",
    "controller_id",
)
PROGRESS_EVERY = 1000


class _PersonFeed(Protocol):
    def person(self, person: Person) -> None: ...


def generate(
    out_dir: Path,
    *,
    people: int,
    seed: int = 1,
    today: date,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write the feeds into ``out_dir`` and return {feed file name: rows written}.

    Rows written count every line after any header, planted faults, duplicates and amendments
    included. ``people.csv``, ``organisations.csv`` and ``linkage_truth.csv`` (the generator's
    ground truth, not feeds) are written too but not counted. ``progress`` gets the running number of people processed.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    window = Window.ending(today)
    court = Court(out_dir, seed=seed, window=window)
    police = Police(out_dir, seed=seed, window=window)
    rail = Rail(out_dir, seed=seed, window=window)
    tax = Tax(out_dir, seed=seed, window=window)
    bank = Bank(out_dir, seed=seed, window=window)
    civic = Civic(out_dir, seed=seed, window=window)
    community = Community(out_dir, seed=seed, window=window)
    sinks: list[FeedSink] = [
        court.sink,
        police.sink,
        tax.sink,
        rail.sink,
        civic.blood,
        civic.volunteers,
        civic.credit,
        bank.sink,
    ]
    feeds: tuple[_PersonFeed, ...] = (court, police, rail, tax, bank, civic, community)
    population: list[Person] = []
    try:
        with (out_dir / PEOPLE_FILE).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(PEOPLE_COLUMNS)
            for person in iter_people(people, seed=seed, today=today):
                population.append(person)
                writer.writerow(_person_row(person))
                for feed in feeds:
                    feed.person(person)
                if progress is not None and len(population) % PROGRESS_EVERY == 0:
                    progress(len(population))
        organisations = build_organisations(population, seed=seed, today=today)
        _write_organisations(out_dir / ORGANISATIONS_FILE, organisations)
        court.organisations(organisations)
        for org in organisations:
            tax.organisation(org)
            bank.organisation(org)
        court.minors(population)
    finally:
        counts = {sink.path.name: sink.close() for sink in sinks}
        counts[community.sink.path.name] = community.close()
    if progress is not None and len(population) % PROGRESS_EVERY:
        progress(len(population))
    return counts


def _person_row(person: Person) -> tuple[str, ...]:
    return (
        person.id_number,
        person.name,
        person.sex.value,
        person.birth_date.isoformat(),
        person.phone,
        person.district,
    )


def _write_organisations(path: Path, organisations: list[Organisation]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ORGANISATION_COLUMNS)
        for org in organisations:
            writer.writerow(
                (
                    org.credit_code,
                    org.name,
                    org.district,
                    org.legal_representative,
                    org.principal,
                    org.actual_controller,
                )
            )
