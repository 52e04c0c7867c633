"""Every setting in credence/settings.py is listed in docs/settings.md, with its default."""

import re
from pathlib import Path

from credence.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
ROW = re.compile(r"^\|\s*`(?P<name>[A-Z0-9_]+)`\s*\|\s*`(?P<default>[^`]*)`\s*\|", re.MULTILINE)


def documented() -> dict[str, str]:
    """The settings table: environment variable name -> default as written."""
    return {m["name"]: m["default"] for m in ROW.finditer(DOC.read_text("utf-8"))}


def env_name(name: str, alias: object) -> str:
    """pydantic-settings reads a field from prefix + name, or from its alias without the prefix."""
    if isinstance(alias, str):
        return alias.upper()
    return f"{Settings.model_config.get('env_prefix', '')}{name}".upper()


def expected() -> dict[str, str]:
    return {
        env_name(name, field.validation_alias or field.alias): str(field.default)
        for name, field in Settings.model_fields.items()
    }


def test_the_model_has_a_prefix_and_fields() -> None:
    assert Settings.model_config.get("env_prefix") == "CREDENCE_"
    assert expected()


def test_every_setting_is_documented() -> None:
    missing = sorted(set(expected()) - set(documented()))
    assert not missing, f"add to {DOC.name}: {', '.join(missing)}"


def test_documented_defaults_match_the_code() -> None:
    table = documented()
    wrong = {name: (table[name], default) for name, default in expected().items() if table.get(name) != default}
    assert not wrong, f"(documented, code) defaults differ in {DOC.name}: {wrong}"


def test_no_documented_setting_is_gone() -> None:
    stale = sorted(set(documented()) - set(expected()))
    assert not stale, f"{DOC.name} lists settings that credence/settings.py no longer has: {', '.join(stale)}"
