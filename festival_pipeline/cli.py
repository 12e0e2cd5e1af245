"""The `festival-pipeline` command: run Dagster on the project's database, manage the database."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import click

from festival_pipeline import dagster_env, settings
from festival_pipeline.process_group import run_in_process_group
from festival_pipeline.settings import ConfigurationError

if TYPE_CHECKING:
    from rich.console import Console


@click.group(help="Film-award ceremonies scraped into one PostgreSQL schema, orchestrated by Dagster.")
def cli() -> None:
    pass


@cli.command(help="Start the database, apply migrations, then run the Dagster webserver and daemon.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the webserver binds to.")
@click.option("--port", default=3000, show_default=True, type=int)
def dev(host: str, port: int) -> None:
    env = dagster_env.prepare()
    command = [sys.executable, "-m", "dagster", "dev", "-w", str(dagster_env.project_file("workspace.yaml")),
               "-h", host, "-p", str(port)]
    click.echo(f"Dagster UI on http://{host}:{port} (DAGSTER_HOME={env['DAGSTER_HOME']})")
    # run from DAGSTER_HOME: Dagster warns about the repo's own dagster.yaml when run beside it;
    # a SIGTERM/SIGHUP to us stops the webserver, daemon and code servers too
    raise SystemExit(run_in_process_group(command, env=env, cwd=env["DAGSTER_HOME"]))


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    help="Run any `dagster` command with this project's instance, e.g. "
    "`festival-pipeline dagster asset materialize -m festival_pipeline.definitions --select … --partition 2024`.",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dagster(args: tuple[str, ...]) -> None:
    env = dagster_env.prepare()
    raise SystemExit(subprocess.call([sys.executable, "-m", "dagster", *args], env=env))


@cli.command(help="Materialize years of a festival through the Dagster instance (the runs show in the UI).\n\n"
             "TARGET is a festival slug, `oscars` (the Academy Awards) or `all`. Without --years, every "
             "year of the festival. Exits non-zero, naming them, when any year failed.")
@click.argument("target")
@click.option("--years", help="Years, e.g. 1929-2026, 2024 or 1990,1995-1999.")
def backfill(target: str, years: str | None) -> None:
    _quiet_dagster_warnings()
    from festival_pipeline.operations import SelectionError
    from festival_pipeline.operations import backfill as operation

    try:
        targets = operation.plan(target, years)
    except SelectionError as exc:
        raise click.BadParameter(str(exc)) from None
    env = dagster_env.prepare()
    database_url = _festival_database_url()
    results = operation.run_backfill(env, database_url, targets, _console())
    failed = [f"{result.label} {year}: {error}" for result in results for year, error in sorted(result.failed.items())]
    if failed:
        click.echo(f"{len(failed)} partition(s) failed:", err=True)
        for line in failed:
            click.echo(f"  {line}", err=True)
        raise SystemExit(1)
    click.echo(f"all {sum(len(r.keys) for r in results)} partition(s) landed")


def _console() -> Console:
    """A rich console; piped output gets a wide page instead of rich's 80 columns."""
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 140)


def _quiet_dagster_warnings() -> None:
    """The asset definitions emit a BetaWarning per asset on import; not news to an operator."""
    import warnings

    from dagster import BetaWarning, PreviewWarning

    warnings.filterwarnings("ignore", category=BetaWarning)
    warnings.filterwarnings("ignore", category=PreviewWarning)


def _festival_database_url() -> str:
    from festival_pipeline.database.connection import resolve_database_urls

    return resolve_database_urls().festival


@cli.command(help="What the database holds per festival, year and edition: missing, failed (with the error), "
             "no-edition, nothing-to-import, announced-not-awarded or complete; rows, match rates, staleness.")
@click.option("--festival", "target", default="all", show_default=True, help="A festival slug, `oscars` or `all`.")
@click.option("--years", help="Years, e.g. 1929-2026, 2024 or 1990,1995-1999.")
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
def status(target: str, years: str | None, output_format: str) -> None:
    _quiet_dagster_warnings()
    from festival_pipeline.database import migrate
    from festival_pipeline.operations import SelectionError, parse_years, resolve_festivals
    from festival_pipeline.operations import status as operation

    try:
        festivals = resolve_festivals(target)
        wanted = parse_years(years) if years else None
    except SelectionError as exc:
        raise click.BadParameter(str(exc)) from None
    database_url = _festival_database_url()
    migrate.upgrade(database_url)  # a fresh database has no tables yet; status then shows every year missing
    rows = operation.status_rows(database_url, festivals, wanted)
    operation.render(rows, output_format, _console())


@cli.group(help="The festival database.")
def db() -> None:
    pass


@db.command("url", help="Print the festival database URL (usable by psql).")
@click.option("--dagster", "which", flag_value="dagster", help="The Dagster instance's database instead.")
def db_url(which: str | None) -> None:
    from festival_pipeline.database.connection import resolve_database_urls

    urls = resolve_database_urls()
    click.echo(urls.dagster if which == "dagster" else urls.festival)


@db.command("upgrade", help="Create the database if needed and apply every migration.")
def db_upgrade() -> None:
    from festival_pipeline.database import migrate
    from festival_pipeline.database.connection import redact, resolve_database_urls

    url = resolve_database_urls().festival
    before, after = migrate.upgrade(url)
    if before == after:
        click.echo(f"{redact(url)} is up to date (revision {after})")
    else:
        click.echo(f"{redact(url)} upgraded from {before or 'empty'} to {after}")


@db.command("stop", help="Stop the embedded PostgreSQL server.")
def db_stop() -> None:
    from festival_pipeline.database.embedded import EmbeddedPostgres

    if settings.external_database_url():
        raise ConfigurationError("FESTIVAL_DATABASE_URL is set: the external server is not ours to stop")
    stopped = EmbeddedPostgres(settings.pipeline_home(), settings.embedded_port()).stop()
    click.echo("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")


def main() -> None:
    """Entry point: configuration problems are one line on stderr, not a traceback."""
    try:
        cli(standalone_mode=True)
    except ConfigurationError as exc:
        click.echo(f"festival-pipeline: error: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
