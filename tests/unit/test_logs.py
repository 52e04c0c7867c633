"""Info lines appear only once the CLI configures logging; each is one key=value line."""

import logging

import pytest

from credence.logs import configure, get_logger


def test_info_is_quiet_until_configured_then_key_value_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    credence = logging.getLogger("credence")
    saved = (credence.level, list(credence.handlers), credence.propagate)
    try:
        credence.setLevel(logging.NOTSET)
        log = get_logger("credence.test")
        log.info("quiet", subjects=1)
        assert "quiet" not in capsys.readouterr().err
        configure("info")
        configure("info")  # twice: still one handler
        log.info("registry.updated", subjects=2, scores=3)
        lines = [line for line in capsys.readouterr().err.splitlines() if "registry.updated" in line]
        assert len(lines) == 1
        assert lines[0].startswith("event='registry.updated'")
        assert "subjects=2" in lines[0]
        assert "scores=3" in lines[0]
    finally:
        credence.setLevel(saved[0])
        credence.handlers[:] = saved[1]
        credence.propagate = saved[2]
