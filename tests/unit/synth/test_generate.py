"""The synthetic city generator: deterministic, valid where meant, faulty where planted."""

import csv
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from credence.exc import FieldError
from credence.model.catalogue import default_catalogue, parse_date
from credence.model.identifiers import (
    SubjectKind,
    age_on,
    parse_credit_code,
    parse_resident_id,
    subject_kind_of,
)
from credence.synth.feeds import generate
from credence.synth.malform import Malformation
from credence.synth.organisations import organisation_code_check

TODAY = date(2025, 6, 1)
PEOPLE = 5000
ROOT = Path(__file__).resolve().parents[3]
CONNECTORS = ROOT / "connectors"
SOURCES = yaml.safe_load((ROOT / "credence" / "catalogue" / "sources.yaml").read_text("utf-8"))
FEEDS = {
    "court.csv",
    "police.jsonl",
    "tax.csv",
    "rail.jsonl",
    "blood_bank.csv",
    "volunteers.csv",
    "credit_office.jsonl",
    "bank.csv",
    "community.csv",  # no ID numbers: rows identified by name, birth date, address and phone
}
MARKERS = tuple(f"{m.value}-" for m in Malformation)

Row = dict[str, Any]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int], list[int]]:
    out = tmp_path_factory.mktemp("city")
    seen: list[int] = []
    counts = generate(out, people=PEOPLE, seed=7, today=TODAY, progress=seen.append)
    return out, counts, seen


@cache
def mappings() -> dict[str, Row]:
    out = {}
    for path in sorted(CONNECTORS.glob("*.yaml")):
        mapping = yaml.safe_load(path.read_text("utf-8"))
        out[mapping["file"]] = mapping
    return out


def read_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8", newline="") as handle:
        if path.suffix == ".csv":
            yield from csv.DictReader(handle)
        else:
            for line in handle:
                yield json.loads(line)


def lookup(row: Row, spec: Any) -> Any:
    if isinstance(spec, dict):
        return spec["value"]
    node: Any = row
    for part in spec.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def record_id(row: Row, mapping: Row) -> str:
    return str(lookup(row, mapping["fields"]["source_record_id"]))


def is_marked(row: Row, mapping: Row) -> bool:
    return record_id(row, mapping).startswith(MARKERS)


def kind_of(row: Row, mapping: Row) -> str:
    spec = mapping["kind"]
    if "value" in spec:
        return str(spec["value"])
    raw = lookup(row, spec["column"])
    if raw not in spec["map"]:
        raise FieldError("kind", f"unmapped value {raw!r}")
    return str(spec["map"][raw])


def parse_subject(value: str) -> Any:
    if subject_kind_of(value) is SubjectKind.PERSON:
        return parse_resident_id(value)
    return parse_credit_code(value)


def ingest(row: Row, mapping: Row) -> tuple[str, Any, date, dict[str, Any]]:
    """What a loader reading the mapping would make of the row; raises on any fault."""
    fields = mapping["fields"]
    if not record_id(row, mapping):
        raise FieldError("source_record_id", "missing")
    name = kind_of(row, mapping)
    source = SOURCES["sources"][mapping["source"]]
    if name not in source["kinds"]:
        raise FieldError("kind", f"{mapping['source']} may not submit {name}")
    kind = default_catalogue().kind(name)
    if "id_number" not in fields:  # identified by name etc.: record linkage finds the subject
        if not str(lookup(row, mapping["identity"]["name"]) or "").strip():
            raise FieldError("identity.name", "missing")
        subject: Any = None  # a person, once linked
    else:
        subject = parse_subject(str(lookup(row, fields["id_number"]) or ""))
    if subject is not None and kind.subject is SubjectKind.PERSON and not hasattr(subject, "birth_date"):
        raise FieldError("id_number", f"{name} describes people only")
    day = parse_date(lookup(row, fields["valid_date"]), field="valid_date")
    region = str(lookup(row, fields["jurisdiction"]) or "")
    if not any(region.startswith(prefix) for prefix in source["jurisdictions"]):
        raise FieldError("jurisdiction", f"{region!r} outside {mapping['source']}")
    raw = {attr: lookup(row, column) for attr, column in mapping["attributes"].items() if attr in kind.attributes}
    attributes = kind.coerce(raw)
    for attr, value in attributes.items():
        if kind.attributes[attr].type.value == "id" and value:
            parse_resident_id(value, field=attr)
    return name, subject, day, attributes


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", people=600, seed=3, today=TODAY)
    again = generate(tmp_path / "b", people=600, seed=3, today=TODAY)
    other = generate(tmp_path / "c", people=600, seed=4, today=TODAY)
    assert first == again
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "people.csv").read_bytes() != (tmp_path / "c" / "people.csv").read_bytes()
    assert other.keys() == first.keys()


def test_returns_row_counts_of_every_feed_and_reports_progress(city: Any) -> None:
    out, counts, seen = city
    assert set(counts) == FEEDS
    for name, count in counts.items():
        assert count == sum(1 for _ in read_rows(out / name)) > 0, name
    assert seen == sorted(seen)
    assert seen[-1] == PEOPLE


def test_people_have_valid_ids_matching_their_birth_date_and_sex(city: Any) -> None:
    out, _, _ = city
    people = list(read_rows(out / "people.csv"))
    assert len(people) == PEOPLE
    assert len({p["id_number"] for p in people}) == PEOPLE
    for person in people:
        parsed = parse_resident_id(person["id_number"])
        assert parsed.birth_date.isoformat() == person["birth_date"]
        assert parsed.sex.value == person["sex"]
        assert person["name"]
        assert person["phone"].isdigit()
        assert len(person["phone"]) == 11
    minors = sum(age_on(date.fromisoformat(p["birth_date"]), TODAY) < 18 for p in people)
    assert 0.15 < minors / PEOPLE < 0.21  # ~18%: 1.15bn adults of 1.41bn (DOMAIN.md)
    suzhou = sum(p["district"].startswith("3205") for p in people)
    assert 0.75 < suzhou / PEOPLE < 0.85
    assert {p["district"] for p in people if not p["district"].startswith("3205")} == {"371082"}


def test_organisations_have_valid_codes_and_adult_officers(city: Any) -> None:
    out, _, _ = city
    assert organisation_code_check("60003734") == "1"  # inside 91110000600037341L (stdnum doc)
    people = {p["id_number"]: p for p in read_rows(out / "people.csv")}
    organisations = list(read_rows(out / "organisations.csv"))
    assert len(organisations) == PEOPLE // 200
    for org in organisations:
        code = parse_credit_code(org["credit_code"]).number
        assert code[8:17][-1] == organisation_code_check(code[8:16])
        assert code[2:8] == org["district"]
        for officer in ("legal_rep_id", "principal_id", "controller_id"):
            birth = date.fromisoformat(people[org[officer]]["birth_date"])
            assert age_on(birth, TODAY) >= 24


def test_mappings_name_existing_columns_kinds_and_attributes(city: Any) -> None:
    out, _, _ = city
    catalogue = default_catalogue()
    assert set(mappings()) == FEEDS
    for file, mapping in mappings().items():
        source = SOURCES["sources"][mapping["source"]]
        assert mapping["format"] == ("csv" if file.endswith(".csv") else "jsonl")
        kinds = {mapping["kind"]["value"]} if "value" in mapping["kind"] else set(mapping["kind"]["map"].values())
        assert kinds <= set(source["kinds"]), file
        assert set(mapping["legal_basis"]) == kinds, file
        defined = {a for k in kinds for a in catalogue.kind(k).attributes}
        assert set(mapping["attributes"]) <= defined, file
        columns = [
            spec
            for spec in (*mapping["fields"].values(), *mapping["attributes"].values())
            if not isinstance(spec, dict)
        ]
        if "column" in mapping["kind"]:
            columns.append(mapping["kind"]["column"])
        rows = list(read_rows(out / file))
        if file.endswith(".csv"):
            with (out / file).open(encoding="utf-8") as handle:
                header = next(csv.reader(handle))
            assert set(columns) <= set(header), file
        for column in columns:
            assert any(lookup(row, column) not in (None, "") for row in rows), (file, column)


def test_every_row_loads_except_the_planted_faults(city: Any) -> None:
    out, counts, _ = city
    faults: Counter[str] = Counter()
    total = 0
    for file, mapping in mappings().items():
        for row in read_rows(out / file):
            total += 1
            marked = is_marked(row, mapping)
            try:
                ingest(row, mapping)
            except FieldError:
                assert marked, (file, row)
                faults[record_id(row, mapping).split("-")[0]] += 1
            else:
                assert not marked, (file, row)
    assert total == sum(counts.values())
    assert len(faults) >= 6, faults
    assert set(faults) == {m.value for m in Malformation}
    assert 0.003 < sum(faults.values()) / total < 0.008  # ~0.5% of rows


def test_duplicates_are_identical_and_amendments_change_content(city: Any) -> None:
    out, _, _ = city
    duplicates = amendments = 0
    for file, mapping in mappings().items():
        seen: dict[str, list[str]] = defaultdict(list)
        for row in read_rows(out / file):
            seen[record_id(row, mapping)].append(json.dumps(row, sort_keys=True))
        for versions in seen.values():
            if len(versions) > 1:
                if len(set(versions)) == 1:
                    duplicates += 1
                else:
                    amendments += 1
    assert duplicates >= 3
    assert amendments >= 3


def test_legacy_ids_are_rare_and_upgrade_to_known_people(city: Any) -> None:
    out, _, _ = city
    people = {p["id_number"] for p in read_rows(out / "people.csv")}
    legacy = total = 0
    for file, mapping in mappings().items():
        if "id_number" not in mapping["fields"]:
            continue  # no ID numbers at all
        for row in read_rows(out / file):
            if is_marked(row, mapping):
                continue
            total += 1
            number = str(lookup(row, mapping["fields"]["id_number"]))
            if len(number) == 15:
                legacy += 1
                assert parse_resident_id(number).number in people
    assert 0.002 < legacy / total < 0.01  # ~0.5% of rows


def _court(out: Path) -> list[Row]:
    return [r for r in read_rows(out / "court.csv") if not is_marked(r, mappings()["court.csv"])]


def test_about_one_percent_of_adults_are_listed(city: Any) -> None:
    out, _, _ = city
    births = {p["id_number"]: date.fromisoformat(p["birth_date"]) for p in read_rows(out / "people.csv")}
    adults = sum(age_on(b, TODAY) >= 18 for b in births.values())
    listings = [r for r in _court(out) if r["doc_type"] == "LIST" and not r["record_no"].startswith("MINOR-")]
    people_listed = {
        parse_resident_id(r["id_no"]).number for r in listings if subject_kind_of(r["id_no"]) is SubjectKind.PERSON
    }
    # 14.5M listed / 1.15bn adults (DOMAIN.md Statistics)
    assert 0.006 < len(people_listed) / adults < 0.02
    grounds = Counter(r["ground"] for r in listings)
    assert set(grounds) <= {"1", "2", "3", "4", "5", "6"}
    assert 0.4 < grounds["1"] / len(listings) < 0.8
    deletions = sum(r["doc_type"] == "DELETE" for r in _court(out))
    assert 0.2 < deletions / len(listings) < 0.6
    organisations = [r for r in listings if subject_kind_of(r["id_no"]) is SubjectKind.ORGANISATION]
    assert organisations
    for row in organisations:
        for officer in ("legal_rep_id", "principal_id", "controller_id"):
            assert parse_resident_id(row[officer])


def test_only_the_marked_minor_cases_list_a_minor(city: Any) -> None:
    out, _, _ = city
    minors = 0
    for row in _court(out):
        if row["doc_type"] != "LIST" or subject_kind_of(row["id_no"]) is SubjectKind.ORGANISATION:
            continue
        age = age_on(parse_resident_id(row["id_no"]).birth_date, parse_date(row["decision_date"], field="d"))
        if row["record_no"].startswith("MINOR-"):
            minors += 1
            assert 16 <= age < 18
        else:
            assert age >= 18, row
    assert minors == 5


def test_everyone_has_a_residence_event(city: Any) -> None:
    out, _, _ = city
    mapping = mappings()["police.jsonl"]
    residents = {
        parse_resident_id(r["citizen_id"]).number
        for r in read_rows(out / "police.jsonl")
        if r["type"] == "hukou" and not is_marked(r, mapping)
    }
    assert residents == {p["id_number"] for p in read_rows(out / "people.csv")}


def test_yearly_rates_are_plausible(city: Any) -> None:
    out, _, _ = city
    people = list(read_rows(out / "people.csv"))
    adults = sum(age_on(date.fromisoformat(p["birth_date"]), TODAY) >= 18 for p in people)
    police = [r for r in read_rows(out / "police.jsonl") if not is_marked(r, mappings()["police.jsonl"])]
    traffic = sum(r["type"] == "traffic" for r in police)
    assert 0.07 < traffic / (adults * 6) < 0.13  # ~10% of adults a year (brief)
    blood = [r for r in read_rows(out / "blood_bank.csv") if not is_marked(r, mappings()["blood_bank.csv"])]
    donor_years = {(parse_resident_id(r["donor_id"]).number, r["donated_on"][:4]) for r in blood}
    assert 0.01 < len(donor_years) / (adults * 6) < 0.04  # ~2-3% a year
    assert {r["volume_ml"] for r in blood} == {"200", "300", "400"}
    rongcheng = {
        p["id_number"]
        for p in people
        if p["district"] == "371082" and age_on(date.fromisoformat(p["birth_date"]), TODAY) >= 18
    }
    credit = [r for r in read_rows(out / "credit_office.jsonl") if not is_marked(r, mappings()["credit_office.jsonl"])]
    consenting = {parse_resident_id(r["id_number"]).number for r in credit if r["kind"] == "consent" and r["granted"]}
    assert consenting <= rongcheng
    assert 0.75 < len(consenting) / len(rongcheng) < 0.93  # ~85% (brief)
    assert any(r["kind"] == "consent" and r["granted"] is False for r in credit)


def test_the_suzhou_134_story_is_there(city: Any) -> None:
    out, _, _ = city
    donations: dict[str, list[str]] = defaultdict(list)
    for row in read_rows(out / "blood_bank.csv"):
        donations[row["donor_id"]].append(row["volume_ml"])
    hours: Counter[str] = Counter()
    for row in read_rows(out / "volunteers.csv"):
        if not is_marked(row, mappings()["volunteers.csv"]):
            hours[row["volunteer_id"]] += int(row["hours"])
    story = [d for d, v in donations.items() if v == ["200"] * 5 and hours[d] == 520]
    assert len(story) == 1
    districts = {p["id_number"]: p["district"] for p in read_rows(out / "people.csv")}
    assert districts[story[0]].startswith("3205")
