"""The command's help: whole descriptions, and the festivals it takes, from the registry."""

from __future__ import annotations

import click
from click.testing import CliRunner

from festival_pipeline.cli import cli
from festival_pipeline.operations import festival_names


def _help(*path: str) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


def _groups(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Group]]:
    found = [(path, group)]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _groups(command, (*path, name))
    return found


def test_every_command_list_shows_whole_descriptions() -> None:
    for path, group in _groups(cli):
        listing = _help(*path).split("Commands:", 1)[1]
        for name, command in group.commands.items():
            line = next(line for line in listing.splitlines() if line.split()[:1] == [name])
            shown = " ".join(line.split()[1:])
            assert not shown.endswith("..."), (path, name, shown)  # click cut it
            assert shown == command.get_short_help_str(limit=1000), (path, name, shown)
            assert shown.endswith("."), (path, name, shown)


def test_the_help_lists_every_festival_of_the_registry_unbroken() -> None:
    for path in ((), ("backfill",), ("status",)):
        text = _help(*path)
        words = {word.strip(".,") for word in text.split()}
        missing = [name for name in festival_names() if name not in words]
        assert not missing, (path, missing)  # a slug cut at its hyphen would be missing too
