"""PostgreSQL hands out ``seq`` at insert, not at commit: an event with a lower seq can commit
after one with a higher seq. The sequencer must neither skip it nor put it before a leaf
already signed (docs/decisions/0003-log-sequencing.md)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from credence import audit
from credence.audit import verify
from credence.store.orm import LogLeaf
from tests.common.log import ORIGIN, advance, log_key

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _event(conn: object, n: int) -> None:
    audit.record(conn, tag=audit.EventTag.RULEBOOK_LOADED, subject=None, actor="test", data={"n": n}, now=NOW)  # type: ignore[arg-type]


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_a_lower_seq_committed_late_is_integrated_after_the_leaves_before_it(engine: Engine, tmp_path: Path) -> None:
    signer, _ = log_key(tmp_path)
    with engine.connect() as slow:
        slow.begin()
        _event(slow, 1)  # takes the lower seq, and stays open
        with engine.begin() as fast:
            _event(fast, 2)  # the higher seq, committed first
        early = advance(engine, signer, NOW, settle=False)
        assert early.integrated == 0  # the older transaction is still running: nothing is final yet
        slow.commit()
    done = advance(engine, signer, NOW)
    assert done.integrated == 2
    with engine.connect() as conn:
        seqs = conn.execute(select(LogLeaf.seq).order_by(LogLeaf.idx)).scalars().all()
        report = verify.verify(conn, signer.verifier, origin=ORIGIN)
    assert seqs == sorted(seqs)
    assert report.consistent, report.problems
    assert report.pending == 0


def test_events_after_a_checkpoint_wait_for_the_next(engine: Engine, tmp_path: Path) -> None:
    signer, _ = log_key(tmp_path)
    with engine.begin() as conn:
        _event(conn, 1)
    first = advance(engine, signer, NOW)
    with engine.begin() as conn:
        _event(conn, 2)
        _event(conn, 3)
    with engine.connect() as conn:
        assert verify.verify(conn, signer.verifier, origin=ORIGIN).pending == 2
    second = advance(engine, signer, NOW)
    assert (first.size, second.size, second.integrated) == (1, 3, 2)
