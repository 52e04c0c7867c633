"""The notices an ingest batch owes: one per adverse record accepted, amended or withdrawn,
written in the batch's transaction. Contact records wake the notices that waited for one."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from credence.model.catalogue import Catalogue, Polarity
from credence.outbox import Notice, NoticeKind
from credence.outbox import facts as common

CONTACT = "contact"
# the positions in a record tuple of ingest.loader.RECORD_COLUMNS
ID, SUBJECT, SOURCE, SOURCE_RECORD_ID, VERSION, OP, KIND, VALID_DATE = range(8)
JURISDICTION, LEGAL_BASIS = 9, 10


def about_records(records: Sequence[tuple[Any, ...]], catalogue: Catalogue, *, now: datetime) -> list[Notice]:
    notices = []
    for r in records:
        kind = catalogue.kinds.get(r[KIND])
        if kind is None or kind.polarity is not Polarity.ADVERSE:
            continue
        facts = {
            **common.record(
                record_id=r[ID], source_id=r[SOURCE], source_record_id=r[SOURCE_RECORD_ID], valid_date=r[VALID_DATE]
            ),
            "kind": r[KIND],
            "kind_title": kind.title,
            "version": r[VERSION],
            "op": r[OP],
            "jurisdiction": r[JURISDICTION],
            "legal_basis": r[LEGAL_BASIS],
        }
        notices.append(
            Notice(subject=r[SUBJECT], kind=NoticeKind.RECORD, facts=facts, respond_by=common.respond_by(now))
        )
    return notices
