"""The two ways a notice leaves the registry: mail over SMTP (``CREDENCE_SMTP_URL``) and SMS
through a gateway's webhook (``CREDENCE_SMS_URL``, an HTTP POST of JSON). Each message carries
the notice's id (the mail's Message-ID, the webhook's Idempotency-Key header), so a receiver that
sees a repeat can drop it: delivery is at least once.

A failure is raised as a ``DeliveryError`` whose text is the failure's class and code only,
never the server's words: those quote the address, and the reason is recorded for good.
"""

import contextlib
import email.policy
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate
from types import TracebackType
from typing import Self
from urllib.parse import unquote, urlsplit

import httpx

from credence.dueprocess.render import Rendered

TIMEOUT = 10.0  # seconds, for a connection and for each reply
# lines up to SMTP's own limit: the default folds a long Message-ID over two lines
POLICY = email.policy.default.clone(max_line_length=998)


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

    def send(self, notice: uuid.UUID, to: str, rendered: Rendered) -> None:
        message = EmailMessage(policy=POLICY)
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = rendered.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id(notice, self._domain)
        message["X-Credence-Notice"] = str(notice)
        message.set_content(rendered.text, charset="utf-8")
        for attempt in (1, 2):
            try:
                self._connected().send_message(message)
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

    def send(self, notice: uuid.UUID, to: str, rendered: Rendered) -> None:
        body = {"notice": str(notice), "to": to, "text": rendered.sms}
        try:
            reply = self._client.post(self._url, json=body, headers={"Idempotency-Key": str(notice)})
        except httpx.HTTPError as error:
            raise DeliveryError(f"sms {type(error).__name__}") from None
        if not reply.is_success:
            raise DeliveryError(f"sms http {reply.status_code}")

    def close(self) -> None:
        self._client.close()
