"""Per-provider rate limits shared by every worker process of one ``credence serve``.

A token bucket per provider (capacity: one second of its rate, at least one check), kept in a
small memory-mapped file that the workers share, and updated under an ``flock``: a provider gets
its rate from the whole server, however the kernel spreads its connections over the workers.
A bucket per process would let N workers allow N times the rate, or (at rate/N each) refuse a
provider whose one keep-alive connection lands on one worker. The file holds 4,096 slots of 32
bytes, found by open addressing on the provider's id; the update costs two system calls, not a
query. Time is ``time.monotonic()``, which is one clock for all processes on Linux.

Without a shared file (an app built in a test, or one process) the buckets live in anonymous
memory of this process.
"""

import fcntl
import mmap
import os
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from credence.exc import UnavailableError

SLOT = struct.Struct("<16sdd")  # provider id, tokens, last refill (monotonic seconds)
SLOTS = 4096
SIZE = SLOT.size * SLOTS
EMPTY = bytes(16)


class ClosedError(UnavailableError):
    """The buckets were closed: the worker is stopping, and a server may still be finishing a
    request it had read (HTTP 503 with Retry-After)."""


class Buckets:
    def __init__(self, path: Path | None = None) -> None:
        self._fd: int | None = None
        if path is None:
            self._map = mmap.mmap(-1, SIZE)
        else:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(fd).st_size < SIZE:
                os.ftruncate(fd, SIZE)  # zero bytes: every slot empty
            self._fd = fd
            self._map = mmap.mmap(fd, SIZE)
        self._threads = threading.Lock()  # flock is per open file, so threads of one process need their own

    @contextmanager
    def _held(self) -> Iterator[None]:
        with self._threads:
            if self._fd is None:
                yield
                return
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _slot(self, key: bytes) -> int:
        start = int.from_bytes(key[:4], "little") % SLOTS
        for step in range(SLOTS):
            offset = ((start + step) % SLOTS) * SLOT.size
            found = self._map[offset : offset + 16]
            if found in (key, EMPTY):
                return offset
        return start * SLOT.size  # full: share a slot rather than refuse everyone

    def take(self, provider: uuid.UUID, rate: float, now: float, *, burst: float | None = None) -> float:
        """Take one check from ``provider``'s bucket at ``rate`` per second (holding at most
        ``burst``, by default one second's worth): 0.0 if allowed, else the seconds until one is
        available."""
        burst = max(1.0, rate if burst is None else burst)
        key = provider.bytes
        if self._map.closed:
            raise ClosedError("the gate is stopping; try again")
        with self._held():
            offset = self._slot(key)
            stored, tokens, last = SLOT.unpack_from(self._map, offset)
            if stored != key:
                tokens, last = burst, now
            tokens = min(burst, tokens + max(0.0, now - last) * rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / rate
            SLOT.pack_into(self._map, offset, key, tokens, now)
        return wait

    def close(self) -> None:
        self._map.close()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


CLIENTS = uuid.UUID("5f0c2d4e-0b5a-4c39-9a55-6f1d8c2e7a10")  # names a client address's bucket


class ClientAllowance:
    """``per_minute`` sign-in requests a client address may make (a burst of as many), over the
    API's and the pages' sign-in alike: the lock-out guards one account, this slows one client
    trying many. ``take`` gives 0.0, or the seconds to wait."""

    def __init__(self, buckets: Buckets, per_minute: int) -> None:
        self.buckets = buckets
        self.per_minute = per_minute

    def take(self, address: str) -> float:
        bucket = uuid.uuid5(CLIENTS, address)
        return self.buckets.take(bucket, self.per_minute / 60.0, time.monotonic(), burst=self.per_minute)
