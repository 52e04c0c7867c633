"""The two ways a notice leaves the registry: mail over SMTP (``CREDENCE_SMTP_URL``) and SMS
through a gateway's webhook (``CREDENCE_SMS_URL``, an HTTP POST of JSON). Each message carries
the notice's id (the mail's Message-ID, the webhook's Idempotency-Key header), so a receiver that
sees a repeat can drop it: delivery is at least once.

A failure is raised as a ``DeliveryError`` whose text is the failure's class and code only,
never the server's words: those quote the address, and the reason is recorded for good.
"""

import contextlib
import json
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formatdate
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import unquote, urlsplit

import httpx

from credence.dueprocess.render import Rendered

TIMEOUT = 10.0  # seconds, for a connection and for each reply


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message composed for one channel, ready to send."""

    to: str
    payload: str
    notice: uuid.UUID


class Channel(Protocol):
    def compose(self, notice: uuid.UUID, to: str, rendered: Rendered) -> Outgoing: ...
    def transmit(self, outgoing: Outgoing) -> None: ...
    def close(self) -> None: ...


class DeliveryError(Exception):
    """A channel refused or failed a message; ``str`` is safe to record (no address)."""


def message_id(notice: uuid.UUID, domain: str) -> str:
    """The Message-ID of every mail that carries ``notice``: the same on every attempt."""
    return f"<notice-{notice}@{domain}>"


class Mail:
    """An SMTP client that keeps its connection between notices (a new one per message would
    cost a handshake each) and opens it again once when the server has dropped it."""

    def __init__(self, url: str, *, sender: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("CREDENCE_SMTP_URL: expected smtp://[user:password@]host[:port] or smtps://...")
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname
        self._port = parts.port or (465 if self._tls else 25)
        self._login = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
        self._sender = sender
        self._domain = sender.rpartition("@")[2] or "localhost"
        self._client: smtplib.SMTP | None = None

    def compose(self, notice: uuid.UUID, to: str, rendered: Rendered) -> Outgoing:
        """The mail as sent: composing costs CPU, sending waits on the server, so a worker
        composes the next while this one is on the wire."""
        message = MIMEText(rendered.text, "plain", "utf-8")  # compat32: a third of the modern API's cost
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = Header(rendered.subject, "utf-8").encode()
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id(notice, self._domain)
        message["X-Credence-Notice"] = str(notice)
        # all ASCII (base64, encoded words); smtplib ends its lines with CRLF
        return Outgoing(to=to, payload=message.as_string(), notice=notice)

    def transmit(self, outgoing: Outgoing) -> None:
        for attempt in (1, 2):
            try:
                self._connected().sendmail(self._sender, [outgoing.to], outgoing.payload)
                return
            except smtplib.SMTPServerDisconnected:
                self.close()
                if attempt == 2:
                    raise DeliveryError("smtp disconnected") from None
            except smtplib.SMTPRecipientsRefused as error:
                codes = sorted({code for code, _ in error.recipients.values()})
                raise DeliveryError(f"smtp recipient refused {codes}") from None
            except smtplib.SMTPResponseException as error:
                self.close()
                raise DeliveryError(f"smtp {error.smtp_code}") from None
            except (OSError, smtplib.SMTPException) as error:
                self.close()
                raise DeliveryError(f"smtp {type(error).__name__}") from None

    def _connected(self) -> smtplib.SMTP:
        if self._client is None:
            if self._tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self._host, self._port, timeout=TIMEOUT, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(self._host, self._port, timeout=TIMEOUT)
            if self._login:
                client.login(*self._login)
            self._client = client
        return self._client

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):  # the server went first
                self._client.quit()
            self._client = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


class Sms:
    """The SMS gateway's webhook: POST ``{"notice", "to", "text"}``; any 2xx means it took it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("CREDENCE_SMS_URL: expected http(s)://host[:port]/path")
        self._url = url
        self._client = httpx.Client(timeout=TIMEOUT)

    def compose(self, notice: uuid.UUID, to: str, rendered: Rendered) -> Outgoing:
        return Outgoing(
            to=to, payload=json.dumps({"notice": str(notice), "to": to, "text": rendered.sms}), notice=notice
        )

    def transmit(self, outgoing: Outgoing) -> None:
        headers = {"Idempotency-Key": str(outgoing.notice), "Content-Type": "application/json"}
        try:
            reply = self._client.post(self._url, content=outgoing.payload.encode(), headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryError(f"sms {type(error).__name__}") from None
        if not reply.is_success:
            raise DeliveryError(f"sms http {reply.status_code}")

    def close(self) -> None:
        self._client.close()
