"""The transparency log in tests: keys made in a temporary folder, and the sequencer's step."""

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from credence.audit import checkpoints, notes

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


def advance(engine: Engine, signer: notes.Signer, now: datetime) -> checkpoints.Advanced:
    with engine.begin() as conn:
        return checkpoints.advance(conn, signer, now=now, origin=ORIGIN)
