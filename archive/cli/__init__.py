"""The command line: `python -m archive <command>` (see DESIGN.md's contract).

Each command's docstring is its --help. Errors a user can act on print one
line (`error: ...`) and exit 1; they never show a traceback. So do a full
disk and a database that cannot be used, wherever they happen
(ARCHIVE_DEBUG=1 shows their traceback). Commands live in one module per
area and are added to `cli` at the bottom of this file.
"""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click
from sqlalchemy.exc import OperationalError

from archive.errors import ArchiveError

if TYPE_CHECKING:
    from flask import Flask

    from archive.context import ArchiveContext
    from archive.settings import Settings


class ArchiveGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchiveError as exc:
            _fail(ctx, str(exc))
        except BrokenPipeError:
            raise  # click quiets a reader that went away (`... | head`) itself
        except (OperationalError, OSError) as exc:
            if os.environ.get("ARCHIVE_DEBUG") == "1":
                raise
            from archive.store.problems import explain_database, explain_os_error

            _fail(ctx, explain_database(exc, _settings(ctx)) if isinstance(exc, OperationalError)
                  else explain_os_error(exc))


def _fail(ctx: click.Context, message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    ctx.exit(1)


def _settings(ctx: click.Context) -> Settings:
    from archive.context import archive_context
    from archive.settings import Settings
    from config import Config

    root = ctx.find_root()
    if root.obj is not None:
        return archive_context(root.obj).settings
    if _CONTEXT in root.meta:
        context: ArchiveContext = root.meta[_CONTEXT]
        return context.settings
    return Settings.from_config(Config())


@click.group(cls=ArchiveGroup)
def cli() -> None:
    """Comment-moderation transparency archive.

    Settings come from ARCHIVE_* environment variables (see README).
    """


# Commands that need only the database, the evidence or the index run on an
# `ArchiveContext`; only `serve` and operator accounts need the Flask app, so
# the others start without loading the web side. Either is built when a
# command first asks for it, so --help and usage errors need no settings or
# database.
def current_app_obj(*, new_archive_ok: bool = False) -> Flask:
    """The app the command runs against (tests pass their own with CliRunner(obj=app))."""
    root = click.get_current_context().find_root()
    if root.obj is None:
        from archive import create_app

        context = root.meta.get(_CONTEXT) or _open_context(new_archive_ok)
        root.obj = create_app(context=context)
    app: Flask = root.obj
    return app


def current_context(*, new_archive_ok: bool = False) -> ArchiveContext:
    """The archive context the command runs against: the app's when there is one."""
    from archive.context import archive_context

    root = click.get_current_context().find_root()
    if root.obj is not None:
        return archive_context(root.obj)
    if _CONTEXT not in root.meta:
        context = _open_context(new_archive_ok)
        root.meta[_CONTEXT] = context
        root.call_on_close(context.close)
    found: ArchiveContext = root.meta[_CONTEXT]
    return found


def _open_context(new_archive_ok: bool) -> ArchiveContext:
    """Only `init` may run on a database that it has not made (`new_archive_ok`);
    any other command says to run it first."""
    from archive.context import ArchiveContext
    from archive.settings import Settings
    from archive.store.schema import require_archive
    from config import Config

    settings = Settings.from_config(Config())
    if not new_archive_ok:
        require_archive(settings)
    return ArchiveContext.open(settings)


_CONTEXT = "archive.context"


def main() -> None:
    cli.main(args=sys.argv[1:], prog_name="python -m archive")


from archive.cli import (
    backfill_commands,
    capture_commands,
    demo_commands,
    operator_commands,
    research_commands,
    search_commands,
    setup_commands,
    watch_commands,
    worker_commands,
)

for _module in (setup_commands, watch_commands, capture_commands, worker_commands, research_commands,
                search_commands, operator_commands, demo_commands, backfill_commands):
    for _command in _module.COMMANDS:
        cli.add_command(_command)
