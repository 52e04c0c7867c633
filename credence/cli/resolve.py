"""``credence resolve``: record linkage of rows without an ID number, the clerk's queue, evaluation."""

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from credence import resolve as resolve_subjects
from credence.cli.context import console, feeds_dir, mappings, now, reading, schemes, today, writing
from credence.ingest.unidentified import Linked
from credence.pipeline import linkage as jobs
from credence.pipeline import merges as merge_jobs
from credence.resolve import evaluation, merges, model_files, review
from credence.settings import get_settings

CONNECTORS = Path("connectors")
TRUTH = "linkage_truth.csv"
resolve = typer.Typer(
    help="Record linkage: rows without an ID number linked to people, and the clerk's queue.", no_args_is_help=True
)


def models_dir() -> Path:
    """The linkage models' folder: CREDENCE_LINKAGE_MODELS, else the shipped models."""
    configured = get_settings().linkage_models
    return model_files.directory(Path(configured) if configured else None)


def show_linked(linked: Linked) -> None:
    for source, counts in linked.proposed.items():
        console.print(
            f"{source} ({linked.models[source]}): {counts['auto']:,} linked automatically, "
            f"{counts['review']:,} wait for a clerk (`credence resolve queue`), {counts['unlinked']:,} left unlinked"
        )
    if linked.applied.accepted:
        console.print(f"{linked.applied.accepted:,} linked rows applied")
    for source in linked.without_model:
        console.print(
            f"[yellow]{source}: rows wait for linkage, but it has no model; `credence resolve train {source}`[/]"
        )


@resolve.command("link")
def link(
    connectors: Annotated[Path, typer.Option(help="folder with the mapping files")] = CONNECTORS,
    again: Annotated[
        bool, typer.Option("--again", help="weigh again the rows left unlinked, judged no match or undone")
    ] = False,
) -> None:
    """Link the rows without an ID number that wait in quarantine (ingest does this too)."""
    mapped = mappings(connectors)
    with writing("resolve link") as made:
        linked, written = jobs.link(made, mapped, schemes(), models=models_dir(), now=now(), as_of=today(), again=again)
    if not linked.proposed and not linked.without_model:
        console.print("no row waits for linkage")
    show_linked(linked)
    console.print(f"{written.scores:,} scores written; listings started {written.started:,}, ended {written.ended:,}")


@resolve.command("train")
def train(
    source: Annotated[str, typer.Argument(help="a source whose mapping has `identity`")],
    connectors: Annotated[Path, typer.Option(help="folder with the mapping files")] = CONNECTORS,
    seed: Annotated[int, typer.Option(help="seed of the random pairs u is estimated from")] = 1,
) -> None:
    """Train a new version of the source's model by EM (earlier versions stay as they are)."""
    mapped = mappings(connectors)
    with writing("resolve train") as made:
        model = jobs.train(made, mapped, source, models=models_dir(), now=now(), seed=seed)
    console.print(
        f"wrote {models_dir() / (model.name + '.json')}: trained on {model.trained['records']:,} rows and "
        f"{model.trained['register']:,} people; thresholds auto {model.thresholds.auto}, review "
        f"{model.thresholds.review}, margin {model.thresholds.margin}. Linkage uses it from now on."
    )


@resolve.command("queue")
def queue(
    source: Annotated[str | None, typer.Option(help="only this source's pairs")] = None,
    limit: Annotated[int, typer.Option(help="at most this many pairs")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="the pairs as JSON")] = False,
) -> None:
    """Pairs waiting for a clerk, side by side: internal ids and masked identifiers, weight, reasons."""
    with reading() as conn:
        pairs, total = review.queue(conn, source=source, limit=limit)
    if as_json:
        body = [{**asdict(p), "subject": str(p.subject)} for p in pairs]
        print(json.dumps({"waiting": total, "pairs": body}, ensure_ascii=False, indent=1))
        return
    if not pairs:
        console.print("no pair waits for a clerk")
        return
    for pair in pairs:
        table = Table(
            "",
            f"row {pair.source}:{pair.source_record_id} (quarantine {pair.quarantine_id})",
            f"subject {pair.subject}",
            title=f"pair {pair.link}: weight {pair.weight:.1f}"
            + ("" if pair.margin is None else f", {pair.margin:.1f} clear of the next")
            + f" ({pair.model})",
            title_justify="left",
        )
        for field in ("name", "born", "district", "street", "phone"):
            table.add_row(field, pair.record.get(field, ""), pair.candidate.get(field, ""))
        console.print(table)
        why = "; ".join(f"{name} {level} {weight:+.1f}" for name, level, weight in pair.reasons)
        console.print(f"  why: {why}", highlight=False, soft_wrap=True)
    console.print(f"{total:,} pairs wait; judge one with `credence resolve decide PAIR --match|--no-match --by CLERK`")


@resolve.command("decide")
def decide(
    pair: Annotated[int, typer.Argument(help="the pair's number in `credence resolve queue`")],
    match: Annotated[bool | None, typer.Option("--match/--no-match", help="the same person, or not")] = None,
    by: Annotated[str, typer.Option(help="the clerk judging")] = "",
    connectors: Annotated[Path, typer.Option(help="folder with the mapping files")] = CONNECTORS,
) -> None:
    """Record a clerk's judgement of a pair; a match applies the row at once."""
    if match is None:
        raise typer.BadParameter("say --match or --no-match", param_hint="--match/--no-match")
    mapped = mappings(connectors)
    judgement = review.Judgement.MATCH if match else review.Judgement.NO_MATCH
    with writing("resolve decide") as made:
        decided, applied, _ = jobs.judge(made, mapped, schemes(), pair, judgement, by=by, now=now(), as_of=today())
    done = applied.accepted + applied.amended  # amended: a row linked again after an undo
    effect = f"; its row applied ({done:,})" if done else "; its row stays in quarantine"
    console.print(f"pair {decided.link}: {decided.judgement.value} by {decided.by}{effect}")


@resolve.command("linked")
def linked(
    subject: Annotated[str, typer.Argument(help="the subject's resident ID or unified social credit code")],
) -> None:
    """The rows linked to a subject now (automatically or by a clerk): the pairs an officer may undo."""
    with reading() as conn:
        found = resolve_subjects.find(conn, subject, field="subject")
        rows = review.applied_to(conn, found) if found is not None else []
    if not rows:
        console.print("no row is linked to this subject")
    for row in rows:
        weight = "-" if row.weight is None else f"{row.weight:.1f}"
        console.print(f"pair {row.link}: {row.source}:{row.source_record_id}, weight {weight}, linked {row.how}")


@resolve.command("undo")
def undo(
    pair: Annotated[int, typer.Argument(help="the pair whose link applied (see `credence resolve history`)")],
    by: Annotated[str, typer.Option(help="the officer undoing it")] = "",
    reason: Annotated[str, typer.Option(help="why the link is wrong (kept with the judgement, not in the log)")] = "",
) -> None:
    """Undo a wrong link: its record is withdrawn, the subject rescored, the row waits again."""
    with writing("resolve undo") as made:
        undone, withdrawn, written = jobs.undo(made, schemes(), pair, by=by, reason=reason, now=now(), as_of=today())
    effect = f"{withdrawn.retracted:,} record withdrawn" if withdrawn.retracted else "no record stood to withdraw"
    console.print(
        f"pair {undone.link}: undone by {undone.by}; {effect}; subject {undone.subject} rescored"
        f" ({written.scores:,} scores written; listings started {written.started:,}, ended {written.ended:,});"
        f" row {undone.quarantine_id} waits again (`credence resolve decide {undone.link} --match` relinks it)"
    )


@resolve.command("merge")
def merge(
    kept: Annotated[str, typer.Argument(help="the ID number the person keeps (the successor, the reissued one)")],
    absorbed: Annotated[str, typer.Argument(help="the ID number whose records move to the kept one")],
    ground: Annotated[merges.Ground, typer.Option(help="why two numbers name one person")],
    by: Annotated[str, typer.Option(help="the officer merging")] = "",
    reason: Annotated[str, typer.Option(help="the evidence (kept with the merge, not in the log)")] = "",
) -> None:
    """Merge two subjects found to be one person: the absorbed one's records move to the kept one."""
    with writing("resolve merge") as made:
        done, _, written = merge_jobs.merge(
            made, schemes(), kept, absorbed, ground=ground, by=by, reason=reason, now=now(), as_of=today()
        )
    console.print(
        f"merge {done.id}: subject {done.absorbed} into {done.kept} ({done.ground.value}) by {done.by};"
        f" {len(done.moved):,} records moved; {written.scores:,} scores written; listings started"
        f" {written.started:,}, ended {written.ended:,} (`credence resolve split {done.id}` undoes it)"
    )


@resolve.command("split")
def split(
    merge: Annotated[int, typer.Argument(help="the merge's number (see `credence resolve merges SUBJECT`)")],
    by: Annotated[str, typer.Option(help="the officer splitting")] = "",
    reason: Annotated[str, typer.Option(help="why they are two people (kept with the split, not in the log)")] = "",
) -> None:
    """Split a merge: the records it moved go back to the absorbed subject."""
    with writing("resolve split") as made:
        done, _, written = merge_jobs.split(made, schemes(), merge, by=by, reason=reason, now=now(), as_of=today())
    console.print(
        f"merge {merge} split by {done.by}: {len(done.moved):,} records moved back to subject {done.absorbed};"
        f" {written.scores:,} scores written; listings started {written.started:,}, ended {written.ended:,}"
    )


@resolve.command("merges")
def merges_of(subject: Annotated[str, typer.Argument(help="an ID number")]) -> None:
    """Every merge and split of a subject, oldest first."""
    with reading() as conn:
        found = resolve_subjects.find(conn, subject, field="subject")
        rows = merges.history(conn, found) if found is not None else []
    if not rows:
        console.print("this subject was never merged")
    for m in rows:
        console.print(
            f"{m.at:%Y-%m-%d %H:%M:%S} {m.judgement} {m.id}: {m.absorbed} into {m.kept} ({m.ground.value}),"
            f" {len(m.moved):,} records, by {m.by}: {m.note}",
            highlight=False,
        )


@resolve.command("history")
def history(pair: Annotated[int, typer.Argument(help="the pair's number")]) -> None:
    """Every judgement of a pair, oldest first."""
    with reading() as conn:
        found = review.history(conn, pair)
    if not found:
        console.print(f"pair {pair}: not judged")
    for d in found:
        note = f": {d.note}" if d.note else ""
        console.print(f"{d.at:%Y-%m-%d %H:%M:%S} {d.judgement.value} by {d.by}{note}", highlight=False)


@resolve.command("evaluate")
def evaluate(
    truth: Annotated[
        Path | None, typer.Option(help=f"the ground truth CSV [default: $CREDENCE_DATA_DIR/feeds/{TRUTH}]")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the figures as JSON")] = False,
) -> None:
    """Precision, recall and F1 of automatic links by source, and the clerk's queue, against a ground truth."""
    known = evaluation.read_truth(truth if truth is not None else feeds_dir(None) / TRUTH)
    with reading() as conn:
        scores = evaluation.evaluate(conn, known)
    if as_json:
        body = [{**asdict(s), "precision": s.precision, "recall": s.recall, "f1": s.f1} for s in scores]
        print(json.dumps(body, indent=1))
        return
    table = Table(
        "source",
        "weighed",
        "auto",
        "right",
        "precision",
        "recall",
        "F1",
        "queue",
        "queue right",
        "judged",
        "unlinked",
        title="record linkage against the ground truth",
    )
    for s in scores:
        table.add_row(
            s.source,
            f"{s.weighed:,}",
            f"{s.auto:,}",
            f"{s.auto_right:,}",
            _share(s.precision),
            _share(s.recall),
            _share(s.f1),
            f"{s.queued:,}",
            f"{s.queued_right:,}",
            f"{s.judged:,}",
            f"{s.unlinked:,}",
        )
    console.print(table)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
