"""Generated histories shared by the property tests: a few people's records from every agency,
fed in batches through the real ingest path, with amendments and retractions in later batches."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import Engine

from tests.common.feeds import Registry, person_id

TODAY = date(2026, 11, 27)
# Two Suzhou residents, one Rongcheng resident, and a Suzhou minor who turns 18 on 2027-06-15.
PEOPLE = [
    person_id(date(1980, 3, 4), region="320505", seq=101),
    person_id(date(1975, 7, 8), region="371082", seq=102),
    person_id(date(2009, 6, 15), region="320505", seq=103),
    person_id(date(1990, 12, 31), region="320505", seq=104),
]
REGIONS = ["320505", "320506", "371082"]
CASES = ["(2024)苏05执1号", "(2025)苏05执2号"]
days = st.dates(date(2019, 1, 1), date(2027, 6, 30))

# kind -> (source, attribute strategy, whether the row carries a region)
KINDS: dict[str, tuple[str, st.SearchStrategy[dict[str, Any]], bool]] = {
    "blood_donation": ("blood_bank", st.fixed_dictionaries({"volume_ml": st.sampled_from([100, 200, 400])}), True),
    "volunteer_hours": (
        "volunteers",
        st.fixed_dictionaries({"hours": st.sampled_from([35, 36, 72, 300, 520]), "year": st.just(2024)}),
        True,
    ),
    "traffic_offence": ("police", st.fixed_dictionaries({"offence_code": st.just("1345")}), True),
    "public_order_offence": (
        "police",
        st.fixed_dictionaries({"offence": st.just("disturbance"), "detention_days": st.sampled_from([0, 5])}),
        True,
    ),
    "fare_evasion": ("rail", st.fixed_dictionaries({"train_number": st.just("G7")}), False),
    "tax_arrears": ("tax", st.fixed_dictionaries({"amount_yuan": st.sampled_from([9999, 10000])}), True),
    "bank_arrears": ("bank", st.fixed_dictionaries({"amount_yuan": st.just(3000)}), True),
    "heroic_act": ("credit_office", st.fixed_dictionaries({"citation": st.just("river rescue")}), True),
    "court_debt_default": ("court", st.fixed_dictionaries({"case_number": st.sampled_from(CASES)}), False),
    "contract_breach_judgment": ("court", st.fixed_dictionaries({"case_number": st.sampled_from(CASES)}), False),
    "residence": (
        "police",
        st.fixed_dictionaries(
            {"region": st.sampled_from(REGIONS), "status": st.sampled_from(["registered", "resident", "left"])}
        ),
        True,
    ),
    "scheme_consent": (
        "credit_office",
        st.fixed_dictionaries({"scheme": st.just("rongcheng-credit"), "granted": st.booleans()}),
        True,
    ),
    "defaulter_listing_decision": (
        "court",
        st.fixed_dictionaries(
            {
                "case_number": st.sampled_from(CASES),
                "court": st.just("Suzhou Intermediate People's Court"),
                "ground": st.integers(1, 6),
                "full_security": st.booleans(),
            }
        ),
        False,
    ),
    "defaulter_listing_extension": (
        "court",
        st.fixed_dictionaries({"case_number": st.sampled_from(CASES), "years": st.integers(1, 3)}),
        False,
    ),
    "defaulter_deletion": (
        "court",
        st.fixed_dictionaries(
            {"case_number": st.sampled_from(CASES), "reason": st.sampled_from(["performed", "creditor_request"])}
        ),
        False,
    ),
}


@dataclass
class History:
    """Batches of feed rows per source; later batches may amend or retract earlier rows."""

    batches: list[dict[str, list[dict[str, Any]]]] = field(default_factory=list)
    days: set[date] = field(default_factory=set)


@st.composite
def histories(draw: st.DrawFn, kinds: tuple[str, ...] = tuple(KINDS), max_rows: int = 14) -> History:
    history = History()
    sent: list[tuple[str, dict[str, Any]]] = []
    home = {p: ("371082" if p[:6] == "371082" else "320505") for p in PEOPLE}
    first: dict[str, list[dict[str, Any]]] = {
        "police": [
            {
                "id": f"home-{i}",
                "id_number": p,
                "kind": "residence",
                "date": "2018-01-01",
                "region": home[p],
                "attrs": {"region": home[p], "status": "registered"},
            }
            for i, p in enumerate(PEOPLE)
        ]
    }
    for batch in range(draw(st.integers(1, 3))):
        rows: dict[str, list[dict[str, Any]]] = first if batch == 0 else {}
        for n in range(draw(st.integers(1, max_rows))):
            if sent and batch > 0 and draw(st.integers(0, 3)) == 0:  # correct an earlier row
                source, old = draw(st.sampled_from(sent))
                if draw(st.booleans()):
                    row = {**old, "retracted": True}
                else:
                    attrs = draw(KINDS[old["kind"]][1])
                    row = {**old, "date": draw(days).isoformat(), "attrs": attrs, "retracted": False}
            else:
                kind = draw(st.sampled_from(kinds))
                source, attrs, regional = KINDS[kind]
                who = draw(st.sampled_from(PEOPLE))
                row = {
                    "id": f"{kind}-{batch}-{n}",
                    "id_number": who,
                    "kind": kind,
                    "date": draw(days).isoformat(),
                    "region": home[who] if regional else "",
                    "attrs": draw(attrs),
                }
            history.days.add(date.fromisoformat(row["date"]))
            rows.setdefault(source, []).append(row)
            sent.append((source, row))
        history.batches.append(rows)
    return history


def feed(
    engine: Engine, tmp: Path, history: History, after: Callable[[datetime], None] | None = None
) -> list[datetime]:
    """Feed every batch, calling ``after`` with each batch's transaction time; returns those times."""
    reg = Registry(engine, tmp, now=datetime(2026, 11, 27, 4, tzinfo=UTC))
    times = []
    for batch in history.batches:
        for source, rows in sorted(batch.items()):
            result = reg.feed(source, rows, as_of=TODAY)
            assert result.quarantined == 0, result.reasons
        times.append(reg.now)
        if after:
            after(reg.now)
    return times
