"""Loading is a function of the feeds: any files loaded, then any of them again in any order,
leave records, quarantine, derived state and the event log exactly as after the first load.

The files are generated as bytes on disk (CSV and JSON lines, with repeated ids, amendments,
retractions, refused rows, undecodable lines, files that grow by appending and files cut off
mid-line), and go through the real loader and the real refresh of derived state.
"""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from credence.ingest.loader import load_file
from credence.ingest.mapping import load_mappings
from credence.ingest.readers import FeedRefusedError
from credence.pipeline.update import update
from credence.store.orm import Record
from credence.synth.feeds import generate
from tests.common import files
from tests.common.feeds import SCHEMES, Registry, person_id
from tests.common.state import differences, snapshot

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 27)
PEOPLE = [person_id(date(1980, 3, 4), seq=301), person_id(date(1979, 1, 2), seq=302)]
CASES = ["(2024)苏05执1号", "(2025)苏05执2号"]
Format = Literal["csv", "jsonl"]


def police_row(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["traffic_offence", "residence", "blood_donation"]))
    attrs: dict[str, Any] = {
        "traffic_offence": {"offence_code": "1345"},
        "residence": {"region": "320505", "status": draw(st.sampled_from(["registered", "left"]))},
        "blood_donation": {"volume_ml": draw(st.sampled_from([200, 400]))},
    }[kind]
    return {"kind": kind, "date": draw(st.sampled_from(["2019-05-01", "2025-06-01", "2026-10-01"])), "attrs": attrs}


def court_row(draw: st.DrawFn) -> dict[str, Any]:
    case = draw(st.sampled_from(CASES))
    if draw(st.booleans()):
        attrs = {"case_number": case, "court": "苏州市中级人民法院", "ground": draw(st.integers(1, 6))}
        return {"kind": "defaulter_listing_decision", "date": "2025-03-01", "attrs": attrs}
    return {"kind": "defaulter_deletion", "date": "2026-02-01", "attrs": {"case_number": case, "reason": "performed"}}


@dataclass(frozen=True)
class Feed:
    source: str
    fmt: Format
    data: bytes


@st.composite
def rows(draw: st.DrawFn, source: str) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(0, 6))):
        row = police_row(draw) if source == "police" else court_row(draw)
        # few ids, so that later rows (in this file or another) amend or retract earlier ones
        row["id"] = f"{source[0].upper()}-{draw(st.integers(1, 3))}"
        row["id_number"] = draw(st.sampled_from([*PEOPLE, "320505198003040000"]))  # the last: a bad check digit
        row["retracted"] = draw(st.booleans()) and draw(st.booleans())
        if draw(st.integers(0, 9)) == 0:
            row["date"] = "2026-02-30"
        out.append(row)
    return out


def encode(fmt: Format, batch: list[dict[str, Any]], *, header: bool) -> bytes:
    if fmt == "jsonl":
        return "".join(files.jsonl_line(r) for r in batch).encode()
    text = files.csv_text(batch) if header else "".join(files.csv_line(r) for r in batch)
    return text.encode()


@st.composite
def feeds(draw: st.DrawFn) -> list[Feed]:
    out: list[Feed] = []
    for _ in range(draw(st.integers(1, 4))):
        previous = out[-1] if out else None
        if previous is not None and draw(st.integers(0, 3)) == 0:  # the previous file, grown by appending
            more = encode(previous.fmt, draw(rows(previous.source)), header=False)
            out.append(Feed(previous.source, previous.fmt, previous.data + more))
            continue
        source, fmt = draw(st.sampled_from(["police", "court"])), draw(st.sampled_from(["csv", "jsonl"]))
        data = encode(fmt, draw(rows(source)), header=True)
        lines = data.splitlines(keepends=True)
        if lines and draw(st.integers(0, 4)) == 0:  # an undecodable line somewhere after the header
            at = draw(st.integers(1 if fmt == "csv" else 0, len(lines)))
            lines.insert(at, b"\xff\xfebroken " + str(at).encode() + b"\n")
        data = b"".join(lines)
        if data and draw(st.integers(0, 4)) == 0:  # cut off mid-line, as a transfer that broke off
            data = data[: draw(st.integers(1, len(data)))]
        out.append(Feed(source, fmt, data))
    return out


def load_all(engine: Engine, reg: Registry, paths: list[tuple[Path, Feed]]) -> None:
    for path, feed in paths:
        now = reg.tick()
        try:
            result = load_file(engine, path, files.mapping(feed.source, feed.fmt), now=now, batch=2)
        except FeedRefusedError:  # a CSV cut off inside its header: refused whole, every time
            continue
        update(engine, SCHEMES, subjects=result.subjects, as_of=TODAY, now=now)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(feeds=feeds(), reruns=st.lists(st.integers(0, 3), max_size=6))
def test_loading_any_files_again_in_any_order_changes_nothing(
    new_engine: Callable[[], Engine], tmp_path: Path, feeds: list[Feed], reruns: list[int]
) -> None:
    engine = new_engine()
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    paths = []
    for i, feed in enumerate(feeds):
        path = folder / f"{feed.source}-{i}.{feed.fmt}"
        path.write_bytes(feed.data)
        paths.append((path, feed))
    reg = Registry(engine, folder, now=datetime(2026, 11, 27, 4, 0, tzinfo=UTC))
    load_all(engine, reg, paths)
    first = snapshot(engine)
    assert first["pending"] == [0]
    load_all(engine, reg, [paths[i % len(paths)] for i in reruns])
    assert differences(first, snapshot(engine)) == {}


def test_the_synthetic_city_loaded_twice_is_the_city_loaded_once(engine: Engine, tmp_path: Path) -> None:
    """The case first seen: feeds state some ids twice with different content (the bank feed's
    BNK-00000190 in the 200,000-person city); the second load used to add two versions of each,
    re-quarantine every bad row and start listings again."""
    generate(tmp_path, people=1500, seed=3, today=TODAY)
    reg = Registry(engine, tmp_path)
    mappings = load_mappings(ROOT / "connectors")
    paths = [(tmp_path / m.file, m) for m in mappings.values()]

    def ingest() -> None:
        for path, mapping in paths:
            now = reg.tick()
            result = load_file(engine, path, mapping, now=now, batch=500)
            update(engine, SCHEMES, subjects=result.subjects, as_of=TODAY, now=now)

    ingest()
    once = snapshot(engine)
    assert once["quarantine"]
    assert once["listings"]
    ingest()
    assert differences(once, snapshot(engine)) == {}
    with engine.connect() as conn:
        versions = conn.execute(
            select(Record.source_id, Record.source_record_id, func.count()).group_by(
                Record.source_id, Record.source_record_id
            )
        ).all()
    # ids stated twice in the file with different amounts: two versions, and nothing more on the second load
    assert {n for *_, n in versions} == {1, 2}


def test_a_file_that_grew_by_appending_reads_only_its_new_lines(engine: Engine, tmp_path: Path) -> None:
    fine = {"kind": "traffic_offence", "date": "2026-10-01", "attrs": {"offence_code": "1345"}}
    first = [{**fine, "id": "T-1", "id_number": PEOPLE[0]}, {**fine, "id": "T-1", "id_number": PEOPLE[1]}]
    path = files.write(tmp_path / "police.csv", first)
    mapping = files.mapping("police")
    once = load_file(engine, path, mapping, now=datetime(2026, 11, 27, 4, tzinfo=UTC))
    assert (once.accepted, once.amended) == (1, 1)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(files.csv_line({**fine, "id": "T-2", "id_number": PEOPLE[0]}))
    grown = load_file(engine, path, mapping, now=datetime(2026, 11, 28, 4, tzinfo=UTC))
    assert (grown.rows, grown.already, grown.accepted, grown.amended, grown.resumed_at_line) == (3, 2, 1, 0, 3)
    with engine.connect() as conn:
        stored = conn.execute(select(Record.source_record_id, Record.version).order_by(Record.id)).all()
    assert sorted(stored) == [("T-1", 1), ("T-1", 2), ("T-2", 1)]


def test_a_file_cut_off_mid_line_is_read_again_whole_when_it_arrives_whole(engine: Engine, tmp_path: Path) -> None:
    fine = {"kind": "traffic_offence", "date": "2026-10-01", "attrs": {"offence_code": "1345"}}
    rows = [{**fine, "id": f"T-{i}", "id_number": PEOPLE[0]} for i in range(3)]
    whole = files.write(tmp_path / "whole.jsonl", rows, fmt="jsonl").read_bytes()
    cut = tmp_path / "police.jsonl"
    cut.write_bytes(whole[: whole.index(b"T-2") + 2])
    mapping = files.mapping("police", "jsonl")
    partial = load_file(engine, cut, mapping, now=datetime(2026, 11, 27, 4, tzinfo=UTC))
    assert (partial.accepted, partial.quarantined) == (2, 1)
    cut.write_bytes(whole)
    again = load_file(engine, cut, mapping, now=datetime(2026, 11, 28, 4, tzinfo=UTC))
    # read from the start (a read never resumes mid-line): two rows unchanged, the third now whole
    assert (again.already, again.unchanged, again.accepted, again.quarantined) == (0, 2, 1, 0)
