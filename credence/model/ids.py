"""Deterministic ids for derived rows, so a rebuild reproduces them exactly."""

import uuid

NAMESPACE = uuid.UUID("5b7e2a8e-4a51-4c1e-9d38-6c0f3f0d7a11")


def derived_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "|".join(str(p) for p in parts))


def as_uuid(value: object) -> uuid.UUID:
    """Engines hand ids back as uuid objects (PostgreSQL) or 32 hex digits (SQLite, DuckDB)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
