"""The Parquet snapshot: a rebuild read from it equals the rebuild from the store, an incremental
export equals a full one, and an export killed mid-write and run again equals a clean one."""

import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
from sqlalchemy import Engine
from typer.testing import CliRunner

from credence.batch import duckdb, parquet
from credence.cli import app
from credence.pipeline import state
from tests.common.feeds import SCHEMES, Registry, person_id
from tests.functional.test_cli import Built, built, flat, invoke  # noqa: F401 - built is a fixture

PEOPLE = [person_id(date(1971 + i, 1 + i, 2 + i), seq=300 + 2 * i) for i in range(5)]
DAY = date(2026, 11, 27)
OVERLAP = 3600.0  # longer than the test clock's whole history: every export re-reads the overlap


def _home(reg: Registry, people: list[str]) -> None:
    rows = [
        {
            "id_number": p,
            "kind": "residence",
            "date": "2019-01-01",
            "attrs": {"region": "320505", "status": "registered"},
        }
        for p in people
    ]
    reg.feed("police", rows, as_of=DAY)


def _tax(case: str, who: int, day: str, amount: int, **more: object) -> dict[str, object]:
    return {
        "id": case,
        "id_number": PEOPLE[who],
        "kind": "tax_arrears",
        "date": day,
        "attrs": {"amount_yuan": amount},
    } | more


def _first(reg: Registry) -> None:
    """Homes, tax arrears, a donation, a court debt and a defaulter listing for the first three people."""
    _home(reg, PEOPLE[:3])
    reg.feed("tax", [_tax("TAX-1", 0, "2026-03-01", 20000), _tax("TAX-2", 1, "2026-04-01", 9000)], as_of=DAY)
    donation = {"id_number": PEOPLE[2], "kind": "blood_donation", "date": "2026-05-01", "attrs": {"volume_ml": 400}}
    reg.feed("blood_bank", [donation], as_of=DAY)
    court = {"date": "2026-02-01", "region": ""}
    debt = {"id": "C-7", "id_number": PEOPLE[1], "kind": "court_debt_default", **court}
    listing = {"id": "C-8", "id_number": PEOPLE[2], "kind": "defaulter_listing_decision", **court}
    case = {"case_number": "(2026)苏05执8号", "court": "Suzhou Intermediate People's Court", "ground": 1}
    reg.feed(
        "court",
        [{**debt, "attrs": {"case_number": "C-7", "amount_yuan": 5000}}, {**listing, "attrs": case}],
        as_of=DAY,
    )


def _later(reg: Registry) -> None:
    """New people and records, an amendment and a retraction of earlier ones."""
    _home(reg, PEOPLE[3:])
    amended, retracted = _tax("TAX-1", 0, "2026-03-01", 500), _tax("TAX-2", 1, "2026-04-01", 9000, retracted=True)
    reg.feed("tax", [amended, retracted, _tax("TAX-3", 4, "2026-06-01", 30000)], as_of=DAY)


def _contents(folder: Path) -> dict[str, list[dict[str, object]]]:
    """Every row of the snapshot's listed files, bucket included, in id order."""
    out = {}
    for part in parquet.PARTS:
        listed = parquet.files(folder, part.name)
        schema = part.schema.append(pa.field("bucket", pa.int16()))
        hive = ds.partitioning(pa.schema([("bucket", pa.int16())]), flavor="hive")
        found = ds.dataset(
            listed, schema=schema, format="parquet", partitioning=hive, partition_base_dir=str(folder / part.name)
        )
        table = found.to_table() if listed else schema.empty_table()
        out[part.name] = sorted(table.to_pylist(), key=lambda row: str(row["id"]))
    return out


def _derived(snap: duckdb.Snapshot, engine: Engine) -> state.Derived:
    """What a rebuild derives from ``snap``, its lists in one order (an engine scans in any)."""
    with engine.connect() as conn:
        made = state.derive(snap, conn, SCHEMES, as_of=DAY)
    for rows in made.intervals.values():
        rows.sort(key=repr)
    for listed in (made.listings, made.exemptions, made.redlisted):
        listed.sort(key=repr)
    return made


def _export(engine: Engine, folder: Path, now: datetime) -> parquet.Exported:
    with engine.connect() as conn:
        return parquet.export(conn, folder, now=now, overlap=OVERLAP, buckets=8)


def test_a_rebuild_from_the_parquet_snapshot_equals_the_one_from_the_store(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    _first(reg)
    _later(reg)
    now = reg.tick()
    exported = _export(engine, tmp_path / "snap", now)
    assert exported.records > 0
    assert exported.subjects == len(PEOPLE)
    with engine.connect() as conn:
        memory = duckdb.take(conn, known_at=now)
    read = duckdb.read(tmp_path / "snap", known_at=now)
    assert (read.facts, read.subjects) == (memory.facts, memory.subjects)
    derived = _derived(read, engine)
    assert derived == _derived(memory, engine)
    assert any(derived.scores.values())
    assert derived.listings  # the court's decision lists a defaulter: the comparison covers listings too


def test_an_incremental_export_equals_a_full_one(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    _first(reg)
    first = _export(engine, tmp_path / "nightly", reg.tick())
    earlier = first.high_water
    _later(reg)
    now = reg.tick()
    second = _export(engine, tmp_path / "nightly", now)
    full = _export(engine, tmp_path / "full", now)
    assert second.since is not None
    assert second.since < earlier  # the overlap re-read rows already exported ...
    assert (first.records + second.records, first.subjects + second.subjects) == (full.records, full.subjects)
    assert second.records == 5  # ... and wrote only the two homes and three tax versions
    assert _contents(tmp_path / "nightly") == _contents(tmp_path / "full")
    again = _export(engine, tmp_path / "nightly", reg.tick())  # nothing new: an empty export
    assert (again.records, again.subjects, again.files) == (0, 0, 0)
    assert _derived(duckdb.read(tmp_path / "nightly", known_at=now), engine) == _derived(
        duckdb.read(tmp_path / "full", known_at=now), engine
    )
    # what the registry knew at the first export is still answered from the same snapshot
    assert _derived(duckdb.read(tmp_path / "nightly", known_at=earlier), engine) == _derived(
        duckdb.read(tmp_path / "full", known_at=earlier), engine
    )


KILLED = """
import sys, time
from datetime import datetime
from pathlib import Path
from credence.batch import parquet
from credence.store.db import make_engine

def slow(rows: int) -> None:
    time.sleep(0.2)  # a batch of one row at a time, slowly: the parent kills it mid-write

with make_engine(sys.argv[1]).connect() as conn:
    parquet.export(conn, Path(sys.argv[2]), now=datetime.fromisoformat(sys.argv[3]), overlap=3600.0,
                   buckets=8, batch=1, progress=slow)
"""


def test_an_export_killed_mid_write_and_run_again_equals_a_clean_one(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    _first(reg)
    folder = tmp_path / "snap"
    _export(engine, folder, reg.tick())
    kept = (folder / parquet.MANIFEST).read_bytes()
    _later(reg)
    now = reg.tick()
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    child = subprocess.Popen([sys.executable, "-c", KILLED, url, str(folder), now.isoformat()], env=env)  # noqa: S603
    listed = set(parquet.files(folder, "records"))
    deadline = time.monotonic() + 60
    while not {str(p) for p in folder.glob("records/bucket=*/*.parquet")} - listed:
        assert child.poll() is None, "the export finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert (folder / parquet.MANIFEST).read_bytes() == kept  # the previous manifest is still the truth
    again = _export(engine, folder, now)
    assert again.seq == 2
    clean = _export(engine, tmp_path / "clean", now)
    assert _contents(folder) == _contents(tmp_path / "clean")
    on_disk = {p.relative_to(folder).as_posix() for p in folder.glob("*/bucket=*/*.parquet")}
    assert on_disk == {f for e in parquet.manifest(folder).exports for f in e["files"]}  # type: ignore[union-attr]
    assert clean.records == parquet.describe(parquet.files(folder, "records"))[0]


def test_the_bucket_is_stable_and_fixed_for_the_snapshot(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    _first(reg)
    folder = tmp_path / "snap"
    _export(engine, folder, reg.tick())
    with engine.connect() as conn:  # a later export keeps the manifest's bucket count
        parquet.export(conn, folder, now=reg.tick() + timedelta(seconds=1), overlap=OVERLAP, buckets=32)
    assert parquet.manifest(folder).buckets == 8  # type: ignore[union-attr]
    for part in _contents(folder).values():
        for row in part:
            who = str(row.get("subject_id", row["id"]))
            assert row["bucket"] == int(who[-8:], 16) % 8, row


def test_the_cli_exports_and_scores_through_the_snapshot(built: Built, tmp_path: Path) -> None:  # noqa: F811
    folder = tmp_path / "exported"
    out = flat(invoke("snapshot", "export", "--to", str(folder)))
    assert "the start (full)" in out
    first = parquet.manifest(folder)
    assert first is not None
    assert first.exports[0]["records"] > 500
    assert first.exports[0]["subjects"] >= 300
    out = flat(invoke("score", "--snapshot", str(folder)))
    # read back from Parquet, the rebuild lists exactly whom the store's own rebuild listed
    assert "listings started 0, ended 0" in out, out
    invoke("snapshot", "export", "--to", str(folder))
    last = parquet.manifest(folder)
    assert last is not None
    assert [e["records"] for e in last.exports[1:]] == [0, 0]  # nothing new since: nothing copied again
    refused = CliRunner().invoke(app, ["snapshot", "export", "--to", str(built.feeds / "people.csv")])
    assert refused.exit_code == 2
    assert "--to" in refused.output
    assert "expected the snapshot's folder" in flat(refused.output)
    refused = CliRunner().invoke(app, ["score", "--engine", "store", "--snapshot", str(folder)])
    assert refused.exit_code != 0
    assert "expected --engine duckdb or spark" in flat(refused.output)


def test_the_work_divides_by_subject_bucket(engine: Engine, tmp_path: Path) -> None:
    """Each bucket recomputed alone gives its subjects' scores and intervals as the whole does."""
    reg = Registry(engine, tmp_path)
    _first(reg)
    _later(reg)
    now = reg.tick()
    folder = tmp_path / "snap"
    _export(engine, folder, now)
    whole = _derived(duckdb.read(folder, known_at=now), engine)
    scores: dict[str, dict[object, object]] = {name: {} for name in whole.scores}
    intervals: dict[str, list[object]] = {name: [] for name in whole.intervals}
    for bucket in range(8):
        part = _derived(duckdb.read(folder, known_at=now, buckets=[bucket]), engine)
        for name, by_subject in part.scores.items():
            assert not scores[name].keys() & by_subject.keys()  # a subject is in one bucket only
            scores[name] |= by_subject
        for name, rows in part.intervals.items():
            intervals[name] += rows
    assert scores == whole.scores
    assert {n: sorted(r, key=repr) for n, r in intervals.items()} == whole.intervals
