"""Structured logging. Log key=value fields with internal subject ids only, never personal data.

structlog renders; the standard library decides the level and where lines go. Until the CLI calls
``configure`` the ``credence`` loggers follow the root logger (WARNING), so a library caller,
test or benchmark sees no info lines.
"""

import logging
import sys
from typing import Any

import structlog

structlog.configure(
    processors=[
        structlog.stdlib.filter_by_level,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.KeyValueRenderer(key_order=["event"]),
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (a test runner or Typer's CliRunner swaps
    it), and marks the handler ``configure`` adds, so that calling it twice adds it once."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure(level: str = "WARNING") -> None:
    """Send the ``credence`` loggers at ``level`` and above to stderr."""
    logger = logging.getLogger("credence")
    logger.setLevel(level.upper())
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
