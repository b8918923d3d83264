"""The archive's settings, typed and checked once at start-up.

`config.SETTINGS` is the table of settings (environment variable, default,
converter, documentation); `Settings.from_config` converts a `Config`'s raw
values with it and checks each, so a bad value stops the archive with one
line naming its environment variable instead of failing mid-capture.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from archive.errors import ArchiveError
from archive.store.blobs import S3_URL
from config import SETTINGS, Config

BROKER_SCHEMES = ("redis", "rediss", "amqp", "amqps")
# Kinds of request (Playwright's resource types) a browser capture may leave
# out: none of them carries comments. Documents, scripts and the page's own
# fetches always go.
SKIPPABLE_REQUESTS = frozenset({"image", "media", "font", "stylesheet", "texttrack", "manifest"})


class SettingsError(ArchiveError):
    """A setting's value cannot be used."""


def _seconds(low: float, inclusive: bool) -> tuple[str, Callable[[Any], bool]]:
    if inclusive:
        return (f"a finite number of seconds, {low:g} or more",
                lambda v: math.isfinite(v) and v >= low)
    return f"a finite number of seconds above {low:g}", lambda v: math.isfinite(v) and v > low


def _at_least(low: int) -> tuple[str, Callable[[Any], bool]]:
    return f"a whole number of at least {low}", lambda v: v >= low


# name -> (what a good value is, check); settings not named here take any
# value their converter accepts.
RULES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "MIN_HOST_DELAY": _seconds(0, inclusive=True),
    "FETCH_TIMEOUT": _seconds(0, inclusive=False),
    "CONFIRM_CAPTURES": _at_least(1),
    "MAX_RESPONSE_BYTES": _at_least(1),
    "MAX_COMMENT_PAGES": _at_least(1),
    "FETCH_RETRIES": _at_least(0),
    "WORKERS": _at_least(1),
    "SEARCH_EXACT_COUNT": _at_least(1),
    "BEHIND_PROXY": _at_least(0),
    "DEFAULT_INTERVAL": ("a duration such as 30m, 1h or 14d", lambda v: v > timedelta(0)),
    "BACKFILL_RATE": ("a finite number of requests per minute above 0",
                      lambda v: math.isfinite(v) and v > 0),
    "BACKFILL_CDX_URL": ("an http:// or https:// address", lambda v: v.startswith(("http://", "https://"))),
    "BROKER_QUEUE": ("a queue name of letters, digits, '.', '_', ':' or '-'",
                     lambda v: bool(re.fullmatch(r"[A-Za-z0-9._:-]{1,200}", v))),
    "BROKER_VISIBILITY_TIMEOUT": _seconds(1, inclusive=True),
    "DISPATCH_SECONDS": _seconds(0, inclusive=False),
    "HEARTBEAT_SECONDS": _seconds(0, inclusive=False),
    "DISQUS_API_KEY": ("empty or a Disqus public API key (letters, digits, - and _)",
                       lambda v: bool(re.fullmatch(r"[A-Za-z0-9_-]{0,128}", v))),
    "BLOB_URL": ("empty (the data folder) or s3://BUCKET[/PREFIX]", lambda v: not v or bool(S3_URL.match(v))),
    "BROWSER": ("the path of a Chromium executable", lambda v: bool(v.strip())),
    "BROWSER_SECONDS": _seconds(5, inclusive=True),
    "BROWSER_MAX_CLICKS": _at_least(0),
    "BROWSER_MAX_REQUESTS": _at_least(1),
    "BROWSER_SKIP": (f"empty or a comma-separated list of {', '.join(sorted(SKIPPABLE_REQUESTS))}",
                     lambda v: v <= SKIPPABLE_REQUESTS),
}


@dataclass(frozen=True)
class Settings:
    """One field per entry of `config.SETTINGS`, named in lower case."""

    data_dir: Path
    blob_url: str
    database_url: str
    min_host_delay: float
    confirm_captures: int
    user_agent: str
    allow_private_addresses: bool
    secret_key: str
    search_backend: str
    search_exact_count: int
    fetch_timeout: float
    max_response_bytes: int
    max_comment_pages: int
    fetch_retries: int
    default_interval: timedelta
    workers: int
    broker_url: str | None
    broker_queue: str
    broker_visibility_timeout: float
    dispatch_seconds: float
    heartbeat_seconds: float
    demo_on_empty: bool
    https: bool
    behind_proxy: int
    backfill_cdx_url: str
    backfill_rate: float
    browser: str
    browser_seconds: float
    browser_max_clicks: int
    browser_max_requests: int
    browser_skip: frozenset[str]
    disqus_api_key: str

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        """Convert and check every setting; SettingsError names the first bad one."""
        values = {name.lower(): _convert(name, getattr(config, name)) for name in SETTINGS}
        # The engines' module imports this one, hence the late import.
        from archive.search.engines import check_backend

        values["search_backend"] = values["search_backend"].strip().lower()
        check_backend(values["search_backend"])
        _check_broker_url(values["broker_url"])
        if not values["database_url"]:
            values["database_url"] = f"sqlite:///{values['data_dir'] / 'archive.db'}"
        else:
            _check_database_url(values["database_url"])
        return cls(**values)


def _check_database_url(url: str) -> None:
    # The value itself is never echoed: it may hold a password.
    env = SETTINGS["DATABASE_URL"][0]
    example = "such as postgresql+psycopg://user@host/db"
    try:
        dialect = make_url(url).get_dialect()
    except NoSuchModuleError:
        raise SettingsError(f"{env} names an unknown kind of database {url.split(':', 1)[0]!r} "
                            f"(use a SQLAlchemy URL {example})") from None
    except ArgumentError:
        raise SettingsError(f"{env} is not a SQLAlchemy URL {example}") from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        raise SettingsError(f"{env} needs the Python module {exc.name}, which is not installed") from None


def _check_broker_url(url: str | None) -> None:
    # Like the database URL, never echoed: it may hold a password.
    if url is None:
        return
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in BROKER_SCHEMES:
        env = SETTINGS["BROKER_URL"][0]
        raise SettingsError(f"{env} must be empty, redis://HOST[:PORT][/DB], rediss://..., "
                            f"amqp://USER:PASSWORD@HOST[:PORT][/VHOST] or amqps://...; "
                            f"not a URL of scheme {scheme!r}")


def _convert(name: str, raw: Any) -> Any:
    env, _default, convert, _doc = SETTINGS[name]
    what, check = RULES.get(name, ("usable", lambda _v: True))
    try:
        value = convert(raw)
        usable = check(value)
    except (TypeError, ValueError):
        usable = False
    if not usable:
        raise SettingsError(f"{env} must be {what}, not {raw!r}")
    return value
