"""The Certificate Transparency vectors (transparency-dev/merkle's testdata, in
tests/fixtures/ct-merkle, its README says where from): every happy path verifies, every tampered
case is refused."""

import base64
import json
from pathlib import Path

import pytest

from credence.audit import merkle

VECTORS = Path(__file__).parents[2] / "fixtures" / "ct-merkle"


def _cases(kind: str) -> list[Path]:
    found = sorted((VECTORS / kind).rglob("*.json"))
    assert found, f"no {kind} vectors under {VECTORS}"
    return found


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(value: list[str] | None) -> list[bytes]:
    return [_b64(h) for h in value or []]


def _name(path: Path) -> str:
    return str(path.relative_to(VECTORS))


@pytest.mark.parametrize("path", _cases("inclusion"), ids=_name)
def test_inclusion_vector(path: Path) -> None:
    case = json.loads(path.read_text())

    def check() -> None:
        merkle.verify_inclusion(
            case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), _proof(case["proof"]), _b64(case["root"])
        )

    if case["wantErr"]:
        with pytest.raises(merkle.ProofError):
            check()
    else:
        check()


@pytest.mark.parametrize("path", _cases("consistency"), ids=_name)
def test_consistency_vector(path: Path) -> None:
    case = json.loads(path.read_text())

    def check() -> None:
        merkle.verify_consistency(
            case["size1"], case["size2"], _proof(case["proof"]), _b64(case["root1"]), _b64(case["root2"])
        )

    if case["wantErr"]:
        with pytest.raises(merkle.ProofError):
            check()
    else:
        check()


def test_both_kinds_have_happy_and_tampered_cases() -> None:
    for kind in ("inclusion", "consistency"):
        wanted = [json.loads(p.read_text())["wantErr"] for p in _cases(kind)]
        assert wanted.count(False) >= 5
        assert wanted.count(True) >= 50
