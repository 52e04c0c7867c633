"""A task run every few seconds in a daemon thread beside a gate worker's event loop: the index
following the journal, the key table its change counter, the inquiry log its flushes.

One loop for the three: wait, run, and wait what is left of the interval. A task that raises is
counted and logged by type only (the store may be briefly away, and an error's text may quote a
row), and runs again at the next tick: what it keeps current goes on answering meanwhile.
"""

import threading
import time
from collections.abc import Callable

from credence import logs

log = logs.get_logger(__name__)


class Ticker:
    def __init__(self, task: Callable[[], object], *, every: float, name: str) -> None:
        self.task = task
        self.every = every
        self.name = name  # the thread's name, and the failure's log event (``<name>.failed``)
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"credence-{self.name}", daemon=True)
        self._thread.start()

    def close(self, *, timeout: float = 10.0) -> None:
        """Stop after the run under way, if any."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _run(self) -> None:
        wait = self.every
        while not self._stop.wait(wait):
            started = time.monotonic()
            try:
                self.task()
            except Exception as error:  # see the module docstring
                self.failures += 1
                log.warning(f"{self.name}.failed", error=type(error).__name__)
            wait = max(0.0, self.every - (time.monotonic() - started))
