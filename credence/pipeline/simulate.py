"""What-if: a draft rulebook against the registry's population, compared with the version in
force, in one DuckDB snapshot. Nothing is written: no rulebook is registered, no state stored.

The draft stands in for the edition it is compared with (``against``, by default the scheme's
edition in force on ``as_of``) over that edition's days, so every record that edition scores is
scored by the draft instead: "had this been the rule". The version in force is derived with
``state.derive`` (a full recompute, without the write) and the draft's scheme again on the same
snapshot with the same queries (score intervals, list decisions), read for the one day and
without the ids that only stored rows need; the comparison is the engine's answer on both sides,
never arithmetic on points. Every other scheme is shared by both sides, so a measure a subject
already has through another scheme (a national list) is neither new nor freed. Measures are
those the lists and grades carry on ``as_of`` (``lists.active``'s rule), before a court's
one-off exemptions.

A draft of a scheme the registry does not have (``credence demo``'s ``my-city``) is compared
with its absence, from its own effective date: everyone it covers is newly scored.

Subjects appear by internal id only; districts are address codes and ages are bands.
"""

import math
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine

from credence import resolve
from credence.batch import duckdb, evaluate
from credence.batch.store import StoreBackend
from credence.exc import CredenceError
from credence.lists import derive as decided
from credence.lists.measures import Effect, Measure, default_measures
from credence.lists.rows import ListingRow
from credence.pipeline import state
from credence.rules.loader import LoadedRulebook, Scheme, group

AGE_BANDS = ((18, "<18"), (30, "18-29"), (45, "30-44"), (60, "45-59"))  # (below this age, band); then "60+"
NO_AGE = "no birth date"  # an organisation
NO_DISTRICT = "no address"
MOVERS = 10
BINS = 20
Score = tuple[int, str | None]


@dataclass(frozen=True, slots=True)
class Bin:
    """Subjects whose score changed by ``low`` to ``high`` points (inclusive)."""

    low: int
    high: int
    subjects: int


@dataclass(frozen=True, slots=True)
class GradeMove:
    before: str | None  # None: not scored on that side
    after: str | None
    subjects: int


@dataclass(frozen=True, slots=True)
class MeasureChange:
    """Subjects who would newly have ``measure`` on the day, and who would be freed of it."""

    measure: str
    effect: str  # restrict | notice | reward
    newly: int
    freed: int


@dataclass(frozen=True, slots=True)
class GroupChange:
    """In one district or age band: subjects the scheme scores or lists on either side, and how
    many of them change score, grade or listing."""

    group: str
    subjects: int
    score: int
    grade: int
    listing: int


@dataclass(frozen=True, slots=True)
class LineChange:
    """One rule's points in a subject's score on the day, under the version and under the draft."""

    rule: str
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class Mover:
    subject_id: str
    score_before: int
    score_after: int
    grade_before: str | None
    grade_after: str | None
    change: int
    lines: list[LineChange] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Simulation:
    scheme: str
    draft: str  # the draft's version
    draft_file: str
    draft_sha256: str  # the text simulated: publishing checks its report is of the text published
    draft_status: str
    against: str | None  # the version it stands in for; None for a scheme the registry does not have
    as_of: str
    subjects: int  # scored or listed by the scheme on either side
    score_changed: int  # a different score, or scored on one side only
    grade_changed: int
    listing_changed: int  # a different set of the scheme's lists (and roles) on the day
    newly_scored: int
    no_longer_scored: int
    grades: list[GradeMove]
    measures: list[MeasureChange]
    histogram: list[Bin]  # of the score changes of subjects scored on both sides whose score changed
    districts: list[GroupChange]
    age_bands: list[GroupChange]
    movers: list[Mover]  # the largest changes, with the rule lines that moved them
    seconds: float

    def as_dict(self) -> dict[str, Any]:  # Any: JSON values
        return asdict(self)


def edition(scheme: Scheme, against: str | None, *, as_of: date) -> LoadedRulebook:
    """The edition a draft is compared with: version ``against``, else the one in force on ``as_of``."""
    if against is None:
        found = scheme.in_force(as_of)
        if found is None:
            raise CredenceError(f"scheme {scheme.name} has no edition in force on {as_of}; give --against")
        return found
    for candidate in scheme.editions:
        if candidate.book.version == against:
            return candidate
    versions = ", ".join(e.book.version for e in scheme.editions)
    raise CredenceError(f"--against {scheme.name}@{against}: no such version (the registry has {versions})")


def substitute(scheme: Scheme, base: LoadedRulebook, draft: LoadedRulebook) -> Scheme:
    """``scheme`` with ``draft`` in the place (and the days) of ``base``."""
    if draft.book.scheme != scheme.name:
        raise CredenceError(f"{draft.file}: the draft is for scheme {draft.book.scheme}, not {scheme.name}")
    clash = [e.file for e in scheme.editions if e is not base and e.book.version == draft.book.version]
    if clash:
        raise CredenceError(
            f"{draft.file}: version {draft.book.version} is already {clash[0]}'s; give the draft its own version"
        )
    standing = replace(draft, book=draft.book.model_copy(update={"effective_from": base.book.effective_from}))
    return Scheme(name=scheme.name, editions=tuple(standing if e is base else e for e in scheme.editions))


def simulate(
    engine: Engine,
    schemes: dict[str, Scheme],
    draft: LoadedRulebook,
    *,
    against: str | None,
    as_of: date,
    now: datetime,
) -> Simulation:
    """Take one DuckDB snapshot of the records as known at ``now`` and compare ``draft`` with
    the version it would replace (see ``what_if``). Reads only."""
    with engine.connect() as conn:
        snap = duckdb.take(conn, known_at=now)
        return what_if(snap, conn, schemes, draft, against=against, as_of=as_of, now=now)


def what_if(
    snap: duckdb.Snapshot,
    conn: Connection,
    schemes: dict[str, Scheme],
    draft: LoadedRulebook,
    *,
    against: str | None,
    as_of: date,
    now: datetime,
) -> Simulation:
    """Derive everyone under ``schemes`` and the draft's scheme again with ``draft`` substituted,
    on ``snap``; compare on ``as_of``. ``conn`` (the store, at ``now``) turns bound ID numbers
    into subjects and gives the ten largest movers' rule lines, as an explanation does."""
    started = time.perf_counter()
    name = draft.book.scheme
    current, base = schemes.get(name), None
    if current is not None:
        base = edition(current, against, as_of=as_of)
        trial = substitute(current, base, draft)
    elif against is not None:
        raise CredenceError(f"--against {name}@{against}: scheme {name} is not among the registry's rulebooks")
    else:  # a new scheme: compared with its absence, from its own effective date
        trial = group([draft])[name]
    before = state.derive(snap, conn, schemes, as_of=as_of)
    new_scores, new_lists = _draft_day(snap, conn, trial, as_of=as_of)

    measures = default_measures()
    ours = [*before.listings, *before.redlisted]
    old_scores = before.scores.get(name, {})
    old_lists = _lists_on([r for r in ours if r.rulebook == name], as_of=as_of)
    others = {n: by_subject for n, by_subject in before.scores.items() if n != name}
    shared = _measures_on(_lists_on([r for r in ours if r.rulebook != name], as_of=as_of), others, measures)
    was = _measures_on(old_lists, {name: old_scores}, measures)
    will = _measures_on(new_lists, {name: new_scores}, measures)
    everyone = set(old_scores) | set(new_scores) | set(old_lists) | set(new_lists)

    scored_moved = {s for s in everyone if old_scores.get(s, (None,))[0] != new_scores.get(s, (None,))[0]}
    graded_moved = {s for s in everyone if _grade(old_scores, s) != _grade(new_scores, s)}
    listed_moved = {s for s in everyone if old_lists.get(s, frozenset()) != new_lists.get(s, frozenset())}
    changes = {s: new_scores[s][0] - old_scores[s][0] for s in scored_moved if s in old_scores and s in new_scores}

    people = snap.people()
    district = {s: (people.get(s, (None, None))[1] or NO_DISTRICT) for s in everyone}
    band = {s: age_band(people.get(s, (None, None))[0], as_of=as_of) for s in everyone}
    top = sorted(changes, key=lambda s: (-abs(changes[s]), str(s)))[:MOVERS]
    return Simulation(
        scheme=name,
        draft=draft.book.version,
        draft_file=draft.file,
        draft_sha256=draft.sha256,
        draft_status=draft.book.status.value,
        against=None if base is None else base.book.version,
        as_of=str(as_of),
        subjects=len(everyone),
        score_changed=len(scored_moved),
        grade_changed=len(graded_moved),
        listing_changed=len(listed_moved),
        newly_scored=len(set(new_scores) - set(old_scores)),
        no_longer_scored=len(set(old_scores) - set(new_scores)),
        grades=[
            GradeMove(before=b, after=a, subjects=n)
            for (b, a), n in sorted(
                Counter((_grade(old_scores, s), _grade(new_scores, s)) for s in graded_moved).items(),
                key=lambda kv: (-kv[1], str(kv[0])),
            )
        ],
        measures=_measure_changes(shared, was, will, measures),
        histogram=histogram(list(changes.values())),
        districts=_groups(district, everyone, scored_moved, graded_moved, listed_moved),
        age_bands=_groups(band, everyone, scored_moved, graded_moved, listed_moved, order=_band_order),
        movers=_movers(conn, top, current, trial, old_scores, new_scores, as_of=as_of, now=now) if current else [],
        seconds=time.perf_counter() - started,
    )


def age_band(born: date | None, *, as_of: date) -> str:
    """The age band of someone born on ``born``, on ``as_of``."""
    if born is None:
        return NO_AGE
    age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    return next((label for below, label in AGE_BANDS if age < below), "60+")


def histogram(changes: list[int], *, bins: int = BINS) -> list[Bin]:
    """``changes`` counted in at most ``bins`` equal bins of whole points, lowest first."""
    if not changes:
        return []
    low, high = min(changes), max(changes)
    width = max(1, math.ceil((high - low + 1) / bins))
    counts = Counter((c - low) // width for c in changes)
    top = (high - low) // width
    return [
        Bin(low=low + i * width, high=min(high, low + (i + 1) * width - 1), subjects=counts[i]) for i in range(top + 1)
    ]


def _grade(scores: evaluate.Scores, subject: uuid.UUID) -> str | None:
    found = scores.get(subject)
    return None if found is None else found[1]


def _in_force(row: ListingRow, as_of: date) -> bool:
    return row.start_date <= as_of and (row.end_date is None or as_of < row.end_date)


def _lists_on(rows: Iterable[ListingRow], *, as_of: date) -> dict[uuid.UUID, frozenset[tuple[str, str]]]:
    """Each subject's (list, role) pairs in force on ``as_of``."""
    found: dict[uuid.UUID, set[tuple[str, str]]] = {}
    for row in rows:
        if _in_force(row, as_of):
            found.setdefault(row.subject_id, set()).add((row.list_id, row.role))
    return {s: frozenset(v) for s, v in found.items()}


def _measures_on(
    lists: dict[uuid.UUID, frozenset[tuple[str, str]]], scores: state.Scores, measures: Iterable[Measure]
) -> dict[uuid.UUID, set[str]]:
    """Each subject's measures on the day of ``lists`` (list memberships) and ``scores`` (by
    scheme): a restriction or notice through a list, a reward through a grade it names, as
    ``lists.active`` attaches them (over a listing's days, over a grade interval's days)."""
    by_list: dict[str, list[str]] = {}
    by_grade: dict[tuple[str, str], list[str]] = {}
    for measure in measures:
        if measure.effect is Effect.REWARD:
            for scheme, grades in measure.grades.items():
                for grade in grades:
                    by_grade.setdefault((scheme, grade), []).append(measure.id)
        else:
            for list_id in measure.lists:
                by_list.setdefault(list_id, []).append(measure.id)
    found: dict[uuid.UUID, set[str]] = {}
    for subject, memberships in lists.items():
        for list_id, _ in memberships:
            if list_id in by_list:
                found.setdefault(subject, set()).update(by_list[list_id])
    for scheme, by_subject in scores.items():
        for subject, (_, graded) in by_subject.items():
            named = by_grade.get((scheme, graded)) if graded is not None else None
            if named:
                found.setdefault(subject, set()).update(named)
    return found


def _draft_day(
    snap: duckdb.Snapshot, conn: Connection, trial: Scheme, *, as_of: date
) -> tuple[evaluate.Scores, dict[uuid.UUID, frozenset[tuple[str, str]]]]:
    """The draft side on ``as_of``: ``trial``'s scores (read off its score intervals, as
    ``state.derive`` reads them) and list memberships: decided listings in force, and the
    redlist of each subject whose interval holding the day is in one of its edition's redlist
    grades (a redlist entry is a run of such intervals). The intervals get no ids: nothing of
    the draft is stored."""
    intervals = evaluate.score_intervals(snap, trial) if any(e.book.score for e in trial.editions) else []
    scores = state.on_day({trial.name: intervals}, {trial.name: trial}, as_of=as_of).get(trial.name, {})
    found: dict[uuid.UUID, set[tuple[str, str]]] = {}
    for subject, memberships in _lists_on(
        decided.listings(snap, {trial.name: trial}, lookup=partial(resolve.lookup, conn)), as_of=as_of
    ).items():
        found.setdefault(subject, set()).update(memberships)
    redlist_of = {e.book.version: e.book.redlist for e in trial.editions}
    for row in intervals:
        held = row["valid_from"] <= as_of and (row["valid_to"] is None or as_of < row["valid_to"])
        redlist = redlist_of.get(row["rulebook_version"])
        if held and redlist is not None and row["grade"] in redlist.grades:
            found.setdefault(row["subject_id"], set()).add((redlist.id, "subject"))
    return scores, {s: frozenset(v) for s, v in found.items()}


def _measure_changes(
    shared: dict[uuid.UUID, set[str]],
    was: dict[uuid.UUID, set[str]],
    will: dict[uuid.UUID, set[str]],
    measures: Iterable[Measure],
) -> list[MeasureChange]:
    newly: Counter[str] = Counter()
    freed: Counter[str] = Counter()
    for subject in set(was) | set(will):
        other = shared.get(subject, set())
        old, new = other | was.get(subject, set()), other | will.get(subject, set())
        newly.update(new - old)
        freed.update(old - new)
    return [
        MeasureChange(measure=m.id, effect=m.effect.value, newly=newly[m.id], freed=freed[m.id])
        for m in measures
        if newly[m.id] or freed[m.id]
    ]


def _band_order(group: str) -> tuple[int, str]:
    labels = [label for _, label in AGE_BANDS] + ["60+", NO_AGE]
    return (labels.index(group), group)


def _groups(
    of: dict[uuid.UUID, str],
    everyone: set[uuid.UUID],
    scored: set[uuid.UUID],
    graded: set[uuid.UUID],
    listed: set[uuid.UUID],
    *,
    order: Callable[[str], tuple[int, str]] | None = None,  # a group's sort key; None: most changed first
) -> list[GroupChange]:
    counts: dict[str, list[int]] = {}
    for subject in everyone:
        tally = counts.setdefault(of[subject], [0, 0, 0, 0])
        tally[0] += 1
        tally[1] += subject in scored
        tally[2] += subject in graded
        tally[3] += subject in listed
    groups = [GroupChange(group=g, subjects=t[0], score=t[1], grade=t[2], listing=t[3]) for g, t in counts.items()]
    key = (lambda g: order(g.group)) if order else (lambda g: (-g.score, -g.grade, -g.listing, g.group))
    return sorted(groups, key=key)


def _movers(
    conn: Connection,
    top: list[uuid.UUID],
    base: Scheme,
    trial: Scheme,
    old: evaluate.Scores,
    new: evaluate.Scores,
    *,
    as_of: date,
    now: datetime,
) -> list[Mover]:
    """The movers with each rule whose points in their score differ, from the engine room's
    score lines (what ``credence explain`` shows line by line), run in the store for them only."""
    if not top:
        return []
    known = StoreBackend(conn, known_at=now, scope=top)
    sums: dict[tuple[uuid.UUID, str], list[int]] = {}
    for side, scheme in enumerate((base, trial)):
        for line in evaluate.lines(known, scheme, as_of=as_of):
            sums.setdefault((line["subject_id"], line["rule_id"]), [0, 0])[side] += int(line["points"])
    movers = []
    for subject in top:
        lines = [
            LineChange(rule=rule, before=b, after=a)
            for (who, rule), (b, a) in sorted(sums.items(), key=lambda kv: kv[0][1])
            if who == subject and b != a
        ]
        (score_before, grade_before), (score_after, grade_after) = old[subject], new[subject]
        movers.append(
            Mover(
                subject_id=str(subject),
                score_before=score_before,
                score_after=score_after,
                grade_before=grade_before,
                grade_after=grade_after,
                change=score_after - score_before,
                lines=lines,
            )
        )
    return movers
