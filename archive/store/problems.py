"""Storage problems told in one line: a database that cannot be used, and a full disk.

`explain_database` and `explain_os_error` turn an error raised anywhere into
one line for the command line (archive/cli/__init__.py) instead of a
traceback. `naming` gives a file-system error the file it was writing, which
write() and fsync() do not say.
"""
from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from archive.errors import ArchiveError

if TYPE_CHECKING:
    # Settings import the blob stores, which import this module.
    from archive.settings import Settings

# SQLite reports a write that finds no room as SQLITE_FULL, but a full disk
# met while sizing its shared-memory file as an I/O error: below this much
# free space an I/O error is taken for a full disk.
_NEARLY_FULL_BYTES = 1_000_000


class StorageError(ArchiveError):
    """The database or the data folder cannot be used as it is."""


def database_setting(settings: Settings) -> str:
    """The setting that chose the database: its own URL, or the data folder's default."""
    default = settings.database_url == f"sqlite:///{settings.data_dir / 'archive.db'}"
    return "ARCHIVE_DATA_DIR" if default else "ARCHIVE_DATABASE_URL"


def database_label(settings: Settings) -> str:
    """The database URL without its password, and the setting that chose it."""
    url = make_url(settings.database_url)
    return f"{url.render_as_string(hide_password=True)} ({database_setting(settings)})"


def sqlite_path(settings: Settings) -> Path | None:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def explain_database(exc: DBAPIError, settings: Settings) -> str:
    """One line for a database error: a full disk, or what the driver said."""
    cause = exc.orig if exc.orig is not None else exc
    path = sqlite_path(settings)
    name = getattr(cause, "sqlite_errorname", "")
    if path is not None and (name == "SQLITE_FULL" or name.startswith("SQLITE_IOERR") and _nearly_full(path)):
        return f"no space left on device while writing the database {path}"
    if getattr(cause, "sqlstate", None) == "53100":  # PostgreSQL's disk_full
        return f"the database server has no space left on its device: {_first_line(cause)}"
    return f"cannot use the database {database_label(settings)}: {_first_line(cause)}"


def _nearly_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < _NEARLY_FULL_BYTES
    except OSError:
        return False


def explain_os_error(exc: OSError) -> str:
    """One line for a file-system error, naming the file where it is known."""
    if exc.errno == errno.ENOSPC:
        return "no space left on device" + (f" while writing {exc.filename}" if exc.filename else "")
    what = exc.strerror or _first_line(exc)
    return f"{what}: {exc.filename}" if exc.filename else what


@contextmanager
def naming(path: Path) -> Iterator[None]:
    """Re-raise an OSError that names no file as one naming `path`."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None or exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
