"""Register every rulebook version the registry scores with, and refuse an edited one.

A published (or illustrative) version is never edited: a change is a new version with a later
effective date. The first time a version is used its text's SHA-256 is stored, with an event; a
later use with another text is refused. A draft may still change, and each change is logged.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from credence import audit
from credence.audit import EventTag
from credence.exc import RulebookError
from credence.rules.loader import Scheme
from credence.rules.schema import Status
from credence.store.db import stored_instant
from credence.store.orm import Rulebook

# (store, scheme, version, sha256) found committed in a store by an earlier call: every update
# calls ``register``, and once a store holds exactly these texts there is nothing to read again
# (a store dropped and made again at the same URL within one process is not read again either)
_CONFIRMED: set[tuple[str, str, str, str]] = set()


def register(conn: Connection, schemes: dict[str, Scheme], *, now: datetime) -> int:
    """Record versions not seen before; raise RulebookError for an edited published one.
    Returns how many versions were new or changed drafts."""
    store = str(conn.engine.url)
    wanted = {(store, *e.key, e.sha256) for s in schemes.values() for e in s.editions}
    if wanted <= _CONFIRMED:
        return 0
    known = {(r.scheme, r.version): r for r in conn.execute(select(Rulebook.__table__))}
    logged = 0
    for scheme in schemes.values():
        for loaded in scheme.editions:
            book = loaded.book
            seen = known.get(loaded.key)
            data = {
                "scheme": book.scheme,
                "version": book.version,
                "sha256": loaded.sha256,
                "status": book.status.value,
            }
            if seen is None:
                conn.execute(
                    insert(Rulebook).values(
                        scheme=book.scheme,
                        version=book.version,
                        effective_from=book.effective_from,
                        status=book.status.value,
                        sha256=loaded.sha256,
                        body=book.model_dump(mode="json"),
                        loaded_at=now,
                    )
                )
            elif seen.sha256 == loaded.sha256:
                _CONFIRMED.add((store, *loaded.key, loaded.sha256))  # read back: committed earlier
                continue
            elif seen.status == Status.DRAFT.value:
                conn.execute(
                    update(Rulebook)
                    .where(Rulebook.scheme == book.scheme, Rulebook.version == book.version)
                    .values(
                        effective_from=book.effective_from,
                        status=book.status.value,
                        sha256=loaded.sha256,
                        body=book.model_dump(mode="json"),
                        loaded_at=now,
                    )
                )
                data["replaces"] = seen.sha256
            else:
                raise RulebookError(
                    f"{loaded.file}: {book.scheme} version {book.version} is {seen.status} and was used with "
                    f"another text (sha256 {seen.sha256[:12]}…, now {loaded.sha256[:12]}…); a published "
                    "version is never edited: give the change a new version and a later effective_from"
                )
            # a rulebook version is no one's: the entry names no subject
            audit.record(conn, tag=EventTag.RULEBOOK_LOADED, subject=None, actor="rules", data=data, now=now)
            logged += 1
    return logged


@dataclass(frozen=True, slots=True)
class Registered:
    """A rulebook version as the registry registered it, for the public record."""

    scheme: str
    version: str
    effective_from: date
    status: str
    sha256: str
    body: dict[str, Any]  # Any: the rulebook as JSON
    loaded_at: datetime


def registered(conn: Connection) -> list[Registered]:
    """Every rulebook version the registry has scored or listed with, by scheme, oldest first."""
    rows = conn.execute(select(Rulebook.__table__).order_by(Rulebook.scheme, Rulebook.effective_from, Rulebook.version))
    return [
        Registered(r.scheme, r.version, r.effective_from, r.status, r.sha256, r.body, stored_instant(r.loaded_at))
        for r in rows
    ]
