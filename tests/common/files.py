"""Write real feed files (CSV or JSON lines, in any encoding) and the mappings that read them.

Rows are given as in ``tests.common.feeds``: ``id``, ``id_number``, ``kind``, ``date``,
``region``, optional ``retracted`` and an ``attrs`` dict. A CSV file flattens them into one
column per catalogue attribute (empty where a kind has no such attribute).
"""

import csv
import io
import json
from pathlib import Path
from typing import Any, Literal

from credence.ingest.mapping import Fields, KindMap, Mapping
from credence.model.catalogue import default_catalogue

ATTRIBUTES = sorted({a for k in default_catalogue().kinds.values() for a in k.attributes})
BASE = ["id", "id_number", "kind", "date", "district", "retracted"]  # "district": "region" is an attribute
HEADER = BASE + ATTRIBUTES


def mapping(
    source: str,
    fmt: Literal["csv", "jsonl"] = "csv",
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    bom: bool = True,
) -> Mapping:
    kinds = default_catalogue().kinds
    return Mapping(
        source=source,
        format=fmt,
        file=f"feed.{fmt}",
        encoding=encoding,
        delimiter=delimiter,
        bom=bom,
        fields=Fields(
            source_record_id="id",
            id_number="id_number",
            valid_date="date",
            jurisdiction="district" if fmt == "csv" else "region",
            retracted="retracted",
        ),
        kind=KindMap(column="kind", map={k: k for k in kinds}),
        attributes={a: (a if fmt == "csv" else f"attrs.{a}") for a in ATTRIBUTES},
        legal_basis={k: f"test basis for {k}" for k in kinds},
    )


def csv_line(row: dict[str, Any], *, delimiter: str = ",") -> str:
    values = {**{k: row.get(k, "") for k in BASE}, **dict.fromkeys(ATTRIBUTES, "")}
    values["district"] = row.get("region", "320505")
    values["retracted"] = "Y" if row.get("retracted") else ""
    for name, value in (row.get("attrs") or {}).items():
        values[name] = value
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerow([values[c] for c in HEADER])
    return out.getvalue()


def csv_text(rows: list[dict[str, Any]], *, delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerow(HEADER)
    return out.getvalue() + "".join(csv_line(r, delimiter=delimiter) for r in rows)


def jsonl_line(row: dict[str, Any]) -> str:
    return json.dumps({"region": "320505", **row}, ensure_ascii=False, default=str) + "\n"


def write(
    path: Path,
    rows: list[dict[str, Any]],
    *,
    fmt: Literal["csv", "jsonl"] = "csv",
    encoding: str = "utf-8",
    delimiter: str = ",",
    bom: bool = False,
) -> Path:
    text = csv_text(rows, delimiter=delimiter) if fmt == "csv" else "".join(jsonl_line(r) for r in rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path
