"""The transparency log in tests: keys made in a temporary folder, and the sequencer's step taken
once what it should integrate is final."""

import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select, text

from credence.audit import checkpoints, notes
from credence.store.orm import Event

ORIGIN = "credence.test/log"


def log_key(tmp: Path, name: str = ORIGIN) -> tuple[notes.Signer, Path]:
    """A fresh log signing key, and the file holding it (mode 0600)."""
    signer = notes.Signer.generate(name)
    path = tmp / f"log-{abs(hash(signer.verifier.public)) % 10**8}.key"
    path.write_text(signer.encode() + "\n")
    path.chmod(0o600)
    return signer, path


def witness_key(tmp: Path, name: str = "witness.test") -> tuple[notes.Signer, Path]:
    signer = notes.Signer.generate(name, kind=notes.COSIGNATURE)
    path = tmp / f"witness-{name}.key"
    path.write_text(signer.encode() + "\n")
    path.chmod(0o600)
    return signer, path


SETTLE = 60.0  # seconds to wait for the server's other transactions
POLL = 0.05  # seconds between looks at the horizon


def settled(engine: Engine) -> None:
    """Wait until every committed event can be integrated (at most ``SETTLE`` seconds).

    On PostgreSQL an event becomes final once every older transaction of the server has ended,
    other databases' included (``pg_snapshot_xmin`` is cluster-wide), and the suite runs tests in
    other databases at the same time: the horizon must pass the newest event's transaction.
    SQLite has one writer, so its committed events are final at once."""
    if engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + SETTLE
    with engine.connect() as conn:
        newest = conn.scalar(select(func.max(Event.xact)))
        if newest is None:
            return
        while time.monotonic() < deadline:
            horizon = conn.execute(text("SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")).scalar_one()
            conn.rollback()  # each look in a transaction of its own, holding no snapshot between
            if int(horizon) > newest:
                return
            time.sleep(POLL)


def advance(engine: Engine, signer: notes.Signer, now: datetime, *, settle: bool = True) -> checkpoints.Advanced:
    """One integrate-and-sign step; with ``settle``, taken once every committed event is final,
    so that it makes every one a leaf and signs a single checkpoint."""
    if settle:
        settled(engine)
    with engine.begin() as conn:
        return checkpoints.advance(conn, signer, now=now, origin=ORIGIN)
