"""Least privilege on PostgreSQL: an owner role holds the schema, a service role runs the registry.

The owner (NOLOGIN) owns the schema and every table, sequence and function in it; migrations run
as the owner (``as_owner``), so what they create is the owner's too. The service role (LOGIN)
owns nothing and is no member of the owner: on the append-only tables it may INSERT and SELECT
and nothing else, so an UPDATE, DELETE or TRUNCATE is refused by the privilege check before any
trigger runs, and it cannot drop or disable a trigger (that takes the table's owner) or run DDL
(no CREATE on the schema or the database, no TEMPORARY). On the working tables it gets exactly
what the code does to them (``PRIVILEGES``). A table the map does not name is refused by
``ensure``, naming it, so a migration that adds one must say what the service may do to it.

SQLite has no roles: there the triggers guard the append-only tables and ``credence audit
verify`` detects a direct edit (``NoRolesError``).
"""

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from credence.exc import CredenceError
from credence.store.registry import open_registry

OWNER = "credence_owner"
SERVICE = "credence_service"
NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
RACED = ("42710", "23505")  # duplicate_object, unique_violation: another session made the role first
LOCK = 0x43524544_0019  # one `ensure` at a time per database: concurrent GRANTs on one table collide

READ = frozenset({"SELECT"})
APPEND = frozenset({"SELECT", "INSERT"})
UPDATE = APPEND | {"UPDATE"}
DELETE = APPEND | {"DELETE"}

# Their triggers refuse UPDATE, DELETE and TRUNCATE (migrations 0001, 0007, 0009, 0010, 0022, 0023); the
# service role holds no privilege for them either.
APPEND_ONLY = (
    "records",
    "events",
    "inquiries",
    "notices",
    "notice_attempts",
    "log_leaves",
    "log_nodes",
    "log_checkpoints",
    "links",  # record linkage's proposals
    "link_judgements",  # clerks' judgements of them
    "subject_merges",  # officers' merges and splits of subjects
)

# What the service role may do to each table (SELECT is needed by any UPDATE or DELETE with a WHERE).
PRIVILEGES: dict[str, frozenset[str]] = {
    **dict.fromkeys(APPEND_ONLY, APPEND),
    # append-only too, but the inquiry move deletes the rows it copied into inquiries; the
    # trigger (migration 0008) refuses any other DELETE and every UPDATE
    "inquiries_staged": DELETE,
    # written only by migrations and the catalogue sync, which run as the owner
    "alembic_version": READ,
    "sources": READ,
    # written once, never changed
    "subjects": APPEND,
    "log_salts": APPEND,
    "measure_changes": APPEND,
    "dispute_evidence": APPEND,
    "repair_evidence": APPEND,
    "manual_actions": APPEND,
    "manual_decisions": APPEND,
    "officer_relations": APPEND,
    "staff_alerts": APPEND,
    "score_interval_history": APPEND,
    "listing_history": APPEND,
    "active_measure_history": APPEND,
    "exemption_history": APPEND,
    # derived state: a changed version moves to its history table (store/versioned.replace)
    "score_intervals": DELETE,
    "listings": DELETE,
    "active_measures": DELETE,
    "exemptions": DELETE,
    # working tables
    "pending_subjects": DELETE,  # cleared by the refresh that rescores them
    "provider_hooks": DELETE,  # a provider's webhook is replaced
    "feed_loads": UPDATE,  # the ledger's position
    "quarantine": UPDATE,  # replayed_at
    "holds": UPDATE,  # closed by release or rejection
    "rulebooks": UPDATE,  # a published draft
    "providers": UPDATE,  # revoked keys
    "notice_deliveries": UPDATE,  # claims, leases, states
    "provider_calls": UPDATE,  # claims, leases, states
    "disputes": UPDATE,  # decided, lapsed (and locked FOR UPDATE)
    "repair_applications": UPDATE,  # decided (and locked FOR UPDATE)
    "agency_keys": UPDATE,  # revoked
    "submissions": UPDATE,  # the load's counts, once applied
    "officers": UPDATE,  # revoked
    "sign_in_challenges": UPDATE,  # tries, used
    "account_sessions": UPDATE,  # last seen, ended
}


class NoRolesError(CredenceError):
    """The store is SQLite, which has no roles or privileges."""

    status = 422

    def __init__(self) -> None:
        super().__init__(
            "this registry is an SQLite file: SQLite has no roles or privileges, so there is nothing to create."
            " Its append-only tables are guarded by their triggers only, which anyone who can write the file can"
            " drop, and `credence audit verify` detects a direct edit; for a service that cannot edit its own"
            " history, use PostgreSQL (CREDENCE_DATABASE_URL=postgresql://...) and run this command there"
        )


@dataclass(frozen=True, slots=True)
class Roles:
    """What ``ensure`` did: the roles (and which it created), the objects it gave the owner and
    the tables it granted the service."""

    database: str
    schema: str
    owner: str
    service: str
    created: tuple[str, ...]
    owned: int
    tables: int


def check_name(name: str, *, option: str) -> str:
    """A role name as PostgreSQL folds an unquoted one: lower case, letters, digits and ``_``."""
    if not NAME.fullmatch(name):
        raise CredenceError(
            f"{option}: {name!r} is not a role name; expected lower-case letters, digits and _, at most 63,"
            " starting with a letter or _"
        )
    return name


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


OWNER_ATTRIBUTES = "NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
SERVICE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"


def _create(conn: Connection, name: str, attributes: str) -> bool:
    """Create the role unless it exists; True if this call created it. Role names are the whole
    server's: another database's ``ensure`` may create the same role at the same moment, and the
    loser of that race finds it made (its CREATE, in a savepoint, is refused and undone)."""
    if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first() is not None:
        return False
    try:
        with conn.begin_nested():
            conn.execute(text(f"CREATE ROLE {_quote(conn, name)} {attributes}"))
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) not in RACED:
            raise
        return False
    return True


def _scram(conn: Connection, user: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of ``password``, computed by libpq here, so that the password
    itself never reaches the server or its statement log."""
    # Any: the DBAPI connection is psycopg's, which SQLAlchemy does not type
    driver: Any = conn.connection.driver_connection
    verifier: bytes = driver.pgconn.encrypt_password(password.encode(), user.encode(), b"scram-sha-256")
    value = verifier.decode("ascii")
    if "'" in value or "\\" in value:  # pragma: no cover - a verifier is base64 with $ and : between
        raise CredenceError("the service password's verifier has an unexpected character")
    return value


def _member(conn: Connection, role: str | None, of: str) -> bool:
    """Whether ``role`` (None: the current user; a superuser always is) may SET ROLE to ``of``."""
    who = "" if role is None else "CAST(:r AS name), "
    found = conn.execute(text(f"SELECT pg_has_role({who}CAST(:o AS name), 'MEMBER')"), {"r": role, "o": of})
    return bool(found.scalar_one())


def _alter(conn: Connection, name: str, attributes: str) -> None:
    """Set the role's attributes only where they differ: an ALTER ROLE of one role from two
    databases at once can fail ("tuple concurrently updated"), and a second ``ensure`` needs none."""
    wanted = {word.removeprefix("NO"): not word.startswith("NO") for word in attributes.split()}
    row = (
        conn.execute(
            text(
                "SELECT rolcanlogin AS login, rolsuper AS superuser, rolcreatedb AS createdb,"
                " rolcreaterole AS createrole, rolinherit AS inherit, rolreplication AS replication,"
                " rolbypassrls AS bypassrls"
                " FROM pg_roles WHERE rolname = :n"
            ),
            {"n": name},
        )
        .one()
        ._mapping
    )
    if any(row[key.lower()] != value for key, value in wanted.items()):
        conn.execute(text(f"ALTER ROLE {_quote(conn, name)} {attributes}"))


def _roles(conn: Connection, owner: str, service: str, password: str | None) -> tuple[str, ...]:
    made = tuple(
        name for name, attrs in ((owner, OWNER_ATTRIBUTES), (service, SERVICE_ATTRIBUTES)) if _create(conn, name, attrs)
    )
    _alter(conn, owner, OWNER_ATTRIBUTES)
    _alter(conn, service, SERVICE_ATTRIBUTES)
    if password:
        # not text(): its colons would read as bind parameters
        conn.exec_driver_sql(f"ALTER ROLE {_quote(conn, service)} PASSWORD '{_scram(conn, service, password)}'")
    if _member(conn, service, owner):
        conn.execute(text(f"REVOKE {_quote(conn, owner)} FROM {_quote(conn, service)}"))
        if _member(conn, service, owner):
            raise CredenceError(
                f"role {service} is a member of {owner} through another role, so it could act as the owner;"
                " revoke that membership and run this again"
            )
    if not _member(conn, None, owner):
        # handing the owner its objects takes membership of it; a superuser needs none
        conn.execute(text(f"GRANT {_quote(conn, owner)} TO CURRENT_USER"))
    return made


def _objects(conn: Connection) -> list[tuple[str, str]]:
    """(kind, quoted name) of what the registry's schema holds: tables, views, the sequences no
    table owns (a table's own sequences follow it), and functions."""
    rows = conn.execute(
        text(
            "SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'"
            " ELSE 'TABLE' END, quote_ident(c.relname) FROM pg_class c"
            " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
            " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass"
            " AND d.deptype IN ('a', 'i') AND c.relkind = 'S')"
            " UNION ALL SELECT 'FUNCTION', p.oid::regprocedure::text FROM pg_proc p"
            " WHERE p.pronamespace = current_schema()::regnamespace ORDER BY 1, 2"
        )
    )
    return [(str(kind), str(name)) for kind, name in rows]


def _tables(conn: Connection) -> list[str]:
    return list(
        conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
                " AND relkind IN ('r', 'p') ORDER BY relname"
            )
        ).scalars()
    )


def _grant(conn: Connection, schema: str, database: str, owner: str, service: str) -> int:
    """The service role's privileges, from nothing: everything it held in the schema is revoked
    first, so a run after a change to ``PRIVILEGES`` takes away what is no longer granted."""
    q, s, o, db = _quote(conn, service), _quote(conn, schema), _quote(conn, owner), _quote(conn, database)
    tables = _tables(conn)
    unknown = [t for t in tables if t not in PRIVILEGES]
    if unknown:
        raise CredenceError(
            f"tables {', '.join(unknown)}: credence.store.roles.PRIVILEGES does not say what the service role may do"
            " to them; add them there (nothing was granted)"
        )
    conn.execute(text(f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC"))
    conn.execute(text(f"REVOKE CREATE, TEMPORARY ON DATABASE {db} FROM PUBLIC"))
    conn.execute(text(f"REVOKE ALL ON DATABASE {db} FROM {q}"))
    conn.execute(text(f"GRANT CONNECT ON DATABASE {db} TO {q}"))
    conn.execute(text(f"REVOKE ALL ON SCHEMA {s} FROM {q}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA {s} TO {q}"))
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM PUBLIC, {q}"))
    conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM PUBLIC, {q}"))
    for table in tables:
        conn.execute(text(f"GRANT {', '.join(sorted(PRIVILEGES[table]))} ON {_quote(conn, table)} TO {q}"))
    conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {q}"))  # nextval for serial ids
    # a table a later migration adds (as the owner) can be read and appended to at once;
    # anything more waits for this command to be run again, which refuses a table it does not know
    conn.execute(text(f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT SELECT, INSERT ON TABLES TO {q}"))
    conn.execute(text(f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT USAGE ON SEQUENCES TO {q}"))
    return len(tables)


def ensure(engine: Engine, *, owner: str = OWNER, service: str = SERVICE, password: str | None = None) -> Roles:
    """Create the owner and service roles if they do not exist, give the owner the registry's
    schema and everything in it, and grant the service role exactly ``PRIVILEGES``. Idempotent,
    and safe to run from several processes at once (one at a time per database, by an advisory
    lock; role creation tolerates a race with another database).

    Args:
        engine: the registry, reached as a role that may create roles and hand out its objects
            (a superuser, or a CREATEROLE role that owns them); the schema is at head.
        owner: the owner role (NOLOGIN): migrations run as it.
        service: the service role (LOGIN): what CREDENCE_DATABASE_URL names for the registry.
        password: the service role's password, if it signs in with one; only its SCRAM
            verifier is sent.

    Raises:
        NoRolesError: the store is SQLite.
        CredenceError: a bad role name, a table ``PRIVILEGES`` does not name, or a service role
            that is a member of the owner through another role.
    """
    if engine.dialect.name != "postgresql":
        raise NoRolesError
    check_name(owner, option="--owner")
    check_name(service, option="--service")
    if owner == service:
        raise CredenceError(f"--owner and --service are both {owner!r}; the service role must not own the schema")
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
        schema, database = conn.execute(text("SELECT current_schema(), current_database()")).one()
        made = _roles(conn, owner, service, password)
        o = _quote(conn, owner)
        conn.execute(text(f"ALTER SCHEMA {_quote(conn, schema)} OWNER TO {o}"))
        objects = _objects(conn)
        for kind, name in objects:
            conn.execute(text(f"ALTER {kind} {name} OWNER TO {o}"))
        tables = _grant(conn, schema, database, owner, service)
    return Roles(
        database=str(database),
        schema=str(schema),
        owner=owner,
        service=service,
        created=made,
        owned=len(objects),
        tables=tables,
    )


def service_url(url: str, service: str) -> str:
    """``url`` with the service role as its user and no password (shown, never stored)."""
    return make_url(url).set(username=service, password=None).render_as_string(hide_password=False)


def as_owner(conn: Connection) -> None:
    """Run the rest of ``conn``'s transaction as the schema's owner role, once ``ensure`` has
    given the schema one, so that what a migration creates is the owner's too (and the service
    role's default privileges apply to it). A migrator that is not a member is told so."""
    if conn.dialect.name != "postgresql":
        return
    owner = conn.execute(
        text(
            "SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'alembic_version'"
            " AND tableowner <> current_user"
        )
    ).scalar()
    if owner is None:
        return
    if not _member(conn, None, owner):
        user = conn.execute(text("SELECT current_user")).scalar_one()
        raise CredenceError(
            f"the registry's schema is due for a migration, which runs as its owner role {owner}, and {user} is"
            f" not a member of it (the service role never is): set CREDENCE_MIGRATION_URL to a login that is,"
            " or run `credence db upgrade` with it"
        )
    conn.execute(text(f"SET LOCAL ROLE {_quote(conn, owner)}"))


def create(url: str, *, owner: str = OWNER, service: str = SERVICE, password: str | None = None) -> Roles:
    """``ensure`` on the registry at ``url`` (an administrator's URL: CREDENCE_MIGRATION_URL, or
    CREDENCE_DATABASE_URL before the service moves to its role), after bringing its schema to the
    newest migration. An SQLite URL is refused before anything is opened or created."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        backend = None  # open_registry names what is wrong with it
    if backend == "sqlite":
        raise NoRolesError
    check_name(owner, option="--owner")
    check_name(service, option="--service")
    engine = open_registry(url)
    try:
        return ensure(engine, owner=owner, service=service, password=password)
    finally:
        engine.dispose()
