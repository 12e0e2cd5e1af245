"""The `festival-pipeline` command: run Dagster on the project's database, backfill, report, manage
the database."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import click

from festival_pipeline import settings
from festival_pipeline.errors import ConfigurationError
from festival_pipeline.operations import ALL, FestivalYears, SelectionError, festival_names, plan

if TYPE_CHECKING:
    from rich.console import Console

    from festival_pipeline.runtime.instance_home import DagsterEnvironment

# from the registry, so festivals added to it are listed too; a paragraph click does not rewrap
# (it would break slugs at their hyphens)
_FESTIVALS = "\b\n" + textwrap.fill(", ".join(festival_names()) + ".", width=76, break_on_hyphens=False)
_YEARS_HELP = "Years, e.g. 1929-2026, 2024 or 1990,1995-1999; within the festival's partitions."


def _environment() -> DagsterEnvironment:
    """The database started and migrated, DAGSTER_HOME laid out; this process uses the instance too."""
    from festival_pipeline.runtime import instance_home

    environment = instance_home.prepare(settings.database_settings(), settings.pipeline_home())
    os.environ.update(environment.env)
    return environment


@click.group(help="Film-award ceremonies scraped into one PostgreSQL schema, orchestrated by Dagster.\n\n"
             "Festivals (for backfill and status; `oscars` is the Academy Awards):\n\n" + _FESTIVALS)
def cli() -> None:
    pass


@cli.command(short_help="The database, then the Dagster UI, daemon and code server.",
             help="Start the database, apply migrations, then run the Dagster webserver, daemon and code server "
                  "(Dagster's `dg dev`).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the webserver binds to.")
@click.option("--port", default=3000, show_default=True, type=int)
def dev(host: str, port: int) -> None:
    from festival_pipeline.runtime import instance_home, services
    from festival_pipeline.runtime.process_group import run_in_process_group

    environment = _environment()
    # Dagster's own `dg dev` (what `dagster dev` now tells users to run) on the repo's workspace.yaml
    command = [str(Path(sys.executable).with_name("dg")), "dev", "-w",
               str(instance_home.project_file("workspace.yaml")), "-h", host, "-p", str(port)]
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    click.echo(f"Dagster UI on {url} (DAGSTER_HOME={environment.dagster_home})")
    state = services.write_dev_state(settings.pipeline_home(), url)
    try:
        # run from DAGSTER_HOME: Dagster warns about the repo's own dagster.yaml when run beside it;
        # a SIGTERM/SIGHUP to us stops the webserver, daemon and code servers too
        code = run_in_process_group(command, env=environment.env, cwd=environment.dagster_home)
    finally:
        state.unlink(missing_ok=True)
    raise SystemExit(code)


@cli.group(short_help="One Dagster service, for a deployment that runs them apart.",
           help="Run one Dagster service of this project (for a deployment that runs them apart).")
def serve() -> None:
    pass


@serve.command("code-server", help="The gRPC code server with festival_pipeline.definitions.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=4000, show_default=True, type=int)
def serve_code_server(host: str, port: int) -> None:
    from festival_pipeline.runtime import services

    environment = _environment()
    _exec(services.code_server_command(host, port), environment)


@serve.command("webserver", short_help="The Dagster UI, reaching the code through a code server.",
               help="The Dagster UI, reaching the code through the code server at HOST:PORT.")
@click.option("--code-server", "code_server", required=True, help="host:port of `serve code-server`.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=3000, show_default=True, type=int)
def serve_webserver(code_server: str, host: str, port: int) -> None:
    from festival_pipeline.runtime import services

    environment = _environment()
    workspace = services.grpc_workspace(environment.dagster_home / "workspace.yaml", code_server)
    _exec(services.webserver_command(workspace, host, port), environment)


@serve.command("daemon", short_help="The Dagster daemon.",
               help="The Dagster daemon (schedules, sensors, run queue, backfills, run monitoring).")
@click.option("--code-server", "code_server", required=True, help="host:port of `serve code-server`.")
def serve_daemon(code_server: str) -> None:
    from festival_pipeline.runtime import services

    environment = _environment()
    workspace = services.grpc_workspace(environment.dagster_home / "workspace.yaml", code_server)
    _exec(services.daemon_command(workspace), environment)


def _exec(command: list[str], environment: DagsterEnvironment) -> None:
    """Become the service: SIGTERM reaches it directly, and nothing of ours stays behind."""
    from festival_pipeline.runtime.services import restore_sigint

    os.chdir(environment.dagster_home)
    restore_sigint()
    os.execve(command[0], command, environment.env)


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    short_help="Any `dagster` command, on this project's instance.",
    help="Run any `dagster` command with this project's instance, e.g. "
    "`festival-pipeline dagster asset materialize -m festival_pipeline.definitions --select … --partition 2024`.",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dagster(args: tuple[str, ...]) -> None:
    environment = _environment()
    raise SystemExit(subprocess.call([sys.executable, "-m", "dagster", *args], env=environment.env))


@cli.command(short_help="Backfill years of a festival as a Dagster backfill.",
             help="Backfill years of a festival as a Dagster backfill (Overview → Backfills in the UI).\n\n"
             "TARGET is a festival, or `all` for every festival (`oscars` is the Academy Awards). Without "
             "--years, every year of the festival. Exits non-zero, naming them, when any year failed.\n\n"
             "Festivals:\n\n" + _FESTIVALS)
@click.argument("target", metavar="TARGET")
@click.option("--years", help=_YEARS_HELP)
@click.option("--accept-shrink", is_flag=True,
              help="Write years even when the source now lists a whole category, more than 10 % of the "
                   "nominations, or an edition less (the site really changed).")
@click.option("--from-archive", is_flag=True,
              help="Fetch nothing: parse and write the years again from the pages already archived.")
@click.option("--webserver", "webserver_url", metavar="URL",
              help="The Dagster webserver of a running deployment (default: `festival-pipeline dev`'s, else one "
                   "started for this command).")
def backfill(target: str, years: str | None, accept_shrink: bool, from_archive: bool,
             webserver_url: str | None) -> None:
    from festival_pipeline.operations import backfill as operation
    from festival_pipeline.runtime.services import DagsterStack

    targets = _plan(target, years)  # a usage error comes before anything starts
    environment = _environment()
    stack = DagsterStack(environment.env, environment.dagster_home, settings.pipeline_home(), webserver_url).start()
    report = operation.run_backfill(environment, stack, targets, _console(), accept_shrink=accept_shrink,
                                    from_archive=from_archive)
    if report.failed:
        click.echo(f"{len(report.failed)} partition(s) failed (backfill {', '.join(report.backfill_ids)}):", err=True)
        for line in report.failed:
            click.echo(f"  {line}", err=True)
        raise SystemExit(1)
    click.echo(f"all {sum(len(r.keys) for r in report.results)} partition(s) landed "
               f"(backfill {', '.join(report.backfill_ids)}: {report.final_status.lower()})")


def _plan(target: str, years: str | None) -> list[FestivalYears]:
    try:
        return plan(target, years)
    except SelectionError as exc:
        raise click.BadParameter(str(exc)) from None


def _console() -> Console:
    """A rich console; piped output gets a wide page instead of rich's 80 columns."""
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 140)


@cli.command(short_help="What the database holds: a line per festival, or per year.",
             help="What the database holds. Without --festival, a line per festival: its years complete, "
             "failed and missing, and its last import. With --festival, a line per year and edition: "
             "missing, failed (with the error), no edition, nothing to import, announced but not awarded, or "
             "complete; rows, match rates, staleness.\n\nFestivals:\n\n" + _FESTIVALS)
@click.option("--festival", "target", metavar="FESTIVAL",
              help="A festival (listed above), or `all` for every festival year by year.")
@click.option("--years", help=_YEARS_HELP)
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="json and csv: a record per festival, year and edition.")
def status(target: str | None, years: str | None, output_format: str) -> None:
    selection = _plan(target or ALL, years)  # a usage error comes before anything starts
    from festival_pipeline.database import connection
    from festival_pipeline.operations import status as operation

    database_url = connection.resolve_database_urls(settings.database_settings()).festival
    if target is None and output_format == "table":
        summaries = operation.read(database_url, lambda: operation.festival_summaries(database_url, selection))
        operation.render_summary(summaries, _console())
    else:
        rows = operation.read(database_url, lambda: operation.status_rows(database_url, selection))
        operation.render(rows, output_format, _console())


@cli.group(short_help="The festival database: its URL, migrations, the embedded server.",
         help="The festival database: its URL, migrations, the embedded server.")
def db() -> None:
    pass


@db.command("url", short_help="Print the festival database URL (for psql).",
            help="Print the festival database URL, without its password (usable by psql).")
@click.option("--dagster", "which", flag_value="dagster", help="The Dagster instance's database instead.")
def db_url(which: str | None) -> None:
    from festival_pipeline.database.connection import resolve_database_urls
    from festival_pipeline.settings import redact

    urls = resolve_database_urls(settings.database_settings())
    click.echo(redact(urls.dagster if which == "dagster" else urls.festival))


@db.command("upgrade", short_help="Create the database if needed and apply every migration.",
            help="Create the database if needed and apply every migration.")
def db_upgrade() -> None:
    from festival_pipeline.database import migrate
    from festival_pipeline.database.connection import resolve_database_urls
    from festival_pipeline.settings import redact

    url = resolve_database_urls(settings.database_settings()).festival
    before, after = migrate.upgrade(url)
    if before == after:
        click.echo(f"{redact(url)} is up to date (revision {after})")
    else:
        click.echo(f"{redact(url)} upgraded from {before or 'empty'} to {after}")


@db.command("stop", help="Stop the embedded PostgreSQL server (and its pgbouncer).")
def db_stop() -> None:
    from festival_pipeline.database.connection import stop_embedded

    database = settings.database_settings()
    if database.festival_url:
        raise ConfigurationError("FESTIVAL_DATABASE_URL is set: the external server is not ours to stop")
    stopped = stop_embedded(database.home)
    click.echo("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
