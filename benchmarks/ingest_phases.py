"""Where a load's real time goes: ``load_file`` of one feed with its phases wrapped in timers.

cProfile doubles a load's time and inflates the phases with many small Python calls most, so
its shares mislead; this wraps only a dozen functions (the checks, each bulk insert by table,
subject resolution, the look-up of earlier versions, the content hash) and prints the real
seconds in each and its share of the load. Phases nest: ``write_batch`` holds the inserts, the
hash and the resolution; what is left of the load outside ``write_batch`` and ``check_row`` is
reading the file, the commits and the ledger. Takes a folder of feeds (``ingest_bare.py --feeds``
writes one) and a registry URL; a PostgreSQL URL names the server, and a ``credence_bench_*``
database is created there and dropped after.

    .venv/bin/python benchmarks/ingest_phases.py /tmp/ingest-feeds sqlite:////tmp/phases.db
    .venv/bin/python benchmarks/ingest_phases.py /tmp/ingest-feeds postgresql://postgres@127.0.0.1:5432/postgres
"""

import argparse
import functools
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from credence.ingest import loader
from credence.ingest.mapping import load_mappings
from credence.ingest.records import Candidate
from credence.store import bulk
from credence.store.registry import open_registry

CONNECTORS = Path(__file__).resolve().parent.parent / "connectors"
spent: defaultdict[str, float] = defaultdict(float)


def timer(label: str | Callable[..., str], function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label if isinstance(label, str) else label(*args)] += time.perf_counter() - started

    return timed


def instrument() -> None:
    for name in ("check_row", "write_batch", "_latest", "mark_pending"):
        setattr(loader, name, timer(name, getattr(loader, name)))
    loader.resolve.ensure = timer("resolve.ensure", loader.resolve.ensure)  # type: ignore[method-assign]
    loader.audit.record_many = timer("audit.record_many", loader.audit.record_many)  # type: ignore[method-assign]
    bulk.insert_rows = timer(lambda _conn, model, *_: f"insert {model.__tablename__}", bulk.insert_rows)  # type: ignore[method-assign]
    hashed = Candidate.content_hash.fget
    assert hashed is not None  # noqa: S101 - a property with a getter
    Candidate.content_hash = property(timer("content_hash", hashed))  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("feeds", type=Path)
    parser.add_argument("url")
    parser.add_argument("--feed", default="volunteers.csv")
    args = parser.parse_args()
    mapping = {m.file: m for m in load_mappings(CONNECTORS).values()}[args.feed]
    url, admin, name = args.url, None, ""
    if url.startswith("postgresql"):
        admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        name = f"credence_bench_{secrets.token_hex(4)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(url).set(database=name).render_as_string(hide_password=False)
    try:
        engine = open_registry(url)
        instrument()
        started = time.perf_counter()
        loader.load_file(engine, args.feeds / args.feed, mapping, now=datetime.now(UTC))
        total = time.perf_counter() - started
        engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"{make_url(url).get_backend_name()}: load_file {total:.3f} s")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {label:28s} {seconds:7.3f} s {100 * seconds / total:5.1f} %")


if __name__ == "__main__":
    main()
