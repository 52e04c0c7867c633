"""Legal profiles: data (``profiles/<name>.yaml``) naming the checks a rulebook must pass.

A profile has a name, a title and checks; each check has an id, the article it cites, the
check function it runs (one of ``rules.checks.CHECKS``) with its parameters, and a message
template that may name the function's fields. A profile is refused at load with the file and
the field: an unknown check function, a parameter it does not take, a placeholder it does not
fill.
"""

import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credence.exc import RulebookError
from credence.model import yaml_errors
from credence.rules.checks import CHECKS, CheckFunction, Params
from credence.rules.schema import Prose, Slug

SHIPPED = "credence.rules.profiles"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProfileCheck(_Strict):
    id: Slug
    article: Prose = Field(min_length=1)
    check: str
    # Any: each check function validates its own parameters (rules.checks.CHECKS[check].params)
    params: dict[str, Any] = {}
    message: Prose = Field(min_length=1)


class ProfileSpec(_Strict):
    name: Slug
    title: Prose
    checks: list[ProfileCheck] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Check:
    """One check of a profile, its parameters validated by its function."""

    spec: ProfileCheck
    params: Params

    @property
    def function(self) -> CheckFunction:
        return CHECKS[self.spec.check]


@dataclass(frozen=True, slots=True)
class Profile:
    """A loaded profile: its spec, the file it came from, and its checks."""

    spec: ProfileSpec
    file: str
    checks: tuple[Check, ...]

    @property
    def name(self) -> str:
        return self.spec.name


def _refused(file: str, err: ValidationError, prefix: str = "") -> RulebookError:
    first = err.errors()[0]
    path = ".".join([*([prefix] if prefix else []), *(str(p) for p in first["loc"])])
    return RulebookError(f"{file}: {path}: {first['msg']}")


def load_text(text: str, *, file: str) -> Profile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise RulebookError(f"{file}{yaml_errors.where(err)}") from None
    if not isinstance(data, dict):
        raise RulebookError(f"{file}: expected a legal profile (a mapping of name, title, checks)")
    try:
        spec = ProfileSpec.model_validate(data)
    except ValidationError as err:
        raise _refused(file, err) from None
    checks = []
    for i, entry in enumerate(spec.checks):
        function = CHECKS.get(entry.check)
        if function is None:
            raise RulebookError(
                f"{file}: checks.{i}.check: unknown check function {entry.check!r}; expected one of {', '.join(CHECKS)}"
            )
        try:
            params = function.params.model_validate(entry.params)
        except ValidationError as err:
            raise _refused(file, err, f"checks.{i}.params") from None
        for _, name, _, _ in string.Formatter().parse(entry.message):
            if name is not None and name not in function.fields:
                offered = ", ".join("{" + f + "}" for f in function.fields) or "none"
                raise RulebookError(
                    f"{file}: checks.{i}.message: {entry.check} has no field {{{name}}} (fields: {offered})"
                )
        checks.append(Check(entry, params))
    ids = [c.id for c in spec.checks]
    if len(ids) != len(set(ids)):
        raise RulebookError(f"{file}: checks: check ids must be unique")
    return Profile(spec, file, tuple(checks))


def load_file(path: Path) -> Profile:
    return load_text(path.read_text("utf-8"), file=str(path))


@cache
def shipped() -> dict[str, Profile]:
    """The profiles shipped with Credence, by name (each file is named after its profile)."""
    found = {}
    for entry in sorted(resources.files(SHIPPED).iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            profile = load_text(entry.read_text("utf-8"), file=f"profiles/{entry.name}")
            if f"{profile.name}.yaml" != entry.name:
                raise RulebookError(f"profiles/{entry.name}: name: {profile.name!r} should be the file's name")
            found[profile.name] = profile
    return found


def named(name: str) -> Profile:
    """A shipped profile by name, or a profile file by path."""
    profiles = shipped()
    if name in profiles:
        return profiles[name]
    path = Path(name)
    if name.endswith((".yaml", ".yml")) or path.exists():
        return load_file(path)
    raise RulebookError(f"unknown legal profile {name!r}; expected one of {', '.join(profiles)} or a profile file")
