"""Signed submissions on the wire: the envelope an agency sends and how it is signed (docs/submissions.md).

An envelope is ``{"batch": {...}, "signature": "<base64>"}``. The batch is
``{"source", "key", "timestamp", "nonce", "rows"}``; the signature is Ed25519 (RFC 8032) over
the RFC 8785 canonical JSON of the batch, the same canonical form the transparency log's
entries use (``audit.entries.canonical``), so a batch means one byte string whoever wrote it.
``sign`` is the client side, for agencies and tests alike; ``verify`` the registry's.

Keys are PEM files, as OpenSSL writes them (``openssl genpkey -algorithm ed25519``, then
``openssl pkey -pubout``) or ``credence agencies keygen``; a key's id is the first 16 bytes of
the SHA-256 of its raw 32-byte public key, in hex. The private key stays with the agency: the
registry only ever holds public keys.
"""

import base64
import binascii
import hashlib
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from credence.audit.entries import EntryError, canonical
from credence.exc import CredenceError

BATCH_FIELDS = ("source", "key", "timestamp", "nonce", "rows")


class KeyFileError(CredenceError):
    """A key file that cannot be read as an Ed25519 PEM key; names the file."""

    status = 422


def key_id(public: Ed25519PublicKey) -> str:
    """The key's id: 32 hex digits of the SHA-256 of its raw public bytes."""
    return hashlib.sha256(raw_public(public)).hexdigest()[:32]


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_from_raw(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def read_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (SubjectPublicKeyInfo)."""
    data = _read(path)
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise KeyFileError(f"{path}: expected an Ed25519 public key in PEM (-----BEGIN PUBLIC KEY-----)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: expected an Ed25519 public key, got {type(key).__name__}")
    return key


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from an unencrypted PEM file (PKCS #8)."""
    data = _read(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise KeyFileError(
            f"{path}: expected an unencrypted Ed25519 private key in PEM (-----BEGIN PRIVATE KEY-----)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: expected an Ed25519 private key, got {type(key).__name__}")
    return key


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise KeyFileError(f"{path}: cannot read the key ({err.strerror})") from None


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def timestamp(at: datetime) -> str:
    """An instant as a batch carries it: RFC 3339 in UTC, to the second, with ``Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def signed_bytes(batch: dict[str, Any]) -> bytes:  # Any: the rows are the agency's JSON
    """What is signed: the batch's RFC 8785 canonical JSON. Raises EntryError for a batch that
    has none (a float that is not finite, an integer beyond 2**53, a lone surrogate)."""
    return canonical(batch)


def batch(
    source: str, rows: list[dict[str, Any]], *, key: Ed25519PublicKey, at: datetime, nonce: str | None = None
) -> dict[str, Any]:  # Any: the rows are the agency's JSON
    """A batch of ``rows`` (each in the shape of the source's feed mapping) to sign."""
    return {
        "source": source,
        "key": key_id(key),
        "timestamp": timestamp(at),
        "nonce": nonce or secrets.token_hex(16),
        "rows": rows,
    }


def sign(body: dict[str, Any], private: Ed25519PrivateKey) -> dict[str, Any]:  # Any: JSON
    """The envelope of a batch: the batch and its signature, ready to POST as JSON."""
    try:
        message = signed_bytes(body)
    except EntryError as err:
        raise CredenceError(f"batch: {err.detail.replace('event data', 'the batch')}") from None
    return {"batch": body, "signature": base64.b64encode(private.sign(message)).decode("ascii")}


def verify(public: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is ``public``'s Ed25519 signature of ``message``."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        public.verify(raw, message)
    except InvalidSignature:
        return False
    return True
