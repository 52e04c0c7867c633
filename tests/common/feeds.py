"""Feed records into a test registry through the real ingest path (a JSON-lines file and a
mapping), then let the pipeline rescore the subjects they touch."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from stdnum.cn import ric

from credence.ingest.loader import LoadResult, load_file
from credence.ingest.mapping import Fields, KindMap, Mapping
from credence.model.catalogue import default_catalogue
from credence.model.identifiers import upgrade_legacy  # noqa: F401 - re-exported for tests
from credence.pipeline.update import update
from credence.rules.loader import Scheme, group, shipped

SCHEMES = group(shipped())


def person_id(birth: date, *, region: str = "320505", seq: int = 123) -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def mapping_for(source: str) -> Mapping:
    catalogue = default_catalogue()
    attrs = sorted({a for k in catalogue.kinds.values() for a in k.attributes})
    return Mapping(
        source=source,
        format="jsonl",
        file="feed.jsonl",
        fields=Fields(
            source_record_id="id",
            id_number="id_number",
            valid_date="date",
            jurisdiction="region",
            retracted="retracted",
        ),
        kind=KindMap(column="kind", map={k: k for k in catalogue.kinds}),
        attributes={a: f"attrs.{a}" for a in attrs},
        legal_basis={k: f"test basis for {k}" for k in catalogue.kinds},
    )


class Registry:
    """A clock that only moves forward, and helpers to feed records and read the state."""

    def __init__(
        self, engine: Engine, tmp: Path, *, now: datetime | None = None, schemes: dict[str, Scheme] | None = None
    ) -> None:
        self.engine = engine
        self.schemes = schemes or SCHEMES
        self.tmp = tmp
        self.now = now or datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
        self.files = 0

    def tick(self, seconds: int = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def feed(self, source: str, rows: list[dict[str, Any]], *, as_of: date | None = None) -> LoadResult:
        self.files += 1
        path = self.tmp / f"feed-{self.files}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                row = {"region": "320505", "id": str(uuid.uuid4()), **row}
                handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        now = self.tick()
        result = load_file(self.engine, path, mapping_for(source), now=now)
        update(self.engine, self.schemes, subjects=result.subjects, as_of=as_of or now.date(), now=now)
        return result


def listed_debtor(engine: Engine, tmp: Path, id_number: str) -> Registry:
    """A registry in which ``id_number`` is a listed defaulter from 2025-06-01 on (ground 1: no
    end), the decision known from that day on."""
    reg = Registry(engine, tmp, now=datetime(2025, 6, 1, 8, 0, tzinfo=UTC))
    attrs = {"case_number": "(2025)苏05执321号", "court": "Suzhou Intermediate People's Court", "ground": 1}
    decision = {"id_number": id_number, "kind": "defaulter_listing_decision", "date": "2025-06-01", "attrs": attrs}
    reg.feed("court", [{**decision, "region": ""}])
    return reg
