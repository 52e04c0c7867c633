"""``credence rulebook lint``, in-process through Typer's CliRunner (the command group's error
handling included): exit status 0 when the rulebooks pass, 1 with one line per violation, 2 for
a mistake; ``--json`` for machines. No registry is opened: lint reads files only."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from credence.cli import app
from credence.cli.context import console
from credence.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
RONGCHENG = ROOT / "credence/rules/rulebooks/rongcheng-credit/1.0.yaml"


def lint(*args: str) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(console, "width", 400)  # one violation, one line, whatever the terminal
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, ["rulebook", "lint", *args])
        finally:
            get_settings.cache_clear()
    return result.exit_code, result.stdout, result.stderr


def test_the_shipped_rulebooks_pass_the_profiles_they_name() -> None:
    code, out, _ = lint()
    assert code == 0, out
    assert out.splitlines() == [
        "rulebooks/civil-aviation-bans/2018.yaml: passes gdpr, eu-ai-act, credence",
        "rulebooks/national-defaulters/2017.yaml: passes spc-2017, gdpr, eu-ai-act, credence",
        "rulebooks/rongcheng-credit/1.0.yaml: passes gdpr, fcra, credence",
        "rulebooks/suzhou-osmanthus/1.0.yaml: passes eu-ai-act, gdpr, fcra",
    ]


def test_rongcheng_under_the_eu_profile_prints_each_violation_and_exits_1() -> None:
    code, out, _ = lint(str(RONGCHENG), "--profile", "eu-ai-act")
    assert code == 1
    found = out.splitlines()
    assert found[0] == (
        f"{RONGCHENG}: rule contract-breach-judgment: eu-ai-act/social-scoring (EU AI Act, Art. 5(1)(c)): "
        "records of context judicial drive rongcheng-deposit-waiver (context civic) through grade AAA: "
        "social scoring across unrelated contexts"
    )
    assert len(found) == 5
    assert found[-1] == "4 violations in 1 rulebook(s)"


def test_json_names_file_rule_profile_check_and_article(tmp_path: Path) -> None:
    edited = tmp_path / "rongcheng.yaml"
    edited.write_text(RONGCHENG.read_text("utf-8").replace("profiles: [gdpr, fcra, credence]", "profiles: [eu-ai-act]"))
    code, out, _ = lint(str(tmp_path), "--json")  # a folder; the profiles the file names
    assert code == 1
    [entry] = json.loads(out)
    assert entry["profiles"] == ["eu-ai-act"]
    assert entry["violations"][1] == {
        "file": str(edited),
        "where": "rule bank-arrears",
        "profile": "eu-ai-act",
        "check": "social-scoring",
        "article": "EU AI Act, Art. 5(1)(c)",
        "message": "records of context financial drive rongcheng-deposit-waiver (context civic) through grade AAA: "
        "social scoring across unrelated contexts",
    }


def test_a_draft_is_judged_against_the_day_given(tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    draft.write_text(RONGCHENG.read_text("utf-8").replace("status: illustrative", "status: draft"))
    assert lint(str(draft), "--today", "2019-12-31")[0] == 0
    code, out, _ = lint(str(draft), "--today", "2020-01-02")
    assert code == 1
    assert "credence/no-retroactive-effect (Credence DESIGN P5): a draft effective from 2020-01-01" in out


def test_mistakes_are_one_line_and_exit_2(tmp_path: Path) -> None:
    bare = tmp_path / "bare.yaml"
    bare.write_text(RONGCHENG.read_text("utf-8").replace("profiles: [gdpr, fcra, credence]\n", ""))
    code, _, err = lint(str(bare))
    assert (code, err.strip()) == (
        2,
        f"error: {bare}: names no legal profile (profiles: [...]); give one with --profile NAME",
    )
    code, _, err = lint("--profile", "eu")
    assert code == 2
    assert err.startswith("error: unknown legal profile 'eu'")
    code, _, err = lint(str(tmp_path / "missing.yaml"), "--profile", "gdpr")
    assert (code, err.strip()) == (2, f"error: {tmp_path / 'missing.yaml'}: no such file or folder")
