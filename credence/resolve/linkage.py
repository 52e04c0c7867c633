"""Probabilistic record linkage of unidentified rows to the subject register, with Splink 4 on DuckDB.

``propose`` scores every pair the blocking rules bring together with a trained model and keeps,
for each row, its best candidate subject, the candidate's match weight, how far it is clear of
the next candidate, and the waterfall: per comparison, the level it reached and the weight it
added (log2 of its Bayes factor, term-frequency adjustment included), and the prior. ``outcome``
turns that into what happens: ``auto`` (applies), ``review`` (waits for a clerk) or
``unlinked``. ``train`` estimates a model by unsupervised EM from the rows and the register.

Every table lives in a private in-memory DuckDB database that is closed afterwards: the
identities never reach a file or a log.
"""

import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import astuple, dataclass, field
from enum import StrEnum
from typing import Any

from credence.resolve import comparisons
from credence.resolve.identity import COLUMNS, Identity, features
from credence.resolve.model_files import Model, Thresholds

REGISTER, RECORDS = "register", "records"
# EM needs a u estimate first; a million random pairs is what Splink's guide suggests
U_PAIRS = 1_000_000
# the share of true matches EM's deterministic rule is assumed to catch (a guess Splink asks for)
DETERMINISTIC_RECALL = 0.7


class Outcome(StrEnum):
    AUTO = "auto"
    REVIEW = "review"
    UNLINKED = "unlinked"


@dataclass(frozen=True, slots=True)
class Proposal:
    """The best candidate subject for one row (None: no pair the blocking rules made)."""

    record: int
    subject: uuid.UUID | None
    weight: float | None
    probability: float | None
    margin: float | None  # over the next candidate (None: there was none)
    contributions: dict[str, Any] = field(default_factory=dict)  # Any: JSON, the waterfall
    outcome: Outcome = Outcome.UNLINKED


def outcome(weight: float | None, margin: float | None, thresholds: Thresholds) -> Outcome:
    """What a candidate's weight (and its margin over the next) decides."""
    if weight is None or weight < thresholds.review:
        return Outcome.UNLINKED
    clear = margin is None or margin >= thresholds.margin
    return Outcome.AUTO if weight >= thresholds.auto and clear else Outcome.REVIEW


def _quiet() -> None:
    # Splink reports its progress and its training's caveats through logging (on loggers that
    # it gives levels of their own); our logs carry our own events only
    for name in [*logging.root.manager.loggerDict, "splink"]:
        if name.startswith("splink"):
            logging.getLogger(name).setLevel(logging.ERROR)


def _tables(
    register: Sequence[tuple[uuid.UUID, Identity]], records: Sequence[tuple[int, Identity]]
) -> tuple[Any, list[uuid.UUID]]:  # Any: a DuckDB connection
    import duckdb
    import pyarrow as pa

    con = duckdb.connect(":memory:")
    subjects = [subject for subject, _ in register]
    types = {
        "unique_id": pa.int64(),
        **{name: pa.int32() if name.startswith("birth_") and name != "birth_date" else pa.string() for name in COLUMNS},
    }
    schema = pa.schema(list(types.items()))
    for name, rows in (
        (REGISTER, [{"unique_id": i, **features(identity)} for i, (_, identity) in enumerate(register)]),
        (RECORDS, [{"unique_id": record, **features(identity)} for record, identity in records]),
    ):
        con.register(f"{name}_arrow", pa.Table.from_pylist(rows, schema=schema))
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
        con.unregister(f"{name}_arrow")
    return con, subjects


def _linker(con: Any, settings: Any) -> Any:  # Any: Splink's Linker over a DuckDB connection
    from splink import DuckDBAPI, Linker

    _quiet()
    return Linker([REGISTER, RECORDS], settings, DuckDBAPI(connection=con), input_table_aliases=[REGISTER, RECORDS])


def train(
    register: Sequence[tuple[uuid.UUID, Identity]],
    records: Sequence[tuple[int, Identity]],
    *,
    seed: int = 1,
) -> dict[str, Any]:  # Any: Splink's settings JSON
    """A model's Splink settings, estimated without labels: the prior from a deterministic rule
    (same name, same birth date), u from random pairs, m by EM on each training block.

    The register is taken in the order of what it says, not of its subjects' ids: Splink's seeded
    sample of u's pairs depends on the rows' order, and subject ids are random, so the same people
    registered twice gave two models (FEBRL 4's recall moved from 0.28 to 0.76 between such runs)."""
    ordered = sorted(register, key=lambda person: tuple(v or "" for v in astuple(person[1])))
    con, _ = _tables(ordered, sorted(records, key=lambda row: row[0]))
    try:
        linker = _linker(con, comparisons.settings())
        training = linker.training
        training.estimate_probability_two_random_records_match(
            [comparisons.block(("name_norm", "birth_date"))], recall=DETERMINISTIC_RECALL
        )
        training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=seed)
        for rule in comparisons.TRAINING:
            training.estimate_parameters_using_expectation_maximisation(comparisons.block(rule))
        settings: dict[str, Any] = linker.misc.save_model_to_json()
        return settings
    finally:
        con.close()


def propose(
    register: Sequence[tuple[uuid.UUID, Identity]],
    records: Sequence[tuple[int, Identity]],
    model: Model,
) -> list[Proposal]:
    """The best candidate of every record (``records``: (row id, identity)) among ``register``
    ((subject, identity)), decided by ``model``'s thresholds; one proposal per record."""
    if not records:
        return []
    if not register:
        return [Proposal(record, None, None, None, None) for record, _ in records]
    con, subjects = _tables(register, records)
    thresholds = model.thresholds
    try:
        linker = _linker(con, dict(model.splink))
        floor = min(thresholds.review, thresholds.auto - thresholds.margin)
        table = linker.inference.predict(threshold_match_weight=floor)
        result = con.execute(f"SELECT * FROM {table.physical_name}")
        names = [column[0] for column in result.description]
        pairs = [dict(zip(names, values, strict=True)) for values in result.fetchall()]
    finally:
        con.close()
    levels = _labels(model.splink)
    prior = _prior(model.splink)
    ranked: dict[int, list[dict[str, Any]]] = {}
    for pair in pairs:
        left_is_record = pair["source_dataset_l"] == RECORDS
        record = pair["unique_id_l"] if left_is_record else pair["unique_id_r"]
        pair["_subject"] = pair["unique_id_r"] if left_is_record else pair["unique_id_l"]
        ranked.setdefault(record, []).append(pair)
    proposals = []
    for record, _ in records:
        candidates = sorted(ranked.get(record, ()), key=lambda p: (-p["match_weight"], p["_subject"]))
        if not candidates:
            proposals.append(Proposal(record, None, None, None, None))
            continue
        best = candidates[0]
        weight = float(best["match_weight"])
        margin = weight - float(candidates[1]["match_weight"]) if len(candidates) > 1 else None
        proposals.append(
            Proposal(
                record=record,
                subject=subjects[best["_subject"]],
                weight=weight,
                probability=float(best["match_probability"]),
                margin=margin,
                contributions=_waterfall(best, levels, prior),
                outcome=outcome(weight, margin, thresholds),
            )
        )
    return proposals


def _labels(splink: dict[str, Any]) -> dict[str, list[tuple[float, str]]]:
    """Each comparison's levels as (log2 Bayes factor, label): Splink's output keeps the factor
    of the level a pair reached, not the level (the compared values are not retained either)."""
    found: dict[str, list[tuple[float, str]]] = {}
    for comparison in splink["comparisons"]:
        levels = []
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                levels.append((0.0, "missing"))
            elif level.get("m_probability") and level.get("u_probability"):
                levels.append((math.log2(level["m_probability"] / level["u_probability"]), level["label_for_charts"]))
        found[comparison["output_column_name"]] = levels
    return found


def _prior(splink: dict[str, Any]) -> float:
    p = float(splink["probability_two_random_records_match"])
    return math.log2(p / (1 - p))


def _waterfall(pair: dict[str, Any], levels: dict[str, list[tuple[float, str]]], prior: float) -> dict[str, Any]:
    """The prior and each comparison's level and weight: they add up to the match weight."""
    steps: dict[str, Any] = {"prior": round(prior, 4)}
    for name, known in levels.items():
        factor = float(pair[f"bf_{name}"])
        weight = math.log2(factor)
        label = min(known, key=lambda level: abs(level[0] - weight))[1] if known else "?"
        adjustment = pair.get(f"bf_tf_adj_{name}")
        if adjustment is not None:
            weight += math.log2(float(adjustment))  # how common the value is (a 张伟 says less)
        steps[name] = {"level": label, "weight": round(weight, 4)}
    return steps
