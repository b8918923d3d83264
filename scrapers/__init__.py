"""The adapter registry.

How to add a platform:
  1. write `scrapers/<platform>.py` with a subclass of `scrapers.base.Adapter`
     (parse bytes only: no fetching, no database, no web app);
  2. import it below and add it to `ADAPTERS`, most specific first: when a
     watch names no adapter, the one whose `detect` scores highest on the
     article page wins (ties go to the earlier one);
  3. save real pages under `tests/fixtures/<platform>/` and add regression
     tests in `tests/scrapers/test_<platform>.py`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapers.base import Adapter, Page
from scrapers.coral import CoralAdapter
from scrapers.generic_css import GenericCssAdapter
from scrapers.guardian import GuardianAdapter
from scrapers.isso import IssoAdapter
from scrapers.isso_browser import IssoBrowserAdapter
from scrapers.wordpress import WordPressAdapter, WordPressApiAdapter, WordPressFeedAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    cls.name: cls for cls in (
        WordPressAdapter,
        WordPressApiAdapter,
        WordPressFeedAdapter,
        GuardianAdapter,
        IssoAdapter,
        IssoBrowserAdapter,
        CoralAdapter,
        GenericCssAdapter,
    )
}


def get_adapter(name: str, options: Mapping[str, Any] | None = None) -> Adapter:
    """A fresh adapter; `options` (a watch's settings) go to its `configure`, if it has one."""
    try:
        adapter = ADAPTERS[name]()
    except KeyError:
        known = ", ".join(sorted(ADAPTERS)) or "none"
        raise ValueError(f"unknown adapter {name!r} (known: {known})") from None
    configure = getattr(adapter, "configure", None)
    if options and configure is not None:
        configure(options)
    return adapter


def choose_adapter(page: Page) -> Adapter | None:
    """The adapter that reads this page best, or None when none recognises it."""
    best: tuple[int, Adapter | None] = (0, None)
    for cls in ADAPTERS.values():
        adapter = cls()
        score = adapter.score(page)
        if score > best[0]:
            best = (score, adapter)
    return best[1]
