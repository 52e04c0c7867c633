"""Mapping files (connectors/<source>.yaml): an agency's columns to canonical record fields."""

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
        if isinstance(spec, Constant):
            return spec.value
        value: Any = row
        for part in spec.split(".") if self.format == "jsonl" else [spec]:
            value = value.get(part) if isinstance(value, dict) else None
        return value

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
