"""Mapping files (connectors/<source>.yaml): an agency's columns to canonical record fields."""

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from credence.exc import CredenceError, FieldError
from credence.ingest.readers import Layout, canonical_encoding
from credence.model import yaml_errors
from credence.model.values import shown


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
    # absent only when the mapping has `identity`: its rows carry no ID number at all
    id_number: Spec | None = None
    valid_date: Spec
    jurisdiction: Spec
    # a column saying the agency withdraws the record (e.g. a fine quashed on appeal); absent: assert
    retracted: Spec | None = None


class Identity(BaseModel):
    """The columns that identify a person where a row has no ID number: record linkage links such
    a row to a subject by them (``credence.resolve.linkage``, docs/linkage.md)."""

    model_config = ConfigDict(extra="forbid")
    name: Spec
    birth_date: Spec | None = None
    district: Spec | None = None  # 6-digit district code of the address
    address: Spec | None = None  # street and number
    phone: Spec | None = None

    def specs(self) -> dict[str, Spec]:
        """The identifying attributes the mapping gives, by name."""
        found = {name: getattr(self, name) for name in type(self).model_fields}
        return {name: spec for name, spec in found.items() if spec is not None}


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str
    format: Literal["csv", "jsonl"]
    file: str
    # how the agency's file is written: Chinese agency exports are often GB18030 or GBK, and
    # spreadsheet exports start with a byte-order mark
    encoding: str = "utf-8"
    delimiter: str = ","
    bom: bool = True
    fields: Fields
    # rows identify people by these instead of (or besides) an ID number
    identity: Identity | None = None
    kind: KindMap
    attributes: dict[str, Spec] = {}
    legal_basis: dict[str, str]

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        return canonical_encoding(value)

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1 or value in '\r\n"':
            raise ValueError(f"expected one character other than a quote or a line break, got {value!r}")
        return value

    @model_validator(mode="after")
    def _identified_somehow(self) -> "Mapping":
        if self.fields.id_number is None and self.identity is None:
            raise ValueError("fields.id_number: required unless the mapping has `identity` (name, birth_date, ...)")
        return self

    @property
    def layout(self) -> Layout:
        return Layout(format=self.format, encoding=self.encoding, delimiter=self.delimiter, bom=self.bom)

    def columns(self) -> list[str]:
        """The columns (or, for JSON lines, the top-level keys) that the mapping reads, in its order."""
        specs: list[Spec | None] = [
            self.fields.source_record_id,
            self.fields.id_number,
            self.fields.valid_date,
            self.fields.jurisdiction,
            self.fields.retracted,
            self.kind.column,
            *self.attributes.values(),
            *(self.identity.specs().values() if self.identity else ()),
        ]
        names = [spec.split(".")[0] if self.format == "jsonl" else spec for spec in specs if isinstance(spec, str)]
        return list(dict.fromkeys(names))

    def getter(self, spec: Spec) -> Callable[[dict[str, Any]], Any]:
        """How to read one spec from a row, resolved once: a constant, a column, or (JSON lines) a dotted path."""
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
            raise FieldError(str(self.kind.column), f"expected one of {expected}, got {shown(raw)}")
        return kind


def load_mapping(path: Path) -> Mapping:
    """A mapping file, or a ``CredenceError`` naming the file (and the line, column or field)."""
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except UnicodeDecodeError as err:
        raise CredenceError(f"{path}: not UTF-8 text (byte {err.start}); a mapping file is UTF-8 YAML") from None
    except yaml.YAMLError as err:
        raise CredenceError(f"{path}{yaml_errors.where(err)}") from None
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a YAML {type(data).__name__}"
        raise CredenceError(
            f"{path}: expected a mapping of source, format, file, fields, kind and legal_basis, got {got}"
        )
    try:
        return Mapping.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CredenceError(f"{path}: {where}: {first['msg']}") from None


def load_mappings(directory: Path) -> dict[str, Mapping]:
    """Every mapping file (``*.yaml``) in ``directory``, by source."""
    return {m.source: m for m in (load_mapping(path) for path in sorted(directory.glob("*.yaml")))}
