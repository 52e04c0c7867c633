"""The gate's wire models. Each is whitelisted (``extra="forbid"``): an answer carries exactly
these fields and nothing of the library's full ``Decision`` (DESIGN P8)."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Base64Bytes, BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Value = Annotated[str, StringConstraints(max_length=64)] | bool | int

NAIVE_TIME = (
    "An instant, ISO 8601. With a zone or offset (`Z`, `+08:00`) it is that instant; without one "
    "it is Asia/Shanghai legal time, whatever the server's zone (`2026-03-01T08:00` is "
    "`2026-03-01T00:00Z`), as the CLI reads it. Default: the time the request arrives."
)


class ErrorResponse(BaseModel):
    """A refused request: one line naming what was wrong and what was expected."""

    model_config = ConfigDict(extra="forbid")

    detail: Annotated[str, Field(examples=["subject: expected 18 characters"])]
    field: Annotated[str | None, Field(description="The request field at fault, when one is.", examples=["subject"])]


MAX_ENTRIES = 100_000

SUBJECT = Field(
    min_length=1,
    max_length=32,
    description="The subject's resident ID (GB 11643, 18 characters; the 15-digit form is upgraded) "
    "or unified social credit code (GB 32100), exactly: never a name.",
    examples=["320505198103094113"],
)


class ScreeningEntry(BaseModel):
    """One entry of a manifest: a subject by its exact ID number, and what it wants to do."""

    model_config = ConfigDict(extra="forbid")

    subject: Annotated[str, SUBJECT]
    action: Annotated[
        str, Field(min_length=1, max_length=64, description="As in a check; the key must be scoped to it.")
    ]
    attributes: Annotated[dict[Name, Value], Field(max_length=16, description="As in a check.")] = Field(
        default_factory=dict
    )


class ScreeningRequest(BaseModel):
    """A manifest: a flight's passengers, a train's, a hotel's night. Up to 100,000 entries,
    answered one by one in the same order; all at one instant."""

    model_config = ConfigDict(extra="forbid")

    entries: Annotated[
        list[ScreeningEntry],
        Field(
            description=f"At most {MAX_ENTRIES:,} entries; more is refused with 413.",
            examples=[[{"subject": "320505198103094113", "action": "flight"}]],
        ),
    ]
    at: Annotated[datetime | None, Field(description=NAIVE_TIME, examples=["2026-03-01T08:00+08:00"])] = None


class ScreenedEntry(BaseModel):
    """One entry's answer: a check's answer, or the error that entry alone was refused with."""

    model_config = ConfigDict(extra="forbid")

    index: Annotated[int, Field(description="The entry's position in the manifest, from 0.")]
    decision: Annotated[Literal["allowed", "restricted"] | None, Field(description="null when refused.")]
    reference: Annotated[str | None, Field(description="As in a check; null when refused.")]
    legal_basis_title: str | None
    appeal: str | None
    caller_notice: str | None
    error: Annotated[
        ErrorResponse | None,
        Field(
            description="Why this entry was refused (422-like: a malformed ID, an unknown action or "
            "attribute; or an action outside the key's scope); null when answered."
        ),
    ]


class ScreeningAnswer(BaseModel):
    """Every entry's answer, in manifest order. With ``Accept: application/x-ndjson`` the same
    answers come as one JSON object per line, streamed: ask for that for large manifests."""

    model_config = ConfigDict(extra="forbid")

    results: list[ScreenedEntry]


class CheckRequest(BaseModel):
    """One subject, by its exact ID number, and what it wants to do."""

    model_config = ConfigDict(extra="forbid")

    subject: Annotated[
        str,
        Field(
            min_length=1,
            max_length=32,
            description="The subject's resident ID (GB 11643, 18 characters; the 15-digit form is upgraded) "
            "or unified social credit code (GB 32100), exactly: never a name.",
            examples=["320505198103094113"],
        ),
    ]
    action: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            description="An action of the measure catalogue, e.g. flight, rail_ticket, venue, property, phone_call; "
            "the key must be scoped to it.",
            examples=["rail_ticket"],
        ),
    ]
    attributes: Annotated[
        dict[Name, Value],
        Field(
            max_length=16,
            description="What the action's vocabulary asks for (catalogue `requests`), e.g. a rail ticket's "
            "train_type and seat_class. An attribute the action does not have, or a value not in its "
            "list, is refused with 422 naming it.",
            examples=[{"train_type": "G", "seat_class": "second"}],
        ),
    ] = Field(default_factory=dict)
    at: Annotated[datetime | None, Field(description=NAIVE_TIME, examples=["2026-03-01T08:00+08:00"])] = None


class CheckAnswer(BaseModel):
    """Allowed or restricted, a reference, and where a restriction comes from and how to appeal it.
    Nothing else: no score, record, listing or list."""

    model_config = ConfigDict(extra="forbid")

    decision: Annotated[Literal["allowed", "restricted"], Field(description="Whether a measure stops the action.")]
    reference: Annotated[
        str,
        Field(
            description="A random reference for this answer (quote it in a dispute); it says nothing of the subject.",
            examples=["7f1c2f0e-3b7a-4a55-9e0e-2f3c4d5e6f70"],
        ),
    ]
    legal_basis_title: Annotated[
        str | None, Field(description="The law the restriction (or the caller notice) applies; null when allowed.")
    ]
    appeal: Annotated[
        str | None,
        Field(description="Where the subject can contest a restriction (court and case); null when allowed."),
    ]
    caller_notice: Annotated[
        str | None,
        Field(description="For phone_call: the notice a carrier plays to a caller, when one applies; else null."),
    ]


class Health(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["ok"]


class Ready(BaseModel):
    """The store answered and the index is loaded; the versions of what this process reads."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ready"]
    schema_revision: Annotated[str, Field(description="The store's migration revision.")]
    registry_version: Annotated[int, Field(description="Sequence number of the registry's newest event.")]
    keys_version: Annotated[int | None, Field(description="The provider key table this process holds.")]
    index_version: Annotated[
        int, Field(description="The newest measure-change journal entry this process's index has applied.")
    ]
    index_subjects: Annotated[int, Field(description="Restricted or noticed subjects this process's index holds.")]
    index_age_seconds: Annotated[
        float, Field(description="Seconds since this process's index last knew it was current.")
    ]
    inquiries_waiting: Annotated[
        int, Field(description="Answers this process gave that its inquiry log has not yet recorded.")
    ]


class NotReady(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["unavailable"]
    detail: str


# The transparency log (docs/transparency-log.md): hashes are base64, as in checkpoints.
Hash = Annotated[
    str, Field(description="A SHA-256 hash, base64.", examples=["bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="])
]


class InclusionProof(BaseModel):
    """The audit path of leaf ``index`` in the tree of ``size`` (RFC 9162 §2.1.3)."""

    model_config = ConfigDict(extra="forbid")

    index: int
    size: int
    leaf_hash: Hash
    proof: list[Hash]


class ConsistencyProof(BaseModel):
    """The proof that the tree of ``second`` extends the tree of ``first`` (RFC 9162 §2.1.4)."""

    model_config = ConfigDict(extra="forbid")

    first: int
    second: int
    proof: list[Hash]


class LogEntry(BaseModel):
    """A leaf and the entry it hashes (RFC 8785 JSON; null once its subject's salt is erased)."""

    model_config = ConfigDict(extra="forbid")

    index: int
    leaf_hash: Hash
    entry: str | None


class ProvenEntry(LogEntry):
    proof: list[Hash]


class SubjectEntries(BaseModel):
    """Every entry about one subject (by commitment) with its inclusion proof against
    ``checkpoint``: what ``credence audit prove`` checks offline."""

    model_config = ConfigDict(extra="forbid")

    checkpoint: str
    subject: str
    entries: list[ProvenEntry]


CODE = Field(
    min_length=1,
    max_length=16,
    description="The 6-digit one-time code sent to the account's registered contact.",
    examples=["042917"],
)


class SubjectCodeRequest(BaseModel):
    """A subject asks for a one-time code, sent to their registered contact."""

    model_config = ConfigDict(extra="forbid")

    id_number: Annotated[str, SUBJECT]


class SubjectSessionRequest(BaseModel):
    """A subject exchanges the code for a session."""

    model_config = ConfigDict(extra="forbid")

    id_number: Annotated[str, SUBJECT]
    code: Annotated[str, CODE]


OFFICER_NAME = Field(min_length=1, max_length=100, description="The officer's account name.", examples=["li.ming"])


class OfficerCodeRequest(BaseModel):
    """An agency officer asks for a one-time code, sent to their registered email."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, OFFICER_NAME]


class OfficerSessionRequest(BaseModel):
    """An officer exchanges the code for a session."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, OFFICER_NAME]
    code: Annotated[str, CODE]


class CodeAsked(BaseModel):
    """The same answer whether or not the account exists or has a contact."""

    model_config = ConfigDict(extra="forbid")

    detail: Annotated[str, Field(examples=["if the account is registered with a contact, a code is on its way"])]
    expires_in: Annotated[int, Field(description="Seconds a code lasts.", examples=[600])]


class SessionOpened(BaseModel):
    """A session: send the token as `Authorization: Bearer <token>`."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, Field(description="Shown once; the registry keeps only its hash.", examples=["cs_…"])]
    expires_at: Annotated[datetime, Field(description="The latest the session can live (UTC).")]
    idle_timeout: Annotated[int, Field(description="Seconds without a request after which it ends.", examples=[1800])]


class MyNotice(BaseModel):
    """One notice the registry wrote to the signed-in subject, and where its delivery stands."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: Annotated[str, Field(examples=["listing_start"])]
    created_at: datetime
    respond_by: Annotated[str | None, Field(description="The dispute deadline, a legal date.", examples=["2025-07-01"])]
    state: Annotated[str, Field(examples=["delivered"])]
    channels: list[str]


class MyNotices(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notices: list[MyNotice]


class OfficerMe(BaseModel):
    """The signed-in officer and the agency they act for."""

    model_config = ConfigDict(extra="forbid")

    name: str
    agency: Annotated[str, Field(examples=["court"])]
    role: Literal["officer", "second_officer", "auditor"] = Field(
        "officer",
        description="an officer requests manual actions; a second officer approves them; an auditor reads the alerts",
    )


class DisputeRequest(BaseModel):
    """A signed-in subject disputes one of their records (its id, as every notice about it gives)."""

    model_config = ConfigDict(extra="forbid")
    record_id: uuid.UUID = Field(description="the record's id, as the notice about it gives it")
    statement: Annotated[str, StringConstraints(min_length=1, max_length=4000)] = Field(
        description="what is wrong with the record, in the subject's words"
    )
    evidence: list[Base64Bytes] = Field(
        default_factory=list,
        max_length=5,
        description="files (PDF, JPEG, PNG; base64), at most 5 of at most 10 MiB each; typed by their content",
    )


class DisputeView(BaseModel):
    """A dispute as its subject or the agency's officer sees it."""

    model_config = ConfigDict(extra="forbid")
    id: str
    receipt: str = Field(description="what to quote: the receipt number")
    record_id: str
    agency: str = Field(description="the record's source agency, which answers")
    kind: str
    filed_at: datetime
    respond_by: str = Field(description="the last day the agency may answer (inclusive)")
    suspends: bool = Field(description="whether the record has no effect while the dispute is open")
    state: Literal["open", "lapsed", "upheld", "rejected"]
    correction_record_id: str | None = None


class Disputes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    disputes: list[DisputeView]


class CorrectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retract: bool = Field(False, description="withdraw the record")
    attributes: dict[str, str | int | bool] | None = Field(None, description="or correct these attributes")


class RepairRequest(BaseModel):
    """A signed-in subject applies for credit repair of one of their records."""

    model_config = ConfigDict(extra="forbid")
    record_id: uuid.UUID = Field(description="the record's id, as the notice about it gives it")
    statement: Annotated[str, StringConstraints(min_length=1, max_length=4000)] = Field(
        description="how the conduct was corrected and the obligations fulfilled, in the subject's words"
    )
    evidence: list[Base64Bytes] = Field(
        default_factory=list,
        max_length=5,
        description="files (PDF, JPEG, PNG; base64), at most 5 of at most 10 MiB each; typed by their content",
    )


class RepairView(BaseModel):
    """A credit-repair application as its subject or the agency's officer sees it."""

    model_config = ConfigDict(extra="forbid")
    id: str
    receipt: str = Field(description="what to quote: the receipt number")
    record_id: str
    agency: str = Field(description="the record's source agency, which decides")
    kind: str
    scheme: str
    rule: str
    conditions: list[str] = Field(description="what the agency confirms before granting")
    filed_at: datetime
    respond_by: str = Field(description="the last day the agency may decide (inclusive)")
    state: Literal["open", "granted", "refused"]
    note: str | None = Field(None, description="the agency's reasons")
    repair_record_id: str | None = None


class Repairs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    repairs: list[RepairView]


class RepairDecisionRequest(BaseModel):
    """The agency officer's decision: granted, every condition confirmed; or refused, with reasons."""

    model_config = ConfigDict(extra="forbid")
    granted: bool
    confirmed: list[Annotated[str, StringConstraints(max_length=400)]] = Field(
        default_factory=list, max_length=20, description="the rule's conditions the officer confirms, word for word"
    )
    note: Annotated[str, StringConstraints(max_length=4000)] = ""


class DecisionRequest(BaseModel):
    """The agency officer's answer: upheld with its correction, or rejected."""

    model_config = ConfigDict(extra="forbid")
    upheld: bool
    note: Annotated[str, StringConstraints(max_length=4000)] = ""
    correction: CorrectionRequest | None = None


Text400 = Annotated[str, StringConstraints(max_length=400)]
Text4000 = Annotated[str, StringConstraints(max_length=4000)]


class ManualActionRequest(BaseModel):
    """An officer asks for a record to be written by hand for their agency (or, with ``retract``,
    withdrawn); checked as the agency's feed row, it applies only once a second officer approves."""

    model_config = ConfigDict(extra="forbid")
    kind: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="a record kind of the catalogue that the agency is authorised for"
    )
    id_number: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        None, description="the subject's resident ID or unified social credit code (not with retract)"
    )
    valid_date: Annotated[str, StringConstraints(max_length=10)] | None = Field(
        None, description="the day the fact happened, YYYY-MM-DD (not with retract)"
    )
    jurisdiction: Annotated[str, StringConstraints(max_length=12)] = Field("", description="a region code")
    attributes: dict[Annotated[str, StringConstraints(max_length=64)], str | int | bool] = Field(
        default_factory=dict, max_length=30, description="the kind's attributes"
    )
    legal_basis: Text400 = Field(description="the law or regulation the record is written under")
    reason: Text4000 = Field(description="why the record is written by hand")
    retract: uuid.UUID | None = Field(None, description="withdraw the agency's record of this version id instead")


class ManualActionView(BaseModel):
    """A manual action as the officers of its agency see it."""

    model_config = ConfigDict(extra="forbid")
    id: str
    receipt: str
    agency: str
    requested_by: str
    subject: str = Field(description="the subject's ID number as published: birth month and day hidden")
    op: Literal["assert", "retract"]
    kind: str
    source_record_id: str
    valid_date: str
    jurisdiction: str
    attributes: dict[str, str | int | bool | float | None]
    legal_basis: str
    reason: str
    requested_at: datetime
    state: Literal["pending", "approved", "refused"] = Field(description="pending: awaits a second officer")
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None
    record_id: str | None = Field(None, description="the record version an approval wrote")


class ManualActions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actions: list[ManualActionView]


class ManualDecisionRequest(BaseModel):
    """A second officer's decision: approved, or refused with reasons."""

    model_config = ConfigDict(extra="forbid")
    approved: bool
    note: Text4000 = ""


class RelationRequest(BaseModel):
    """An officer declares a relation to a subject, and stands aside from them from then on."""

    model_config = ConfigDict(extra="forbid")
    id_number: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    relation: Literal["family", "spouse", "household", "business", "friend", "adversary", "other"]


class AlertView(BaseModel):
    """An alerted event as the log holds it: a circuit breaker tripped, a manual action refused."""

    model_config = ConfigDict(extra="forbid")
    seq: int = Field(description="the event's sequence number in the log")
    tag: Literal["breaker.tripped", "manual.denied"]
    recorded_at: datetime
    data: dict[str, str | int | bool | None] = Field(description="counts and internal ids, never personal data")


class Alerts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alerts: list[AlertView]


class LoggedInquiry(BaseModel):
    """One inquiry of the gate's log as an auditor reads it: never about whom."""

    model_config = ConfigDict(extra="forbid")
    id: int
    asked_at: datetime
    provider: str
    action: str
    decision: Literal["allowed", "restricted", "refused"]
    reference: str | None
    at: datetime = Field(description="the instant the provider asked about")


class ProviderTally(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: str
    inquiries: int
    subjects: int = Field(description="distinct subjects asked about in the window")
    restricted: int = Field(description="answers that were restricted")


class InquiryLogRead(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inquiries: list[LoggedInquiry] = Field(description="the newest first, at most the limit asked")
    providers: list[ProviderTally] = Field(description="each provider's tally over the whole window")
