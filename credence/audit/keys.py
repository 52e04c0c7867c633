"""The log's signing key, from the environment or a file: never from the repository."""

from pathlib import Path

from credence.audit.notes import COSIGNATURE, ED25519, NoteError, Signer
from credence.exc import CredenceError
from credence.settings import Settings


def read_signer(path: Path, *, kind: int = ED25519) -> Signer:
    """A signer key from ``path`` (its first line); a CredenceError names the file."""
    try:
        text = path.read_text("utf-8")
    except OSError as err:
        raise CredenceError(f"{path}: cannot read the key ({err.strerror})") from None
    try:
        signer = Signer.parse(text)
    except NoteError as err:
        raise CredenceError(f"{path}: {err.detail}") from None
    if signer.kind != kind:
        wanted = "a witness (cosignature) key" if kind == COSIGNATURE else "a log (note) key"
        raise CredenceError(f"{path}: expected {wanted}")
    return signer


def log_signer(settings: Settings) -> Signer:
    """The signer of ``CREDENCE_LOG_KEY``, else of ``CREDENCE_LOG_KEY_FILE``."""
    if settings.log_key is not None:
        try:
            signer = Signer.parse(settings.log_key.get_secret_value())
        except NoteError as err:
            raise CredenceError(f"CREDENCE_LOG_KEY: {err.detail}") from None
        if signer.kind != ED25519:
            raise CredenceError("CREDENCE_LOG_KEY: expected a log (note) key, not a witness key")
        return signer
    if settings.log_key_file:
        return read_signer(Path(settings.log_key_file))
    raise CredenceError(
        "no log signing key: set CREDENCE_LOG_KEY or CREDENCE_LOG_KEY_FILE (make one with credence audit keygen)"
    )
