"""The ``credence`` command: Typer app; one module per command group."""

from typing import Annotated

import typer
from pydantic import ValidationError

import credence
from credence import logs
from credence.cli import demo, inspect, registry
from credence.cli.errors import Commands, settings_error
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
    logs.configure(settings.log_level)


app.add_typer(registry.db, name="db")
app.command("generate")(registry.generate)
app.command("ingest")(registry.ingest)
app.command("score")(registry.score)
app.command("explain")(inspect.explain)
app.command("check")(inspect.check)
app.command("report")(inspect.report)
app.command("quarantine")(inspect.quarantine)
app.command("demo")(demo.demo)


def main() -> None:
    app()
