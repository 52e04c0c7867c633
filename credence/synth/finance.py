"""The Tax Bureau's (``tax.csv``) and the banks' (``bank.csv``) arrears feeds.

Both report people (resident ID) and companies (unified social credit code) alike.
"""

import random
from collections.abc import Callable
from datetime import date
from pathlib import Path

from credence.synth.malform import FeedShape, Row
from credence.synth.organisations import Organisation
from credence.synth.people import Person
from credence.synth.sink import FeedSink
from credence.synth.window import Window

TAX_FILE = "tax.csv"
TAX_COLUMNS = ("notice_id", "taxpayer_id", "amount_yuan", "tax_type", "due_date", "district")
BANK_FILE = "bank.csv"
BANK_COLUMNS = ("ref", "borrower_id", "amount_yuan", "overdue_since", "district")

# Tax arrears: DOMAIN.md names tax evasion with ability to pay as a flight-ban ground but gives
# no rate; these yearly shares are assumptions.
TAX_PER_YEAR = 0.003
ORGANISATION_TAX_PER_YEAR = 0.04
PERSONAL_TAXES = ("individual_income", "property", "vehicle_and_vessel")
COMPANY_TAXES = ("value_added", "enterprise_income", "stamp", "urban_maintenance")
# Bank arrears: Rongcheng deducts 10 for bank arrears or card overdraft (DOMAIN.md City point
# schemes); how often they happen is an assumption.
BANK_PER_YEAR = 0.01
ORGANISATION_BANK_PER_YEAR = 0.02


def _amend_amount(row: Row, rng: random.Random) -> Row | None:
    """A corrected amount (a partial payment was missed when the notice was first sent)."""
    return {**row, "amount_yuan": str(max(1, int(int(row["amount_yuan"]) * rng.uniform(0.3, 0.9))))}


def _shape(record_id: str, subject_id: str, due: str) -> FeedShape:
    return FeedShape(
        record_id=record_id,
        subject_id=subject_id,
        required=("amount_yuan",),
        numeric=("amount_yuan",),
        dates=(due,),
        out_of_range=(("amount_yuan", "-500"),),
        amend=_amend_amount,
    )


def _amount(rng: random.Random, mu: float, sigma: float, floor: int) -> str:
    return str(max(floor, int(rng.lognormvariate(mu, sigma))))


class _Arrears:
    """One feed of arrears: yearly chances for people and companies, and a row builder."""

    def __init__(
        self,
        sink: FeedSink,
        rng: random.Random,
        window: Window,
        rates: tuple[float, float],
        make: Callable[[int, str, str, date, bool], Row],
    ) -> None:
        self.sink = sink
        self._rng = rng
        self._window = window
        self._rates = rates
        self._make = make
        self._serial = 0

    def person(self, person: Person) -> None:
        for day in self._window.yearly(self._rng, self._rates[0], lo=person.adult_from):
            self._write(person.id_in_feed(self._rng), person.district, day, False)

    def organisation(self, org: Organisation) -> None:
        for day in self._window.yearly(self._rng, self._rates[1]):
            self._write(org.credit_code, org.district, day, True)

    def _write(self, subject: str, district: str, day: date, company: bool) -> None:
        self._serial += 1
        self.sink.write(self._make(self._serial, subject, district, day, company))


class Tax(_Arrears):
    def __init__(self, out_dir: Path, *, seed: int, window: Window) -> None:
        rng = random.Random(f"{seed}/tax")
        sink = FeedSink(
            out_dir / TAX_FILE,
            _shape("notice_id", "taxpayer_id", "due_date"),
            rng=random.Random(f"{seed}/tax/noise"),
            columns=TAX_COLUMNS,
        )

        def make(serial: int, subject: str, district: str, day: date, company: bool) -> Row:
            return {
                "notice_id": f"TAX-{district[:4]}-{serial:08d}",
                "taxpayer_id": subject,
                "amount_yuan": _amount(rng, 11.0, 1.3, 500) if company else _amount(rng, 8.0, 1.2, 50),
                "tax_type": rng.choice(COMPANY_TAXES if company else PERSONAL_TAXES),
                "due_date": day.isoformat(),
                "district": district,
            }

        super().__init__(sink, rng, window, (TAX_PER_YEAR, ORGANISATION_TAX_PER_YEAR), make)


class Bank(_Arrears):
    def __init__(self, out_dir: Path, *, seed: int, window: Window) -> None:
        rng = random.Random(f"{seed}/bank")
        sink = FeedSink(
            out_dir / BANK_FILE,
            _shape("ref", "borrower_id", "overdue_since"),
            rng=random.Random(f"{seed}/bank/noise"),
            columns=BANK_COLUMNS,
        )

        def make(serial: int, subject: str, district: str, day: date, company: bool) -> Row:
            return {
                "ref": f"BNK-{serial:08d}",
                "borrower_id": subject,
                "amount_yuan": _amount(rng, 12.0, 1.2, 5000) if company else _amount(rng, 9.0, 1.3, 100),
                "overdue_since": day.isoformat(),
                "district": district,
            }

        super().__init__(sink, rng, window, (BANK_PER_YEAR, ORGANISATION_BANK_PER_YEAR), make)
