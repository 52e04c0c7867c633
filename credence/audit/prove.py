"""``check_bundle``: a subject's entries checked offline, trusting nothing the server says.

A bundle (``GET /v1/log/subjects/{commitment}``) holds a checkpoint and, per entry, its index,
its RFC 8785 text, its leaf hash and its inclusion proof. Checked: the checkpoint's signature
with the log's public key (and the cosignatures of the witnesses given), then each entry: its
leaf hash is SHA-256(0x00 ‖ text), the text names that index and that subject, and the proof
leads from the leaf to the checkpoint's root.
"""

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from credence.audit import merkle, notes
from credence.exc import CredenceError


class BundleError(CredenceError):
    status = 422


@dataclass(frozen=True)
class Proven:
    size: int
    indices: list[int]
    erased: int  # entries without text (their salt erased): proven in the tree, not opened


def _hash(value: Any, where: str) -> bytes:  # Any: a JSON value
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise BundleError(f"{where}: not base64") from None


def check_bundle(
    bundle: dict[str, Any],  # Any: JSON
    log: notes.Verifier,
    *,
    origin: str | None = None,
    witnesses: Sequence[notes.Verifier] = (),
) -> Proven:
    """Every entry of ``bundle`` proven in the checkpoint it carries (BundleError or NoteError otherwise)."""
    try:
        note, subject, items = str(bundle["checkpoint"]), bundle["subject"], list(bundle["entries"])
    except (KeyError, TypeError):
        raise BundleError("bundle: expected checkpoint, subject and entries") from None
    checkpoint = notes.open_checkpoint(note, log, origin=origin)
    for witness in witnesses:
        notes.cosigned_at(note, witness)
    indices: list[int] = []
    erased = 0
    for n, item in enumerate(items):
        where = f"entries[{n}]"
        try:
            index = int(item["index"])
            leaf = _hash(item["leaf_hash"], f"{where}.leaf_hash")
            proof = [_hash(h, f"{where}.proof") for h in item["proof"]]
            text = item["entry"]
        except (KeyError, TypeError, ValueError):
            raise BundleError(f"{where}: expected index, entry, leaf_hash and proof") from None
        if text is None:
            erased += 1
        else:
            if merkle.leaf_hash(str(text).encode()) != leaf:
                raise BundleError(f"{where}: the leaf hash is not the hash of the entry")
            body = json.loads(str(text))
            if body.get("index") != index or body.get("subject") != subject:
                raise BundleError(f"{where}: the entry names another index or subject")
        try:
            merkle.verify_inclusion(index, checkpoint.size, leaf, proof, checkpoint.root)
        except merkle.ProofError as err:
            raise BundleError(f"{where} (leaf {index}): {err}") from None
        indices.append(index)
    return Proven(checkpoint.size, indices, erased)
