"""A PostgreSQL registry with its owner and service roles (``credence db roles``), for tests that
run the application as the restricted role. Role names belong to the whole server and tests run
in other databases at the same time, so each registry's roles are named after its database and
dropped with it."""

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from sqlalchemy import Engine

from credence.store import roles
from credence.store.db import make_engine

ADMIN = os.environ.get("CREDENCE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
_made = itertools.count()


@dataclass(frozen=True)
class Restricted:
    """The registry reached as the administrator (a superuser: what migrates) and as the service."""

    admin: Engine
    service: Engine
    owner_role: str
    service_role: str
    done: roles.Roles


def url(database: str, user: str | None = None) -> str:
    base = ADMIN.rsplit("/", 1)[0] + f"/{database}"
    return base if user is None else base.replace("postgres@", f"{user}@", 1)


def database_name(tag: str) -> str:
    return f"credence_{tag}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}_{next(_made)}"


def drop_roles(*names: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        for name in names:
            admin.execute(f"DROP ROLE IF EXISTS {name}")


@contextmanager
def database(template: str, tag: str = "roles") -> Iterator[str]:
    """A database of its own, a copy of the migrated template; dropped at the end."""
    name = database_name(tag)
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield name
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def restricted(template: str) -> Iterator[Restricted]:
    """A fresh registry whose schema is its owner role's, and the service role's engine."""
    with database(template) as name:
        owner, service = f"{name}_owner", f"{name}_svc"
        admin = make_engine(url(name))
        made: Engine | None = None
        try:
            done = roles.ensure(admin, owner=owner, service=service)
            made = make_engine(url(name, service))
            yield Restricted(admin, made, owner, service, done)
        finally:
            if made is not None:
                made.dispose()
            admin.dispose()
            # dropping the database drops every grant and default privilege the roles hold in it
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            drop_roles(owner, service)
