"""Mapping files (connectors/<source>.yaml): an agency's columns to canonical record fields."""

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from credence.exc import CredenceError, FieldError


class Constant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str


class KindMap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str | None = None
    column: str | None = None
    map: dict[str, str] = {}


Spec = str | Constant


class Fields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_record_id: Spec
    id_number: Spec
    valid_date: Spec
    jurisdiction: Spec
    # a column saying the agency withdraws the record (e.g. a fine quashed on appeal); absent: assert
    retracted: Spec | None = None


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str
    format: Literal["csv", "jsonl"]
    file: str
    fields: Fields
    kind: KindMap
    attributes: dict[str, Spec] = {}
    legal_basis: dict[str, str]

    def pick(self, row: dict[str, Any], spec: Spec) -> Any:
        return self.getter(spec)(row)

    def getter(self, spec: Spec) -> Callable[[dict[str, Any]], Any]:
        """``pick`` for one spec, resolved once: a constant, a column, or (JSON lines) a dotted path."""
        if isinstance(spec, Constant):
            constant = spec.value
            return lambda _row: constant
        parts = spec.split(".") if self.format == "jsonl" else [spec]
        if len(parts) == 1:
            return lambda row: row.get(spec) if isinstance(row, dict) else None

        def path(row: dict[str, Any]) -> Any:
            value: Any = row
            for part in parts:
                value = value.get(part) if isinstance(value, dict) else None
            return value

        return path

    def kind_of(self, row: dict[str, Any]) -> str:
        if self.kind.value:
            return self.kind.value
        raw = row.get(self.kind.column or "")
        kind = self.kind.map.get(str(raw).strip()) if raw is not None else None
        if kind is None:
            expected = ", ".join(self.kind.map)
            raise FieldError(str(self.kind.column), f"expected one of {expected}, got {raw!r}")
        return kind


def load_mapping(path: Path) -> Mapping:
    try:
        return Mapping.model_validate(yaml.safe_load(path.read_text("utf-8")))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CredenceError(f"{path}: {where}: {first['msg']}") from None


def load_mappings(directory: Path) -> dict[str, Mapping]:
    """Every mapping file (``*.yaml``) in ``directory``, by source."""
    return {m.source: m for m in (load_mapping(path) for path in sorted(directory.glob("*.yaml")))}
