"""Prometheus metrics: requests and latency per route template, never per subject.

Labels are the method, the route's template (``/v1/checks``, never a path with an ID number in
it) and the status; a path no route matches is counted as ``unmatched``. With several worker
processes (``credence serve --workers N`` sets ``PROMETHEUS_MULTIPROC_DIR``) each worker writes
its numbers to that folder and ``/metrics`` adds up every worker's.
"""

import os
import time
from collections.abc import Sequence
from typing import Literal

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credence.ingest.holds import HoldView
from credence.screening.index import Snapshot

# a label never takes a client's string as it came
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# seconds: a check is expected in well under a millisecond of server time, a slow one in tens
BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "credence_gate_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "credence_gate_request_seconds",
            "Time from request to the end of the response, by method and route template.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )

        # each worker holds its own index: in multiprocess mode the worst live worker is what counts
        self.index_subjects = self._gauge(
            "subjects", "Restricted or noticed subjects the index holds (the smallest among live workers).", "livemin"
        )
        self.index_bytes = self._gauge(
            "bytes", "Bytes of the index's arrays (the largest among live workers).", "livemax"
        )
        self.index_version = self._gauge(
            "version",
            "The newest measure-change journal entry the index has applied (the oldest among live workers).",
            "livemin",
        )
        self.index_current = self._gauge(
            "current_timestamp_seconds",
            "When the index last knew it was current (Unix time; the oldest among live workers): "
            "its age is time() minus this.",
            "livemin",
        )

        self.inquiries_written = Counter(
            "credence_gate_inquiries_written",
            "Answers recorded in the inquiry log (checks and manifest entries).",
            registry=self.registry,
        )
        self.inquiries_waiting = Gauge(
            "credence_gate_inquiries_waiting",
            "Answers given and not yet recorded in the inquiry log (the sum over live workers).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.inquiry_flush_failures = Counter(
            "credence_gate_inquiry_flush_failures",
            "Flushes of the inquiry log the store refused (their rows are kept and retried).",
            registry=self.registry,
        )

        # each label set's child, looked up once: ``labels()`` costs more than the count itself
        self._counted: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its time."""
        children = self._counted.get((method, route, status))
        if children is None:
            children = self.requests.labels(method, route, str(status)), self.latency.labels(method, route)
            self._counted[method, route, status] = children
        children[0].inc()
        children[1].observe(seconds)

    def _gauge(self, name: str, documentation: str, mode: Literal["livemin", "livemax"]) -> Gauge:
        return Gauge(f"credence_gate_index_{name}", documentation, registry=self.registry, multiprocess_mode=mode)

    def index(self, snapshot: Snapshot) -> None:
        """Publish the state of this worker's index."""
        self.index_subjects.set(snapshot.subjects)
        self.index_bytes.set(snapshot.people.nbytes)
        self.index_version.set(snapshot.seq)
        self.index_current.set(time.time())

    def flushed(self, written: int, waiting: int, failed: bool) -> None:
        """Publish a flush of this worker's inquiry log."""
        self.inquiries_written.inc(written)
        self.inquiries_waiting.set(waiting)
        if failed:
            self.inquiry_flush_failures.inc()

    def exposition(self) -> tuple[bytes, str]:
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not folder:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        every = CollectorRegistry()
        MultiProcessCollector(every, path=folder)  # type: ignore[no-untyped-call]  # prometheus-client leaves it untyped
        return generate_latest(every), CONTENT_TYPE_LATEST


def breaker(holds: Sequence[HoldView]) -> bytes:
    """The circuit breakers' state as read from the store at scrape time (any process may have
    tripped one: a feed load, a submission, a replay), by source: open holds and rows waiting in
    them. An alert rule on ``credence_breaker_open_holds > 0`` is the operator's page (DESIGN P7)."""
    registry = CollectorRegistry()
    opened = Gauge(
        "credence_breaker_open_holds",
        "Open circuit-breaker holds by source: adverse rows held for review, not applied.",
        ["source"],
        registry=registry,
    )
    waiting = Gauge(
        "credence_breaker_held_rows",
        "Rows waiting, unapplied, in the open holds, by source.",
        ["source"],
        registry=registry,
    )
    for hold in holds:
        opened.labels(hold.source_id).inc()
        waiting.labels(hold.source_id).inc(hold.waiting)
    return generate_latest(registry)


class Measured:
    """ASGI middleware that counts and times every HTTP request."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.metrics.observe(method, route, status, time.perf_counter() - started)
