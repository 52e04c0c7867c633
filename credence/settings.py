"""Settings from the environment (prefix CREDENCE_), validated once at start-up."""

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting is listed in docs/settings.md."""

    model_config = SettingsConfigDict(env_prefix="CREDENCE_", extra="ignore")

    database_url: str = "sqlite:///credence.db"
    # PostgreSQL with roles (credence db roles): a login that is a member of the owner role, which
    # migrations run as; empty: they run through database_url, as on a store without roles
    migration_url: str = ""
    # the service role's password, set by credence db roles (only its SCRAM verifier is sent)
    service_password: SecretStr | None = None
    log_level: str = "WARNING"
    data_dir: str = "data"
    ingest_batch: int = Field(default=5000, ge=1)
    # where record linkage's models (<source>-v<N>.json) are read and `resolve train` writes;
    # empty: the ones shipped in credence/resolve/models
    linkage_models: str = ""
    # a user's mistake is one line on stderr; this shows its traceback too, for whoever debugs the CLI
    debug: bool = False
    # 0: a writer finding another at work stops at once (what a cron job wants: no pile-up).
    writer_wait: float = 0.0
    # the gate (credence serve): a check's body is a few hundred bytes
    gate_max_body: int = Field(default=16384, ge=256)
    # a manifest of 100,000 entries is about 10 MB
    gate_max_manifest_body: int = Field(default=16 * 1024 * 1024, ge=256)
    # seconds a gate process trusts its cached key table: a revoked key is refused within this
    gate_key_poll: float = Field(default=0.5, gt=0, le=1.0)
    # seconds between a gate process's reads of the measure-change journal: a change is answered
    # within about this plus the time to re-read the subjects it names (the goal is under 1 s)
    gate_index_poll: float = Field(default=0.2, gt=0, le=0.5)
    # seconds between a gate process's flushes of its inquiry log: a crash loses at most this much
    gate_inquiry_flush: float = Field(default=0.1, gt=0, le=0.1)
    # seconds between moves of the flushed inquiries from their staging table into the indexed
    # one: each index page is then written once a move rather than once a row
    gate_inquiry_move: float = Field(default=5.0, gt=0, le=60)
    # answers a gate process may hold unrecorded (the store away or slow) before it answers 503
    gate_inquiry_backlog: int = Field(default=1_000_000, ge=1_000)
    # the transparency log (docs/transparency-log.md): the name in its checkpoints, and its
    # Ed25519 signing key (a C2SP note signer key, `credence audit keygen`) or a file holding it;
    # only the process that signs checkpoints needs the key, never the gate
    log_origin: str = "credence.local/log"
    log_key: SecretStr | None = None
    log_key_file: str = ""
    # set by credence serve for its workers (shared rate-limit buckets); empty: this process alone
    gate_shared_dir: str = ""
    # the key each provider's webhook secret is derived from (HMAC); unset: no webhook is called
    webhook_key: SecretStr | None = None
    # due process (credence worker): where notices go; empty: that channel reaches no one
    smtp_url: str = ""
    sms_url: str = ""
    mail_from: str = "notices@registry.credence.invalid"
    # seconds the worker sleeps when nothing is due: a notice leaves within about this
    worker_poll: float = Field(default=0.2, gt=0, le=60)
    # seconds a worker holds the notices it claimed; one that dies lets them go after this
    worker_lease: float = Field(default=60.0, ge=1)
    # notices a worker claims at once
    worker_batch: int = Field(default=200, ge=1, le=10_000)
    # retries: the first after this many seconds, doubled each time up to the cap; failed after the limit
    notice_retry_first: float = Field(default=5.0, gt=0)
    notice_retry_cap: float = Field(default=3600.0, gt=0)
    notice_retry_limit: int = Field(default=20, ge=1)
    # sign-in (docs/architecture.md, "Signing in"): the HMAC key that one-time codes and the
    # accounts' bookkeeping rows are keyed by; empty: credence serve makes one per run (codes and
    # lock-outs then do not outlive a restart), a test app one per app
    sign_in_key: SecretStr | None = None
    # seconds an account stays locked out after its fifth wrong code
    sign_in_lockout: float = Field(default=900.0, ge=1)
    # sign-in requests (codes asked, codes given) one client address may make a minute, across
    # accounts: the lock-out guards one account, this guards the registry from one client trying many
    sign_in_per_minute: int = Field(default=20, ge=1)
    # seconds a session lives without a request, and at most however active
    session_idle: float = Field(default=1800.0, ge=60)
    session_max: float = Field(default=43200.0, ge=60)
    # signed submissions (docs/submissions.md): seconds a batch's timestamp may be from the
    # registry's clock either way, and seconds a submission waits for the writer lock (then 503);
    # the mappings its rows are read with (the ingest command's --connectors)
    submission_window: float = Field(default=300.0, gt=0, le=86400)
    submission_wait: float = Field(default=10.0, ge=0, le=300)
    connectors_dir: str = "connectors"
    # the pages' cookies carry Secure (sent over HTTPS only): on behind a TLS-terminating proxy
    web_secure_cookies: bool = False
    # where `credence score --engine spark` runs: a Spark master URL (spark://host:7077, yarn,
    # k8s://...) or local[N], N cores of this machine
    spark_master: str = "local[2]"
    # the Parquet snapshot (credence snapshot export, credence score --snapshot): its folder
    # (empty: <data_dir>/snapshot), the bucket count a new snapshot is made with, and the seconds
    # an export re-reads before the last one's high-water mark (longer than any writer waits for
    # the writer lock after taking its instant: CREDENCE_WRITER_WAIT, CREDENCE_SUBMISSION_WAIT)
    snapshot_dir: str = ""
    snapshot_buckets: int = Field(default=64, ge=1, le=4096)
    snapshot_overlap: float = Field(default=3600.0, ge=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()
