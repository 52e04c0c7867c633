"""A one-time code on its way to its holder: rendered and sent directly through the due-process
channels, never through the outbox (whose rows are kept for good: a code written there could be
read by anyone with the table, and used within its ten minutes)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from credence import logs
from credence.accounts.codes import ATTEMPTS, CODE_TTL
from credence.dueprocess.channels import Channel, DeliveryError, Mail, Sms
from credence.dueprocess.render import Rendered, environment, render

log = logs.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Senders:
    """Where codes leave from: ``CREDENCE_SMTP_URL``, ``CREDENCE_SMS_URL`` (empty: that channel
    sends nothing) and the sender address."""

    smtp_url: str = ""
    sms_url: str = ""
    mail_from: str = "notices@registry.credence.invalid"

    def open(self, wanted: set[str]) -> dict[str, Channel]:
        channels: dict[str, Channel] = {}
        if "email" in wanted and self.smtp_url:
            channels["email"] = Mail(self.smtp_url, sender=self.mail_from)
        if "sms" in wanted and self.sms_url:
            channels["sms"] = Sms(self.sms_url)
        return channels


def compose(message: uuid.UUID, code: str, *, now: datetime) -> Rendered:
    facts = {"code": code, "minutes": int(CODE_TTL.total_seconds() // 60), "attempts": ATTEMPTS}
    mail = render(id=message, kind="sign_in_code", facts=facts, respond_by=None, created_at=now)
    sms = environment().get_template("sms_code.txt.j2").render(facts=facts).strip()
    return Rendered(subject=mail.subject, text=mail.text, sms=sms)


def send(senders: Senders, message: uuid.UUID, code: str, addresses: dict[str, str], *, now: datetime) -> list[str]:
    """Send ``code`` to each channel's address; the channels that took it. A failure is logged
    with the message's id and the failure's class, never the address or the code."""
    rendered = compose(message, code, now=now)
    taken: list[str] = []
    channels = senders.open(set(addresses))
    try:
        for name, channel in channels.items():
            try:
                channel.transmit(channel.compose(message, addresses[name], rendered))
                taken.append(name)
            except DeliveryError as error:
                log.warning("sign_in.code_not_sent", message=str(message), channel=name, error=str(error))
    finally:
        for channel in channels.values():
            channel.close()
    return taken
