"""Rows without an ID number: from quarantine to record linkage, and back through the one write path.

A mapping with ``identity`` names the columns that identify a person instead of an ID number.
Such a row that passes every other check is quarantined with field ``identity``
(``records.UnidentifiedError``) and waits there. ``link`` weighs the waiting rows of each such
source against the subject register with the source's newest model (``resolve.linkage``) and
stores every proposal (``resolve.links``); ``apply_linked`` then applies, through
``loader.apply_replayed`` like any replayed row, each row whose newest proposal links it:
automatically (``auto``) or by a clerk's match (``resolve.review``). A row in the doubt band or
below it stays in quarantine, without effect, with its proposal saying why.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from credence.exc import FieldError, NotAuthorisedError
from credence.ingest import restate
from credence.ingest.loader import LoadResult, apply_replayed, authority
from credence.ingest.mapping import Mapping
from credence.ingest.quarantine import refused
from credence.ingest.records import IDENTITY, Candidate, Checker, subject_ref
from credence.model.catalogue import Catalogue, default_catalogue
from credence.resolve import linkage, links, model_files, register
from credence.resolve.identity import Identity
from credence.resolve.linkage import Outcome, Proposal
from credence.resolve.review import Undone
from credence.store.orm import Quarantine, Subject

LINKED_FILE = "linkage"  # the file name a linked row's replay is written under


@dataclass
class Linked:
    """What one linkage run did, by source."""

    proposed: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> outcome -> rows
    applied: LoadResult = field(default_factory=lambda: LoadResult(file=LINKED_FILE))
    models: dict[str, str] = field(default_factory=dict)  # source -> model version used
    without_model: list[str] = field(default_factory=list)  # sources with waiting rows and no model


def identified_sources(mappings: dict[str, Mapping]) -> dict[str, Mapping]:
    return {source: m for source, m in mappings.items() if m.identity is not None}


def identity_of(raw: dict[str, Any], mapping: Mapping) -> Identity:
    assert mapping.identity is not None  # noqa: S101 - callers pass identified sources only
    values = {name: mapping.getter(spec)(raw) for name, spec in mapping.identity.specs().items()}
    return Identity(**{name: None if value is None else str(value) for name, value in values.items()})


def waiting(conn: Connection, mapping: Mapping) -> list[links.Row]:
    """The source's rows in quarantine awaiting linkage, oldest first."""
    query = (
        select(Quarantine.id, Quarantine.raw)
        .where(
            Quarantine.source_id == mapping.source,
            Quarantine.field == IDENTITY,
            Quarantine.replayed_at.is_(None),
            refused(),
        )
        .order_by(Quarantine.id)
    )
    record_id = mapping.getter(mapping.fields.source_record_id)
    return [
        links.Row(q, mapping.source, str(record_id(raw) or "").strip(), identity_of(raw, mapping))
        for q, raw in conn.execute(query)
    ]


def link(
    engine: Engine,
    mappings: dict[str, Mapping],
    *,
    models: Path,
    now: datetime,
    again: bool = False,
    catalogue: Catalogue | None = None,
) -> Linked:
    """Weigh every waiting row not weighed yet (``again``: those left unlinked or judged no
    match too, against the register as it is now) and apply the rows that link."""
    done = Linked()
    for source, mapping in identified_sources(mappings).items():
        with engine.connect() as conn:
            rows = waiting(conn, mapping)
            before = links.newest(conn, [row.quarantine_id for row in rows])
            rows = [row for row in rows if _weigh(before.get(row.quarantine_id), again=again, conn=conn)]
            model = model_files.latest(source, models) if rows else None
            people = register.people(conn) if model is not None else []
        if rows and model is None:
            done.without_model.append(source)
            continue
        if rows and model is not None:
            proposals = linkage.propose(people, [(row.quarantine_id, row.identity) for row in rows], model)
            with engine.connect() as conn:
                proposals = _doubted(proposals, links.refused(conn, [row.quarantine_id for row in rows]))
            done.models[source] = model.name
            counts = dict.fromkeys(Outcome, 0)
            for proposal in proposals:
                counts[proposal.outcome] += 1
            done.proposed[source] = {outcome.value: n for outcome, n in counts.items()}
            with engine.begin() as conn:
                links.record(conn, rows, proposals, model=model.name, register=dict(people), now=now)
        with engine.begin() as conn:
            apply_linked(conn, mapping, now=now, result=done.applied, catalogue=catalogue)
    return done


def _weigh(proposal: Any, *, again: bool, conn: Connection) -> bool:  # Any: a Link row or None
    if proposal is None:
        return True
    if not again:
        return False
    judgement = links.judgement_of(conn, proposal.id)
    if judgement == "undone":
        return True  # an officer undid it: the row waits, as if never weighed
    if proposal.outcome == Outcome.AUTO:
        return False
    return proposal.outcome == Outcome.UNLINKED or judgement == "no_match"


def _doubted(proposals: Sequence[Proposal], refused: dict[int, set[uuid.UUID]]) -> list[Proposal]:
    """A row weighed again never links by itself to a subject it was judged not to be (a no-match,
    an undone link): the same evidence would link it to the same wrong person; a clerk decides."""
    return [
        replace(p, outcome=Outcome.REVIEW)
        if p.outcome is Outcome.AUTO and p.subject in refused.get(p.record, set())
        else p
        for p in proposals
    ]


def apply_linked(
    conn: Connection, mapping: Mapping, *, now: datetime, result: LoadResult, catalogue: Catalogue | None = None
) -> int:
    """Apply, in the caller's transaction, the source's quarantined rows that a proposal links
    and that are not applied yet; each goes through ``apply_replayed`` (a ``record.replayed``
    event by ``resolve:link``). Returns how many applied."""
    catalogue = catalogue or default_catalogue()
    found = links.linked(conn, mapping.source)
    if not found:
        return 0
    ids = [quarantine_id for quarantine_id, _, _ in found]
    query = select(Quarantine.id, Quarantine.line, Quarantine.raw).where(
        Quarantine.id.in_(ids), Quarantine.replayed_at.is_(None)
    )
    rows = {quarantine_id: (line, raw) for quarantine_id, line, raw in conn.execute(query)}
    numbers = _numbers(conn, [subject for quarantine_id, subject, _ in found if quarantine_id in rows])
    checker = Checker(mapping, catalogue, authority(conn, mapping.source))
    good: list[tuple[int, Candidate]] = []
    done: list[int] = []
    for quarantine_id, subject, _ in found:
        raw = rows.get(quarantine_id)
        if raw is None:
            continue
        try:
            candidate = checker.build(raw[1], linked=subject_ref(numbers[subject], field="id_number"))
        except (FieldError, NotAuthorisedError):
            continue  # no longer passes (its mapping or the catalogue changed): it stays, as replay leaves it
        good.append((raw[0], candidate))
        done.append(quarantine_id)
    apply_replayed(
        conn,
        source=mapping.source,
        file=LINKED_FILE,
        good=good,
        done=done,
        actor="resolve:link",
        now=now,
        result=result,
        catalogue=catalogue,
    )
    return len(done)


def withdraw(
    conn: Connection, undone: Undone, *, now: datetime, result: LoadResult, catalogue: Catalogue | None = None
) -> uuid.UUID | None:
    """Withdraw, in the caller's transaction, the record an undone link applied, and put its row
    back to wait in quarantine. The withdrawal is the record's next version (a retraction with a
    new transaction time) through ingest's one write path, so the history keeps what the registry
    knew before, the subject waits in ``pending_subjects`` for a rescore and an adverse record's
    notice says it is withdrawn. Returns the retraction's id (None: nothing stood to withdraw)."""
    found = restate.newest(conn, [(undone.source, undone.source_record_id)]).get(
        (undone.source, undone.source_record_id)
    )
    written: list[uuid.UUID] = []
    if found is not None and found.op == "assert":
        label = f"undo of pair {undone.link}"
        written = restate.restate(conn, [found], withdraw=True, file=label, now=now, result=result, catalogue=catalogue)
    # waiting again: linkage weighs it anew (`resolve link --again`), or a clerk matches it again
    conn.execute(update(Quarantine).where(Quarantine.id == undone.quarantine_id).values(replayed_at=None))
    return written[0] if written else None


def _numbers(conn: Connection, subjects: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not subjects:
        return {}
    query = select(Subject.id, Subject.id_number).where(Subject.id.in_(list(set(subjects))))
    return dict(conn.execute(query).all())


def training_rows(conn: Connection, mapping: Mapping) -> list[tuple[int, Identity]]:
    """Every row the source ever sent without an ID number (waiting or applied): what its model
    is trained on."""
    query = (
        select(Quarantine.id, Quarantine.raw)
        .where(Quarantine.source_id == mapping.source, Quarantine.field == IDENTITY)
        .order_by(Quarantine.id)
    )
    return [(q, identity_of(raw, mapping)) for q, raw in conn.execute(query)]
