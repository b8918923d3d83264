"""What a CDX server says about a URL's snapshots, and which of them to read. Pure: no I/O.

Two layouts answer `output=json`:
- the Wayback Machine: one JSON array whose first row names the fields
  (`[["urlkey","timestamp","original","mimetype","statuscode","digest","length"], [...], ...]`);
- pywb: one JSON object per line (`{"urlkey": ..., "timestamp": ..., "url": ..., "status": ...}`).

`parse_cdx` reads both into `CdxRow`s; `plan_snapshots` keeps the successful
ones in time order and drops repeated digests (pywb has no `collapse`): of a
run of snapshots with the same bytes, the first and the last are kept, the
last so that a removal window starts at the last snapshot that still showed
the comment, not the first.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

# The Wayback Machine's field names, and pywb's where they differ.
_ALIASES = {"original": "url", "statuscode": "status", "mimetype": "mime"}
_TIMESTAMP = re.compile(r"^\d{4,14}$")
_REPLAY_TIMESTAMP = re.compile(r"/(\d{14})(?:[a-z]{2}_)?/")
WAYBACK_CDX_PATH = "/cdx/search/cdx"


class CdxError(ValueError):
    """A CDX answer or address this module cannot read."""


@dataclass(frozen=True)
class CdxRow:
    """One snapshot as a CDX index lists it (or a WARC record, indexed alike)."""
    timestamp: str          # 14 digits, UTC
    url: str                # the original URL
    status: int | None      # None for revisits and other rows without a status
    digest: str
    mime: str = ""
    # Where a local WARC holds it ("<file>#<offset>"); empty for a CDX server.
    ref: str = ""

    @property
    def at(self) -> datetime:
        return parse_timestamp(self.timestamp)

    @property
    def order_key(self) -> str:
        """Sorts snapshots of one source in time order; a resume cursor."""
        return f"{self.timestamp}|{self.ref or self.digest}"


@dataclass(frozen=True)
class Planned:
    """A snapshot to read; `repeat` when it holds the same bytes as the one before."""
    row: CdxRow
    repeat: bool = False


def parse_timestamp(value: str) -> datetime:
    """A CDX timestamp (YYYYMMDDhhmmss, or a prefix of it) as naive UTC."""
    if not _TIMESTAMP.match(value or ""):
        raise CdxError(f"not a CDX timestamp: {str(value)[:40]!r}")
    padded = value + "0101000000"[len(value) - 4:] if len(value) < 14 else value
    try:
        return datetime.strptime(padded, "%Y%m%d%H%M%S")
    except ValueError:
        raise CdxError(f"not a CDX timestamp: {value!r}") from None


def format_timestamp(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y%m%d%H%M%S")


def parse_cdx(text: str) -> list[CdxRow]:
    """Rows of either JSON layout; rows without a timestamp or URL are skipped."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            table = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CdxError(f"the CDX answer is not JSON: {exc}") from None
        if not isinstance(table, list) or not table:
            return []
        header = table[0]
        if not isinstance(header, list):
            raise CdxError("the CDX answer's first row does not name its fields")
        names = [_ALIASES.get(str(name), str(name)) for name in header]
        records: Iterable[object] = (dict(zip(names, row, strict=False)) for row in table[1:]
                                     if isinstance(row, list))
    else:
        records = [_json_line(line) for line in text.splitlines() if line.strip()]
    rows = [_row(record) for record in records]
    return [row for row in rows if row is not None]


def _json_line(line: str) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise CdxError(f"a CDX line is not JSON: {exc}") from None


def _row(record: object) -> CdxRow | None:
    if not isinstance(record, dict):
        return None
    fields = {_ALIASES.get(str(k), str(k)): v for k, v in record.items()}
    timestamp, url = str(fields.get("timestamp") or ""), str(fields.get("url") or "")
    if not _TIMESTAMP.match(timestamp) or len(timestamp) != 14 or not url:
        return None
    status = str(fields.get("status") or "")
    # Hostile or broken answers must not bloat what is stored with each snapshot.
    return CdxRow(timestamp=timestamp, url=url[:2000], status=int(status) if status.isdigit() else None,
                  digest=str(fields.get("digest") or "")[:128], mime=str(fields.get("mime") or "")[:128])


def same_page(listed: str, thread_url: str) -> bool:
    """Is a listed snapshot's URL the thread's page? Web archives list one page
    under http and https, with or without its default port (`http://host:80/`),
    and host names in any case; anything else is another page, never judged
    as this thread."""
    def key(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        try:
            port = parts.port
        except ValueError:
            return ("", "", url)
        if port not in (None, 80, 443):
            host = f"{host}:{port}"
        return host, parts.path or "/", parts.query

    return key(listed) == key(thread_url)


def plan_snapshots(rows: Iterable[CdxRow], after: str | None = None) -> list[Planned]:
    """Successful snapshots (HTTP 200) in time order, after the cursor `after`,
    each run of equal digests cut to its first and last."""
    ok = sorted({row.order_key: row for row in rows if row.status == 200}.values(),
                key=lambda r: r.order_key)
    planned: list[Planned] = []
    for index, row in enumerate(ok):
        previous = ok[index - 1] if index else None
        following = ok[index + 1] if index + 1 < len(ok) else None
        same_before = previous is not None and bool(row.digest) and previous.digest == row.digest
        same_after = following is not None and bool(row.digest) and following.digest == row.digest
        if same_before and same_after:
            continue
        planned.append(Planned(row, repeat=same_before))
    return [p for p in planned if after is None or p.row.order_key > after]


def cdx_query(cdx_url: str, url: str, date_from: datetime | None, date_to: datetime | None,
              limit: int, resume_from: str | None = None) -> str:
    """One page of a CDX listing: the snapshots of exactly `url`, oldest first.

    Pages follow each other by timestamp (`from` = the last timestamp read),
    which both the Wayback Machine and pywb understand; rows read twice at a
    page boundary are dropped by `plan_snapshots`."""
    wayback = urlsplit(cdx_url).path.rstrip("/").endswith(WAYBACK_CDX_PATH)
    params: list[tuple[str, str]] = [("url", url), ("output", "json"), ("limit", str(limit))]
    params.append(("filter", "statuscode:200" if wayback else "=status:200"))
    start = resume_from or (format_timestamp(date_from) if date_from else None)
    if start:
        params.append(("from", start))
    if date_to:
        params.append(("to", format_timestamp(date_to)))
    parts = urlsplit(cdx_url)
    query = "&".join(p for p in (parts.query, urlencode(params)) if p)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def replay_prefix(cdx_url: str) -> str:
    """Where a CDX server replays its snapshots: `/web/` beside the Wayback
    Machine's `/cdx/search/cdx`, the collection itself beside pywb's `/COLL/cdx`."""
    parts = urlsplit(cdx_url)
    path = parts.path.rstrip("/")
    if path.endswith(WAYBACK_CDX_PATH):
        base = path[: -len(WAYBACK_CDX_PATH)] + "/web/"
    elif path.endswith("/cdx"):
        base = path[: -len("cdx")]
    else:
        raise CdxError(f"cannot tell where {cdx_url} replays its snapshots: a CDX address ends "
                       "in /cdx/search/cdx (the Wayback Machine) or /COLLECTION/cdx (pywb)")
    return urlunsplit((parts.scheme, parts.netloc, base, "", ""))


def replay_url(prefix: str, timestamp: str, url: str) -> str:
    """The snapshot's original bytes (`id_`), not the archive's rewritten page."""
    return f"{prefix}{timestamp}id_/{url}"


def replayed_timestamp(replay: str) -> str | None:
    """The timestamp a replay address names (after the archive redirected to its nearest snapshot)."""
    found = _REPLAY_TIMESTAMP.search(urlsplit(replay).path)
    return found.group(1) if found else None
