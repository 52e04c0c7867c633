"""The transparency log in tests: keys made in a temporary folder, and the sequencer's step."""

import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

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


def advance(engine: Engine, signer: notes.Signer, now: datetime, *, settle: bool = True) -> checkpoints.Advanced:
    """One integrate-and-sign step; with ``settle``, repeated until every committed event is a
    leaf. On PostgreSQL events become final once every older transaction of the server has ended,
    other databases' included (``pg_snapshot_xmin`` is cluster-wide), and the suite runs tests in
    other databases at the same time."""
    deadline = time.monotonic() + SETTLE
    integrated = 0
    while True:
        with engine.begin() as conn:
            done = checkpoints.advance(conn, signer, now=now, origin=ORIGIN)
        integrated += done.integrated
        with engine.connect() as conn:
            events = conn.scalar(select(func.count()).select_from(Event)) or 0
        if not settle or done.size >= events or time.monotonic() > deadline:
            return replace(done, integrated=integrated)
        time.sleep(0.1)
