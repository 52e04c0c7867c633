"""The ingest job: load every mapped feed in a folder, then refresh the subjects they touched.

One function for every face that loads feeds (the CLI today; the API and a scheduler later):
it takes an engine whose writer lock the caller holds, and reports through a ``Watcher`` so a
face can show progress without the job knowing how.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine

from credence.ingest import holds, unidentified
from credence.ingest.loader import LoadResult, Rejected, load_file, replay
from credence.ingest.mapping import Mapping
from credence.ingest.readers import FeedRefusedError
from credence.logs import get_logger
from credence.pipeline import state
from credence.pipeline.update import update
from credence.rules.loader import Scheme

log = get_logger(__name__)


class Watcher(Protocol):
    """What a face is told while feeds load."""

    def skipped(self, path: Path) -> None:
        """A mapped feed that is not in the folder."""

    def reading(self, path: Path, size: int) -> Callable[[int], None]:
        """A file starts; the returned function is called with the bytes read since its last call."""
        ...

    def read(self, path: Path, *, refused: bool) -> None:
        """A file is done (or refused whole)."""

    def refreshing(self) -> None:
        """Every file is loaded; the subjects they touched are being rescored and relisted."""


class Quiet:
    """A watcher that shows nothing."""

    def skipped(self, path: Path) -> None:
        pass

    def reading(self, path: Path, size: int) -> Callable[[int], None]:  # noqa: ARG002 - the protocol's names
        return lambda _: None

    def read(self, path: Path, *, refused: bool) -> None:
        pass

    def refreshing(self) -> None:
        pass


@dataclass
class Loaded:
    results: list[LoadResult] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # a file refused whole: what was wrong with it
    written: state.Written = field(default_factory=state.Written)
    linked: unidentified.Linked | None = None  # record linkage of the rows without an ID number

    @property
    def held(self) -> list[LoadResult]:
        """The loads whose adverse rows a source's circuit breaker held for review."""
        return [r for r in self.results if r.held]


def load_feeds(
    engine: Engine,
    feeds: Path,
    mappings: dict[str, Mapping],
    schemes: dict[str, Scheme],
    *,
    clock: Callable[[], datetime],
    as_of: Callable[[], date],
    batch: int,
    watcher: Watcher | None = None,
    models: Path | None = None,
) -> Loaded:
    """Load the feed of every mapping found in ``feeds`` (each file at the transaction time
    ``clock`` gives when it starts), then update the subjects they touched. A file refused whole
    is reported in ``refused`` and the others still load. With ``models`` (the linkage models'
    folder), the rows without an ID number are then linked (``ingest.unidentified.link``)."""
    watcher = watcher or Quiet()
    loaded = Loaded()
    subjects: set[uuid.UUID] = set()
    for mapping in mappings.values():
        path = feeds / mapping.file
        if not path.exists():
            watcher.skipped(path)
            continue
        advance = watcher.reading(path, path.stat().st_size)
        try:
            result = load_file(engine, path, mapping, now=clock(), batch=batch, progress=advance)
        except FeedRefusedError as err:
            watcher.read(path, refused=True)
            loaded.refused.append(err.detail)
            log.warning("ingest.refused", source=mapping.source, file=path.name)
            continue
        watcher.read(path, refused=False)
        loaded.results.append(result)
        log.info(
            "ingest.file",
            source=mapping.source,
            file=path.name,
            rows=result.rows,
            accepted=result.accepted,
            amended=result.amended,
            retracted=result.retracted,
            unchanged=result.unchanged,
            already=result.already,
            quarantined=result.quarantined,
            held=result.held,
        )
        if result.held:
            log.warning("ingest.held", source=mapping.source, file=path.name, hold=result.hold, held=result.held)
        subjects |= result.subjects
    if models is not None and unidentified.identified_sources(mappings):
        loaded.linked = unidentified.link(engine, mappings, models=models, now=clock())
        subjects |= loaded.linked.applied.subjects
        for source, counts in loaded.linked.proposed.items():
            log.info("resolve.linked", source=source, model=loaded.linked.models[source], **counts)
    watcher.refreshing()
    loaded.written = update(engine, schemes, subjects=subjects, as_of=as_of(), now=clock())
    return loaded


def replay_quarantine(
    engine: Engine,
    mappings: dict[str, Mapping],
    schemes: dict[str, Scheme],
    *,
    now: datetime,
    as_of: date,
    fixes: dict[int, dict[str, Any]] | None = None,
) -> tuple[LoadResult, list[Rejected], state.Written]:
    """Apply the quarantined rows that now pass, then update the subjects they touch. Returns what
    was applied, what is still refused (with its current reason) and what the update wrote."""
    result, still = replay(engine, mappings, now=now, fixes=fixes)
    written = update(engine, schemes, subjects=result.subjects, as_of=as_of, now=now)
    return result, still, written


def release_held(
    engine: Engine,
    mappings: dict[str, Mapping],
    schemes: dict[str, Scheme],
    target: str,
    *,
    by: str,
    now: datetime,
    as_of: date,
) -> tuple[holds.Released, state.Written]:
    """Release the open hold(s) ``target`` names (a hold id or a source): apply their rows with
    transaction time ``now``, close the breaker, then rescore and relist the subjects they touch,
    so their listings appear only now."""
    released = holds.release(engine, mappings, target, by=by, now=now)
    written = update(engine, schemes, subjects=released.result.subjects, as_of=as_of, now=now)
    log.info(
        "breaker.released",
        holds=released.holds,
        applied=released.result.accepted + released.result.amended + released.result.retracted,
        still_refused=len(released.still),
    )
    return released, written
