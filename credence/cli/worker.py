"""``credence worker``: deliver notices (mail, SMS) and keep the registry's clock (refresh the
subjects a delivered listing notice lets take effect), until SIGTERM;
``credence catcher``: a local mail server and SMS endpoint for a registry without real ones."""

import signal
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from credence.audit import keys
from credence.cli.context import console, engine, schemes
from credence.dueprocess.catcher import MailCatcher, SmsCatcher
from credence.dueprocess.channels import Mail, Sms
from credence.dueprocess.delivery import Channels
from credence.dueprocess.hooks import Caller
from credence.exc import CredenceError
from credence.outbox.claims import Retry
from credence.pipeline.clock import Checkpointing
from credence.pipeline.worker import Plan, run
from credence.settings import Settings, get_settings


def channels_from(settings: Settings) -> Channels:
    try:
        return Channels(
            email=Mail(settings.smtp_url, sender=settings.mail_from) if settings.smtp_url else None,
            sms=Sms(settings.sms_url) if settings.sms_url else None,
        )
    except ValueError as error:
        raise CredenceError(str(error)) from None


def checkpointing_from(settings: Settings) -> Checkpointing | None:
    if settings.log_key is None and not settings.log_key_file:
        return None
    return Checkpointing(signer=keys.log_signer(settings), origin=settings.log_origin)


def caller_from(settings: Settings) -> Caller | None:
    key = settings.webhook_key
    return Caller(key.get_secret_value().encode()) if key is not None else None


def plan_from(settings: Settings) -> Plan:
    return Plan(
        poll=settings.worker_poll,
        lease=timedelta(seconds=settings.worker_lease),
        batch=settings.worker_batch,
        retry=Retry(
            first=timedelta(seconds=settings.notice_retry_first),
            cap=timedelta(seconds=settings.notice_retry_cap),
            limit=settings.notice_retry_limit,
        ),
    )


def worker(
    once: Annotated[bool, typer.Option("--once", help="deliver what is due now, then exit")] = False,
) -> None:
    """Deliver the notice outbox by mail (CREDENCE_SMTP_URL) and SMS (CREDENCE_SMS_URL), call the
    providers' webhooks (CREDENCE_WEBHOOK_KEY), sign the log's checkpoint every minute
    (CREDENCE_LOG_KEY), and keep the registry's clock, until SIGTERM."""
    settings = get_settings()
    channels = channels_from(settings)
    if not channels.by_name():
        raise CredenceError("no channel to deliver on: set CREDENCE_SMTP_URL and/or CREDENCE_SMS_URL")
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    made = engine()
    names = " and ".join(channels.by_name())
    console.print(f"worker delivering notices by {names}; stop with SIGTERM or Ctrl-C")
    plan = replace(
        plan_from(settings), schemes=schemes(), caller=caller_from(settings), checkpointing=checkpointing_from(settings)
    )
    try:
        totals = run(made, channels, stop=stop, plan=plan, once=once)
    finally:
        channels.close()
        if plan.caller is not None:
            plan.caller.close()
        made.dispose()
    sent = ", ".join(f"{n:,} by {channel}" for channel, n in sorted(totals.sent.items())) or "nothing sent"
    console.print(
        f"worker stopped: {totals.delivered:,} notices delivered ({sent}), {totals.retrying:,} to retry, "
        f"{totals.unreachable:,} with no contact"
    )


def catcher(
    maildir: Annotated[Path, typer.Option(help="the Maildir each mail is filed in")] = Path("data/mail"),
    sms_log: Annotated[Path, typer.Option(help="the JSON-lines file each SMS is appended to")] = Path("data/sms.jsonl"),
    smtp_port: Annotated[int, typer.Option(help="SMTP port on 127.0.0.1", min=1, max=65535)] = 8025,
    sms_port: Annotated[int, typer.Option(help="SMS webhook port on 127.0.0.1", min=1, max=65535)] = 8026,
) -> None:
    """A local mail server and SMS endpoint that keep what they receive, for demos and trials."""
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    with MailCatcher(maildir, port=smtp_port) as mail, SmsCatcher(sms_log, port=sms_port) as sms:
        console.print(f"mail: {mail.url} -> {maildir}/new; SMS: {sms.url} -> {sms_log}")
        console.print(f"point the worker at them: CREDENCE_SMTP_URL={mail.url} CREDENCE_SMS_URL={sms.url}")
        stop.wait()
