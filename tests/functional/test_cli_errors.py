"""A user's mistake is one line on stderr and exit status 2, through the installed entry point.

Each case the issue names runs ``.venv/bin/credence`` as a real process against a registry URL of
its own: a missing or unreadable file, a malformed argument, a bad connector or rulebook file; more
variants of the same kinds run in-process through Typer's CliRunner, which sees the same handler.
None may show a traceback; ``CREDENCE_DEBUG=1`` shows one. The handler's own rules (a bug keeps
its traceback, an error class's ``exit_code`` wins) are checked on a toy app with the same group.
"""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from credence.cli import app
from credence.cli.errors import Commands
from credence.exc import CredenceError
from credence.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
CONNECTORS = ROOT / "connectors"
CREDENCE = Path(sys.executable).parent / "credence"
PERSON = "110101199003070012"  # a resident ID with a valid check digit; no registry holds it


def credence(*args: str, cwd: Path, **env: str) -> "subprocess.CompletedProcess[str]":
    """The installed entry point, as a shell runs it (no COLUMNS, no debug flag unless given)."""
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "CREDENCE_DEBUG")}
    base["CREDENCE_DATABASE_URL"] = f"sqlite:///{cwd / 'registry.db'}"
    return subprocess.run(  # noqa: S603 - our own entry point, fixed arguments
        [str(CREDENCE), *args], cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=180, check=False
    )


def assert_one_line_error(result: "subprocess.CompletedProcess[str]", *names: str) -> str:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    for name in names:
        assert name in line, line
    return line


@dataclass(frozen=True)
class Case:
    """A command line and what its one error line must name; ``{tmp}`` is the test's folder,
    where ``files`` are written first (``connectors/court.yaml`` in a copy of the shipped connectors)."""

    args: list[str]
    names: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)

    def prepare(self, tmp: Path) -> tuple[list[str], list[str]]:
        for name, content in self.files.items():
            path = tmp / name
            if name.startswith("connectors/") and not path.parent.exists():
                shutil.copytree(CONNECTORS, path.parent)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        fill = {"tmp": str(tmp), "connectors": str(CONNECTORS)}
        return [a.format(**fill) for a in self.args], [n.format(**fill) for n in self.names]


REPLAY = ["ingest", "--replay", "--connectors", "{connectors}", "--fixes", "{tmp}/fixes.json"]
SCORE = ["score", "--rulebook", "{tmp}/my-rules.yaml"]
INGEST = ["ingest", "--feeds", "{tmp}", "--connectors", "{tmp}/connectors"]

CASES = {
    # the two commands the demo used to suggest next
    "score --rulebook missing.yaml": Case(["score", "--rulebook", "missing.yaml"], ["missing.yaml", "no such file"]),
    "ingest --replay --fixes missing.json": Case(
        ["ingest", "--replay", "--connectors", "{connectors}", "--fixes", "missing.json"],
        ["missing.json", "no such file"],
    ),
    # an unreadable file: a folder where a file was expected
    "score --rulebook FOLDER": Case(["score", "--rulebook", "{tmp}"], ["{tmp}", "is a folder, expected a file"]),
    # --fixes that is not JSON, or not {id: {column: value}}
    "--fixes not JSON": Case(REPLAY, ["--fixes", "fixes.json", "line 1", "not JSON"], {"fixes.json": "{1: oops"}),
    "--fixes an array": Case(REPLAY, ["fixes.json", "expected a JSON object", "an array"], {"fixes.json": "[1, 2]"}),
    "--fixes a key not an id": Case(
        REPLAY, ["fixes.json", "'x' is not a quarantine id"], {"fixes.json": '{"x": {"id_no": "1"}}'}
    ),
    # a malformed argument
    "check ID rail_ticket notkv": Case(["check", PERSON, "rail_ticket", "notkv"], ["'notkv'", "expected key=value"]),
    # a bad rulebook file
    "rulebook YAML syntax error": Case(
        SCORE, ["my-rules.yaml, line 3, column 1", "not valid YAML"], {"my-rules.yaml": "scheme: my-city\nrules: [\n"}
    ),
    # a bad connector file, and folders that are not there
    "connector YAML syntax error": Case(
        INGEST,
        ["{tmp}/connectors/court.yaml, line 3, column 1", "not valid YAML"],
        {"connectors/court.yaml": "source: court\nformat: [csv\n"},
    ),
    "connector not a mapping": Case(
        INGEST,
        ["court.yaml", "expected a mapping of source", "a YAML list"],
        {"connectors/court.yaml": "- source: court\n"},
    ),
    "--connectors missing": Case(["ingest", "--connectors", "{tmp}/nowhere"], ["--connectors", "no such folder"]),
    "--connectors without mappings": Case(["ingest", "--connectors", "{tmp}"], ["--connectors", "no mapping files"]),
    "--feeds missing": Case(
        ["ingest", "--connectors", "{connectors}", "--feeds", "{tmp}/nowhere"],
        ["--feeds", "{tmp}/nowhere", "no such folder"],
    ),
}

# More of the same kinds, in-process: the handler sits in the command group, so Typer's CliRunner
# sees what the shell sees, without a process start (seconds each) per case.
VARIANTS = {
    "--fixes not UTF-8": Case(REPLAY, ["fixes.json", "not UTF-8"], {"fixes.json": b'{"1": {"id_no": "\xff"}}'}),
    "--fixes a fix not an object": Case(
        REPLAY, ["fixes.json", "7: expected an object of column: value"], {"fixes.json": '{"7": "id_no=1"}'}
    ),
    "--fixes a folder": Case(
        ["ingest", "--replay", "--connectors", "{connectors}", "--fixes", "{tmp}"], ["{tmp}", "is a folder"]
    ),
    "check ID flight =G": Case(["check", PERSON, "flight", "=G"], ["'=G'", "key=value"]),
    "explain 12345": Case(["explain", "12345"], ["ID", "18 characters"]),
    "explain without ID or --example": Case(["explain"], ["ID number or --example"]),
    "explain ID --example top": Case(["explain", PERSON, "--example", "top"], ["not both", PERSON]),
    "score --engine banana": Case(
        ["score", "--engine", "banana"], ["--engine", "expected store, duckdb or spark", "banana"]
    ),
    "rulebook not a mapping": Case(SCORE, ["my-rules.yaml", "expected a rulebook"], {"my-rules.yaml": "- scheme\n"}),
    "rulebook empty": Case(SCORE, ["my-rules.yaml", "an empty file"], {"my-rules.yaml": ""}),
    "rulebook not UTF-8": Case(SCORE, ["my-rules.yaml", "not UTF-8"], {"my-rules.yaml": b"scheme: \xc0\n"}),
    "connector YAML indentation error": Case(
        INGEST,
        ["court.yaml", "line 3, column 7", "mapping values are not allowed here"],
        {"connectors/court.yaml": "source: court\nformat: csv\n  file: court.csv\n"},
    ),
    "connector missing a field": Case(
        INGEST, ["court.yaml", "file", "Field required"], {"connectors/court.yaml": "source: court\nformat: csv\n"}
    ),
    "connector not UTF-8": Case(INGEST, ["court.yaml", "not UTF-8"], {"connectors/court.yaml": b"source: c\xff\n"}),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_mistake_is_one_line_and_exit_status_2(case: Case, tmp_path: Path) -> None:
    args, names = case.prepare(tmp_path)
    line = assert_one_line_error(credence(*args, cwd=tmp_path), *names)
    assert "<unicode string>" not in line  # PyYAML's name for text it was not told the file of


@pytest.mark.parametrize("case", VARIANTS.values(), ids=VARIANTS.keys())
def test_more_mistakes_in_process(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDENCE_DATABASE_URL", f"sqlite:///{tmp_path / 'registry.db'}")
    monkeypatch.delenv("CREDENCE_DEBUG", raising=False)
    get_settings.cache_clear()
    try:
        args, names = case.prepare(tmp_path)
        result = CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for name in names:
        assert name in lines[0], lines[0]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [("CREDENCE_DEBUG", "maybe", "boolean"), ("CREDENCE_LOG_LEVEL", "LOUD", "expected DEBUG, INFO")],
)
def test_a_malformed_setting_is_named(tmp_path: Path, variable: str, value: str, expected: str) -> None:
    result = credence("report", cwd=tmp_path, **{variable: value})
    assert_one_line_error(result, variable, expected)


def test_credence_debug_shows_the_traceback(tmp_path: Path) -> None:
    quiet = credence("score", "--rulebook", "missing.yaml", cwd=tmp_path)
    assert_one_line_error(quiet, "missing.yaml")
    loud = credence("score", "--rulebook", "missing.yaml", cwd=tmp_path, CREDENCE_DEBUG="1")
    assert loud.returncode != 0
    assert "Traceback (most recent call last)" in loud.stderr
    assert "FileNotFoundError" in loud.stderr


def test_the_cli_runner_sees_the_exit_status_of_the_shell() -> None:
    result = CliRunner().invoke(app, ["check", PERSON, "rail_ticket", "notkv"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: check: attribute 'notkv': expected key=value, e.g. train_type=G"


class BusyError(CredenceError):
    exit_code = 75  # e.g. EX_TEMPFAIL: try again later


def toy() -> typer.Typer:
    """An app with the CLI's handler and one command per kind of failure."""
    toy = typer.Typer(cls=Commands)

    @toy.command()
    def busy() -> None:
        raise BusyError("another writer is running")

    @toy.command()
    def bug() -> None:
        raise KeyError("a bug")

    @toy.command()
    def pipe() -> None:
        raise ConnectionResetError(104, "Connection reset by peer")  # an OSError naming no file

    return toy


def test_an_error_class_can_choose_its_exit_status() -> None:
    result = CliRunner().invoke(toy(), ["busy"])
    assert result.exit_code == 75
    assert result.output.strip() == "error: another writer is running"


@pytest.mark.parametrize(("command", "raised"), [("bug", KeyError), ("pipe", ConnectionResetError)])
def test_anything_else_is_a_bug_and_keeps_its_traceback(command: str, raised: type[Exception]) -> None:
    result = CliRunner().invoke(toy(), [command])
    assert isinstance(result.exception, raised)  # not translated: Python prints its traceback
    assert "error:" not in result.output
