"""Errors that carry a detail fit to show a user and an HTTP-like status."""


class CredenceError(Exception):
    status = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class FieldError(CredenceError):
    """A value was refused; names the field and what was expected."""

    status = 422

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class RulebookError(CredenceError):
    """A rulebook was refused at load; names the file, the rule and the position."""

    status = 422


class NotAuthorisedError(CredenceError):
    status = 403


class NotFoundError(CredenceError):
    status = 404


class WriterBusyError(CredenceError):
    """Another process holds the registry's writer lock. Exits 75 (EX_TEMPFAIL: try again later),
    so that a scheduler can tell "busy, retry" from a mistake (2)."""

    status = 409
    exit_code = 75

    def __init__(self, holder: str | None) -> None:
        who = f": {holder}" if holder else ""
        super().__init__(
            f"another writer is running{who}; run again when it has finished,"
            " or set CREDENCE_WRITER_WAIT=SECONDS to wait for it"
        )
        self.holder = holder


class UnavailableError(CredenceError):
    """The service cannot answer now and a retry may succeed (HTTP 503 with Retry-After)."""

    status = 503
