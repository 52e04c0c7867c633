"""The ``credence`` command: Typer app; one module per command group."""

import typer

from credence import logs
from credence.cli import demo, inspect, registry
from credence.settings import get_settings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Credence: an accountable social credit registry.",
)


@app.callback()
def _configure() -> None:
    """Credence: an accountable social credit registry."""
    logs.configure(get_settings().log_level)


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
