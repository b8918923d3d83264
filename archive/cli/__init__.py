"""The command line: `python -m archive <command>` (see DESIGN.md's contract).

Each command's docstring is its --help. Errors a user can act on print one
line (`error: ...`) and exit 1; they never show a traceback. Commands live in
one module per area and are added to `cli` at the bottom of this file.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from archive.errors import ArchiveError

if TYPE_CHECKING:
    from flask import Flask

    from archive.context import ArchiveContext


class ArchiveGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchiveError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=ArchiveGroup)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Comment-moderation transparency archive.

    Settings come from ARCHIVE_* environment variables (see README).
    """
    if ctx.obj is None:
        from archive import create_app
        ctx.obj = create_app()


def current_app_obj() -> Flask:
    """The app the command runs against (tests pass their own with CliRunner(obj=app))."""
    return click.get_current_context().find_root().obj


def current_context() -> ArchiveContext:
    """The archive context of the app the command runs against."""
    from archive.context import archive_context

    return archive_context(current_app_obj())


def main() -> None:
    cli.main(args=sys.argv[1:], prog_name="python -m archive")


from archive.cli import (
    capture_commands,
    demo_commands,
    operator_commands,
    research_commands,
    search_commands,
    setup_commands,
    watch_commands,
)

for _module in (setup_commands, watch_commands, capture_commands, research_commands, search_commands,
                operator_commands, demo_commands):
    for _command in _module.COMMANDS:
        cli.add_command(_command)
