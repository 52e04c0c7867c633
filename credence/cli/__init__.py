"""The ``credence`` command: Typer app; one module per command group."""

from typing import Annotated

import typer
from pydantic import ValidationError

import credence
from credence import logs
from credence.cli import (
    agencies,
    audit,
    demo,
    disputes,
    held,
    inquiries,
    inspect,
    notices,
    officers,
    providers,
    registry,
    repairs,
    resolve,
    rulebook,
    serve,
    snapshot,
    worker,
)
from credence.cli.errors import Commands, settings_error
from credence.exc import CredenceError
from credence.settings import get_settings

app = typer.Typer(
    cls=Commands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Credence: an accountable social credit registry.",
)


def _print_version(shown: bool) -> None:
    if shown:
        print(f"credence {credence.__version__}")
        raise typer.Exit


@app.callback()
def _configure(
    _version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Credence: an accountable social credit registry."""
    try:
        settings = get_settings()
    except ValidationError as err:
        raise settings_error(err) from None
    try:
        logs.configure(settings.log_level)
    except ValueError:  # logging's own "Unknown level"
        raise CredenceError(
            f"CREDENCE_LOG_LEVEL: expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got {settings.log_level!r}"
        ) from None


app.add_typer(registry.db, name="db")
app.command("generate")(registry.generate)
app.command("ingest")(registry.ingest)
app.command("score")(registry.score)
app.add_typer(snapshot.snapshot, name="snapshot")
app.command("explain")(inspect.explain)
app.command("check")(inspect.check)
app.command("report")(inspect.report)
app.command("quarantine")(inspect.quarantine)
app.add_typer(held.held, name="held")
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.add_typer(providers.providers, name="providers")
app.add_typer(officers.officers, name="officers")
app.add_typer(agencies.agencies, name="agencies")
app.command("inquiries")(inquiries.inquiries)
app.add_typer(rulebook.rulebook, name="rulebook")
app.command("worker")(worker.worker)
app.command("catcher")(worker.catcher)
app.add_typer(notices.notices, name="notices")
app.add_typer(disputes.disputes, name="disputes")
app.add_typer(repairs.repairs, name="repairs")
app.add_typer(audit.audit, name="audit")
app.add_typer(resolve.resolve, name="resolve")


def main() -> None:
    app()
