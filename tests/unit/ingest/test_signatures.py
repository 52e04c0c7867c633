"""The signed form of a batch is RFC 8785's, whoever writes it: the client helper signs the bytes
the registry verifies, and any change to the batch, its order of keys aside, breaks the signature."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credence.exc import CredenceError
from credence.ingest import signatures

AT = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
ROWS: list[dict[str, Any]] = [
    {"event_id": "e1", "details": {"fine": 200, "offence": "超速", "ratio": 0.5}, "place": "320505"},
    {"z": None, "a": [True, False, 1e21], "é": "\u2028"},
]


def test_the_signed_bytes_are_rfc_8785() -> None:
    key = Ed25519PrivateKey.generate()
    body = signatures.batch("police", ROWS, key=key.public_key(), at=AT, nonce="0123456789abcdef")
    assert signatures.signed_bytes(body) == rfc8785.dumps(body)
    assert body["timestamp"] == "2026-12-03T14:00:00Z"
    assert body["key"] == signatures.key_id(key.public_key())


def test_a_signature_verifies_whatever_the_order_of_keys_and_not_after_a_change() -> None:
    key = Ed25519PrivateKey.generate()
    envelope = signatures.sign(signatures.batch("police", ROWS, key=key.public_key(), at=AT), key)
    reordered = dict(reversed(list(envelope["batch"].items())))
    assert signatures.verify(key.public_key(), signatures.signed_bytes(reordered), envelope["signature"])
    altered = {**envelope["batch"], "rows": [{**ROWS[0], "place": "320506"}, ROWS[1]]}
    assert not signatures.verify(key.public_key(), signatures.signed_bytes(altered), envelope["signature"])
    other = Ed25519PrivateKey.generate().public_key()
    assert not signatures.verify(other, signatures.signed_bytes(envelope["batch"]), envelope["signature"])
    assert not signatures.verify(key.public_key(), signatures.signed_bytes(envelope["batch"]), "not base64!")


def test_a_batch_without_a_canonical_form_is_refused_at_signing() -> None:
    key = Ed25519PrivateKey.generate()
    body = signatures.batch("police", [{"n": 2**60}], key=key.public_key(), at=AT)
    with pytest.raises(CredenceError, match="batch"):
        signatures.sign(body, key)


def test_keys_round_trip_through_pem(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    (tmp_path / "k.pem").write_bytes(signatures.private_pem(key))
    (tmp_path / "k.pub").write_bytes(signatures.public_pem(key.public_key()))
    read = signatures.read_private_key(tmp_path / "k.pem")
    assert signatures.key_id(read.public_key()) == signatures.key_id(signatures.read_public_key(tmp_path / "k.pub"))
    with pytest.raises(CredenceError, match="expected an Ed25519 public key"):
        signatures.read_public_key(tmp_path / "k.pem")
