"""Blobs in an S3-compatible bucket (`ARCHIVE_BLOB_URL=s3://BUCKET[/PREFIX]`).

boto3 finds the endpoint, region and keys the standard way (`AWS_ENDPOINT_URL`,
`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `~/.aws/`), so any S3-compatible
server works. A PUT replaces an object whole: a reader never sees half a body.
Every failure of the store itself becomes one `BlobStoreError` line naming it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import boto3
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from archive.store.blobs import BlobStoreError

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

# HEAD answers carry no error body, only the status: "404" there means no such object.
_ABSENT = {"NoSuchKey", "404", "NotFound"}
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "Forbidden"}


class S3Blobs:
    """Blobs as objects `[PREFIX/]<name>` in one bucket."""

    def __init__(self, bucket: str, prefix: str) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self.where = f"s3://{bucket}/{self.prefix}"
        try:
            # One client per store: boto3 clients are thread-safe (sessions are
            # not), and the scheduler's capture threads share the store.
            self.client: S3Client = boto3.session.Session().client("s3")
        except (BotoCoreError, ValueError) as exc:
            self._fail(exc)

    def key(self, name: str) -> str:
        return self.prefix + name

    def stored_size(self, name: str) -> int | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(name))["ContentLength"]
        except (BotoCoreError, ClientError) as exc:
            # A missing bucket is also a bare 404 here; the write that follows says which.
            if _code(exc) in _ABSENT:
                return None
            self._fail(exc)

    def read(self, name: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            if _code(exc) in _ABSENT:
                return None
            self._fail(exc)

    def write(self, name: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=data)
        except (BotoCoreError, ClientError) as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> NoReturn:
        code = _code(exc)
        if code == "NoSuchBucket":
            problem = f"has no bucket {self.bucket}"
        elif code in _DENIED:
            problem = f"denied access ({code}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        elif isinstance(exc, NoCredentialsError):
            problem = "has no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        elif isinstance(exc, EndpointConnectionError):
            problem = f"cannot be reached: {exc}"
        else:
            problem = f"failed: {exc}"
        raise BlobStoreError(" ".join(f"the blob store {self.where} {problem}".split())) from exc


def _code(exc: Exception) -> str | None:
    return exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
