"""One line for a user's mistake, a traceback for a bug.

Every command runs inside ``Commands.invoke``: a ``CredenceError`` (a refused argument, file or
URL) and an ``OSError`` that names its file become ``error: <detail>`` on stderr and exit status 2
(or the error class's own ``exit_code``). Anything else is a bug and keeps its traceback, and
``CREDENCE_DEBUG=1`` shows the traceback of a mistake too. The translation sits in the command
group, not in ``main()``, so that Typer's CliRunner sees the same exit codes as the shell.
"""

import errno
from typing import Any

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from credence.exc import CredenceError
from credence.settings import get_settings

USER_ERROR = 2

# what the user can do about it, in their words rather than the C library's
_OS_REASONS = {
    errno.ENOENT: "no such file or folder",
    errno.EISDIR: "is a folder, expected a file",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def describe(err: CredenceError | OSError) -> str:
    """The error as one line."""
    if isinstance(err, CredenceError):
        text = err.detail
    else:
        reason = _OS_REASONS.get(err.errno or 0) or (err.strerror or str(err)).lower()
        text = f"{err.filename}: {reason}"
    return " ".join(text.split())


def debugging() -> bool:
    try:
        return get_settings().debug
    except ValidationError:  # a malformed setting is itself reported as a mistake, see settings_error
        return False


def settings_error(err: ValidationError) -> CredenceError:
    """A malformed CREDENCE_ variable, named the way the user set it."""
    first = err.errors()[0]
    name = "CREDENCE_" + "_".join(str(p) for p in first["loc"]).upper()
    return CredenceError(f"{name}: {first['msg']}")


class Commands(TyperGroup):
    """The ``credence`` command group: user errors become one line on stderr."""

    # Any: the context class is Typer's vendored Click's (private), and the result is the command's
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (CredenceError, OSError) as err:
            if debugging() or (isinstance(err, OSError) and err.filename is None):
                raise  # an OSError without a file (a socket, a pipe) is not the user's to fix
            typer.echo(f"{typer.style('error:', fg='red')} {describe(err)}", err=True)
            raise typer.Exit(getattr(err, "exit_code", USER_ERROR)) from None
