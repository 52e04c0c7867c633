"""The pages' state in one process and how the gate's app mounts them.

``credence.api.app`` builds a ``Site`` in its lifespan (the engine, the sign-in service and the
clock it already holds, and the CSRF key derived from the sign-in key, so that every worker
signs alike) and calls ``install`` on the app.
"""

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from credence.accounts.signin import Accounts

STATIC = Path(__file__).parent / "static"
# where a browser posts a form: the gate's body limits take a form there, JSON elsewhere
FORM_PATHS = frozenset({"/sign-in", "/sign-in/code", "/sign-out", "/me/disputes", "/me/repairs"})
FORM_PREFIXES = ("/officers/",)  # the console's forms, a dispute's decision among them
# a dispute's form and a repair application's, with their evidence files: the gate's larger body limit
UPLOADS = ("/me/disputes", "/me/repairs")


@dataclass
class Site:
    engine: Engine
    accounts: Accounts
    clock: Callable[[], datetime]
    csrf_key: bytes
    secure_cookies: bool = False
    # a client address's sign-in allowance (the gate's, shared with the API): 0.0, or seconds to wait
    clients: Callable[[str], float] = lambda _address: 0.0
    # the mapping files (CREDENCE_CONNECTORS_DIR): a clerk's match applies its row as its feed's mapping reads it
    connectors: Path = Path("connectors")


def over_allowance(request: Request) -> float:
    """The seconds this sign-in form's client must wait (0.0: go ahead), one request taken."""
    return of(request).clients(request.client.host if request.client else "unknown")


def csrf_key(secret: bytes) -> bytes:
    """A key of its own for the forms' tokens, derived from the sign-in secret."""
    return hmac.new(secret, b"credence pages csrf", hashlib.sha256).digest()


def of(request: Request) -> Site:
    found: Site = request.app.state.site
    return found


def install(app: FastAPI) -> None:
    # the routes need the templates, which need this module
    from credence.web import (
        console,
        filing,
        linkage_console,
        manual_console,
        portal,
        public,
        repair_console,
        repair_filing,
    )

    app.include_router(public.router)
    app.include_router(filing.router)  # before the portal: /me/disputes/new is no receipt
    app.include_router(repair_filing.router)  # before the portal, as the dispute form
    app.include_router(portal.router)
    app.include_router(console.router)
    app.include_router(repair_console.router)
    app.include_router(manual_console.router)
    app.include_router(linkage_console.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
