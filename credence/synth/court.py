"""The courts' feed (``court.csv``): defaulter listings and what follows them, debts, breaches.

Listings follow SPC Fa Shi [2017] No. 7 (DOMAIN.md): grounds 1 to 6 of Art. 1, extensions of
fixed-term listings (Art. 2), deletions for the reasons of Art. 10, and one-off consumption
exemptions. A few ground-1 rows break Art. 3 and a handful of ``MINOR-`` rows break Art. 4: the
registry must refuse both.
"""

import random
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from credence.synth import regions
from credence.synth.malform import FeedShape, Row
from credence.synth.organisations import Organisation
from credence.synth.people import Person
from credence.synth.sink import FeedSink
from credence.synth.window import Window, add_years

FILE = "court.csv"
COLUMNS = (
    "record_no",
    "doc_type",
    "id_no",
    "case_no",
    "court_name",
    "decision_date",
    "ground",
    "performance",
    "full_security",
    "seized_covers",
    "not_yet_due",
    "ext_years",
    "reason",  # deletion reason (DELETE) or exemption reason (EXEMPT): one attribute, `reason`
    "exempt_action",
    "amount",
    "legal_rep_id",
    "principal_id",
    "controller_id",
    "region",
)

# ~1.26% of adults listed: 14.5M listed / 1.15bn adults (DOMAIN.md Statistics, July 2019).
LISTED_SHARE = 14.5e6 / 1.15e9
# Companies: no DOMAIN.md figure; assumed several times the people's share.
ORGANISATION_LISTED_SHARE = 0.05
SECOND_CASE_SHARE = 0.1  # listed again in another case (no DOMAIN.md figure)
# Art. 1 grounds; ground 1 (able but refuses) about 60% (brief; no DOMAIN.md figure).
GROUNDS = {1: 0.60, 2: 0.06, 3: 0.10, 4: 0.12, 5: 0.07, 6: 0.05}
PARTLY_PERFORMED = 0.25  # Art. 6 performance status: partly unperformed (no DOMAIN.md figure)
ART3_EXCLUDED_SHARE = 0.03  # ground-1 rows that Art. 3 forbids (full security etc.): test cases
# Art. 2: grounds 2-6 last 2 years, extendable by 1-3; share extended: no DOMAIN.md figure.
FIXED_TERM_DAYS = 730
EXTENDED_SHARE = 0.15
# ~40% of listings later deleted (brief). DOMAIN.md Statistics, 2024: 2.457M newly listed and
# 2.821M removed through credit repair, so removals are common.
DELETED_SHARE = 0.40
DELETION_REASONS = {  # Art. 10 reasons; the weights are assumptions
    "performed": 0.45,
    "settlement_performed": 0.15,
    "creditor_request": 0.08,
    "no_property_found": 0.15,
    "suspended": 0.05,
    "not_enforced": 0.04,
    "terminated": 0.08,
}
EXEMPTED_SHARE = 0.08  # one-off necessary consumption allowed (no DOMAIN.md figure)
EXEMPT_ACTIONS = ("flight", "rail_ticket")
EXEMPT_REASONS = {"illness": 0.4, "funeral": 0.3, "official_duty": 0.2, "exam": 0.1}
# Court-found debt defaults and contract breaches (Rongcheng deducts 30 and 50 for them,
# DOMAIN.md City point schemes); yearly shares are assumptions.
DEBT_PER_YEAR = 0.004
BREACH_PER_YEAR = 0.003
ORGANISATION_DEBT_PER_YEAR = 0.03
ORGANISATION_BREACH_PER_YEAR = 0.02
MINOR_CASES = 5  # brief: a handful of listings of minors (Art. 4 forbids them)
MINOR_FROM_AGE = 16


def _amend(row: Row, rng: random.Random) -> Row | None:
    """A corrected amount (DEBT) or performance status (LIST)."""
    if row["doc_type"] == "DEBT":
        return {**row, "amount": str(int(int(row["amount"]) * rng.uniform(0.5, 0.95)))}
    if row["doc_type"] == "LIST" and row["performance"] == "none":
        return {**row, "performance": "partial"}
    return None


SHAPE = FeedShape(
    record_id="record_no",
    subject_id="id_no",
    required=("case_no",),
    numeric=("amount", "ground", "ext_years"),
    dates=("decision_date",),
    kind=("doc_type", "APPEAL"),
    out_of_range=(("ground", "9"), ("ext_years", "5"), ("amount", "-3000")),
    amend=_amend,
)


def _ymd(day: date) -> str:
    return f"{day:%Y%m%d}"


class Court:
    def __init__(self, out_dir: Path, *, seed: int, window: Window) -> None:
        self.sink = FeedSink(out_dir / FILE, SHAPE, rng=random.Random(f"{seed}/court/noise"), columns=COLUMNS)
        self._rng = random.Random(f"{seed}/court")
        self._window = window
        self._serial = 0
        self._case_serial: dict[tuple[str, int, str], int] = {}

    def person(self, person: Person) -> None:
        rng, window = self._rng, self._window
        share = LISTED_SHARE * window.share_after(person.adult_from)
        if rng.random() < share:
            self._listing(person.id_in_feed(rng), person.district, person.adult_from, ())
            if rng.random() < SECOND_CASE_SHARE:
                self._listing(person.id_in_feed(rng), person.district, person.adult_from, ())
        for day in window.yearly(rng, DEBT_PER_YEAR, lo=person.adult_from):
            self._judgment("DEBT", person.id_in_feed(rng), person.district, day)
        for day in window.yearly(rng, BREACH_PER_YEAR, lo=person.adult_from):
            self._judgment("BREACH", person.id_in_feed(rng), person.district, day)

    def organisations(self, organisations: Sequence[Organisation]) -> None:
        """Judgments against companies; a share of them listed (at least one)."""
        rng, window = self._rng, self._window
        count = max(1, round(ORGANISATION_LISTED_SHARE * len(organisations)))
        listed = {o.credit_code for o in rng.sample(organisations, min(count, len(organisations)))}
        for org in organisations:
            if org.credit_code in listed:
                officers = (org.legal_representative, org.principal, org.actual_controller)
                self._listing(org.credit_code, org.district, window.start, officers)
            for day in window.yearly(rng, ORGANISATION_DEBT_PER_YEAR):
                self._judgment("DEBT", org.credit_code, org.district, day)
            for day in window.yearly(rng, ORGANISATION_BREACH_PER_YEAR):
                self._judgment("BREACH", org.credit_code, org.district, day)

    def minors(self, population: Sequence[Person]) -> int:
        """List a handful of people while they were 16 or 17: well-formed rows, unlawful."""
        rng, window = self._rng, self._window
        candidates = [
            p
            for p in population
            if add_years(p.birth_date, MINOR_FROM_AGE) <= window.today
            and p.adult_from > window.start + timedelta(days=1)
        ]
        chosen = rng.sample(candidates, min(MINOR_CASES, len(candidates)))
        for person in chosen:
            day = window.day(rng, add_years(person.birth_date, MINOR_FROM_AGE), person.adult_from - timedelta(1))
            if day is None:
                continue
            row = self._row("LIST", person.id_number, person.district, day, prefix="MINOR-")
            row.update(ground="1", performance="none", full_security="N")
            row.update(seized_covers="N", not_yet_due="N")
            self.sink.write(row, plain=True)
        return len(chosen)

    def _row(self, doc_type: str, subject: str, district: str, day: date, prefix: str = "") -> Row:
        self._serial += 1
        kind = "执" if doc_type in {"LIST", "EXTEND", "DELETE", "EXEMPT"} else "民初"
        return {
            "record_no": f"{prefix}CRT-{self._serial:08d}",
            "doc_type": doc_type,
            "id_no": subject,
            "case_no": self._case_number(district, day.year, kind),
            "court_name": regions.court_name(district),
            "decision_date": _ymd(day),
            "region": district,
        }

    def _case_number(self, district: str, year: int, kind: str) -> str:
        key = (district, year, kind)
        self._case_serial[key] = self._case_serial.get(key, 0) + self._rng.randint(1, 40)
        return f"({year}){regions.court_code(district)}{kind}{self._case_serial[key]}号"

    def _listing(self, subject: str, district: str, earliest: date, officers: tuple[str, ...]) -> None:
        """A listing decision on a day from ``earliest`` (an 18th birthday), and its follow-ups."""
        rng, window = self._rng, self._window
        day = window.day(rng, earliest)
        if day is None:
            return
        ground = rng.choices(tuple(GROUNDS), tuple(GROUNDS.values()))[0]
        row = self._row("LIST", subject, district, day)
        flags = {"full_security": "N", "seized_covers": "N", "not_yet_due": "N"}
        if ground == 1 and rng.random() < ART3_EXCLUDED_SHARE:
            flags[rng.choice(tuple(flags))] = "Y"
        row.update(flags, ground=str(ground))
        row["performance"] = "partial" if rng.random() < PARTLY_PERFORMED else "none"
        if officers:
            row.update(legal_rep_id=officers[0], principal_id=officers[1])
            row["controller_id"] = officers[2]
        self.sink.write(row)
        deleted = window.day(rng, day + timedelta(days=30)) if rng.random() < DELETED_SHARE else None
        end = deleted or window.today
        if ground != 1 and rng.random() < EXTENDED_SHARE:
            extended = day + timedelta(days=rng.randint(FIXED_TERM_DAYS // 2, FIXED_TERM_DAYS - 10))
            if extended < end:
                self._follow_up("EXTEND", row, extended, ext_years=str(rng.randint(1, 3)))
        if rng.random() < EXEMPTED_SHARE and (exempted := window.day(rng, day + timedelta(1), end)):
            reason = rng.choices(tuple(EXEMPT_REASONS), tuple(EXEMPT_REASONS.values()))[0]
            self._follow_up("EXEMPT", row, exempted, exempt_action=rng.choice(EXEMPT_ACTIONS), reason=reason)
        if deleted is not None:
            reason = rng.choices(tuple(DELETION_REASONS), tuple(DELETION_REASONS.values()))[0]
            self._follow_up("DELETE", row, deleted, reason=reason)

    def _follow_up(self, doc_type: str, listing: Row, day: date, **values: str) -> None:
        self._serial += 1
        row: Row = {
            "record_no": f"CRT-{self._serial:08d}",
            "doc_type": doc_type,
            "id_no": listing["id_no"],
            "case_no": listing["case_no"],
            "court_name": listing["court_name"],
            "decision_date": _ymd(day),
            "region": listing["region"],
            **values,
        }
        self.sink.write(row)

    def _judgment(self, doc_type: str, subject: str, district: str, day: date) -> None:
        row = self._row(doc_type, subject, district, day)
        if doc_type == "DEBT":
            row["amount"] = str(max(1000, int(self._rng.lognormvariate(10.5, 1.1))))
        self.sink.write(row)
