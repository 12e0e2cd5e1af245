"""The `festival-pipeline` command: run Dagster on the project's database, manage the database."""

from __future__ import annotations

import subprocess
import sys

import click

from festival_pipeline import dagster_env, settings
from festival_pipeline.settings import ConfigurationError


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
    raise SystemExit(subprocess.call(command, env=env, cwd=dagster_env.PROJECT_ROOT))


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    help="Run any `dagster` command with this project's instance, e.g. "
    "`festival-pipeline dagster asset materialize -m festival_pipeline.definitions --select … --partition 2024`.",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dagster(args: tuple[str, ...]) -> None:
    env = dagster_env.prepare()
    raise SystemExit(subprocess.call([sys.executable, "-m", "dagster", *args], env=env))


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
