"""An agency's signed batch (``POST /v1/submissions``): checked whole, then loaded as a feed file.

Checked in this order, before anything is written, each refusal naming what failed:

1. the key the batch names is registered (401), not revoked (401), and its source's (401);
2. the signature verifies over the batch's RFC 8785 JSON (401: altered, or another key);
3. the key acts in the agency role, which may submit records (``model.roles``, 403);
4. the timestamp is within ``window`` of the registry's clock either way (422: late or early);
5. the nonce was never spent by the source (409: a replay);
6. every row is of a kind and a jurisdiction its source is authorised for (403), a row naming
   another kind or region refuses the batch whole: a stolen key cannot slip one listing in
   among good rows.

A refusal writes a ``submission.refused`` event (what failed, the batch's digest; never a row)
in a transaction of its own. A batch that passes is loaded under the registry's writer lock
exactly as a feed file is: its rows written as JSON lines under
``<data dir>/submissions/<source>/`` and read by ``loader.load_file`` with the source's own
mapping, so bad rows go to quarantine with their line (the row's index + 1), field and reason,
a mass listing trips the circuit breaker, notices go to the outbox, and the subjects wait in
``pending_subjects`` for the worker's refresh. There is no second write path. The whole batch is
one load batch, so one transaction, and its nonce is spent (``submissions``, with a
``submission.accepted`` event) in that same transaction: the rows apply if and only if the
nonce is spent, and a load that fails leaves the batch free to be sent again as it is.
"""

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from credence import audit
from credence.audit.entries import EntryError
from credence.audit.tags import EventTag
from credence.exc import CredenceError, FieldError
from credence.ingest import agency_keys, signatures
from credence.ingest.loader import LoadResult, authority, load_file
from credence.ingest.mapping import Mapping
from credence.ingest.records import JURISDICTION_WIDTH, Authority
from credence.logs import get_logger
from credence.model import roles
from credence.model.catalogue import Catalogue, default_catalogue
from credence.store.db import stored_instant
from credence.store.lock import writer
from credence.store.orm import Hold, Quarantine, Submission

log = get_logger(__name__)
NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
ACTOR = "submissions"  # who writes a refusal whose signature did not verify: the endpoint, not the claimed source


class SubmissionRefusedError(CredenceError):
    """A batch refused whole, nothing of it applied: ``field`` names what failed, ``reason`` is
    the code the event stores (unknown_key, revoked_key, wrong_source, bad_signature, role,
    late, replayed, unauthorised, no_mapping, not_canonical, malformed)."""

    def __init__(self, status: int, field: str, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Policy:
    """How submissions are taken: the clock's tolerance, where batches are kept, how long to
    wait for the writer lock."""

    window: timedelta
    folder: Path
    wait: float = 10.0


@dataclass(frozen=True, slots=True)
class RowRefused:
    row: int  # index in the batch's rows
    field: str | None
    reason: str


@dataclass
class Outcome:
    id: uuid.UUID
    source: str
    rows: int
    result: LoadResult
    quarantined: list[RowRefused] = field(default_factory=list)
    hold_reason: str | None = None  # why the source's circuit breaker holds its adverse rows


@dataclass(frozen=True, slots=True)
class _Claim:
    source: str
    key: str
    nonce: str
    signed_at: datetime
    digest: str
    signature: str
    rows: list[dict[str, Any]]  # Any: the agency's JSON


def submit(
    engine: Engine,
    envelope: dict[str, Any],  # Any: JSON, {"batch": {...}, "signature": "..."}
    mappings: dict[str, Mapping],
    *,
    policy: Policy,
    now: datetime,
    catalogue: Catalogue | None = None,
) -> Outcome:
    """Check a signed batch and load its rows; raises SubmissionRefusedError (after writing its
    event) with nothing applied, or WriterBusyError (nothing written) if the lock stays taken."""
    catalogue = catalogue or default_catalogue()
    claim = _checked(engine, envelope, mappings, catalogue, policy=policy, now=now)
    mapping = mappings[claim.source]
    with writer(engine, command="POST /v1/submissions", wait=policy.wait):
        sid = uuid.uuid4()
        name = f"submission-{sid}.jsonl"
        path = policy.folder / claim.source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in claim.rows)
        spent: list[bool] = []

        def spend(conn: Connection) -> None:  # with the rows, in one transaction: both or neither
            _spend(conn, claim, sid, name, now=now)
            spent.append(True)

        try:
            # one batch, so one transaction: the nonce is spent if and only if the rows are applied
            result = load_file(
                engine,
                path,
                as_feed(mapping, name),
                now=now,
                catalogue=catalogue,
                batch=len(claim.rows) + 1,
                first=spend,
            )
            with engine.begin() as conn:
                if not spent:  # these very rows were loaded before: nothing applied, the nonce spent all the same
                    _spend(conn, claim, sid, name, now=now)
                counts = {
                    "accepted": result.accepted,
                    "amended": result.amended,
                    "retracted": result.retracted,
                    "unchanged": result.unchanged,
                    "quarantined": result.quarantined,
                    "held": result.held,
                    "hold": result.hold,
                }
                conn.execute(update(Submission).where(Submission.id == sid).values(counts=counts))
                refused = _quarantined(conn, claim.source, name)
                why = None
                if result.hold is not None:
                    why = conn.execute(select(Hold.reason).where(Hold.id == result.hold)).scalar_one()
        except IntegrityError:  # a copy that raced this one spent the nonce first: this one applied nothing
            path.unlink(missing_ok=True)
            raise _refuse(engine, claim, "batch.nonce", "replayed", 409, _replayed(claim), now=now) from None
        except BaseException:
            if not spent:  # nothing of it applied: no file to keep (once applied, it is the batch as loaded)
                path.unlink(missing_ok=True)
            raise
    log.info("submission.loaded", source=claim.source, submission=str(sid), rows=len(claim.rows), **counts)
    return Outcome(sid, claim.source, len(claim.rows), result, refused, why)


def as_feed(mapping: Mapping, name: str) -> Mapping:
    """The source's mapping, reading a batch's rows as the JSON lines they are written as: the
    same fields, kinds, attributes and legal bases. (A CSV mapping's columns are top-level keys;
    none is dotted, which JSON lines would read as a path.)"""
    return mapping.model_copy(update={"format": "jsonl", "encoding": "utf-8", "bom": False, "file": name})


def _checked(
    engine: Engine,
    envelope: dict[str, Any],
    mappings: dict[str, Mapping],
    catalogue: Catalogue,
    *,
    policy: Policy,
    now: datetime,
) -> _Claim:
    body = envelope.get("batch")
    if not isinstance(body, dict) or sorted(body) != sorted(signatures.BATCH_FIELDS):
        raise FieldError("batch", f"expected an object of {', '.join(signatures.BATCH_FIELDS)}")
    try:
        message = signatures.signed_bytes(body)
    except EntryError as err:
        reason = err.detail.replace("event data", "the batch")
        raise _refuse(engine, None, "batch", "not_canonical", 422, f"batch: {reason}", now=now, body=body) from None
    digest = hashlib.sha256(message).hexdigest()
    source, kid, signature = str(body["source"]), str(body["key"]), str(envelope.get("signature", ""))

    def refuse(field: str, reason: str, status: int, detail: str, *, verified: bool = True) -> SubmissionRefusedError:
        claim = _Claim(source, kid, str(body.get("nonce")), now, digest, signature, []) if verified else None
        return _refuse(engine, claim, field, reason, status, detail, now=now, body=body, digest=digest)

    with engine.connect() as conn:
        key = agency_keys.find(conn, kid)
    if key is None:
        detail = (
            f"batch.key: no agency key {kid!r} is registered (an administrator adds one with credence agencies key add)"
        )
        raise refuse("batch.key", "unknown_key", 401, detail, verified=False)
    if key.revoked_at is not None:
        detail = f"batch.key: key {kid} of source {key.source} was revoked at {signatures.timestamp(key.revoked_at)}"
        raise refuse("batch.key", "revoked_key", 401, detail, verified=False)
    if key.source != source:
        detail = f"batch.source: key {kid} is registered for source {key.source}, not {source!r}"
        raise refuse("batch.source", "wrong_source", 401, detail, verified=False)
    if not signatures.verify(signatures.public_from_raw(key.public), message, signature):
        detail = (
            f"signature: not key {kid}'s Ed25519 signature of the batch's RFC 8785 canonical JSON"
            " (the batch was altered after signing, or signed with another key)"
        )
        raise refuse("signature", "bad_signature", 401, detail, verified=False)
    try:
        roles.require(roles.Role.AGENCY, roles.Permission.SUBMIT_RECORDS)
    except roles.RoleRefusedError as err:  # the table says otherwise: refuse, as it says
        raise refuse("role", "role", 403, err.detail) from None
    signed_at = _instant(str(body["timestamp"]))
    if signed_at is None:
        detail = (
            "batch.timestamp: expected an RFC 3339 instant with its zone, e.g. 2026-12-03T14:00:00Z,"
            f" got {str(body['timestamp'])[:40]!r}"
        )
        raise refuse("batch.timestamp", "malformed", 422, detail)
    skew = (now - signed_at).total_seconds()
    if abs(skew) > policy.window.total_seconds():
        when = "before" if skew > 0 else "after"
        detail = (
            f"batch.timestamp: signed at {signatures.timestamp(signed_at)}, {abs(skew):,.0f} seconds {when} the"
            f" registry's clock ({signatures.timestamp(now)}); a batch is taken within"
            f" {policy.window.total_seconds():,.0f} seconds of it: sign it again with the time now"
        )
        raise refuse("batch.timestamp", "late" if skew > 0 else "early", 422, detail)
    nonce, rows = str(body["nonce"]), body["rows"]
    if not NONCE.fullmatch(nonce):
        raise refuse("batch.nonce", "malformed", 422, "batch.nonce: expected 16 to 64 of A-Z, a-z, 0-9, _ and -")
    if not isinstance(rows, list) or not rows or not all(isinstance(row, dict) for row in rows):
        raise refuse("batch.rows", "malformed", 422, "batch.rows: expected a list of one or more objects")
    claim = _Claim(source, kid, nonce, signed_at, digest, signature, rows)
    with engine.connect() as conn:
        if _spent(conn, claim) is not None:
            raise refuse("batch.nonce", "replayed", 409, _replayed(claim))
        mapping = mappings.get(source)
        if mapping is None:
            raise refuse("batch.source", "no_mapping", 422, f"batch.source: source {source} has no feed mapping here")
        found = unauthorised(claim.rows, mapping, authority(conn, source), catalogue)
    if found:
        index, what, why = found[0]
        more = f" ({len(found):,} rows so)" if len(found) > 1 else ""
        detail = f"batch.rows[{index}].{what}: {why}{more}; the batch is refused whole, nothing of it applied"
        raise refuse(f"batch.rows[{index}].{what}", "unauthorised", 403, detail)
    return claim


def unauthorised(
    rows: list[dict[str, Any]], mapping: Mapping, allowed: Authority, catalogue: Catalogue
) -> list[tuple[int, str, str]]:  # Any: the agency's JSON
    """The rows (index, ``kind`` or ``jurisdiction``, why) of a kind or region the source is not
    authorised for. A kind is the mapping's reading of the row, or a record kind of the catalogue
    written as such; a value that is neither is a bad row, quarantined like a feed's."""
    jurisdiction_of = mapping.getter(mapping.fields.jurisdiction)
    prefixes = tuple(allowed.jurisdictions)
    found: list[tuple[int, str, str]] = []
    for index, row in enumerate(rows):
        try:
            kind: str | None = mapping.kind_of(row)
        except FieldError:
            raw = row.get(mapping.kind.column or "")
            written = str(raw).strip() if raw is not None else ""
            kind = written if written in catalogue.kinds else None
        if kind is not None and kind not in allowed.kinds:
            found.append((index, "kind", f"source {allowed.source} is not authorised for record kind {kind}"))
            continue
        region = str(jurisdiction_of(row) or "").strip()
        if region and len(region) <= JURISDICTION_WIDTH and not region.startswith(prefixes):
            found.append((index, "jurisdiction", f"source {allowed.source} is not authorised for region {region!r}"))
    return found


def _instant(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _spent(conn: Connection, claim: _Claim) -> tuple[uuid.UUID, datetime] | None:
    query = select(Submission.id, Submission.received_at).where(
        Submission.source_id == claim.source, Submission.nonce == claim.nonce
    )
    row = conn.execute(query).one_or_none()
    return None if row is None else (row.id, stored_instant(row.received_at))


def _replayed(claim: _Claim) -> str:
    return f"batch.nonce: nonce {claim.nonce} was already used by source {claim.source}: a replayed batch"


def _spend(conn: Connection, claim: _Claim, sid: uuid.UUID, name: str, *, now: datetime) -> None:
    conn.execute(
        insert(Submission).values(
            id=sid,
            source_id=claim.source,
            key_id=claim.key,
            nonce=claim.nonce,
            signed_at=claim.signed_at,
            received_at=now,
            digest=claim.digest,
            signature=claim.signature,
            file=name,
            rows=len(claim.rows),
            counts=None,
        )
    )
    data = {
        "submission": str(sid),
        "source": claim.source,
        "key": claim.key,
        "nonce": claim.nonce,
        "digest": claim.digest,
        "file": name,
        "rows": len(claim.rows),
    }
    audit.record(
        conn, tag=EventTag.SUBMISSION_ACCEPTED, subject=None, actor=f"source:{claim.source}", data=data, now=now
    )


def _refuse(
    engine: Engine,
    claim: _Claim | None,
    field: str,
    reason: str,
    status: int,
    detail: str,
    *,
    now: datetime,
    body: dict[str, Any] | None = None,
    digest: str | None = None,
) -> SubmissionRefusedError:
    """Write the refusal's event (its own transaction) and return the error to raise. ``claim``
    is None until the signature verified: the event then names the claimed source and key as
    claims, and its actor is the endpoint."""
    given = body or {}
    data: dict[str, Any] = {
        "reason": reason,
        "field": field,
        "source": str(given.get("source", claim.source if claim else ""))[:64],
        "key": str(given.get("key", claim.key if claim else ""))[:64],
        "verified": claim is not None,
        "digest": digest or (claim.digest if claim else None),
    }
    if claim is not None:
        data["nonce"] = claim.nonce[:64]
    actor = f"source:{claim.source}" if claim is not None else ACTOR
    with engine.begin() as conn:
        audit.record(conn, tag=EventTag.SUBMISSION_REFUSED, subject=None, actor=actor, data=data, now=now)
    log.warning("submission.refused", reason=reason, field=field, source=data["source"])
    return SubmissionRefusedError(status, field, reason, detail)


def _quarantined(conn: Connection, source: str, name: str) -> list[RowRefused]:
    query = (
        select(Quarantine.line, Quarantine.field, Quarantine.reason)
        .where(Quarantine.source_id == source, Quarantine.file == name, Quarantine.hold_id.is_(None))
        .order_by(Quarantine.line)
    )
    return [RowRefused(row.line - 1, row.field, row.reason) for row in conn.execute(query)]
