"""A witness's step: check the log's newest checkpoint against the last one this witness
cosigned, and cosign it (c2sp.org/tlog-witness, the check without the protocol).

The witness keeps its own state (the last checkpoint it cosigned) and its own key. It refuses,
and cosigns nothing, when the log shows a tree that is not an extension of that one:

* the same size with another root (a split view: two histories shown to two readers);
* a smaller size (a rollback);
* a larger size whose consistency proof fails (a rewritten history).
"""

import base64
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from credence.audit import merkle, notes
from credence.exc import CredenceError


class SplitViewError(CredenceError):
    """The log showed this witness a history that does not extend the one it cosigned."""

    status = 409
    exit_code = 3


@dataclass(frozen=True)
class State:
    origin: str
    size: int
    root: bytes
    note: str  # the checkpoint as cosigned

    def dump(self) -> str:
        body = {
            "origin": self.origin,
            "size": self.size,
            "root": base64.b64encode(self.root).decode(),
            "note": self.note,
        }
        return json.dumps(body, indent=2) + "\n"

    @classmethod
    def load(cls, path: Path) -> "State | None":
        if not path.exists():
            return None
        try:
            body = json.loads(path.read_text("utf-8"))
            return cls(body["origin"], int(body["size"]), base64.b64decode(body["root"]), body["note"])
        except (ValueError, KeyError, TypeError) as err:
            raise CredenceError(f"{path}: not a witness state file ({err})") from None

    def save(self, path: Path) -> None:
        """Written whole or not at all: a witness killed mid-write keeps its last state."""
        partial = path.with_name(path.name + ".partial")
        partial.write_text(self.dump(), "utf-8")
        os.replace(partial, path)


Consistency = Callable[[int, int], Sequence[bytes]]


def step(
    state: State | None,
    note: str,
    *,
    consistency: Consistency,
    log: notes.Verifier,
    origin: str,
    witness: notes.Signer,
    now: datetime,
) -> State:
    """The new state after checking ``note`` (the log's newest checkpoint), cosigned.

    Raises:
        NoteError: the note is not the log's (signature, origin).
        SplitViewError: the note's tree does not extend the last one cosigned.
    """
    checkpoint = notes.open_checkpoint(note, log, origin=origin)
    if state is not None:
        if checkpoint.size < state.size:
            raise SplitViewError(
                f"the log shows a tree of {checkpoint.size} leaves after one of {state.size}: a rollback"
            )
        if checkpoint.size == state.size and checkpoint.root != state.root:
            raise SplitViewError(
                f"split view: two trees of {checkpoint.size} leaves with different roots"
                f" ({base64.b64encode(state.root).decode()} cosigned, {base64.b64encode(checkpoint.root).decode()} now)"
            )
        if checkpoint.size > state.size and state.size > 0:
            proof = consistency(state.size, checkpoint.size)
            try:
                merkle.verify_consistency(state.size, checkpoint.size, proof, state.root, checkpoint.root)
            except merkle.ProofError as err:
                raise SplitViewError(
                    f"the tree of {checkpoint.size} leaves does not extend the one of {state.size} cosigned: {err}"
                ) from None
    return State(origin, checkpoint.size, checkpoint.root, notes.cosign(note, witness, now=now))
