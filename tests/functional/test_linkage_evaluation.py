"""A small labelled sample, end to end: a generated city's household register and its
unidentified roster, loaded with the shipped mappings, linked with the shipped model and scored
against the generator's ground truth. The precision goal of automatic links is asserted."""

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine

from credence.ingest.loader import load_file
from credence.ingest.mapping import load_mappings
from credence.ingest.unidentified import link
from credence.resolve import evaluation, model_files
from credence.synth.community import TRUTH_FILE
from credence.synth.feeds import generate

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


def test_automatic_links_are_precise_on_a_generated_city(engine: Engine, tmp_path: Path) -> None:
    generate(tmp_path, people=2500, seed=11, today=date(2026, 11, 30))
    mappings = load_mappings(ROOT / "connectors")
    for source in ("police", "community"):
        load_file(engine, tmp_path / mappings[source].file, mappings[source], now=NOW)
    linked = link(engine, {"community": mappings["community"]}, models=model_files.SHIPPED, now=NOW)
    truth = evaluation.read_truth(tmp_path / TRUTH_FILE)
    with engine.connect() as conn:
        (scores,) = evaluation.evaluate(conn, truth)
    assert scores.weighed == len(truth) == sum(linked.proposed["community"].values())
    assert scores.auto == linked.applied.accepted  # every automatic link applied
    assert scores.precision is not None
    assert scores.precision >= 0.999, scores
    assert scores.recall is not None
    assert scores.recall >= 0.9, scores
    assert scores.queued + scores.unlinked + scores.auto == scores.weighed
