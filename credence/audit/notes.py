"""C2SP signed notes with Ed25519: the log's checkpoints and a witness's cosignatures.

Formats (c2sp.org/signed-note, c2sp.org/tlog-checkpoint, c2sp.org/tlog-cosignature):

* a key is named; its id is the first 4 bytes of SHA-256(name ‖ "\\n" ‖ type ‖ public key), type
  0x01 for a note signature, 0x04 for a cosignature;
* a verifier key is ``name+<id, 8 hex>+<base64(type ‖ public key)>``; a signer key, as Go's
  ``note`` package writes it, ``PRIVATE+KEY+name+<id>+<base64(type ‖ seed)>``;
* a note is its text (lines ending in ``\\n``), a blank line and one line per signature:
  ``— name base64(id ‖ signature)``; a cosignature's signature is an 8-byte big-endian time
  and the signature of ``"cosignature/v1\\ntime <t>\\n" ‖ the checkpoint's text``;
* a checkpoint's text is ``origin\\nsize\\nbase64(root)\\n`` and here one extension line,
  ``time <unix seconds>``, when it was signed.
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from credence.audit import merkle
from credence.exc import CredenceError

ED25519 = 0x01
COSIGNATURE = 0x04
DASH = "\u2014"  # the em dash every signature line starts with


class NoteError(CredenceError):
    """A key, note or checkpoint that does not parse or does not verify."""

    status = 422


def key_id(name: str, kind: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


def _check_name(name: str) -> str:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError(f"key name {name!r}: expected a non-empty name without '+' or spaces")
    return name


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what}: not base64") from None


@dataclass(frozen=True)
class Signer:
    """A named Ed25519 private key; ``kind`` says whether it signs notes or cosigns checkpoints."""

    name: str
    private: Ed25519PrivateKey
    kind: int = ED25519

    @classmethod
    def generate(cls, name: str, *, kind: int = ED25519) -> "Signer":
        return cls(_check_name(name), Ed25519PrivateKey.generate(), kind)

    @classmethod
    def parse(cls, text: str) -> "Signer":
        """A signer key string (``PRIVATE+KEY+name+id+key``), as ``encode`` writes it."""
        parts = text.strip().split("+", 4)  # base64 may hold '+'
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("signing key: expected PRIVATE+KEY+<name>+<id>+<base64 key>")
        name, wanted, raw = _check_name(parts[2]), parts[3], _b64(parts[4], "signing key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
            raise NoteError("signing key: expected an Ed25519 key (type 0x01 or 0x04 and 32 bytes)")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]), raw[0])
        if signer.verifier.id.hex() != wanted.lower():
            raise NoteError(f"signing key {name}: its id {wanted} does not match the key")
        return signer

    def encode(self) -> str:
        seed = self.private.private_bytes_raw()
        return (
            f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{base64.b64encode(bytes([self.kind]) + seed).decode()}"
        )

    @property
    def verifier(self) -> "Verifier":
        return Verifier(self.name, self.private.public_key().public_bytes_raw(), self.kind)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


@dataclass(frozen=True)
class Verifier:
    name: str
    public: bytes
    kind: int = ED25519

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.kind, self.public)

    @classmethod
    def parse(cls, text: str) -> "Verifier":
        """A verifier key string, ``name+id+base64(type ‖ public key)``."""
        parts = text.strip().split("+", 2)  # base64 may hold '+'
        if len(parts) != 3:
            raise NoteError("verifier key: expected <name>+<id>+<base64 key>")
        name, wanted, raw = _check_name(parts[0]), parts[1], _b64(parts[2], "verifier key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
            raise NoteError("verifier key: expected an Ed25519 key (type 0x01 or 0x04 and 32 bytes)")
        found = cls(name, raw[1:], raw[0])
        if found.id.hex() != wanted.lower():
            raise NoteError(f"verifier key {name}: its id {wanted} does not match the key")
        return found

    def encode(self) -> str:
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(bytes([self.kind]) + self.public).decode()}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: int  # unix seconds when the log signed it

    def text(self) -> str:
        root = base64.b64encode(self.root).decode()
        return f"{self.origin}\n{self.size}\n{root}\ntime {self.time}\n"

    @classmethod
    def parse_text(cls, text: str) -> "Checkpoint":
        lines = text.split("\n")
        if len(lines) < 5 or lines[-1] != "":
            raise NoteError("checkpoint: expected origin, size, root hash and time lines")
        origin, size, root = lines[0], lines[1], lines[2]
        if not origin or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError(f"checkpoint: size {size!r} is not a decimal number")
        digest = _b64(root, "checkpoint root hash")
        if len(digest) != merkle.HASH_SIZE:
            raise NoteError("checkpoint: the root hash is not 32 bytes")
        times = [line.removeprefix("time ") for line in lines[3:-1] if line.startswith("time ")]
        if len(times) != 1 or not times[0].isdigit():
            raise NoteError("checkpoint: expected one 'time <unix seconds>' line")
        return cls(origin, int(size), digest, int(times[0]))


@dataclass(frozen=True)
class Signature:
    name: str
    id: bytes
    blob: bytes  # what follows the id: a signature, or a cosignature's time and signature


def split(note: str) -> tuple[str, list[Signature]]:
    """A note's text and its signature lines (not yet verified)."""
    text, sep, block = note.rpartition("\n\n")
    if not sep or not block.endswith("\n"):
        raise NoteError("note: expected its text, a blank line and signature lines")
    signatures: list[Signature] = []
    for line in block[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise NoteError(f"note: signature line {line[:40]!r} is not '— name signature'")
        raw = _b64(parts[2], "note signature")
        if len(raw) < 5:
            raise NoteError("note: a signature too short to carry a key id")
        signatures.append(Signature(parts[1], raw[:4], raw[4:]))
    return text + "\n", signatures


def _line(name: str, key: bytes, blob: bytes) -> str:
    return f"{DASH} {name} {base64.b64encode(key + blob).decode()}\n"


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The signed note of ``checkpoint``."""
    text = checkpoint.text()
    return text + "\n" + _line(signer.name, signer.verifier.id, signer.sign(text.encode()))


def open_checkpoint(note: str, verifier: Verifier, *, origin: str | None = None) -> Checkpoint:
    """The checkpoint of a signed note that ``verifier`` signed (NoteError otherwise)."""
    text, signatures = split(note)
    checkpoint = Checkpoint.parse_text(text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint: origin {checkpoint.origin!r}, expected {origin!r}")
    for found in signatures:
        if found.name == verifier.name and found.id == verifier.id:
            if verifier.verify(text.encode(), found.blob):
                return checkpoint
            raise NoteError(f"checkpoint: the signature of {verifier.name} does not verify (a forged checkpoint?)")
    raise NoteError(f"checkpoint: not signed by {verifier.name}")


def _cosigned_message(text: str, at: int) -> bytes:
    return f"cosignature/v1\ntime {at}\n".encode() + text.encode()


def cosign(note: str, witness: Signer, *, now: datetime) -> str:
    """``note`` with ``witness``'s cosignature line added (c2sp.org/tlog-cosignature)."""
    if witness.kind != COSIGNATURE:
        raise NoteError("a witness key is a cosignature key (type 0x04)")
    text, _ = split(note)
    at = int(now.astimezone(UTC).timestamp())
    blob = at.to_bytes(8, "big") + witness.sign(_cosigned_message(text, at))
    return note + _line(witness.name, witness.verifier.id, blob)


def cosigned_at(note: str, witness: Verifier) -> int:
    """When ``witness`` cosigned ``note`` (unix seconds); NoteError unless its cosignature verifies."""
    text, signatures = split(note)
    for found in signatures:
        if found.name == witness.name and found.id == witness.id:
            at = int.from_bytes(found.blob[:8], "big")
            if len(found.blob) == 72 and witness.verify(_cosigned_message(text, at), found.blob[8:]):
                return at
            raise NoteError(f"checkpoint: the cosignature of {witness.name} does not verify")
    raise NoteError(f"checkpoint: not cosigned by {witness.name}")
