"""A dispute's evidence files: typed by their bytes (magic numbers, ``filetype``), never by a
name or a declared type, and bounded in number and size, so that a file is refused before it is
stored when it is not what a registry can keep and show to an officer."""

import hashlib
from dataclasses import dataclass
from typing import Final

import filetype

from credence.exc import FieldError

ACCEPTED: Final = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
MAX_FILES: Final = 5
MAX_BYTES: Final = 10 * 1024 * 1024  # each
MAX_TOTAL: Final = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Evidence:
    media_type: str
    content: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def checked(files: list[bytes], *, field: str = "evidence") -> list[Evidence]:
    """``files`` typed and bounded; refuses the first that is not, naming it by its position."""
    if len(files) > MAX_FILES:
        raise FieldError(field, f"at most {MAX_FILES} files, got {len(files)}")
    if sum(len(f) for f in files) > MAX_TOTAL:
        raise FieldError(field, f"at most {MAX_TOTAL // (1024 * 1024)} MiB in all")
    kept = []
    for i, content in enumerate(files):
        where = f"{field}[{i}]"
        if not content:
            raise FieldError(where, "the file is empty")
        if len(content) > MAX_BYTES:
            raise FieldError(where, f"{len(content):,} bytes; at most {MAX_BYTES // (1024 * 1024)} MiB per file")
        kind = filetype.guess_mime(content[:8192])
        if kind not in ACCEPTED:
            found = f"content of type {kind}" if kind else "content of no known type"
            raise FieldError(where, f"{found}; accepted: {', '.join(ACCEPTED.values())} (checked by content)")
        kept.append(Evidence(media_type=kind, content=content, sha256=hashlib.sha256(content).hexdigest()))
    return kept
