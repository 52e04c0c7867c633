"""Values as the database drivers hand them back, for the verifier's passes over every row: no
SQLAlchemy type processing per row (over a million rows its JSON, UUID and DateTime processors
cost more than the checking). SQLite gives text for uuids, instants and JSON; psycopg gives
``uuid.UUID``, ``datetime`` and parsed JSON."""

import json
from datetime import datetime
from typing import Any

from credence.audit import entries


def key(value: Any) -> bytes:  # Any: a driver's uuid (SQLite: 32 hex digits; PostgreSQL: uuid.UUID)
    """A subject id's 16 bytes as either driver hands it back."""
    return bytes.fromhex(value) if isinstance(value, str) else value.bytes


def instant(value: Any) -> str:  # Any: a driver's timestamp (SQLite: text; PostgreSQL: datetime)
    """``entries.instant`` of a stored instant: SQLite's text (SQLAlchemy writes every instant in
    UTC as ``YYYY-MM-DD HH:MM:SS.ffffff``) is rewritten, not parsed."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":
            return f"{value[:10]}T{value[11:]}Z"
        value = datetime.fromisoformat(value)
    return entries.instant(value)


def json_value(value: Any) -> Any:  # Any: a driver's JSON (SQLite: text; PostgreSQL: parsed)
    return json.loads(value) if isinstance(value, str | bytes) else value
