"""A tiny city for record linkage tests: five residents on the household register, and a court
feed whose rows carry no ID number (so that a link, and its undoing, lists and lifts measures)."""

import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

from credence.ingest.loader import load_file
from credence.ingest.mapping import Fields, Identity, KindMap, Mapping
from credence.resolve import model_files
from credence.store.orm import Link
from tests.common.feeds import Registry, person_id

# residents: (id number, name, birth date, district, street, phone)
ZHANG_WEI = (person_id(date(1980, 3, 14), seq=11), "张伟", date(1980, 3, 14), "320505", "人民路12号", "13812345678")
ZHANG_WEI_TOO = (person_id(date(1980, 3, 14), seq=13), "张伟", date(1980, 3, 14), "320505", "中山路7号", None)
LI_NA = (person_id(date(1975, 8, 2), seq=22), "李娜", date(1975, 8, 2), "320505", "干将路88号", "13998765432")
WANG_FANG = (person_id(date(1990, 6, 9), seq=34), "王芳", date(1990, 6, 9), "320506", "石路3号", "15012340000")
LIU_LIHUA = (person_id(date(1966, 11, 23), seq=45), "刘丽华", date(1966, 11, 23), "320508", "观前街5号", "18611112222")
RESIDENTS = (ZHANG_WEI, ZHANG_WEI_TOO, LI_NA, WANG_FANG, LIU_LIHUA)

DECISION = "defaulter_listing_decision"
COURT = "Suzhou Intermediate People's Court"
# a court's enforcement bureau exporting its list decisions by name, birth date and address
UNIDENTIFIED_COURT = Mapping(
    source="court",
    format="jsonl",
    file="court.jsonl",
    fields=Fields(source_record_id="id", valid_date="date", jurisdiction="region"),
    identity=Identity(name="name", birth_date="born", district="district", address="address", phone="phone"),
    kind=KindMap(value=DECISION),
    attributes={"case_number": "case_number", "court": "court", "ground": "ground"},
    legal_basis={DECISION: f"test basis for {DECISION}"},
)
MAPPINGS = {"court": UNIDENTIFIED_COURT}


def register(reg: Registry) -> None:
    """The household register (names and addresses) and phones of the residents."""
    rows: list[dict[str, Any]] = []
    for number, name, _, district, street, phone in RESIDENTS:
        attrs = {"region": district, "status": "registered", "name": name, "address": street}
        rows.append({"id_number": number, "kind": "residence", "date": "2024-01-05", "attrs": attrs})
        if phone:
            rows.append({"id_number": number, "kind": "contact", "date": "2024-01-05", "attrs": {"phone": phone}})
    reg.feed("police", rows)


def court_models(folder: Path) -> Path:
    """A models folder with the court's model: the shipped community model under the court's name
    (the comparisons are the same; only the source differs)."""
    shipped = model_files.latest("community", model_files.SHIPPED)
    assert shipped is not None
    body = json.loads((model_files.SHIPPED / f"{shipped.name}.json").read_text(encoding="utf-8"))
    body["credence"]["source"] = "court"
    folder.mkdir(exist_ok=True)
    (folder / "court-v1.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return folder


def decision(person: tuple[Any, ...], record_id: str, *, case: str, **changes: Any) -> dict[str, Any]:
    """A list decision about ``person`` as the court exports it: no ID number."""
    _, name, born, district, street, phone = person
    row = {
        "id": record_id,
        "date": "2026-02-01",
        "region": "",
        "case_number": case,
        "court": COURT,
        "ground": 1,
        "name": name,
        "born": born.isoformat(),
        "district": district,
        "address": street,
        "phone": phone or "",
    }
    return {**row, **changes}


def identified(person: tuple[Any, ...], record_id: str, *, case: str) -> dict[str, Any]:
    """The same decision with the person's ID number, as an identified feed would carry it."""
    attrs = {"case_number": case, "court": COURT, "ground": 1}
    return {
        "id": record_id,
        "id_number": person[0],
        "kind": DECISION,
        "date": "2026-02-01",
        "region": "",
        "attrs": attrs,
    }


def export(reg: Registry, rows: list[dict[str, Any]]) -> None:
    """Load the court's unidentified export: every row waits in quarantine for linkage."""
    path = reg.tmp / f"court-{reg.files}.jsonl"
    reg.files += 1
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    result = load_file(reg.engine, path, UNIDENTIFIED_COURT, now=reg.tick())
    assert result.reasons == {"identity": len(rows)}, result.reasons


def proposals(engine: Engine) -> dict[str, Any]:
    """The newest proposal of each row, by its record id."""
    with engine.connect() as conn:
        return {row.source_record_id: row for row in conn.execute(select(Link).order_by(Link.id))}


def hours_of(engine: Engine, number: str) -> list[str]:
    """The source record ids of the volunteer hours standing about resident ``number``: each
    record's newest version, unless that withdraws it (an undone link's record is gone)."""
    query = text(
        "SELECT r.source_record_id FROM records r JOIN subjects s ON s.id = r.subject_id"
        " WHERE s.id_number = :n AND r.kind = 'volunteer_hours' AND r.op = 'assert'"
        " AND r.version = (SELECT MAX(v.version) FROM records v"
        " WHERE v.source_id = r.source_id AND v.source_record_id = r.source_record_id)"
        " ORDER BY r.source_record_id"
    )
    with engine.connect() as conn:
        return list(conn.execute(query, {"n": number}).scalars())
