"""Where the evidence store keeps its compressed bodies: a folder or an S3 bucket.

`ARCHIVE_BLOB_URL` chooses: empty for `<data dir>/blobs/`, `s3://BUCKET[/PREFIX]`
for a bucket that every capture worker and web server reaches, wherever it
runs. Both keep a body under the same name, `<ab>/<cd>/<sha256>.zst`, so the
files of a folder copied under the bucket's prefix are the same store.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from archive.errors import ArchiveError
from archive.store.problems import naming

# Bucket names as S3 allows them: 3-63 lower-case letters, digits, dots and hyphens.
S3_URL = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?$")


class BlobStoreError(ArchiveError):
    """The store itself cannot be used: unreachable, no such bucket, access denied."""


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
            with naming(path), os.fdopen(handle, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise


def open_blobs(blob_url: str, data_dir: Path) -> Blobs:
    """The store `ARCHIVE_BLOB_URL` names (checked by archive/settings.py)."""
    if not blob_url:
        return LocalBlobs(data_dir / "blobs")
    match = S3_URL.match(blob_url)
    if match is None:
        raise BlobStoreError(f"not a blob store URL (s3://BUCKET[/PREFIX]): {blob_url!r}")
    # Imported here: an archive that keeps its blobs in a folder never loads boto3.
    from archive.store.s3blobs import S3Blobs

    return S3Blobs(match["bucket"], (match["prefix"] or "").strip("/"))
