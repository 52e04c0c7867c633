"""``create_app(settings)``: the gate's FastAPI application.

``credence serve`` runs it through the server's factory import string, once per worker. Each worker
opens the store as a reader (the serve command migrated it before starting them), keeps its own
key table, its own in-memory index of active measures (``screening.index``, following the
store's measure-change journal in a thread) and its own inquiry log (``screening.inquiries``,
flushed in a thread), and shares rate-limit buckets with its siblings
through ``CREDENCE_GATE_SHARED_DIR``.
The OpenAPI page's scripts and styles are served by the app itself (fastapi-offline ships them):
registries run on closed networks.
"""

import gc
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine

import credence
from credence import logs
from credence.accounts.codes import Keyring
from credence.accounts.messages import Senders
from credence.accounts.sessions import Policy
from credence.accounts.signin import Accounts
from credence.api import errors
from credence.api.deps import AccountsState, Gate
from credence.api.fast import FastChecks, route_of
from credence.api.limits import BodyLimits
from credence.api.metrics import Measured, Metrics
from credence.api.ratelimit import Buckets, ClientAllowance
from credence.api.routers import (
    auditors,
    checks,
    disputes,
    health,
    log,
    manual,
    officers,
    repairs,
    screenings,
    sign_in,
    submissions,
)
from credence.disputes.evidence import MAX_TOTAL
from credence.screening.index import open_index
from credence.screening.inquiries import InquiryLog
from credence.screening.providers import KeyTable
from credence.settings import Settings, get_settings
from credence.store.registry import connect
from credence.web import site

DISPUTE_BODY = MAX_TOTAL * 4 // 3 + 64 * 1024

DESCRIPTION = (
    "The point of service: may this subject do this action now? Providers (airlines, the railway, "
    "hotels, schools, carriers, banks) ask with a key scoped to their actions and learn only "
    "allowed or restricted, a reference, the legal basis and where to appeal."
)


def _wall() -> datetime:
    return datetime.now(UTC)


def accounts_for(settings: Settings, engine: Engine, key: str | None = None) -> Accounts:
    """The sign-in service: its HMAC key is ``CREDENCE_SIGN_IN_KEY``, else one made here (which
    ``python -m credence.api`` does once for all its workers, so that they agree)."""
    key = key or sign_in_key(settings)
    policy = Policy(
        lockout=timedelta(seconds=settings.sign_in_lockout),
        idle=timedelta(seconds=settings.session_idle),
        max_age=timedelta(seconds=settings.session_max),
    )
    senders = Senders(smtp_url=settings.smtp_url, sms_url=settings.sms_url, mail_from=settings.mail_from)
    return Accounts(engine, Keyring(key.encode("utf-8")), policy, senders)


def sign_in_key(settings: Settings) -> str:
    return settings.sign_in_key.get_secret_value() if settings.sign_in_key else secrets.token_hex(32)


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The gate's application for ``settings`` (default: from the environment); ``clock`` gives
    the sign-in routes' instants (default: the wall's; a test's to move time)."""
    settings = settings or get_settings()
    logs.configure(settings.log_level)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = connect(settings.database_url)
        shared = Path(settings.gate_shared_dir) / "buckets" if settings.gate_shared_dir else None
        buckets = Buckets(shared)
        keys = KeyTable(engine, poll=settings.gate_key_poll)
        keys.start()
        index, follower = open_index(engine, poll=settings.gate_index_poll, on_current=metrics.index)
        inquiries = InquiryLog(
            engine,
            flush=settings.gate_inquiry_flush,
            backlog=settings.gate_inquiry_backlog,
            move=settings.gate_inquiry_move,
            on_flush=metrics.flushed,
        )
        inquiries.start()
        app.state.gate = Gate(settings, engine, keys, buckets, index, follower, inquiries, metrics)
        key = sign_in_key(settings)
        signing_in = accounts_for(settings, engine, key)
        clients = Buckets(Path(settings.gate_shared_dir) / "sign-in-buckets" if settings.gate_shared_dir else None)
        allowance = ClientAllowance(clients, settings.sign_in_per_minute)
        app.state.accounts = AccountsState(signing_in, clock or _wall, allowance)
        app.state.site = site.Site(
            engine,
            signing_in,
            clock or _wall,
            site.csrf_key(key.encode()),
            settings.web_secure_cookies,
            allowance.take,
            Path(settings.connectors_dir),
        )
        # the app, the catalogue and the index are built once: out of every full collection, which
        # otherwise walks their 130,000 objects and stops the loop for 50 to 90 ms every few seconds
        gc.freeze()
        try:
            yield
        finally:
            inquiries.close()  # first: it writes what this process answered
            keys.close()
            follower.close()
            buckets.close()
            clients.close()
            engine.dispose()

    app = FastAPIOffline(
        title="Credence gate",
        version=credence.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        static_url="/docs-assets",
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(checks.router)
    app.include_router(screenings.router)
    app.include_router(log.router)
    app.include_router(sign_in.router)
    app.include_router(officers.router)
    app.include_router(disputes.router)
    app.include_router(repairs.router)
    app.include_router(manual.router)
    app.include_router(auditors.router)
    app.include_router(submissions.router)
    site.install(app)  # the pages: the public record and the subject's portal
    app.add_middleware(FastChecks, route=route_of(checks.router.routes))  # innermost: after 413 and 415
    # evidence of a dispute or repair comes as base64 in its JSON body: 20 MiB of files, a third more as text
    manifests = {
        "/v1/screenings": settings.gate_max_manifest_body,
        "/v1/disputes": DISPUTE_BODY,
        "/v1/repairs": DISPUTE_BODY,
        "/v1/submissions": settings.gate_max_manifest_body,
        **dict.fromkeys(site.UPLOADS, DISPUTE_BODY),  # the pages' dispute and repair forms, files as they are
    }
    bodiless = frozenset({"/v1/sign-out", "/v1/officers/sign-out"})
    app.add_middleware(
        BodyLimits,
        max_body=settings.gate_max_body,
        paths=manifests,
        bodiless=bodiless,
        forms=site.FORM_PATHS,
        form_prefixes=site.FORM_PREFIXES,
    )
    app.add_middleware(Measured, metrics=metrics)  # added last: outermost, so it counts 413 and 415 too
    return app
