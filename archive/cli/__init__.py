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
def cli() -> None:
    """Comment-moderation transparency archive.

    Settings come from ARCHIVE_* environment variables (see README).
    """


# Commands that need only the database, the evidence or the index run on an
# `ArchiveContext`; only `serve` and operator accounts need the Flask app, so
# the others start without loading the web side.
def current_app_obj() -> Flask:
    """The app the command runs against (tests pass their own with CliRunner(obj=app))."""
    root = click.get_current_context().find_root()
    if root.obj is None:
        from archive import create_app

        root.obj = create_app(context=root.meta.get(_CONTEXT))
    app: Flask = root.obj
    return app


def current_context() -> ArchiveContext:
    """The archive context the command runs against: the app's when there is one."""
    from archive.context import ArchiveContext, archive_context

    root = click.get_current_context().find_root()
    if root.obj is not None:
        return archive_context(root.obj)
    if _CONTEXT not in root.meta:
        from archive.settings import Settings
        from config import Config

        context = ArchiveContext.open(Settings.from_config(Config()))
        root.meta[_CONTEXT] = context
        root.call_on_close(context.close)
    found: ArchiveContext = root.meta[_CONTEXT]
    return found


_CONTEXT = "archive.context"


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
