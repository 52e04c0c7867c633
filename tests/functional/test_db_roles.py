"""Least privilege on PostgreSQL (issue 10, part 4): the registry runs as a service role that
may append to its history and never rewrite it. As that role the application works (ingest,
scoring and listing, the gate's checks and inquiry log, the worker's deliveries, the
transparency log's advance), and a direct UPDATE, DELETE or TRUNCATE of an append-only table, a
dropped or disabled trigger and DDL are refused by the database itself. SQLite has no roles, and
``credence db roles`` says so."""

import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from credence import resolve
from credence.audit import verify
from credence.cli import app
from credence.dueprocess import disputes
from credence.dueprocess.channels import Mail
from credence.dueprocess.delivery import Channels
from credence.exc import CredenceError
from credence.outbox.claims import Retry
from credence.pipeline import clock, scoring
from credence.pipeline.feeds import release_held, replay_quarantine
from credence.pipeline.worker import Plan, run
from credence.screening.inquiries import InquiryLog
from credence.settings import get_settings
from credence.store import roles
from credence.store.db import alembic_config
from credence.store.orm import Base, Hold, Inquiry, NoticeDelivery, Provider, Quarantine, Record, StagedInquiry
from credence.store.registry import open_registry
from tests.common.feeds import SCHEMES, Registry, mapping_for, person_id
from tests.common.gate import add_provider, credence, serve, url_of
from tests.common.log import ORIGIN, advance, log_key
from tests.common.mail import MailCatcher, mails
from tests.common.roles import Restricted, database, drop_roles, restricted, url
from tests.common.signin import ALICE, BOB, Site, add_officer, officer_sign_in
from tests.conftest import STORES, fresh_engine

DEBTOR = person_id(date(1981, 3, 9), seq=411)
NEIGHBOUR = person_id(date(1981, 3, 9), seq=412)
CASE = "(2025)苏05执321号"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


@pytest.fixture
def registry(pg_template: str) -> Iterator[Restricted]:
    with restricted(pg_template) as made:
        yield made


@pytest.fixture(scope="module")
def shared(pg_template: str) -> Iterator[Restricted]:
    """One restricted registry for the refusals, which change nothing."""
    with restricted(pg_template) as made:
        yield made


def _refused(engine: Engine, statement: str) -> DBAPIError:
    """Run ``statement`` in a transaction of its own; the database's refusal."""
    with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
        conn.execute(text(statement))
    return refused.value


def _insufficient(engine: Engine, statement: str) -> None:
    error = _refused(engine, statement)
    assert isinstance(error.orig, psycopg.errors.InsufficientPrivilege), (statement, error.orig)


def _feeds(reg: Registry) -> None:
    reg.feed(
        "police",
        [{"id_number": DEBTOR, "kind": "contact", "date": "2024-01-10", "attrs": {"email": "wang.lei@example.com"}}],
    )
    decision = {"case_number": CASE, "court": "Suzhou Intermediate People's Court", "ground": 1}
    reg.feed(
        "court",
        [
            {
                "id_number": DEBTOR,
                "kind": "defaulter_listing_decision",
                "date": "2025-06-01",
                "attrs": decision,
                "region": "",
            }
        ],
    )


@pytest.mark.postgres
def test_the_registry_runs_as_the_service_role(
    registry: Restricted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = registry.service
    with service.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() == registry.service_role
    reg = Registry(service, tmp_path, now=datetime(2025, 6, 1, 8, 0, tzinfo=UTC))
    _feeds(reg)  # ingest, then the incremental refresh (score intervals, listings, measures, notices)
    rebuilt = scoring.score(
        service, SCHEMES, where=scoring.Where.DUCKDB, dry_run=False, as_of=reg.now.date(), now=reg.tick()
    )
    assert rebuilt.graded

    reg.feed("police", [{"id_number": "320505198103094", "kind": "contact", "date": "2024-01-10", "attrs": {}}])
    with service.connect() as conn:
        quarantined = conn.execute(select(Quarantine.id)).scalar_one()
    fixed = {quarantined: {"id_number": NEIGHBOUR}}
    replayed, still, _ = replay_quarantine(
        service, {"police": mapping_for("police")}, SCHEMES, now=reg.tick(), as_of=reg.now.date(), fixes=fixed
    )
    assert (replayed.accepted, still) == (1, [])

    credence(service, "officers", "add", "li-na", "--agency", "court", "--email", "li.na@example.com")
    assert "revoked" in credence(service, "officers", "revoke", "li-na").stdout
    key = add_provider(service, "china-eastern", "flight")  # `credence providers add`, as the service
    monkeypatch.setenv("CREDENCE_WEBHOOK_KEY", "k" * 32)
    for hook in ("https://hooks.example.com/a", "https://hooks.example.com/b"):  # the second replaces the first
        assert hook in credence(service, "providers", "webhook", "china-eastern", hook).stdout
    with serve(service, tmp_path) as gate:  # `credence serve`: opens the registry, answers, logs inquiries
        answer = gate.post({"subject": DEBTOR, "action": "flight"}, key=key)
    assert answer.status_code == 200, answer.text
    assert answer.json()["decision"] == "restricted"
    log = InquiryLog(service)  # the move deletes the staged rows it copied: the one DELETE there
    assert log.move_now() >= 1
    with service.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(StagedInquiry)) == 0
        assert conn.scalar(select(func.count()).select_from(Inquiry)) >= 1
        provider = conn.execute(select(Provider.id)).scalar_one()
    assert provider

    with MailCatcher(tmp_path / "mail") as mail:
        channels = Channels(email=Mail(mail.url, sender="notices@registry.test"), sms=None)
        plan = Plan(poll=0.01, lease=timedelta(seconds=30), batch=50, retry=Retry(), schemes=SCHEMES)
        totals = run(service, channels, stop=threading.Event(), plan=plan, clock=reg.tick, once=True)
        channels.close()
    assert totals.delivered >= 3  # the record, the listing and its measure
    assert len(mails(mail.folder)) == totals.delivered
    with service.connect() as conn:
        assert set(conn.scalars(select(NoticeDelivery.state))) == {"delivered"}

    signer, _ = log_key(tmp_path)
    advanced = advance(service, signer, reg.tick())  # the sequencer: leaves, nodes, a signed checkpoint
    assert advanced.note is not None
    with service.connect() as conn:
        report = verify.verify(conn, signer.verifier, origin=ORIGIN)
    assert report.consistent, report.problems
    assert report.leaves == advanced.size
    assert "revoked" in credence(service, "providers", "revoke", "china-eastern").stdout


@pytest.mark.postgres
def test_a_dispute_is_filed_and_decided_as_the_service_role(registry: Restricted, tmp_path: Path) -> None:
    """Disputes are updated in place (locked, then decided) and the clock rewrites derived rows."""
    service = registry.service
    reg = Registry(service, tmp_path, now=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    _feeds(reg)
    with service.connect() as conn:
        subject = resolve.find(conn, DEBTOR)
        record = conn.execute(
            select(Record.id).where(Record.subject_id == subject, Record.kind == "defaulter_listing_decision")
        ).scalar_one()
    statement = "I paid the judgment debt on 1 March; the receipt is attached."
    filed = disputes.file(
        service, subject=subject, record=record, statement=statement, evidence=[PDF], now=reg.tick(), schemes=SCHEMES
    )
    assert clock.tick(service, SCHEMES, now=reg.tick()) is not None
    decided = disputes.decide(
        service, filed.id, agency="court", officer="judge.li", upheld=False, note="No payment received.", now=reg.tick()
    )
    assert decided.state == "rejected"
    assert clock.tick(service, SCHEMES, now=reg.tick()) is not None


@pytest.mark.parametrize("store", STORES)
def test_a_row_edited_directly_is_refused_on_postgresql_and_detected_on_sqlite(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Issue 10's attack: an insider edits the history in the database. As the service role on
    PostgreSQL the database refuses it and the log stays consistent; on SQLite, which has no
    roles, whoever can write the file can drop the triggers, and ``verify`` reports the edit."""
    with ExitStack() as stack:
        if store == "postgres":
            engine = stack.enter_context(restricted(request.getfixturevalue("pg_template"))).service
        else:
            engine = stack.enter_context(contextmanager(fresh_engine)(store, request, tmp_path))
        reg = Registry(engine, tmp_path, now=datetime(2025, 6, 1, 8, 0, tzinfo=UTC))
        _feeds(reg)
        signer, _ = log_key(tmp_path)
        advance(engine, signer, reg.tick())
        edits = (
            "UPDATE records SET valid_date = '2020-01-01'",
            "DELETE FROM events WHERE tag = 'record.accepted'",
            "UPDATE log_leaves SET hash = log_leaves.hash",
        )
        if store == "postgres":
            for edit in edits:
                _insufficient(engine, edit)
        else:
            with engine.begin() as conn:
                for table in ("records", "events", "log_leaves"):
                    for action in ("update", "delete"):
                        conn.execute(text(f"DROP TRIGGER {table}_no_{action}"))
                for edit in edits:
                    conn.execute(text(edit))
        with engine.connect() as conn:
            report = verify.verify(conn, signer.verifier, origin=ORIGIN)
        if store == "postgres":
            assert report.consistent, report.problems
        else:
            assert not report.consistent
            assert any("records" in problem or "append-only trigger" in problem for problem in report.problems)


@pytest.mark.postgres
def test_a_tripped_circuit_breaker_holds_and_is_released_as_the_service_role(
    registry: Restricted, tmp_path: Path
) -> None:
    """A hold is closed in place, and its rows leave quarantine as replayed."""
    service = registry.service
    reg = Registry(service, tmp_path)
    people = [person_id(date(1950 + i % 50, 1 + i % 12, 1 + i % 28), seq=i % 1000) for i in range(1000)]
    residence = {"kind": "residence", "date": "2015-01-01", "attrs": {"region": "320505", "status": "registered"}}
    reg.feed("police", [{"id": f"H-{i}", "id_number": p, **residence} for i, p in enumerate(people)])
    attrs = {"case_number": CASE, "court": "Suzhou Intermediate People's Court", "ground": 1}
    listing = {"kind": "defaulter_listing_decision", "date": "2026-11-20", "region": "", "attrs": attrs}
    listed = reg.feed("court", [{"id": f"L-{i}", "id_number": p, **listing} for i, p in enumerate(people[:60])])
    assert (listed.accepted, listed.held) == (0, 60)  # 60 of 1,000 residents in a day: past the 5% share
    mappings = {source: mapping_for(source) for source in ("court", "police")}
    released, _ = release_held(
        service, mappings, SCHEMES, "court", by="officer-2", now=reg.tick(), as_of=reg.now.date()
    )
    assert released.result.accepted == 60
    with service.connect() as conn:
        assert conn.execute(select(Hold.outcome)).scalar_one() == "released"


@pytest.fixture
def engine(registry: Restricted) -> Engine:
    """The registry as the service role, for the served sign-in site (tests.common.signin.site)."""
    return registry.service


@pytest.mark.postgres
def test_subjects_and_officers_sign_in_and_out_as_the_service_role(site: Site) -> None:
    """Codes are tried and used, sessions seen and ended: updates in place, all the service's own."""
    token = site.sign_in(ALICE, "alice@example.com")
    assert site.get("/v1/me/notices", token).status_code == 200
    assert site.post("/v1/sign-out", {}, token).status_code == 204
    assert site.get("/v1/me/notices", token).status_code == 401
    add_officer(site, "li.ming", "court", "li.ming@court.example.com")
    officer = officer_sign_in(site, "li.ming", "li.ming@court.example.com")
    assert site.get("/v1/officers/me", officer).json() == {"name": "li.ming", "agency": "court", "role": "officer"}
    assert site.post("/v1/officers/sign-out", {}, officer).status_code == 204
    with site.engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one().endswith("_svc")


@pytest.mark.postgres
def test_two_officers_act_as_the_service_role_and_their_decision_stays_as_made(site: Site) -> None:
    """A manual action asked, a relation declared and an approval given, all as the service; the
    decision cannot then be turned into another by the service role itself."""
    add_officer(site, "wu.lei", "police", "wu.lei@police.example.com")
    add_officer(site, "qian.li", "police", "qian.li@police.example.com", role="second_officer")
    asker = officer_sign_in(site, "wu.lei", "wu.lei@police.example.com")
    second = officer_sign_in(site, "qian.li", "qian.li@police.example.com")
    demerit = {
        "kind": "traffic_offence",
        "id_number": ALICE,
        "valid_date": "2026-02-28",
        "jurisdiction": "320505",
        "attributes": {"offence_code": "1345"},
        "legal_basis": "Road Traffic Safety Law, Art. 90",
        "reason": "a roadside ticket, entered by hand",
    }
    action = site.post("/v1/manual-actions", demerit, asker).json()
    assert site.post("/v1/officers/me/relations", {"id_number": BOB, "relation": "family"}, asker).status_code == 204
    done = site.post(f"/v1/manual-actions/{action['id']}/decision", {"approved": True}, second)
    assert done.json()["state"] == "approved", done.text
    for statement in ("UPDATE manual_decisions SET approved = false", "DELETE FROM manual_actions"):
        with pytest.raises(DBAPIError, match="permission denied"), site.engine.begin() as conn:
            conn.execute(text(statement))


def _columns(table: str) -> str:
    return next(iter(Base.metadata.tables[table].columns)).name


REWRITES = [
    pytest.param(statement.format(t=table, c=_columns(table)), id=f"{verb}-{table}")
    for table in roles.APPEND_ONLY
    for verb, statement in (
        ("update", "UPDATE {t} SET {c} = {c}"),
        ("delete", "DELETE FROM {t}"),
        ("truncate", "TRUNCATE {t}"),
        ("drop-trigger", "DROP TRIGGER {t}_append_only ON {t}"),
        ("disable-trigger", "ALTER TABLE {t} DISABLE TRIGGER {t}_append_only"),
        ("disable-triggers", "ALTER TABLE {t} DISABLE TRIGGER USER"),
    )
] + [
    pytest.param("UPDATE inquiries_staged SET action = action", id="update-inquiries_staged"),
    pytest.param("TRUNCATE inquiries_staged", id="truncate-inquiries_staged"),
    pytest.param("DROP TRIGGER inquiries_staged_moved_only ON inquiries_staged", id="drop-trigger-inquiries_staged"),
    pytest.param("ALTER TABLE inquiries_staged DISABLE TRIGGER ALL", id="disable-triggers-inquiries_staged"),
]

DDL = {
    "create-table": "CREATE TABLE events_rewritten (seq bigint)",
    "create-temp-table": "CREATE TEMP TABLE scratch (seq bigint)",
    "create-schema": "CREATE SCHEMA elsewhere",
    "drop-table": "DROP TABLE events",
    "rename-table": "ALTER TABLE events RENAME TO events_old",
    "add-column": "ALTER TABLE records ADD COLUMN note text",
    "drop-column": "ALTER TABLE records DROP COLUMN attributes",
    "create-index": "CREATE INDEX ON events (tag)",
    "create-rule": "CREATE RULE ignore_updates AS ON UPDATE TO events DO INSTEAD NOTHING",
    "create-trigger": (
        "CREATE TRIGGER undo AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION credence_append_only()"
    ),
    "replace-trigger-function": (
        "CREATE OR REPLACE FUNCTION credence_append_only() RETURNS trigger AS $$ BEGIN RETURN OLD; END $$"
        " LANGUAGE plpgsql"
    ),
    "drop-trigger-function": "DROP FUNCTION credence_append_only() CASCADE",
    "comment": "COMMENT ON TABLE events IS 'rewritten'",
    "alembic-version": "UPDATE alembic_version SET version_num = version_num",
    "sources": "UPDATE sources SET name = name",
}


@pytest.mark.postgres
@pytest.mark.parametrize("statement", REWRITES)
def test_the_service_role_cannot_rewrite_an_append_only_table_or_its_triggers(
    shared: Restricted, statement: str
) -> None:
    _insufficient(shared.service, statement)


@pytest.mark.postgres
@pytest.mark.parametrize("statement", DDL.values(), ids=DDL.keys())
def test_the_service_role_runs_no_ddl(shared: Restricted, statement: str) -> None:
    _insufficient(shared.service, statement)


@pytest.mark.postgres
def test_the_service_role_cannot_become_the_owner_or_give_itself_a_privilege(shared: Restricted) -> None:
    service, owner = shared.service, shared.owner_role
    _insufficient(service, f"SET ROLE {owner}")
    _insufficient(service, f"ALTER TABLE events OWNER TO {shared.service_role}")
    _insufficient(service, f"GRANT {owner} TO {shared.service_role}")
    with service.begin() as conn:  # a grant of what it does not hold as grantable: a warning, and nothing granted
        conn.execute(text(f"GRANT UPDATE, DELETE, TRUNCATE ON events TO {shared.service_role}"))
    _insufficient(service, "DELETE FROM events")


@pytest.mark.postgres
def test_a_staged_inquiry_leaves_only_once_moved(shared: Restricted) -> None:
    """The service role may DELETE from the staging table (the move does); the trigger refuses a
    row that is not yet in ``inquiries``."""
    with shared.service.begin() as conn:
        provider = uuid.uuid4()
        conn.execute(
            text(
                "INSERT INTO inquiries_staged (batch, provider_id, action, attributes, decision, at, asked_at)"
                " VALUES (:b, :p, 'flight', '{}', 'allowed', now(), now())"
            ),
            {"b": uuid.uuid4(), "p": provider},
        )
    error = _refused(shared.service, "DELETE FROM inquiries_staged")
    assert isinstance(error.orig, psycopg.errors.RaiseException)
    assert "only once it is in inquiries" in str(error.orig)


def _privileges(conn: object, role: str) -> dict[str, frozenset[str]]:
    rows = conn.execute(  # type: ignore[attr-defined]
        text(
            "SELECT c.relname, p.privilege FROM pg_class c CROSS JOIN unnest(CAST(:all AS text[])) AS p(privilege)"
            " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
            " AND has_table_privilege(CAST(:r AS name), c.oid, p.privilege)"
        ),
        {"all": list(PRIVILEGES), "r": role},
    )
    found: dict[str, set[str]] = {}
    for table, privilege in rows:
        found.setdefault(table, set()).add(privilege)
    return {table: frozenset(held) for table, held in found.items()}


@pytest.mark.postgres
def test_the_service_role_holds_exactly_the_declared_privileges_and_owns_nothing(shared: Restricted) -> None:
    with shared.admin.connect() as conn:
        tables = set(conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).all())
        guarded = set(
            conn.scalars(
                text(
                    "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                    " WHERE NOT t.tgisinternal AND t.tgtype & 24 <> 0"  # BEFORE UPDATE or DELETE
                )
            ).all()
        )
        held = _privileges(conn, shared.service_role)
        owners = set(
            conn.scalars(
                text(
                    "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class"
                    " WHERE relnamespace = current_schema()::regnamespace"
                    " UNION SELECT pg_get_userbyid(proowner) FROM pg_proc"
                    " WHERE pronamespace = current_schema()::regnamespace"
                    " UNION SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = current_schema()"
                )
            ).all()
        )
        attributes = {
            name: (login, superuser)
            for name, login, superuser in conn.execute(
                text("SELECT rolname, rolcanlogin, rolsuper FROM pg_roles WHERE rolname IN (:o, :s)"),
                {"o": shared.owner_role, "s": shared.service_role},
            )
        }
        member = conn.execute(
            text("SELECT pg_has_role(CAST(:s AS name), CAST(:o AS name), 'MEMBER')"),
            {"s": shared.service_role, "o": shared.owner_role},
        ).scalar_one()
    assert tables == set(roles.PRIVILEGES), "every table must say what the service role may do to it"
    assert guarded == {*roles.APPEND_ONLY, "inquiries_staged"}, "APPEND_ONLY must be the tables with triggers"
    assert held == roles.PRIVILEGES
    assert all(held[t] == {"SELECT", "INSERT"} for t in roles.APPEND_ONLY)
    assert owners == {shared.owner_role}
    assert attributes == {shared.owner_role: (False, False), shared.service_role: (True, False)}
    assert not member
    assert shared.done.tables == len(tables)


@pytest.mark.postgres
def test_running_it_again_at_once_from_two_databases_changes_nothing(pg_template: str) -> None:
    """Idempotent, and safe when run together: role names are the whole server's, so two
    registries of one server that share the role names may create them at the same moment."""
    owner, service = f"credence_race_{uuid.uuid4().hex[:8]}", f"credence_race_{uuid.uuid4().hex[:8]}_svc"
    try:
        with database(pg_template, "race") as first, database(pg_template, "race") as second:
            engines = [open_registry(url(name)) for name in (first, second, first)]
            done: list[roles.Roles] = []
            failed: list[BaseException] = []
            start = threading.Barrier(len(engines))

            def ensure(engine: Engine) -> None:
                start.wait()
                try:
                    done.append(roles.ensure(engine, owner=owner, service=service))
                except BaseException as error:
                    failed.append(error)

            threads = [threading.Thread(target=ensure, args=(engine,)) for engine in engines]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert not failed, failed
            assert sorted(len(d.created) for d in done) in ([0, 0, 2], [0, 1, 1])  # each role made once
            again = roles.ensure(engines[0], owner=owner, service=service)
            assert again.created == ()
            with engines[1].connect() as conn:
                assert _privileges(conn, service) == roles.PRIVILEGES
            for engine in engines:
                engine.dispose()
    finally:
        drop_roles(owner, service)


@pytest.mark.postgres
def test_a_migration_after_the_roles_runs_as_the_owner_and_never_as_the_service(registry: Restricted) -> None:
    admin, service = registry.admin, registry.service
    service_url = url_of(service)
    with admin.begin() as conn:  # the shipped catalogue changed: the sync is due, and is the owner's
        conn.execute(text("UPDATE sources SET name = 'renamed' WHERE id = 'court'"))
    with pytest.raises(CredenceError, match="CREDENCE_MIGRATION_URL"):
        open_registry(service_url, wait=0)
    command.downgrade(alembic_config(admin), "0016")  # the circuit breaker's table goes, to come back
    with pytest.raises(CredenceError, match="CREDENCE_MIGRATION_URL"):
        open_registry(service_url, wait=0)
    open_registry(service_url, wait=0, migrate_with=url_of(admin)).dispose()  # migrated as the owner
    with admin.connect() as conn:
        owner = conn.scalar(text("SELECT tableowner FROM pg_tables WHERE tablename = 'holds'"))
        assert owner == registry.owner_role
        held = _privileges(conn, registry.service_role)
    assert held["holds"] == {"SELECT", "INSERT"}  # a new table: what the owner's default privileges give
    roles.ensure(admin, owner=registry.owner_role, service=registry.service_role)
    with admin.connect() as conn:
        assert _privileges(conn, registry.service_role) == roles.PRIVILEGES
    with service.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Hold)) == 0


def _cli(monkeypatch: pytest.MonkeyPatch, database_url: str, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("CREDENCE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "roles", *args])
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.postgres
def test_credence_db_roles_creates_them_once_and_sends_only_the_password_verifier(
    pg_template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = uuid.uuid4().hex[:8]
    owner, service = f"credence_cli_{tag}", f"credence_cli_{tag}_svc"
    monkeypatch.setenv("CREDENCE_SERVICE_PASSWORD", "correct horse battery staple")
    try:
        with database(pg_template, "cli") as name:
            first = _cli(monkeypatch, url(name), "--owner", owner, "--service", service)
            assert first[0] == 0, first
            assert first[1].count("created") == 2
            assert f"CREDENCE_DATABASE_URL=postgresql://{service}@127.0.0.1:5432/{name}" in first[1]
            second = _cli(monkeypatch, url(name), "--owner", owner, "--service", service)
            assert second[0] == 0, second
            assert second[1].count("existed") == 2
            with psycopg.connect(url(name)) as conn:
                stored = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (service,)).fetchone()
            assert stored is not None
            assert stored[0].startswith("SCRAM-SHA-256$")
            bad = _cli(monkeypatch, url(name), "--owner", "Robert'); DROP TABLE events;--")
            assert bad[0] == 2
            assert "--owner" in bad[2]
            assert "not a role name" in bad[2]
    finally:
        drop_roles(owner, service)


@pytest.mark.parametrize("store", ["sqlite"])
def test_on_sqlite_credence_db_roles_says_there_are_no_roles(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "registry.db"
    code, out, err = _cli(monkeypatch, f"{store}:///{path}")
    assert code == 2, out + err
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "SQLite has no roles" in lines[0]
    assert "credence audit verify" in lines[0]
    assert not path.exists()  # nothing opened, nothing created
