"""``check(subject, action, attributes, at)``: allowed or restricted, with the measure, listing
and legal basis. Honours ``at`` before, during and after a listing (a listing counts from its
start date and only once its decision was recorded), and the deciding court's one-off exemptions.
A request is checked against the catalogue's vocabulary before the subject is looked up."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import Connection

from credence.exc import FieldError
from credence.lists import known
from credence.lists.measures import Effect, Measure, Vocabulary, default_measures, default_requests, inferred
from credence.model.identifiers import parse_subject
from credence.model.time import legal_date


class Outcome(StrEnum):
    ALLOWED = "allowed"
    RESTRICTED = "restricted"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    action: str
    reference: str
    measure: str | None = None
    measure_title: str | None = None
    list_id: str | None = None
    listing_id: uuid.UUID | None = None
    legal_basis: str | None = None
    appeal: str | None = None
    exemption: str | None = None
    notices: tuple[str, ...] = ()
    notice_legal_bases: tuple[str, ...] = ()  # the law each notice applies, in the order of ``notices``
    rewards: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        """Every field, as JSON takes it: the outcome as its string, the listing id as a string."""
        found = asdict(self)
        found["outcome"] = str(self.outcome)
        found["listing_id"] = None if self.listing_id is None else str(self.listing_id)
        return found


def _require(action: str, attributes: dict[str, Any], vocabulary: Vocabulary) -> dict[str, str]:
    """The request's attributes in the vocabulary's spelling (lowercase), or a refusal naming the
    attribute and what is allowed. It never looks at the subject, so a listed and an unlisted
    subject are refused alike."""
    if action not in vocabulary:
        raise FieldError("action", f"unknown action {action!r}; expected one of {', '.join(sorted(vocabulary))}")
    request = vocabulary[action]
    given = {str(k).strip(): str(v).strip() for k, v in attributes.items() if str(v if v is not None else "").strip()}
    unknown = sorted(set(given) - set(request.attributes))
    if unknown:
        allowed = f"expected one of {', '.join(request.attributes)}" if request.attributes else "it takes none"
        reason = f"a {action} request has no attribute {unknown[0]!r}; {allowed}"
        raise FieldError(f"attributes.{unknown[0]}", reason)
    missing = [name for name in request.required if name not in given]
    if missing:
        raise FieldError(f"attributes.{missing[0]}", f"a {action} request must say its {', '.join(missing)}")
    out: dict[str, str] = {}
    for name, value in given.items():
        attribute = request.attributes[name]
        if attribute.values is not None and value.lower() not in attribute.values:
            raise FieldError(
                f"attributes.{name}", f"{value!r} is not a {action} {name}; expected one of {attribute.allowed()}"
            )
        out[name] = value.lower()
    return out


@cache
def _shipped_vocabulary() -> Vocabulary:
    """The shipped vocabulary, built once: every check asks it (a gate thousands of times a second)."""
    return {**inferred(()), **default_requests()}


def applicable(
    action: str,
    attributes: dict[str, Any] | None,
    *,
    measures: tuple[Measure, ...] | None = None,
    requests: Vocabulary | None = None,
) -> tuple[dict[str, str], list[Measure]]:
    """The request's attributes checked against the vocabulary, and the measures it falls under
    (catalogue order). ``measures`` and ``requests`` default to the shipped catalogue; an action
    only ``measures`` names takes the attributes they name, with any value."""
    if requests is None:
        requests = _shipped_vocabulary() if measures is None else {**inferred(measures), **default_requests()}
    measures = measures if measures is not None else default_measures()
    checked = _require(action, attributes or {}, requests)
    return checked, [m for m in measures if m.applies_to(action, checked)]


def decide(action: str, measures: Sequence[Measure], in_force: Sequence[Mapping[str, Any]]) -> Decision:
    """The decision for a request falling under ``measures`` (catalogue order) when ``in_force``
    are the subject's active measures for the action on the day (oldest listing first, each with
    ``measure_id``, ``effect``, ``court``, ``case_number``, ``list_id``, ``listing_id`` and
    ``exemption``). The first restriction no exemption lifts decides; the library check and the
    gate's index both answer through here, so they cannot disagree."""
    # random, so a reference cannot be used to confirm a guessed ID number
    reference = str(uuid.uuid4())
    notices: list[Measure] = []
    exempted: Decision | None = None
    for measure in (m for m in measures if m.effect is not Effect.REWARD):
        for active in in_force:
            if active["measure_id"] != measure.id:
                continue
            if measure.effect is Effect.NOTICE:
                notices.append(measure)
                continue
            case, exemption = active["case_number"], active["exemption"]
            decision = Decision(
                outcome=Outcome.ALLOWED if exemption else Outcome.RESTRICTED,
                action=action,
                reference=reference,
                measure=measure.id,
                measure_title=measure.title,
                list_id=active["list_id"],
                listing_id=active["listing_id"],
                legal_basis=measure.legal_basis,
                appeal=f"{active['court']}, case {case}",
                exemption=exemption,
            )
            if not exemption:
                return decision
            exempted = exempted or decision
    # rewards hold over the stored grade intervals of the day asked, as the registry knew them
    rewarded = {active["measure_id"] for active in in_force if active["effect"] == Effect.REWARD.value}
    rewards = tuple(m.title for m in measures if m.effect is Effect.REWARD and m.id in rewarded)
    titles, bases = tuple(m.title for m in notices), tuple(m.legal_basis for m in notices)
    if exempted:
        return replace(exempted, notices=titles, notice_legal_bases=bases, rewards=rewards)
    return Decision(
        outcome=Outcome.ALLOWED,
        action=action,
        reference=reference,
        notices=titles,
        notice_legal_bases=bases,
        rewards=rewards,
    )


def check(
    conn: Connection,
    id_number: str,
    action: str,
    attributes: dict[str, Any] | None = None,
    *,
    at: datetime,
    known_at: datetime | None = None,
    measures: tuple[Measure, ...] | None = None,
    requests: Vocabulary | None = None,
) -> Decision:
    """Answer for one subject, by exact ID number, at the instant ``at``: from the active measures
    (through listings and grade intervals) in force on the legal date of ``at``, as the registry
    knew them at ``known_at`` (default ``at``). Reads tables only: no rule runs here.

    ``measures`` and ``requests`` (the vocabulary) default to the shipped catalogue; ``measures``
    decides which of the measures in force a request falls under (the table holds the catalogue
    the last refresh put in force, see ``lists.active.refresh``); an action only ``measures``
    names takes the attributes they name, with any value."""
    _, under = applicable(action, attributes, measures=measures, requests=requests)
    # a number the registry has never seen has no measures: allowed, like anyone without any
    number = parse_subject(id_number, field="subject").number
    day, knowing = legal_date(at), known_at or at
    in_force = known.measures_in_force(conn, number, action=action, day=day, known_at=knowing) if under else []
    return decide(action, under, in_force)
