"""pyspark is an optional extra: without it ``import credence``, every room and the CLI's help
work, and ``credence score --engine spark`` says in one line how to install it.

Each check runs in a fresh interpreter in which a meta-path finder refuses to import pyspark,
as an environment without the extra would (pyspark is installed here, for the Spark tests).
"""

import os
import subprocess
import sys
from pathlib import Path

HIDE = """
import sys

class NoSpark:
    def find_spec(self, name, path=None, target=None):
        if name == "pyspark" or name.startswith("pyspark.") or name == "py4j" or name.startswith("py4j."):
            raise ImportError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, NoSpark())
"""


def run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CREDENCE_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}", "COLUMNS": "200"}
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", HIDE + code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )


def test_credence_imports_without_pyspark(tmp_path: Path) -> None:
    code = """
import pkgutil, importlib
import credence
for module in pkgutil.walk_packages(credence.__path__, "credence."):
    if ".migrations." not in module.name:
        importlib.import_module(module.name)
assert "pyspark" not in sys.modules, "something imported pyspark"
print("imported", credence.__version__)
"""
    done = run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "imported" in done.stdout


def test_the_cli_helps_without_pyspark(tmp_path: Path) -> None:
    code = """
from credence.cli import main
for argv in (["credence", "--help"], ["credence", "score", "--help"]):
    sys.argv = argv
    try:
        main()
    except SystemExit as stop:
        assert stop.code in (0, None), stop.code
"""
    done = run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "spark" in done.stdout  # score --help names the engine


def test_score_on_spark_without_pyspark_says_how_to_install_it(tmp_path: Path) -> None:
    code = """
from credence.cli import main
sys.argv = ["credence", "score", "--engine", "spark"]
main()
"""
    done = run(code, tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "error: the Spark engine needs pyspark: install the spark extra (pip install 'credence[spark]') and Java 17"
    ]
    assert not (tmp_path / "registry.db.writer").exists()
