"""Every kind of notice, in one place. The values are stored in ``notices.kind`` and name the
templates (``dueprocess/templates/notices/<value>.*.j2``): a value never changes once written."""

from enum import StrEnum


class NoticeKind(StrEnum):
    RECORD = "record"  # an adverse record accepted, amended or withdrawn
    SCORE = "score"  # a subject's score intervals under a scheme changed
    LISTING_START = "listing_start"  # a listing decided: when it starts, on what grounds
    LISTING_END = "listing_end"  # a listing's end appeared or moved
    MEASURE_APPLIED = "measure_applied"  # a measure that will apply, from a day
    MEASURE_LIFTED = "measure_lifted"  # a measure that no longer applies
    DISPUTE_FILED = "dispute_filed"  # a dispute received: its receipt and the agency's deadline
    DISPUTE_DECIDED = "dispute_decided"  # the agency's answer, and the correction it made
    REPAIR_FILED = "repair_filed"  # a credit-repair application received: its receipt and deadline
    REPAIR_DECIDED = "repair_decided"  # the agency's answer: granted from a day, or refused with reasons
