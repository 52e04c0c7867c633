"""Outsiders against a served registry: ``credence audit witness`` cosigns a log that only grows
and refuses a split view (two trees of one size) and a later tree that does not extend the one
it cosigned; ``credence audit prove`` checks a subject's entries offline, and refuses a bundle
altered in transit. ``credence audit checkpoint`` and ``verify`` as a user runs them."""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select, text

from credence import audit
from credence.audit import proofs
from credence.store.orm import Event
from tests.common.feeds import listed_debtor, person_id
from tests.common.gate import credence, serve
from tests.common.log import ORIGIN, advance, log_key, settled, witness_key
from tests.conftest import fresh_engine

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _fill(engine: Engine, count: int, tag: str = "x") -> None:
    with engine.begin() as conn:
        for i in range(count):
            data = {"filler": f"{tag}-{i}"}
            audit.record(conn, tag=audit.EventTag.RULEBOOK_LOADED, subject=None, actor="test", data=data, now=NOW)


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Event)).scalar_one())


@pytest.fixture
def two_histories(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two stores of one log (one key, one origin) with different histories of the same size:
    what a registry showing one history to a subject and another to an airline would keep."""
    made = [fresh_engine(request.param, request, tmp_path) for _ in range(2)]
    a, b = (next(gen) for gen in made)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    listed_debtor(a, tmp_path / "a", person_id(date(1981, 3, 9), seq=411))
    listed_debtor(b, tmp_path / "b", person_id(date(1975, 5, 2), seq=77))
    gap = _events(a) - _events(b)
    _fill(b if gap > 0 else a, abs(gap), "pad")
    yield a, b
    for gen in made:
        next(gen, None)


def _witness(engine: Engine, base: str, key: Path, state: Path, log_public: str) -> tuple[int, str]:
    args = ["--url", base, "--key-file", str(key), "--state-file", str(state), "--log-key", log_public]
    ran = credence(engine, "audit", "witness", *args, "--origin", ORIGIN, "--once", check=False)
    return ran.returncode, ran.stdout + ran.stderr


@pytest.mark.parametrize("two_histories", STORES, indirect=True)
def test_the_witness_cosigns_growth_and_catches_a_split_view(
    two_histories: tuple[Engine, Engine], tmp_path: Path
) -> None:
    a, b = two_histories
    signer, _ = log_key(tmp_path)
    _, wkey = witness_key(tmp_path)
    state = tmp_path / "witness.json"
    public = signer.verifier.encode()
    first_a = advance(a, signer, NOW)
    first_b = advance(b, signer, NOW)
    assert first_a.size == first_b.size
    assert first_a.root != first_b.root
    with serve(a, tmp_path / "a") as served_a, serve(b, tmp_path / "b") as served_b:
        code, out = _witness(a, served_a.base, wkey, state, public)
        assert code == 0, out
        assert f"cosigned {ORIGIN} at size {first_a.size}" in out
        cosigned = json.loads(state.read_text())["note"]
        assert cosigned.count("\u2014 ") == 2  # the log's signature and the witness's

        code, out = _witness(b, served_b.base, wkey, state, public)
        assert code == 3, out
        assert "split view" in out
        assert json.loads(state.read_text())["size"] == first_a.size  # nothing cosigned

        _fill(a, 5, "more")
        grown = advance(a, signer, NOW)
        code, out = _witness(a, served_a.base, wkey, state, public)
        assert code == 0, out
        assert json.loads(state.read_text())["size"] == grown.size

        _fill(b, 40, "other")
        advance(b, signer, NOW)
        code, out = _witness(b, served_b.base, wkey, state, public)
        assert code == 3, out
        assert "does not extend" in out

        _prove(a, served_a.base, public, tmp_path)

        # a checkpoint signed by another key is refused before anything is compared
        forger, _ = log_key(tmp_path)
        _fill(a, 1, "forged")
        advance(a, forger, NOW)
        code, out = _witness(a, served_a.base, wkey, state, public)
        assert code != 0
        assert "not signed by" in out


def _prove(engine: Engine, base: str, public: str, tmp: Path) -> None:
    with engine.connect() as conn:
        subject = conn.execute(select(Event.subject_id).where(Event.subject_id.is_not(None)).limit(1)).scalar_one()
        commitment = proofs.commitment_of(conn, subject)
    assert commitment is not None
    response = httpx.get(f"{base}/v1/log/subjects/{commitment.hex()}", timeout=30)
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["entries"]
    saved = tmp / "bundle.json"
    saved.write_text(response.text)
    done = credence(engine, "audit", "prove", str(saved), "--log-key", public, "--origin", ORIGIN)
    assert f"{len(bundle['entries'])} entries proven" in done.stdout
    altered = json.loads(response.text)
    entry = json.loads(altered["entries"][0]["entry"])
    entry["tag"] = "listing.end"
    altered["entries"][0]["entry"] = json.dumps(entry, separators=(",", ":"), sort_keys=True)
    saved.write_text(json.dumps(altered))
    refused = credence(engine, "audit", "prove", str(saved), "--log-key", public, "--origin", ORIGIN, check=False)
    assert refused.returncode != 0
    assert "the leaf hash is not the hash of the entry" in refused.stderr + refused.stdout


def test_checkpoint_and_verify_as_a_user_runs_them(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed_debtor(engine, tmp_path, person_id(date(1981, 3, 9), seq=411))
    signer, key = log_key(tmp_path)
    monkeypatch.setenv("CREDENCE_LOG_KEY_FILE", str(key))
    monkeypatch.setenv("CREDENCE_LOG_ORIGIN", ORIGIN)
    settled(engine)  # else another test's transaction may hold every event back from this one run
    done = credence(engine, "audit", "checkpoint")
    assert "signed" in done.stdout
    public = signer.verifier.encode()
    ok = credence(engine, "audit", "verify", "--log-key", public)
    assert "the log is consistent" in ok.stdout
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE records DISABLE TRIGGER USER"))
            conn.execute(text("UPDATE records SET kind = 'traffic_offence'"))
        else:
            conn.execute(text("DROP TRIGGER records_no_update"))
            conn.execute(text("UPDATE records SET kind = 'traffic_offence'"))
    bad = credence(engine, "audit", "verify", "--log-key", public, check=False)
    assert bad.returncode == 1
    assert "the log is NOT consistent" in bad.stdout
    assert "table records: its append-only trigger is gone" in bad.stdout
    assert "differs from its record.accepted event" in bad.stdout


def test_a_missing_key_is_one_line(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENCE_LOG_KEY", raising=False)
    monkeypatch.delenv("CREDENCE_LOG_KEY_FILE", raising=False)
    ran = credence(engine, "audit", "checkpoint", check=False)
    assert ran.returncode == 2
    assert "no log signing key: set CREDENCE_LOG_KEY or CREDENCE_LOG_KEY_FILE" in ran.stderr
