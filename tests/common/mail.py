"""Real receivers on loopback for the notice tests: the registry's own catchers (aiosmtpd filing
into a Maildir, an HTTP endpoint appending JSON lines) and a mail server that refuses on demand."""

import email
import email.header
import email.policy
import json
import mailbox
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, Envelope, Session

from credence.dueprocess.catcher import MailCatcher, SmsCatcher  # noqa: F401 - re-exported


@dataclass(frozen=True)
class Mail:
    message_id: str
    notice: str
    to: str
    subject: str
    body: str


def mails(folder: Path) -> list[Mail]:
    """Every mail in the Maildir ``folder``, repeats included."""
    found = []
    for message in mailbox.Maildir(folder, create=False):
        parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
        found.append(
            Mail(
                message_id=str(parsed["Message-ID"]).strip(),
                notice=str(parsed["X-Credence-Notice"]),
                to=str(parsed["To"]),
                subject=str(parsed["Subject"]),
                body=parsed.get_body().get_content(),  # type: ignore[union-attr]
            )
        )
    return found


def texts(path: Path) -> list[dict[str, Any]]:
    """Every SMS the catcher took, repeats included."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


class Moody(Mailbox):
    """A Maildir server that answers 451 (try again later) while ``refusing`` is set."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.refusing = threading.Event()
        self.refused = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd names it
        if self.refusing.is_set():
            self.refused += 1
            return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)
