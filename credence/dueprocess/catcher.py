"""Local receivers for a registry with no mail server or SMS gateway of its own (the demo, the
tests): an SMTP server (aiosmtpd) that files every mail in a Maildir, and an HTTP endpoint that
appends every SMS webhook call to a JSON-lines file. Both keep repeats, so that what a worker
sent twice can be seen twice; a real receiver drops them by Message-ID or Idempotency-Key."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

LOOPBACK = "127.0.0.1"


class MailCatcher:
    """SMTP on ``port`` (0: any free one) filing each mail in the Maildir ``folder``."""

    def __init__(self, folder: Path, *, host: str = LOOPBACK, port: int = 0, handler: Mailbox | None = None) -> None:
        folder.parent.mkdir(parents=True, exist_ok=True)  # Maildir makes the folder and its tmp, new, cur
        self.folder = folder
        self.handler = handler or Mailbox(folder)
        self._controller = Controller(self.handler, hostname=host, port=port or free_port(host))

    @property
    def url(self) -> str:
        return f"smtp://{self._controller.hostname}:{self._controller.port}"

    def start(self) -> Self:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


class SmsCatcher:
    """An SMS gateway's webhook on ``port`` (0: any free one): each POST body, with its
    Idempotency-Key header, appended as one JSON line to ``path``; answers 202."""

    def __init__(self, path: Path, *, host: str = LOOPBACK, port: int = 0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self.send_error(400, "expected a JSON body")
                    return
                line = {"idempotency_key": self.headers.get("Idempotency-Key"), **body}
                with lock, path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002 - the base's signature
                return  # the bodies hold phone numbers: nothing of them goes to stderr

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="sms-catcher", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/sms"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def free_port(host: str = LOOPBACK) -> int:
    """aiosmtpd needs a port number up front; the OS picks one that is free now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
