"""The measure catalogue (catalogue/measures.yaml): data, each entry with its legal basis.

The file's ``requests`` section is the vocabulary of the point of service: for each action, the
attributes a request may carry, which of them it must carry, and their values. A measure may only
restrict attributes and values of its action's vocabulary, and every attribute it reads must be
required for the action: the catalogue is refused otherwise.
An action the vocabulary does not describe (one named only by a measure) takes the attributes
its measures name, with any value.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import yaml


class Effect(StrEnum):
    RESTRICT = "restrict"
    NOTICE = "notice"
    REWARD = "reward"


@dataclass(frozen=True, slots=True)
class Measure:
    id: str
    title: str
    effect: Effect
    action: str
    restricts: tuple[dict[str, frozenset[str]], ...]
    lists: frozenset[str]
    grades: dict[str, frozenset[str]]
    context: str
    legal_basis: str

    def applies_to(self, action: str, attributes: dict[str, Any]) -> bool:
        """Whether a request for ``action`` with ``attributes`` falls under this measure."""
        if action != self.action:
            return False
        return any(
            all(str(attributes.get(name, "")).lower() in values for name, values in clause.items())
            for clause in self.restricts
        )


class CatalogueError(ValueError):
    """The measure catalogue was refused at load; names the entry, attribute and value."""


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute a request for an action may carry."""

    name: str
    required: bool
    # lowercase value -> the value as the catalogue writes it; None: any value (an action the
    # vocabulary does not describe, named only by a measure a caller passes in)
    values: dict[str, str] | None
    title: str = ""

    def allowed(self) -> str:
        return ", ".join(self.values.values()) if self.values is not None else "any value"


@dataclass(frozen=True, slots=True)
class Request:
    """What a request for one action may say: its attributes, in the catalogue's order."""

    action: str
    attributes: dict[str, Attribute]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes.values() if a.required)


Vocabulary = dict[str, Request]


def _attribute(action: str, name: str, spec: Any) -> Attribute:
    where = f"requests.{action}.{name}"
    if not isinstance(spec, dict) or set(spec) - {"required", "values", "title"}:
        raise CatalogueError(f"{where}: expected a mapping with required, values and an optional title")
    required, values = spec.get("required", False), spec.get("values")
    if not isinstance(required, bool):
        raise CatalogueError(f"{where}.required: expected true or false, got {required!r}")
    if isinstance(values, dict):
        values = list(values)  # value: what it means, for the reader of the file
    if not isinstance(values, list) or not values:
        raise CatalogueError(f"{where}.values: expected a non-empty list (or mapping) of values")
    written = {str(v).strip().lower(): str(v).strip() for v in values}
    if len(written) != len(values):
        raise CatalogueError(f"{where}.values: a value is listed twice (values are compared without case)")
    return Attribute(name=name, required=required, values=written, title=str(spec.get("title", "")))


def _vocabulary(data: dict[str, Any]) -> Vocabulary:
    requests = data.get("requests") or {}
    if not isinstance(requests, dict):
        raise CatalogueError("requests: expected a mapping of action to its attributes")
    out: Vocabulary = {}
    for action, attrs in requests.items():
        if not isinstance(attrs, dict):
            raise CatalogueError(f"requests.{action}: expected a mapping of attribute to its values ({{}} for none)")
        out[str(action)] = Request(
            action=str(action),
            attributes={str(name): _attribute(action, str(name), spec) for name, spec in attrs.items()},
        )
    return out


def inferred(measures: Iterable[Measure]) -> Vocabulary:
    """For actions the vocabulary does not describe: the attributes their measures name, any value."""
    names: dict[str, dict[str, None]] = {}
    for m in measures:
        found = names.setdefault(m.action, {})
        for clause in m.restricts:
            found.update(dict.fromkeys(clause))
    return {
        action: Request(action, {n: Attribute(name=n, required=False, values=None) for n in attrs})
        for action, attrs in names.items()
    }


def _check_against(spec: dict[str, Any], vocabulary: Vocabulary) -> None:
    """A measure may only restrict what a request for its action can say, and only by attributes
    the request must carry: a clause on an attribute a request may leave out is a loophole (the
    request without it matches no clause and is allowed)."""
    request = vocabulary.get(spec["action"])
    if request is None:
        return  # an action described only by its measures
    action, measure = spec["action"], spec["id"]
    for clause in spec["restricts"]:
        for name, values in clause.items():
            attribute = request.attributes.get(name)
            if attribute is None:
                allowed = ", ".join(request.attributes) or "none"
                raise CatalogueError(
                    f"measure {measure}: restricts attribute {name!r}, which a {action} request "
                    f"does not have (attributes in requests.{action}: {allowed})"
                )
            unknown = [v for v in values if str(v).strip().lower() not in (attribute.values or {})]
            if unknown:
                raise CatalogueError(
                    f"measure {measure}: restricts {name} {str(unknown[0])!r}, not a {action} {name} "
                    f"in requests.{action}.{name} (values: {attribute.allowed()})"
                )
            if not attribute.required:
                # a request without it could never match the clause, so it would pass as allowed
                raise CatalogueError(
                    f"measure {measure}: reads attribute {name!r}, which a {action} request need not "
                    f"carry; mark requests.{action}.{name} required: true"
                )


def load_measures(text: str) -> tuple[Measure, ...]:
    data = yaml.safe_load(text)
    vocabulary = _vocabulary(data)
    measures = []
    for spec in data["measures"]:
        attaches = spec["attaches_to"]
        grades = {k: frozenset(v) for k, v in (attaches.get("grades") or {}).items()}
        effect = Effect(spec["effect"])
        if grades and effect is Effect.RESTRICT:
            raise CatalogueError(f"measure {spec['id']}: a city grade may attach rewards only (DESIGN R6)")
        _check_against(spec, vocabulary)
        measure = Measure(
            id=spec["id"],
            title=spec["title"],
            effect=effect,
            action=spec["action"],
            restricts=tuple(
                {k: frozenset(str(v).strip().lower() for v in vs) for k, vs in clause.items()}
                for clause in spec["restricts"]
            ),
            lists=frozenset(attaches.get("lists") or ()),
            grades=grades,
            context=spec["context"],
            legal_basis=spec["legal_basis"],
        )
        measures.append(measure)
    return tuple(measures)


@cache
def default_measures() -> tuple[Measure, ...]:
    return load_measures(_shipped())


def load_requests(text: str) -> Vocabulary:
    """Each action a request may name, with the attributes it may carry and their values; the
    measures are loaded too, so a vocabulary is never used with measures it refuses."""
    measures = load_measures(text)
    return {**inferred(measures), **_vocabulary(yaml.safe_load(text))}


@cache
def default_requests() -> Vocabulary:
    return load_requests(_shipped())


def _shipped() -> str:
    return resources.files("credence.catalogue").joinpath("measures.yaml").read_text("utf-8")
