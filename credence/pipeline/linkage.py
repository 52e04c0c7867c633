"""Jobs of record linkage: link the waiting unidentified rows, judge a pair, undo a link, train
a model; each then rescores the subjects whose records it applied or withdrew."""

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine

from credence.exc import CredenceError
from credence.ingest import unidentified
from credence.ingest.loader import LoadResult
from credence.ingest.mapping import Mapping
from credence.logs import get_logger
from credence.pipeline import state
from credence.pipeline.update import update
from credence.resolve import linkage, model_files, register, review
from credence.resolve.model_files import Model, Thresholds
from credence.rules.loader import Scheme

log = get_logger(__name__)
# Until a source's first model is tuned on labelled rows (docs/linkage.md): a link applies by
# itself at a weight of 10 (a posterior of about 0.999) clear of any other candidate by 5.
DEFAULT_THRESHOLDS = Thresholds(auto=10.0, review=4.0, margin=5.0)


def link(
    engine: Engine,
    mappings: dict[str, Mapping],
    schemes: dict[str, Scheme],
    *,
    models: Path,
    now: datetime,
    as_of: date,
    again: bool = False,
) -> tuple[unidentified.Linked, state.Written]:
    """Link every unidentified row waiting, apply those that link, rescore their subjects."""
    linked = unidentified.link(engine, mappings, models=models, now=now, again=again)
    for source, counts in linked.proposed.items():
        log.info("resolve.linked", source=source, model=linked.models[source], **counts)
    written = update(engine, schemes, subjects=linked.applied.subjects, as_of=as_of, now=now)
    return linked, written


def judge(
    engine: Engine,
    mappings: dict[str, Mapping],
    schemes: dict[str, Scheme],
    pair: int,
    judgement: review.Judgement,
    *,
    by: str,
    now: datetime,
    as_of: date,
) -> tuple[review.Decided, LoadResult, state.Written]:
    """Record a clerk's judgement; a match applies the row at once (in the same transaction)
    and its subject is rescored."""
    applied = LoadResult(file=unidentified.LINKED_FILE)
    with engine.begin() as conn:
        decided = review.decide(conn, pair, judgement, by=by, now=now)
        if judgement is review.Judgement.MATCH:
            source = review.source_of(conn, pair)
            mapping = mappings.get(source)
            if mapping is None:
                raise CredenceError(f"pair {pair}: no mapping for its source {source!r} in the connectors folder")
            unidentified.apply_linked(conn, mapping, now=now, result=applied)
    log.info("resolve.judged", pair=pair, judgement=judgement.value, applied=applied.accepted + applied.amended)
    written = update(engine, schemes, subjects=applied.subjects, as_of=as_of, now=now)
    return decided, applied, written


def undo(
    engine: Engine,
    schemes: dict[str, Scheme],
    pair: int,
    *,
    by: str,
    reason: str,
    now: datetime,
    as_of: date,
) -> tuple[review.Undone, LoadResult, state.Written]:
    """An officer undoes an applied link: in one transaction the judgement, its event, the
    record withdrawn and the row back in quarantine; then the subject is rescored and relisted,
    so that measures the record brought lift and the gate's index follows."""
    withdrawn = LoadResult(file=f"undo of pair {pair}")
    with engine.begin() as conn:
        undone = review.undo(conn, pair, by=by, reason=reason, now=now)
        unidentified.withdraw(conn, undone, now=now, result=withdrawn)
    log.info("resolve.undone", pair=pair, subject=str(undone.subject), withdrawn=withdrawn.retracted)
    written = update(engine, schemes, subjects=withdrawn.subjects | {undone.subject}, as_of=as_of, now=now)
    return undone, withdrawn, written


def train(
    engine: Engine,
    mappings: dict[str, Mapping],
    source: str,
    *,
    models: Path,
    now: datetime,
    seed: int = 1,
) -> Model:
    """Train ``source``'s model afresh by EM on every row it sent without an ID number and the
    register, and write it as the next version (the previous version's thresholds carried over)."""
    mapping = mappings.get(source)
    if mapping is None or mapping.identity is None:
        known = ", ".join(sorted(unidentified.identified_sources(mappings))) or "none"
        raise CredenceError(f"{source!r}: not a source whose mapping has `identity` (those are: {known})")
    with engine.connect() as conn:
        rows = unidentified.training_rows(conn, mapping)
        people = register.people(conn)
    if not rows or not people:
        raise CredenceError(
            f"{source}: nothing to train on ({len(rows):,} unidentified rows, {len(people):,} people registered);"
            " ingest its feed and the household register first"
        )
    settings = linkage.train(people, rows, seed=seed)
    before = model_files.latest(source, models)
    thresholds = before.thresholds if before else DEFAULT_THRESHOLDS
    trained = {"at": model_files.stamp(now), "records": len(rows), "register": len(people), "seed": seed}
    model = model_files.save(models, source, settings, thresholds=thresholds, trained=trained)
    log.info("resolve.trained", source=source, model=model.name, records=len(rows), register=len(people))
    return model
