"""Every event tag the registry writes, in one place. The values are stored in ``events.tag``
and read back by tests and by ``lists.known``: a value never changes once written."""

from enum import StrEnum


class EventTag(StrEnum):
    RECORD_ACCEPTED = "record.accepted"
    RECORD_QUARANTINED = "record.quarantined"
    RECORD_REPLAYED = "record.replayed"
    LISTING_START = "listing.start"
    LISTING_END = "listing.end"
    RULEBOOK_LOADED = "rulebook.loaded"
