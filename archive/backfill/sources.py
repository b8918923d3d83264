"""Where archived snapshots come from: a CDX server with its replay, or local WARC files.

Both answer the same two questions: which snapshots of a URL exist
(`snapshots`, as `CdxRow`s), and what were the original bytes of one of them
(`fetch`, as a `FetchResult` plus its provenance). A CDX server is asked
through the archive's polite `Fetcher` (robots.txt, one request at a time per
host at ARCHIVE_BACKFILL_RATE, Retry-After honoured); an answer of 429 that
outlasts the fetcher's retries stops the backfill (`ArchiveBusy`), because
pressing on gets an address blocked for an hour, doubling each time.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

from archive.backfill.cdx import (
    CdxError,
    CdxRow,
    cdx_query,
    format_timestamp,
    parse_cdx,
    replay_prefix,
    replay_url,
    replayed_timestamp,
    same_page,
)
from archive.capture.fetch.fetcher import Fetcher, FetchResult
from archive.clock import utcnow
from archive.errors import ArchiveError

# Rows asked for per CDX page, and pages read at most for one URL.
CDX_PAGE_ROWS = 1000
MAX_CDX_PAGES = 200
WARC_SUFFIXES = (".warc", ".warc.gz")


class SourceError(ArchiveError):
    """The web archive cannot be read (a bad answer, a missing file)."""


class ArchiveBusy(ArchiveError):
    """The web archive answered 429 and asked for more patience than we wait."""

    def __init__(self, where: str, retry_after: str | None) -> None:
        wait = f" (Retry-After: {retry_after[:40]})" if retry_after else ""
        super().__init__(f"{where} answered HTTP 429 Too Many Requests{wait}: stopped to stay polite; "
                         "run the backfill again later and it resumes where it stopped")


@dataclass
class Archived:
    """One archived response, with where it came from."""
    result: FetchResult
    timestamp: str | None            # the snapshot's own, as the archive named it
    provenance: dict[str, Any] = field(default_factory=dict)


class SnapshotSource(Protocol):
    name: str

    def snapshots(self, url: str, date_from: datetime | None, date_to: datetime | None,
             progress: Callable[[str], None]) -> list[CdxRow]: ...

    def fetch(self, url: str, timestamp: str, ref: str = "", digest: str = "") -> Archived: ...


class CdxSource:
    """A CDX server (the Wayback Machine, a pywb collection) and its `id_` replay."""

    def __init__(self, fetcher: Fetcher, cdx_url: str, page_rows: int = CDX_PAGE_ROWS) -> None:
        try:
            self.prefix = replay_prefix(cdx_url)
        except CdxError as exc:
            raise SourceError(str(exc)) from None
        self.fetcher = fetcher
        self.cdx_url = cdx_url
        self.page_rows = page_rows
        self.name = urlsplit(cdx_url).netloc

    def snapshots(self, url: str, date_from: datetime | None, date_to: datetime | None,
             progress: Callable[[str], None]) -> list[CdxRow]:
        rows: dict[str, CdxRow] = {}
        resume: str | None = None
        for page in range(1, MAX_CDX_PAGES + 1):
            query = cdx_query(self.cdx_url, url, date_from, date_to, self.page_rows, resume)
            result = self._get(query, "application/json, text/plain;q=0.5")
            if not result.ok:
                raise SourceError(f"the CDX server {self.name} answered "
                                  f"{result.error or f'HTTP {result.status}'} for {url}")
            try:
                found = parse_cdx(result.body.decode("utf-8", errors="replace"))
            except CdxError as exc:
                raise SourceError(f"the CDX server {self.name}: {exc}") from None
            new = [row for row in found if row.order_key not in rows]
            rows.update((row.order_key, row) for row in new)
            progress(f"listed page {page} of {self.name}'s index: {len(found)} rows, {len(rows)} so far")
            if len(found) < self.page_rows or not new:
                break
            resume = max(row.timestamp for row in found)
        return list(rows.values())

    def fetch(self, url: str, timestamp: str, ref: str = "", digest: str = "") -> Archived:
        asked = replay_url(self.prefix, timestamp, url)
        result = self._get(asked, None)
        # The Wayback Machine redirects to its nearest snapshot; pywb serves it and names it.
        served = result.headers.get("content-location", "")
        found = replayed_timestamp(result.final_url) or replayed_timestamp(served) or timestamp
        provenance = {"archive": self.name, "snapshot_url": result.final_url or asked,
                      "timestamp": found, "digest": digest or None}
        # The exchange names the page's own address; the replay address is provenance.
        result.url = result.final_url = url
        return Archived(result, found, provenance)

    def _get(self, url: str, accept: str | None) -> FetchResult:
        result = self.fetcher.fetch(url, accept=accept)
        if result.status == 429:
            raise ArchiveBusy(self.name, result.headers.get("retry-after"))
        return result


@dataclass(frozen=True)
class _Record:
    url: str
    timestamp: str
    status: int | None
    digest: str
    file: int
    offset: int
    # For a revisit: the payload digest whose response holds the body.
    refers_to: str | None


class WarcSource:
    """Response and revisit records of local WARC files (a file, or every WARC in a folder)."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.name.endswith(WARC_SUFFIXES))
        elif path.is_file():
            files = [path]
        else:
            raise SourceError(f"no WARC file or folder at {path}")
        if not files:
            raise SourceError(f"no .warc or .warc.gz files in {path}")
        self.name = path.name
        self.files = files
        self.max_bytes = max_bytes
        self.records: list[_Record] = []
        self.by_ref: dict[tuple[int, int], _Record] = {}
        self.bodies: dict[str, _Record] = {}
        for index, file in enumerate(files):
            self._index(index, file)

    def _index(self, index: int, file: Path) -> None:
        try:
            with file.open("rb") as stream:
                iterator = ArchiveIterator(stream)
                for record in iterator:
                    if record.rec_type not in ("response", "revisit") or record.http_headers is None:
                        continue
                    kept = _Record(
                        url=record.rec_headers.get_header("WARC-Target-URI") or "",
                        timestamp=_warc_timestamp(record.rec_headers.get_header("WARC-Date") or ""),
                        status=_status(record.http_headers.get_statuscode()),
                        digest=record.rec_headers.get_header("WARC-Payload-Digest") or "",
                        file=index, offset=iterator.get_record_offset(),
                        refers_to=(record.rec_headers.get_header("WARC-Payload-Digest")
                                   if record.rec_type == "revisit" else None))
                    if not kept.url or not kept.timestamp:
                        continue
                    self.records.append(kept)
                    self.by_ref[(kept.file, kept.offset)] = kept
                    if kept.refers_to is None and kept.digest:
                        self.bodies.setdefault(kept.digest, kept)
        except (OSError, ValueError) as exc:
            raise SourceError(f"cannot read the WARC file {file.name}: {exc}") from None

    def snapshots(self, url: str, date_from: datetime | None, date_to: datetime | None,
             progress: Callable[[str], None]) -> list[CdxRow]:
        low = format_timestamp(date_from) if date_from else "0"
        high = format_timestamp(date_to) if date_to else "9"
        rows = [CdxRow(r.timestamp, r.url, 200 if r.refers_to and r.status == 304 else r.status,
                       r.digest, ref=f"{r.file:05d}:{r.offset:015d}")
                for r in self.records
                if same_page(r.url, url) and low <= r.timestamp <= high]
        progress(f"found {len(rows)} records of {url} in {len(self.files)} WARC file(s)")
        return rows

    def fetch(self, url: str, timestamp: str, ref: str = "", digest: str = "") -> Archived:
        record = self._by_ref(ref) if ref else self._nearest(url, timestamp)
        if record is None:
            return Archived(unreadable(url, f"{url} is not in {self.name}"), None)
        source = self.bodies.get(record.refers_to) if record.refers_to else record
        provenance = {"archive": self.name, "snapshot_url": f"{self.files[record.file].name}#{record.offset}",
                      "timestamp": record.timestamp, "digest": record.digest or None}
        if source is None:
            return Archived(unreadable(url, f"the revisit record of {url} at {record.timestamp} refers to "
                                          "a body that is not in the WARC"), record.timestamp, provenance)
        status, lines, body = self._read(source)
        if record.refers_to and record.status == 304:
            status = 200
        result = FetchResult(url=url, final_url=url, status=status, header_lines=lines, body=body,
                             request_headers={}, redirects=[], fetched_at=utcnow(), elapsed_ms=0,
                             error=None if len(body) <= self.max_bytes else "larger than ARCHIVE_MAX_RESPONSE_BYTES")
        return Archived(result, record.timestamp, provenance)

    def _by_ref(self, ref: str) -> _Record | None:
        file, _, offset = ref.partition(":")
        return self.by_ref.get((int(file), int(offset)))

    def _nearest(self, url: str, timestamp: str) -> _Record | None:
        found = [r for r in self.records if same_page(r.url, url)]
        return min(found, key=lambda r: abs(int(r.timestamp) - int(timestamp)), default=None)

    def _read(self, record: _Record) -> tuple[int | None, list[tuple[str, str]], bytes]:
        with self.files[record.file].open("rb") as stream:
            stream.seek(record.offset)
            found = next(iter(ArchiveIterator(stream)))
            lines = [(str(k), str(v)) for k, v in found.http_headers.headers]
            body = found.content_stream().read(self.max_bytes + 1)
            return _status(found.http_headers.get_statuscode()), lines, body


def _status(code: str | None) -> int | None:
    return int(code) if code and code.isdigit() else None


def _warc_timestamp(date: str) -> str:
    try:
        return format_timestamp(datetime.fromisoformat(date.replace("Z", "+00:00")))
    except ValueError:
        return ""


def unreadable(url: str, error: str) -> FetchResult:
    """A page the web archive could not give: an error, never an answer."""
    return FetchResult(url=url, final_url=url, status=None, header_lines=[], body=b"", request_headers={},
                       redirects=[], fetched_at=utcnow(), elapsed_ms=0, error=error)
