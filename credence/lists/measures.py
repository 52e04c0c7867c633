"""The measure catalogue (catalogue/measures.yaml): data, each entry with its legal basis."""

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


def load_measures(text: str) -> tuple[Measure, ...]:
    data = yaml.safe_load(text)
    measures = []
    for spec in data["measures"]:
        attaches = spec["attaches_to"]
        grades = {k: frozenset(v) for k, v in (attaches.get("grades") or {}).items()}
        effect = Effect(spec["effect"])
        if grades and effect is Effect.RESTRICT:
            raise ValueError(f"measure {spec['id']}: a city grade may attach rewards only (DESIGN R6)")
        measures.append(
            Measure(
                id=spec["id"],
                title=spec["title"],
                effect=effect,
                action=spec["action"],
                restricts=tuple(
                    {k: frozenset(str(v).lower() for v in vs) for k, vs in clause.items()}
                    for clause in spec["restricts"]
                ),
                lists=frozenset(attaches.get("lists") or ()),
                grades=grades,
                context=spec["context"],
                legal_basis=spec["legal_basis"],
            )
        )
    return tuple(measures)


@cache
def default_measures() -> tuple[Measure, ...]:
    text = resources.files("credence.catalogue").joinpath("measures.yaml").read_text("utf-8")
    return load_measures(text)


def load_requests(text: str) -> dict[str, tuple[str, ...]]:
    """Each action a request may name, with the attributes it must carry."""
    data = yaml.safe_load(text)
    actions: dict[str, tuple[str, ...]] = {spec["action"]: () for spec in data["measures"]}
    actions.update({action: tuple(names) for action, names in (data.get("requests") or {}).items()})
    return actions


@cache
def default_requests() -> dict[str, tuple[str, ...]]:
    text = resources.files("credence.catalogue").joinpath("measures.yaml").read_text("utf-8")
    return load_requests(text)
