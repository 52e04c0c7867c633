"""Record linkage of a generated city's unidentified roster against its register: Credence's
``resolve.linkage.propose`` against bare Splink on the same records, settings and blocking
rules, in the same run.

Credence's time covers what a link run does past the database reads: making the identities
comparable (simplified characters, pinyin), Splink's predict, and ranking the candidates with
their waterfalls. Bare Splink gets the comparable columns ready-made and only predicts. The
register is read from the generated feeds as ``resolve/register.py`` reads it from the store.

    PYTHONPATH=. .venv/bin/python benchmarks/linkage.py [--people 100000]
"""

import argparse
import csv
import json
import resource
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from credence.resolve import linkage, model_files
from credence.resolve.identity import Identity, features
from credence.synth.feeds import generate


def city(out: Path, people: int) -> tuple[list[tuple[uuid.UUID, Identity]], list[tuple[int, Identity]]]:
    generate(out, people=people, seed=1, today=date(2026, 12, 1))
    home: dict[str, dict[str, str]] = {}
    phone: dict[str, str] = {}
    with (out / "police.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            details = row.get("details")
            if not isinstance(details, dict):
                continue
            if row["type"] == "hukou" and details.get("status") in {"registered", "resident"}:
                home[row["citizen_id"]] = details
            elif row["type"] == "contact" and details.get("phone"):
                phone[row["citizen_id"]] = details["phone"]
    with (out / "people.csv").open(encoding="utf-8") as handle:
        register = [
            (
                uuid.uuid4(),
                Identity(
                    home.get(p["id_number"], {}).get("name"),
                    p["birth_date"],
                    home.get(p["id_number"], {}).get("region"),
                    home.get(p["id_number"], {}).get("address"),
                    phone.get(p["id_number"]),
                ),
            )
            for p in csv.DictReader(handle)
        ]
    with (out / "community.csv").open(encoding="utf-8") as handle:
        records = [
            (n, Identity(r["name"], r["birth_date"], r["district"], r["address"], r["phone"]))
            for n, r in enumerate(csv.DictReader(handle), 1)
        ]
    return register, records


def bare(
    register: list[tuple[uuid.UUID, Identity]], records: list[tuple[int, Identity]], model: model_files.Model
) -> int:
    import duckdb
    import pandas as pd
    from splink import DuckDBAPI, Linker

    con = duckdb.connect()
    left = pd.DataFrame([{"unique_id": i, **features(identity)} for i, (_, identity) in enumerate(register)])
    right = pd.DataFrame([{"unique_id": n, **features(identity)} for n, identity in records])
    con.register("register_df", left)
    con.register("records_df", right)
    con.execute("CREATE TABLE register AS SELECT * FROM register_df")
    con.execute("CREATE TABLE records AS SELECT * FROM records_df")
    linker = Linker(["register", "records"], dict(model.splink), DuckDBAPI(connection=con))
    floor = min(model.thresholds.review, model.thresholds.auto - model.thresholds.margin)  # as propose
    started = time.perf_counter()
    table = linker.inference.predict(threshold_match_weight=floor)
    found = con.execute(f"SELECT count(*) FROM {table.physical_name}").fetchone()
    bare.seconds = time.perf_counter() - started  # type: ignore[attr-defined]
    con.close()
    return int(found[0]) if found else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    args = parser.parse_args()
    model = model_files.latest("community", model_files.SHIPPED)
    assert model is not None  # noqa: S101 - the shipped model
    with tempfile.TemporaryDirectory() as folder:
        register, records = city(Path(folder), args.people)
    linkage._quiet()
    pairs = bare(register, records, model)
    bare_seconds: float = bare.seconds  # type: ignore[attr-defined]
    started = time.perf_counter()
    proposals = linkage.propose(register, records, model)
    ours = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"register {len(register):,} people, roster {len(records):,} rows, {pairs:,} pairs above the floor")
    print(f"bare Splink predict: {bare_seconds:.2f} s")
    print(
        f"credence propose: {ours:.2f} s ({len(proposals):,} proposals), "
        f"{len(records) / ours * 60:,.0f} rows linked a minute; ratio {ours / bare_seconds:.2f} of bare Splink"
    )
    print(f"peak memory (RSS) {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
