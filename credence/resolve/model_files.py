"""Linkage models: one versioned JSON file per source and training, never edited, never retrained silently.

A model is ``credence/resolve/models/<source>-v<N>.json`` (or under ``CREDENCE_LINKAGE_MODELS``):
what Splink learned (its settings with m and u probabilities, under ``splink``) and what
Credence decides with it (under ``credence``: the thresholds, and when and on what it was
trained). Linkage loads the newest version of the row's source and stores that version's name
with every link it proposes; ``credence resolve train SOURCE`` writes the next version beside
the others and changes none of them.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from credence.exc import CredenceError

SHIPPED = Path(__file__).parent / "models"
FILE = re.compile(r"(?P<source>[a-z][a-z0-9_]*)-v(?P<version>[1-9]\d*)\.json")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Match weights (log2 of the Bayes factor with the prior) that decide a proposal.

    ``auto``: at or above it, and ``margin`` clear of the next candidate, a link applies by
    itself; ``review``: at or above it (or above ``auto`` but not clear of another candidate),
    it waits for a clerk; below it, nothing links."""

    auto: float
    review: float
    margin: float

    def __post_init__(self) -> None:
        if not self.review <= self.auto or self.margin < 0:
            raise ValueError(f"expected review <= auto and margin >= 0, got {self}")


@dataclass(frozen=True, slots=True)
class Model:
    source: str
    version: int
    thresholds: Thresholds
    splink: dict[str, Any]  # Any: Splink's settings JSON
    trained: dict[str, Any]  # Any: when, on how many records, with which seed

    @property
    def name(self) -> str:
        return f"{self.source}-v{self.version}"


def directory(configured: Path | None = None) -> Path:
    return configured if configured is not None else SHIPPED


def versions(source: str, folder: Path) -> list[tuple[int, Path]]:
    found = []
    for path in folder.glob(f"{source}-v*.json"):
        match = FILE.fullmatch(path.name)
        if match and match["source"] == source:
            found.append((int(match["version"]), path))
    return sorted(found)


def latest(source: str, folder: Path) -> Model | None:
    """The newest model of ``source``, or None if it has none."""
    found = versions(source, folder)
    return load(found[-1][1]) if found else None


def load(path: Path) -> Model:
    """A model file, or a ``CredenceError`` naming the file and the field."""
    match = FILE.fullmatch(path.name)
    if match is None:
        raise CredenceError(f"{path}: expected a file named <source>-v<N>.json")
    try:
        data = json.loads(path.read_text("utf-8"))
        meta, splink = data["credence"], data["splink"]
        thresholds = Thresholds(**meta["thresholds"])
        if meta["source"] != match["source"] or meta["version"] != int(match["version"]):
            raise CredenceError(f"{path}: credence.source and .version must be those of the file's name")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CredenceError(f"{path}: not a linkage model ({type(err).__name__}: {err})") from None
    return Model(match["source"], int(match["version"]), thresholds, splink, meta.get("trained", {}))


def save(
    folder: Path,
    source: str,
    splink: dict[str, Any],  # Any: Splink's settings JSON
    *,
    thresholds: Thresholds,
    trained: dict[str, Any],  # Any: JSON facts about the training
) -> Model:
    """Write the next version of ``source``'s model; an existing file is never replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    found = versions(source, folder)
    version = found[-1][0] + 1 if found else 1
    model = Model(source, version, thresholds, splink, trained)
    body = {
        "credence": {
            "source": source,
            "version": version,
            "thresholds": {"auto": thresholds.auto, "review": thresholds.review, "margin": thresholds.margin},
            "trained": trained,
        },
        "splink": splink,
    }
    with (folder / f"{model.name}.json").open("x", encoding="utf-8") as handle:
        json.dump(body, handle, ensure_ascii=False, indent=1, sort_keys=True)
        handle.write("\n")
    return model


def stamp(now: datetime) -> str:
    return now.isoformat(timespec="seconds")
