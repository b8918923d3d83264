"""The adapter registry.

How to add a platform (the core names no adapter and knows no platform's URLs;
everything it needs goes through the contract in `scrapers/base.py`):
  1. write `scrapers/<platform>.py` (or a package `scrapers/<platform>/` for
     several ways into one platform) with a subclass of `scrapers.base.Adapter`:
     parse bytes only (no fetching, no database, no web app), and take the text
     rule that suits the platform's markup from `scrapers/text.py`. Set
     `fetch_mode = "browser"` (and a `browser_plan`, `reads_response`) when the
     comments only exist once JavaScript has run; such adapters are never chosen
     by `detect` from a plain page. Implement `validate_options` (and
     `configure`) when a watch must say something (a server, selectors), and
     `follow_ups`/`read_follow_up` when the platform can be asked about a
     comment that went missing;
  2. import it below and add it to `ADAPTERS`, most specific first: when a
     watch names no adapter, the one whose `score` (a guarded `detect`) is
     highest on the article page wins (ties go to the earlier one);
  3. save real pages under `tests/fixtures/<platform>/` and add regression
     tests in `tests/scrapers/test_<platform>.py`; tests/scrapers/test_contract.py
     runs every registered adapter through the contract's promises.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapers.base import Adapter, Page
from scrapers.coral import CoralAdapter
from scrapers.disqus import DisqusAdapter
from scrapers.generic_css import GenericCssAdapter
from scrapers.guardian import GuardianAdapter
from scrapers.isso import IssoAdapter
from scrapers.isso_browser import IssoBrowserAdapter
from scrapers.viafoura import ViafouraAdapter
from scrapers.wordpress import WordPressAdapter, WordPressApiAdapter, WordPressFeedAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    cls.name: cls for cls in (
        WordPressAdapter,
        WordPressApiAdapter,
        WordPressFeedAdapter,
        GuardianAdapter,
        IssoAdapter,
        IssoBrowserAdapter,
        ViafouraAdapter,
        DisqusAdapter,
        CoralAdapter,
        GenericCssAdapter,
    )
}


def get_adapter(name: str, options: Mapping[str, Any] | None = None,
                settings: object | None = None) -> Adapter:
    """A fresh adapter, given `options` (a watch's settings) through `configure`.
    `settings` (the archive's, when the caller has them) fill in the options the
    adapter's `setting_options` names and the watch left out."""
    try:
        adapter = ADAPTERS[name]()
    except KeyError:
        known = ", ".join(sorted(ADAPTERS)) or "none"
        raise ValueError(f"unknown adapter {name!r} (known: {known})") from None
    return _configured(adapter, options, settings)


def choose_adapter(page: Page, settings: object | None = None) -> Adapter | None:
    """The adapter that reads this page best, or None when none recognises it;
    configured from `settings` as `get_adapter` does.

    Browser adapters are left out: a plain page lacks the comments they read
    (those appear only once JavaScript has run), so a watch names them."""
    best: tuple[int, Adapter | None] = (0, None)
    for cls in ADAPTERS.values():
        if cls.fetch_mode == "browser":
            continue
        adapter = cls()
        score = adapter.score(page)
        if score > best[0]:
            best = (score, adapter)
    return None if best[1] is None else _configured(best[1], None, settings)


def _configured(adapter: Adapter, options: Mapping[str, Any] | None, settings: object | None) -> Adapter:
    merged = dict(options or {})
    for option, setting in adapter.setting_options.items():
        value = getattr(settings, setting, None)
        if option not in merged and value:
            merged[option] = value
    if merged:
        adapter.configure(merged)
    return adapter
