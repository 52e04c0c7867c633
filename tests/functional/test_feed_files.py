"""Bad feed files: each bad line is quarantined with file, line and reason and the rest of the
file loads; a file that cannot be read as its mapping says is refused whole with nothing applied;
the same rows are refused on SQLite (which does not enforce column widths) and PostgreSQL (which
does). Every file here is a real file on disk, written byte by byte."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from credence.exc import CredenceError
from credence.ingest.loader import LoadResult, load_file
from credence.ingest.mapping import load_mapping
from credence.ingest.readers import MAX_LINE, FeedRefusedError
from credence.store.orm import Event, FeedLoad, Quarantine, Record
from tests.common import files
from tests.common.feeds import person_id

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
PERSON = person_id(date(1980, 3, 4), seq=201)
OTHER = person_id(date(1985, 6, 7), seq=202)
COURT = "苏州市姑苏区人民法院"


def fine(rid: str, who: str = PERSON, **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "id_number": who,
        "kind": "traffic_offence",
        "date": "2026-09-01",
        "attrs": {"offence_code": "1345"},
        **extra,
    }


def decision(rid: str, who: str = PERSON, court: str = COURT) -> dict[str, Any]:
    attrs = {"case_number": f"(2025)苏0508执{rid}号", "court": court, "ground": 2}
    return {"id": rid, "id_number": who, "kind": "defaulter_listing_decision", "date": "2025-10-15", "attrs": attrs}


def load(engine: Engine, path: Path, source: str = "police", **layout: Any) -> LoadResult:
    fmt = "jsonl" if path.suffix == ".jsonl" else "csv"
    return load_file(engine, path, files.mapping(source, fmt, **layout), now=NOW)


def held(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(Quarantine.__table__).order_by(Quarantine.id)))


def records(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(Record.__table__).order_by(Record.source_record_id)))


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_csv_line_numbers_are_the_files_own(engine: Engine, tmp_path: Path) -> None:
    """The header is line 1; a quoted cell over two lines moves the next row's number on by two."""
    text = files.csv_text([fine("F-1"), fine("F-2", who="bad"), fine("F-3")])
    lines = text.splitlines(keepends=True)
    # F-3's offence code holds a line break inside quotes: the row spans lines 4 and 5
    lines[3] = lines[3].replace(",1345,", ',"13\n45",', 1)
    lines.append(files.csv_line(fine("F-4", who="bad")))
    path = tmp_path / "police.csv"
    path.write_text("".join(lines), "utf-8")
    result = load(engine, path)
    assert (result.rows, result.accepted, result.quarantined) == (4, 2, 2)
    assert [(q.line, q.field) for q in held(engine)] == [(3, "id_number"), (6, "id_number")]


def test_a_byte_that_is_not_utf8_refuses_its_line_only(engine: Engine, tmp_path: Path) -> None:
    for fmt in ("csv", "jsonl"):
        good = files.write(tmp_path / f"x.{fmt}", [fine(f"{fmt}-1"), fine(f"{fmt}-2"), fine(f"{fmt}-3")], fmt=fmt)
        data = good.read_bytes().splitlines(keepends=True)
        bad_line = 2 if fmt == "csv" else 1  # the second row
        data[bad_line] = data[bad_line].replace(b"1345", b"13\xff45")
        path = tmp_path / f"police-{fmt}.{fmt}"
        path.write_bytes(b"".join(data))
        result = load(engine, path)
        assert (result.accepted, result.quarantined) == (2, 1), fmt
    rows = held(engine)
    assert [(q.file, q.line, q.field) for q in rows] == [("police-csv.csv", 3, None), ("police-jsonl.jsonl", 2, None)]
    for q in rows:
        at = q.raw["_line"].index("\\xff") + 1
        assert q.reason == f"not valid utf-8: bytes ff at byte {at} of the line"
        assert "13\\xff45" in q.raw["_line"]  # the line as received, the bad byte escaped
    assert [r.source_record_id for r in records(engine)] == ["csv-1", "csv-3", "jsonl-1", "jsonl-3"]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_a_chinese_agency_export_loads_in_its_own_encoding(engine: Engine, tmp_path: Path, encoding: str) -> None:
    path = files.write(tmp_path / "court.csv", [decision("1"), decision("2", who=OTHER)], encoding=encoding)
    assert COURT.encode("utf-8") not in path.read_bytes()
    result = load(engine, path, "court", encoding=encoding)
    assert (result.accepted, result.quarantined) == (2, 0)
    assert {r.attributes["court"] for r in records(engine)} == {COURT}


def test_a_gbk_export_declared_utf8_is_refused_line_by_line_not_whole(engine: Engine, tmp_path: Path) -> None:
    path = files.write(tmp_path / "court.csv", [decision("1"), decision("2", who=OTHER)], encoding="gbk")
    result = load(engine, path, "court")
    assert (result.rows, result.accepted, result.quarantined) == (2, 0, 2)
    assert all(q.reason.startswith("not valid utf-8") for q in held(engine))


def test_an_oversized_field_is_one_refused_row(engine: Engine, tmp_path: Path) -> None:
    """Over 128 KiB (the csv module's own limit) in a mapped column: refused, naming the column;
    in a column the mapping does not read: the row loads; over 1 MiB: refused as unreadable."""
    path = tmp_path / "police.csv"
    big = "9" * (200 * 1024)
    text = files.csv_text([fine("F-1"), fine("F-2", attrs={"offence_code": big}), fine("F-3")])
    text = text.replace("\n", ",notes\n", 1)  # an extra column no mapping reads
    lines = text.splitlines(keepends=True)
    lines = [lines[0]] + [line.replace("\n", ",\n") for line in lines[1:]]
    lines.append(files.csv_line(fine("F-4")).replace("\n", "," + "x" * (200 * 1024) + "\n"))
    lines.append(files.csv_line(fine("F-5")).replace("\n", "," + "x" * (1100 * 1024) + "\n"))
    lines.append(files.csv_line(fine("F-6")).replace("\n", ",\n"))
    path.write_text("".join(lines), "utf-8")
    result = load(engine, path)
    assert (result.rows, result.accepted, result.quarantined) == (6, 4, 2)
    rows = held(engine)
    assert [(q.line, q.field) for q in rows] == [(3, "attributes.offence_code"), (6, None)]
    assert "at most 100 characters, got 204,800" in rows[0].reason
    assert rows[1].reason.startswith("not readable as CSV: field larger than field limit")
    assert len(rows[1].raw["_line"]) <= 64 * 1024  # the first bytes are kept, not the whole megabyte
    assert [r.source_record_id for r in records(engine)] == ["F-1", "F-3", "F-4", "F-6"]


def test_a_line_longer_than_the_limit_is_one_refused_row(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "police.jsonl"
    long_line = files.jsonl_line(fine("F-2", attrs={"offence_code": "1" * (MAX_LINE + 10)}))
    path.write_text(files.jsonl_line(fine("F-1")) + long_line + files.jsonl_line(fine("F-3")), "utf-8")
    result = load(engine, path)
    assert (result.rows, result.accepted, result.quarantined) == (3, 2, 1)
    [q] = held(engine)
    assert (q.line, q.reason) == (2, "line is longer than 4 MiB")


def test_over_long_values_are_refused_the_same_on_every_store(engine: Engine, tmp_path: Path) -> None:
    """PostgreSQL enforces VARCHAR widths and SQLite does not: the loader checks them first, so
    a 100,000-character id is one quarantined row on both, and the batch's good rows land."""
    rows = [
        fine("X" * 100_000),
        fine("F-2", region="3" * 13),
        decision("9" * 200),  # a case number over the listing's 100 characters
        decision("4", court="法" * 201),
        fine("F-5", kind="public_order_offence", attrs={"offence": "x", "detention_days": "9" * 25}),
        fine("F-6"),
    ]
    police, court = rows[:2] + rows[4:], rows[2:4]
    load(engine, files.write(tmp_path / "police.csv", police))
    load(engine, files.write(tmp_path / "court.csv", court), "court")
    got = [(q.file, q.line, q.field) for q in held(engine)]
    assert got == [
        ("police.csv", 2, "source_record_id"),
        ("police.csv", 3, "jurisdiction"),
        ("police.csv", 4, "attributes.detention_days"),
        ("court.csv", 2, "attributes.case_number"),
        ("court.csv", 3, "attributes.court"),
    ]
    reasons = [q.reason for q in held(engine)]
    assert "expected at most 200 characters, got 100,000" in reasons[0]
    assert "at most 12 characters" in reasons[1]
    assert "at most 19 digits" in reasons[2]
    assert all(len(r) < 300 for r in reasons)  # the refused value is quoted short, never whole
    assert [r.source_record_id for r in records(engine)] == ["F-6"]


def test_a_nul_character_is_refused_before_the_database_sees_it(engine: Engine, tmp_path: Path) -> None:
    csv_path = files.write(tmp_path / "police.csv", [fine("F-1"), fine("F-2", attrs={"offence_code": "13\x0045"})])
    json_path = tmp_path / "police.jsonl"
    nul = files.jsonl_line(fine("J-1", attrs={"offence_code": "13\x0045"}))
    json_path.write_text(nul + files.jsonl_line(fine("J-2")), "utf-8")
    load(engine, csv_path)
    load(engine, json_path)
    assert [(q.line, q.reason) for q in held(engine)] == [
        (3, "the line holds a NUL character"),
        (1, "the line holds a NUL character"),
    ]
    assert [r.source_record_id for r in records(engine)] == ["F-1", "J-2"]


def test_a_header_without_a_mapped_column_refuses_the_whole_file(engine: Engine, tmp_path: Path) -> None:
    text = files.csv_text([fine("F-1"), fine("F-2")]).replace("id_number", "idno", 1).replace(",district,", ",area,", 1)
    path = tmp_path / "police.csv"
    path.write_text(text, "utf-8")
    with pytest.raises(FeedRefusedError, match=r"lacks the mapped columns id_number, district; it has 'id', 'idno'"):
        load(engine, path)
    assert [count(engine, t) for t in (Record, Quarantine, Event, FeedLoad)] == [0, 0, 0, 0]


def test_a_wrong_delimiter_is_refused_with_a_hint(engine: Engine, tmp_path: Path) -> None:
    path = files.write(tmp_path / "police.csv", [fine("F-1")], delimiter=";")
    with pytest.raises(FeedRefusedError, match=r"the mapping's delimiter is ',', but the header looks ';'-delimited"):
        load(engine, path)
    assert load(engine, path, delimiter=";").accepted == 1


def test_a_header_naming_a_mapped_column_twice_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "police.csv"
    path.write_text(files.csv_text([fine("F-1")]).replace("kind", "date", 1), "utf-8")
    with pytest.raises(FeedRefusedError, match="names column 'date' more than once"):
        load(engine, path)


def test_a_byte_order_mark_is_dropped_unless_the_mapping_forbids_one(engine: Engine, tmp_path: Path) -> None:
    for fmt in ("csv", "jsonl"):
        path = files.write(tmp_path / f"police.{fmt}", [fine(f"{fmt}-1")], fmt=fmt, bom=True)
        with pytest.raises(FeedRefusedError, match=r"starts with a byte-order mark; the mapping forbids one"):
            load(engine, path, bom=False)
        result = load(engine, path)
        assert (result.accepted, result.quarantined) == (1, 0), fmt


def test_an_empty_csv_file_is_refused_and_an_empty_jsonl_file_is_no_rows(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "police.csv").write_bytes(b"")
    with pytest.raises(FeedRefusedError, match="the file is empty; expected a header line"):
        load(engine, tmp_path / "police.csv")
    (tmp_path / "police.jsonl").write_bytes(b"")
    assert load(engine, tmp_path / "police.jsonl").rows == 0


def test_a_mapping_names_a_supported_encoding_and_a_one_character_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    base = "source: police\nformat: csv\nfile: p.csv\nfields: {source_record_id: a, id_number: b, valid_date: c, "
    base += "jurisdiction: d}\nkind: {value: traffic_offence}\nlegal_basis: {traffic_offence: x}\n"
    path.write_text(base + "encoding: GB18030\n", "utf-8")
    assert load_mapping(path).encoding == "gb18030"
    path.write_text(base + "encoding: utf-16\n", "utf-8")
    with pytest.raises(CredenceError, match=r"m.yaml: encoding: .*'utf-16' is not supported; expected one of utf-8"):
        load_mapping(path)
    path.write_text(base + "delimiter: '::'\n", "utf-8")
    with pytest.raises(CredenceError, match=r"m.yaml: delimiter: .*expected one character"):
        load_mapping(path)
