"""The `festival-pipeline` command's entry point: a configuration problem is one line on stderr, not a
traceback — whether it is found while the command loads (FESTIVAL_EVENTS_FILE is read then: the
help texts list the festivals) or while it runs."""

from __future__ import annotations

import click

from festival_pipeline.errors import ConfigurationError


def main() -> None:
    try:
        from festival_pipeline.cli import cli

        cli(standalone_mode=True)
    except ConfigurationError as exc:
        click.echo(f"festival-pipeline: error: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
