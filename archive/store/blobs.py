"""Where the evidence store keeps its compressed bodies, by name `<ab>/<cd>/<sha256>.zst`."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol


class Blobs(Protocol):
    """Compressed bodies by name; `where` names the store in messages."""

    where: str

    def stored_size(self, name: str) -> int | None:
        """Bytes kept under `name`; None when there are none."""

    def read(self, name: str) -> bytes | None:
        """The bytes kept under `name`; None when there are none."""

    def write(self, name: str, data: bytes) -> None:
        """Keep `data` under `name`, replacing what was there; a reader sees the
        old bytes or the new ones, never a part."""


class LocalBlobs:
    """Blobs as files under one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.where = str(self.folder)

    def path(self, name: str) -> Path:
        return self.folder / name

    def stored_size(self, name: str) -> int | None:
        try:
            return self.path(name).stat().st_size
        except FileNotFoundError:
            return None

    def read(self, name: str) -> bytes | None:
        try:
            return self.path(name).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, name: str, data: bytes) -> None:
        # A temporary file renamed into place: concurrent writers of one body
        # (threads or processes) all end with the same complete file.
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".zst")
        try:
            with os.fdopen(handle, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

