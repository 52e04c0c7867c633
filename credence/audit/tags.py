"""Every event tag the registry writes, in one place. The values are stored in ``events.tag``
and read back by tests and by the pages and notices to come: a value never changes once written."""

from enum import StrEnum


class EventTag(StrEnum):
    RECORD_ACCEPTED = "record.accepted"
    RECORD_QUARANTINED = "record.quarantined"
    RECORD_REPLAYED = "record.replayed"
    LISTING_START = "listing.start"
    LISTING_END = "listing.end"
    RULEBOOK_LOADED = "rulebook.loaded"
    RULEBOOK_PUBLISHED = "rulebook.published"  # a draft published: its text, digests and what-if counts
    SCORE_INTERVAL = "score.interval"  # a score interval derived, or superseded by a later refresh
    MEASURE_APPLIED = (
        "measure.applied"  # a measure holds over these days (new, or its days moved: an end is its lifting)
    )
    MEASURE_LIFTED = "measure.lifted"  # a measure row no longer holds at all (its listing superseded or withdrawn)
    EXEMPTION_GRANTED = "exemption.granted"  # a court's one-off exemption from a measure: one action, one day
    EXEMPTION_WITHDRAWN = "exemption.withdrawn"  # the exemption's record withdrawn or corrected
    PROVIDER_KEY_ISSUED = "provider.key_issued"  # a service provider's API key issued (the key is never logged)
    PROVIDER_KEY_REVOKED = "provider.key_revoked"
    PROVIDER_WEBHOOK = "provider.webhook"  # where a provider is told of corrections (no secret is logged)
    INQUIRY_BATCH = "inquiry.batch"  # one flush of a gate process's inquiry log: counts only, the rows are in inquiries
    NOTICE_DELIVERED = "notice.delivered"  # a notice taken by every channel its subject can be reached on
    DISPUTE_FILED = "dispute.filed"  # a subject disputed a record: receipt, deadline, evidence digests
    DISPUTE_DECIDED = "dispute.decided"  # the agency's officer upheld or rejected it
    REPAIR_FILED = "repair.filed"  # a subject applied for credit repair of a record: receipt, rule, deadline
    REPAIR_DECIDED = "repair.decided"  # the agency's officer granted it (the credit_repair record) or refused it
    NOTICE_UNREACHABLE = "notice.unreachable"  # a notice that found no contact for its subject: it waits for one
    OFFICER_ADDED = "officer.added"  # an agency officer's account: its id and agency, never the address
    OFFICER_REVOKED = "officer.revoked"
    OFFICER_RELATION = "officer.relation"  # an officer declared a relation to a subject: they stand aside from it
    MANUAL_REQUESTED = "manual.requested"  # an officer asked for a record by hand: nothing applies until approved
    MANUAL_APPROVED = "manual.approved"  # a second officer approved it: the record it wrote
    MANUAL_REFUSED = "manual.refused"  # a second officer refused it, with reasons: nothing applied
    MANUAL_DENIED = "manual.denied"  # an attempt refused by role, agency, relation or self-approval: nothing applied
    SIGN_IN_CODE_ISSUED = "sign_in.code_issued"  # a one-time code sent (or not: no contact, unknown id); never the code
    SIGN_IN_SUCCEEDED = "sign_in.succeeded"  # a code exchanged for a session
    SIGN_IN_FAILED = "sign_in.failed"  # a wrong code
    SIGN_IN_LOCKED = "sign_in.locked"  # the last wrong code allowed: the account is locked out for a while
    SESSION_ENDED = "session.ended"  # signed out
    BREAKER_TRIPPED = (
        "breaker.tripped"  # a source's load crossed a circuit-breaker threshold: a hold opens (counts only)
    )
    BREAKER_HELD = "breaker.held"  # a batch of a source's adverse rows held under its open hold (counts, file, lines)
    BREAKER_RELEASED = "breaker.released"  # an officer released a hold: its rows applied, the breaker closed
    BREAKER_REJECTED = "breaker.rejected"  # an officer rejected a hold: its rows stay unapplied, the breaker closed
    AGENCY_KEY_ISSUED = "agency.key_issued"  # an agency's public key registered for signed submissions (its id, source)
    AGENCY_KEY_REVOKED = "agency.key_revoked"
    SUBMISSION_ACCEPTED = "submission.accepted"  # a signed batch passed key, signature, time, nonce and authorisation
    SUBMISSION_REFUSED = "submission.refused"  # a signed batch refused whole: what failed, never its rows
    LINK_PROPOSED = "link.proposed"  # record linkage weighed an unidentified row: outcome, weight, model (no identity)
    LINK_JUDGED = "link.judged"  # a clerk judged a proposed pair a match or no match
    LINK_UNDONE = "link.undone"  # an officer undid an applied link: its record withdrawn, its row waits again
    SUBJECT_MERGED = "subject.merged"  # two subjects judged one person: the absorbed one's records moved (ids only)
    SUBJECT_SPLIT = "subject.split"  # a merge split: the records it moved moved back (ids only)
