"""Pairs waiting for a clerk, for the console's tests: residents in the register (two called 张伟,
born the same day), and a residents' committee roster read with the shipped mapping
(``connectors/community.yaml``, as the served gate reads it) whose rows carry too little to
tell the two apart, linked with the shipped model."""

import csv
from datetime import date
from pathlib import Path

from credence.ingest.loader import load_file
from credence.ingest.mapping import load_mappings
from credence.pipeline import linkage as jobs
from credence.resolve import model_files
from tests.common.feeds import Registry, person_id

CONNECTORS = Path(__file__).parents[2] / "connectors"
ZHANG_WEI = person_id(date(1980, 3, 14), seq=11)  # 人民路12号, phone 13812345678
ZHANG_WEI_TOO = person_id(date(1980, 3, 14), seq=13)  # 中山路7号
COLUMNS = ("entry_id", "issued_on", "committee", "name", "birth_date", "district", "address", "phone", "hours", "year")


def register(reg: Registry) -> None:
    for number, street in ((ZHANG_WEI, "人民路12号"), (ZHANG_WEI_TOO, "中山路7号")):
        attrs = {"region": "320505", "status": "registered", "name": "张伟", "address": street}
        reg.feed("police", [{"id_number": number, "kind": "residence", "date": "2024-01-05", "attrs": attrs}])


def doubtful_pairs(reg: Registry, rows: int = 2) -> None:
    """``rows`` roster rows of 张伟 with his birth date and nothing else: each waits for a clerk."""
    register(reg)
    path = reg.tmp / "community.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)
        for n in range(1, rows + 1):
            out.writerow([f"COM-{n}", "2026-02-01", "320505", "张伟", "1980-03-14", "320505", "", "", 12, 2025])
    mappings = load_mappings(CONNECTORS)
    load_file(reg.engine, path, mappings["community"], now=reg.tick())
    linked, _ = jobs.link(
        reg.engine, mappings, reg.schemes, models=model_files.SHIPPED, now=reg.tick(), as_of=reg.now.date()
    )
    assert linked.proposed == {"community": {"auto": 0, "review": rows, "unlinked": 0}}, linked.proposed
