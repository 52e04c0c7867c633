"""A source's circuit-breaker thresholds: data in catalogue/sources.yaml, checked here.

``breaker: {per_hour: N, per_day: N, share: F, min_population: N}`` bounds the adverse records a
source may have applied: at most ``per_hour`` in any hour and ``per_day`` in any day (by
transaction time), and adverse records about at most ``share`` of the residents registered in
its jurisdiction in a day, that last bound counted only once the registry holds at least
``min_population`` of them (a share of a registry that does not yet know its population means
nothing). A load that would cross one is held for review, not applied (``ingest.breaker``).
"""

from dataclasses import dataclass
from typing import Any

from credence.exc import CredenceError

FIELDS = ("per_hour", "per_day", "share", "min_population")


@dataclass(frozen=True, slots=True)
class Thresholds:
    per_hour: int
    per_day: int
    share: float
    min_population: int

    def as_data(self) -> dict[str, Any]:
        return {
            "per_hour": self.per_hour,
            "per_day": self.per_day,
            "share": self.share,
            "min_population": self.min_population,
        }


def _whole(source: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CredenceError(
            f"catalogue/sources.yaml: source {source}: breaker.{name}: expected a whole number of at least 1, "
            f"got {value!r}"
        )
    return value


def parse(source: str, spec: Any) -> Thresholds | None:
    """A source's ``breaker`` entry, or None when it has none; a CredenceError naming the source
    and the field for anything malformed.

    Examples:
        >>> parse("court", {"per_hour": 10, "per_day": 20, "share": 0.05, "min_population": 1000})
        Thresholds(per_hour=10, per_day=20, share=0.05, min_population=1000)
    """
    if spec is None:
        return None
    where = f"catalogue/sources.yaml: source {source}: breaker"
    if not isinstance(spec, dict):
        raise CredenceError(f"{where}: expected a mapping of {', '.join(FIELDS)}, got {spec!r}")
    unknown = sorted(set(spec) - set(FIELDS))
    if unknown:
        raise CredenceError(f"{where}.{unknown[0]}: unknown field; expected {', '.join(FIELDS)}")
    missing = [name for name in FIELDS if name not in spec]
    if missing:
        raise CredenceError(f"{where}.{missing[0]}: required")
    per_hour = _whole(source, "per_hour", spec["per_hour"])
    per_day = _whole(source, "per_day", spec["per_day"])
    if per_day < per_hour:
        raise CredenceError(f"{where}.per_day: expected at least per_hour ({per_hour}), got {per_day}")
    share = spec["share"]
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise CredenceError(f"{where}.share: expected a fraction above 0 and at most 1 (0.05 is 5%), got {share!r}")
    return Thresholds(per_hour, per_day, float(share), _whole(source, "min_population", spec["min_population"]))
