"""How good record linkage is, against a ground truth: precision, recall and F1 by source.

The truth is a CSV of ``source, source_record_id, id_number`` (an empty number: the row's
person is not in the registry, so no link is right), as ``credence generate`` writes it in
``linkage_truth.csv`` for its unidentified exports. An automatic link is right when its
subject's ID number is the row's true one. Recall counts the rows weighed whose person the
truth names: automatic links found of them. The clerk's queue is reported beside it (how many
wait, and how many of those a clerk should match), and the rows a clerk already judged.
"""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, select

from credence.exc import CredenceError
from credence.resolve.links import newest
from credence.store.orm import LinkJudgement, Subject

TRUTH_COLUMNS = ("source", "source_record_id", "id_number")
COUNTED = ("identifiable", "auto", "auto_right", "queued", "queued_right", "judged", "unlinked")


@dataclass(frozen=True, slots=True)
class Scores:
    source: str
    weighed: int  # rows with a proposal
    identifiable: int  # of those, rows whose person the truth names
    auto: int
    auto_right: int
    queued: int  # waiting for a clerk
    queued_right: int  # of those, pairs whose candidate is the true person
    judged: int  # pairs a clerk judged
    unlinked: int

    @property
    def precision(self) -> float | None:
        return self.auto_right / self.auto if self.auto else None

    @property
    def recall(self) -> float | None:
        return self.auto_right / self.identifiable if self.identifiable else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else None


def read_truth(path: Path) -> dict[tuple[str, str], str]:
    """The ground truth file, or a ``CredenceError`` naming the file and line."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != TRUTH_COLUMNS:
                raise CredenceError(f"{path}: line 1: expected the header {','.join(TRUTH_COLUMNS)}")
            return {(row["source"], row["source_record_id"]): row["id_number"] for row in reader}
    except OSError as err:
        raise CredenceError(f"{path}: cannot read the ground truth ({err.strerror})") from None


def evaluate(
    conn: Connection, truth: dict[tuple[str, str], str], *, sources: Iterable[str] | None = None
) -> list[Scores]:
    """Scores of every source with proposals (or of ``sources``), against ``truth``."""
    links = list(newest(conn).values())
    wanted = set(sources) if sources is not None else {link.source_id for link in links}
    subjects = {link.subject_id for link in links if link.subject_id is not None}
    numbers = dict(conn.execute(select(Subject.id, Subject.id_number).where(Subject.id.in_(subjects))).all())
    judged = {link_id for (link_id,) in conn.execute(select(LinkJudgement.link_id).distinct())}
    found = []
    for source in sorted(wanted):
        mine = [link for link in links if link.source_id == source]
        counts = dict.fromkeys(
            ("identifiable", "auto", "auto_right", "queued", "queued_right", "judged", "unlinked"), 0
        )
        for link in mine:
            true = truth.get((source, link.source_record_id), "")
            right = link.subject_id is not None and bool(true) and numbers.get(link.subject_id) == true
            counts["identifiable"] += bool(true)
            if link.outcome == "auto":
                counts["auto"] += 1
                counts["auto_right"] += right
            elif link.outcome == "review" and link.id in judged:
                counts["judged"] += 1
            elif link.outcome == "review":
                counts["queued"] += 1
                counts["queued_right"] += right
            else:
                counts["unlinked"] += 1
        found.append(Scores(source=source, weighed=len(mine), **counts))
    return found
