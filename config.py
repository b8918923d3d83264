"""Settings, read from the environment with embedded defaults.

Every setting is an `ARCHIVE_*` environment variable; the README's settings
table documents each one (a test fails when one is missing from it).
Settings are read when a `Config` is created, not at import, so tests can set
the environment or pass overrides. A `Config` holds the raw values (text from
the environment, or values passed in code); `archive.settings.Settings`
converts them with this table's converters and checks them, once, at start-up.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from archive.clock import parse_duration

DEFAULT_USER_AGENT = (
    "CommentArchiveBot/0.1 (+https://github.com/comment-archive; "
    "comment-moderation transparency archive)"
)


def _flag(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _folder(value: str | Path) -> Path:
    return Path(value).resolve()


def _optional(value: str | None) -> str | None:
    return (value or "").strip() or None


def _names(value: str | frozenset[str]) -> frozenset[str]:
    if isinstance(value, frozenset):
        return value
    return frozenset(word.strip().lower() for word in value.replace(",", " ").split())


def _duration(value: str | timedelta) -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(value)


# name -> (environment variable, default as text, converter, documentation)
SETTINGS: dict[str, tuple[str, str, Any, str]] = {
    "DATA_DIR": ("ARCHIVE_DATA_DIR", "./instance", _folder,
                 "Folder for the SQLite database, the search index and capture blobs."),
    "BLOB_URL": ("ARCHIVE_BLOB_URL", "", str,
                 "Where capture blobs are kept: empty for the data folder, or s3://BUCKET[/PREFIX]."),
    "DATABASE_URL": ("ARCHIVE_DATABASE_URL", "", str,
                     "SQLAlchemy URL; empty means SQLite in the data folder."),
    "MIN_HOST_DELAY": ("ARCHIVE_MIN_HOST_DELAY", "5", float,
                       "Minimum seconds between two requests to one host."),
    "CONFIRM_CAPTURES": ("ARCHIVE_CONFIRM_CAPTURES", "2", int,
                         "Consecutive good captures a comment must be absent from to be removed."),
    "USER_AGENT": ("ARCHIVE_USER_AGENT", DEFAULT_USER_AGENT, str,
                   "User-Agent sent with every request and matched against robots.txt."),
    "ALLOW_PRIVATE_ADDRESSES": ("ARCHIVE_ALLOW_PRIVATE_ADDRESSES", "0", _flag,
                                "Allow fetching loopback, private and link-local addresses (tests, demos)."),
    "SECRET_KEY": ("ARCHIVE_SECRET_KEY", "", str,
                   "Signs sessions and search cursors; empty means a random key kept in the data folder."),
    "SEARCH_BACKEND": ("ARCHIVE_SEARCH_BACKEND", "tantivy", str,
                       "Search engine: tantivy (a Tantivy index in <data dir>/index/tantivy/), whoosh "
                       "or database (SQLite FTS5 / PostgreSQL tsvector); run `reindex` after switching."),
    "SEARCH_EXACT_COUNT": ("ARCHIVE_SEARCH_EXACT_COUNT", "10000", int,
                           "PostgreSQL search counts results exactly up to this many (a phrase: when "
                           "at most this many comments hold all its words); above it, "
                           "totals and facets are estimates (\"about N\") and relevance ranks only "
                           "this many of the matches."),
    "FETCH_TIMEOUT": ("ARCHIVE_FETCH_TIMEOUT", "30", float,
                      "Seconds one response may take, connection to last byte."),
    "MAX_RESPONSE_BYTES": ("ARCHIVE_MAX_RESPONSE_BYTES", "10000000", int,
                           "Largest response body kept; a larger one fails the capture."),
    "MAX_COMMENT_PAGES": ("ARCHIVE_MAX_COMMENT_PAGES", "200", int,
                          "Most comment pages walked in one capture; more fails the capture."),
    "FETCH_RETRIES": ("ARCHIVE_FETCH_RETRIES", "3", int,
                      "Retries for timeouts, 429 and 5xx answers, with backoff."),
    "DEFAULT_INTERVAL": ("ARCHIVE_DEFAULT_INTERVAL", "1h", _duration,
                         "Capture interval of a new watch when none is given."),
    "WORKERS": ("ARCHIVE_WORKERS", "4", int,
                "Captures run at once by the scheduler (one host is never fetched in parallel)."),
    "BROKER_URL": ("ARCHIVE_BROKER_URL", "", _optional,
                   "Celery broker (redis://... or amqp://...) that capture jobs go through to "
                   "`worker` processes; empty runs them in the scheduler's own pool. A redis:// "
                   "broker also holds the fleet's host slots (politeness); otherwise the database does."),
    "BROKER_QUEUE": ("ARCHIVE_BROKER_QUEUE", "archive-captures", str,
                     "Name of the broker queue of capture jobs (and the prefix of the archive's Redis keys)."),
    "BROKER_VISIBILITY_TIMEOUT": ("ARCHIVE_BROKER_VISIBILITY_TIMEOUT", "3900", float,
                                  "Seconds after which Redis hands a job whose worker never acknowledged it "
                                  "to another worker; longer than the longest capture."),
    "DISPATCH_SECONDS": ("ARCHIVE_DISPATCH_SECONDS", "60", float,
                         "Seconds between two rounds of the dispatcher (what is due becomes a job)."),
    "HEARTBEAT_SECONDS": ("ARCHIVE_HEARTBEAT_SECONDS", "15", float,
                          "Seconds between a worker's heartbeats; one silent for four of them is lost "
                          "and its jobs are run again."),
    "DEMO_ON_EMPTY": ("ARCHIVE_DEMO_ON_EMPTY", "1", _flag,
                      "`serve` loads the offline demo when the archive holds no thread yet."),
    "HTTPS": ("ARCHIVE_HTTPS", "0", _flag,
              "Users reach the archive over HTTPS: its session cookie is sent over HTTPS only."),
    "BEHIND_PROXY": ("ARCHIVE_BEHIND_PROXY", "0", int,
                     "Reverse proxies in front of `serve` whose X-Forwarded-* headers are trusted."),
    "BACKFILL_CDX_URL": ("ARCHIVE_BACKFILL_CDX_URL", "https://web.archive.org/cdx/search/cdx", str,
                         "CDX server `backfill` asks when no --cdx or --warc is given."),
    "BACKFILL_RATE": ("ARCHIVE_BACKFILL_RATE", "24", float,
                      "Most requests per minute `backfill` sends to one web archive."),
    "BROWSER": ("ARCHIVE_BROWSER", "/usr/bin/chromium", str,
                "Chromium executable that browser captures drive (through Playwright)."),
    "BROWSER_SECONDS": ("ARCHIVE_BROWSER_SECONDS", "60", float,
                        "Seconds one browser capture may take; past them Chromium is killed."),
    "BROWSER_MAX_CLICKS": ("ARCHIVE_BROWSER_MAX_CLICKS", "20", int,
                           "Most clicks on a \"load more\" button in one browser capture."),
    "BROWSER_MAX_REQUESTS": ("ARCHIVE_BROWSER_MAX_REQUESTS", "300", int,
                             "Most requests one browser capture sends; the page's further requests fail."),
    "BROWSER_SKIP": ("ARCHIVE_BROWSER_SKIP", "image,media,font", _names,
                     "Kinds of request a browser capture never sends (each would wait its host's turn)."),
    "DISQUS_API_KEY": ("ARCHIVE_DISQUS_API_KEY", "", str,
                       "Public key for Disqus's API, which the disqus adapter needs to read a thread "
                       "longer than its embed page shows; a watch's option api_key overrides it."),
}


class Config:
    """Raw settings for one archive, plus Flask-only keys (TESTING, WTF_*);
    attributes are upper-case for Flask."""

    TESTING = False

    def __init__(self, **overrides: Any) -> None:
        for name, (env, default, _convert, _doc) in SETTINGS.items():
            setattr(self, name, os.environ.get(env, default))
        for name, value in overrides.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in dir(self) if k.isupper()}


class TestConfig(Config):
    """Test settings: no politeness delay, loopback allowed, quick retries."""

    TESTING = True

    def __init__(self, **overrides: Any) -> None:
        defaults = {
            "MIN_HOST_DELAY": 0.0,
            "ALLOW_PRIVATE_ADDRESSES": True,
            "SECRET_KEY": "test-secret",
            "FETCH_TIMEOUT": 10.0,
            "FETCH_RETRIES": 1,
            "DEMO_ON_EMPTY": False,
            "WTF_CSRF_ENABLED": True,
            "BACKFILL_RATE": 60000.0,
        }
        defaults.update(overrides)
        super().__init__(**defaults)
