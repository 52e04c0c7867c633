"""The transparency log, signed, witnessed and verified in one job (``credence demo``): the
sequencer integrates what the build logged and signs a checkpoint; a witness with its own key
checks that checkpoint extends the last one it cosigned and cosigns it; ``audit.verify`` then
checks, from the store and the witness's checkpoint, that the log is append-only and that every
derived row has its entry.

The demo's witness reads the consistency proof from the store it is given rather than over HTTP
(the gate is not serving yet); ``credence audit witness --url`` is the independent one.
"""

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from credence.audit import checkpoints, notes, proofs, verify, witness
from credence.store.orm import Event


@dataclass(frozen=True, slots=True)
class Witnessed:
    advanced: checkpoints.Advanced
    cosigned: witness.State
    report: verify.Report


def sign_witness_verify(
    engine: Engine,
    *,
    signer: notes.Signer,
    witness_signer: notes.Signer,
    state_file: Path,
    origin: str,
    now: datetime,
    settle: float = 60.0,
) -> Witnessed | None:
    """Advance the log until it holds every event committed so far, cosign its newest checkpoint
    (the witness's state kept in ``state_file``) and verify the store against it; None if no
    checkpoint could be signed within ``settle`` seconds. The caller holds the writer lock.

    On PostgreSQL an event joins the log once every older transaction of the server has ended
    (``checkpoints``), so another database's long transaction can hold the newest ones back."""
    deadline = time.monotonic() + settle
    while True:
        with engine.begin() as conn:
            advanced = checkpoints.advance(conn, signer, now=now, origin=origin)
        with engine.connect() as conn:
            events = conn.scalar(select(func.count()).select_from(Event)) or 0
            signed = checkpoints.latest(conn) is not None
        if advanced.size >= events or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if not signed:
        return None
    with engine.connect() as conn:
        note = proofs.latest_note(conn)
        cosigned = witness.step(
            witness.State.load(state_file),
            note,
            consistency=lambda first, second: proofs.consistency(conn, first, second),
            log=signer.verifier,
            origin=origin,
            witness=witness_signer,
            now=now,
        )
        published = notes.open_checkpoint(cosigned.note, signer.verifier, origin=origin)
        report = verify.verify(conn, signer.verifier, origin=origin, published=[published])
    cosigned.save(state_file)
    return Witnessed(advanced, cosigned, report)
