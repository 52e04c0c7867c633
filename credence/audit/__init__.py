"""The append-only event log. Every change writes its entry in the same transaction.

Entries are canonical JSON so that a later issue can make them the leaves of an RFC 9162
Merkle tree with signed checkpoints without rewriting them.

    audit.record(conn, tag=EventTag.LISTING_START, subject=..., actor="rules", data={...}, now=now)
"""

from credence.audit.log import Entry, record, record_many
from credence.audit.tags import EventTag

__all__ = ["Entry", "EventTag", "record", "record_many"]
