"""Atom feeds of disappearances, built from plain data (pure: no database, no request).

Everything that came from a site (comment text, author name, article title,
tombstone text) is hostile: it goes only into Atom text constructs of
`type="text"`, escaped by the XML serialiser, so a feed reader shows it as
text and nothing from a comment becomes markup. Characters XML 1.0 cannot
carry (most control characters) are dropped, or the whole feed would be
unreadable. Redacted comments carry neither their text nor their author's
name here, exactly as on the public pages.

An entry's id is the event's permalink on the comment's history page: one
event, one id, whatever is fetched when.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from archive.web.public.presenters import utc, window

ATOM_NS = "http://www.w3.org/2005/Atom"
# Longer comment texts are cut in the feed; the history page has the whole text.
MAX_ENTRY_CHARS = 5000
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
KIND_WORDS = {"missing": "Missing", "removed": "Removed", "tombstoned": "Removed (tombstone)",
              "thread-gone": "Article gone"}


@dataclass(frozen=True)
class FeedItem:
    """One disappearance event, with what a feed entry says about it."""
    event_id: int
    kind: str
    at: datetime
    window_start: datetime | None
    window_end: datetime | None
    thread_title: str
    article_url: str
    permalink: str
    thread_page: str
    # None for an article event (thread-gone).
    history_page: str | None = None
    author: str = ""
    # None when the comment is redacted.
    text: str | None = None
    redaction_reason: str | None = None
    tombstone_text: str | None = None
    status_now: str = ""


@dataclass(frozen=True)
class FeedMeta:
    title: str
    subtitle: str
    self_url: str
    page_url: str
    # The feed's <updated> when it has no entry yet.
    empty_updated: datetime


def xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def entry_title(item: FeedItem) -> str:
    title = item.thread_title or item.article_url
    if item.kind == "thread-gone":
        return f"Article gone: {title}"
    return f"{KIND_WORDS.get(item.kind, item.kind)}: comment by {item.author or 'anonymous'} on {title}"


def entry_summary(item: FeedItem) -> str:
    if item.kind == "thread-gone":
        return (f"The article stopped answering (404/410) by {utc(item.at)}; its comments are not "
                "counted as removed one by one.")
    if item.window_start or item.window_end:
        when = window(item.window_start, item.window_end)
    else:
        when = f"by {utc(item.at)}"
    said = {"missing": f"Missing, awaiting confirmation: gone {when}.",
            "removed": f"Removed {when}: last seen, then absent from later good captures.",
            "tombstoned": f"Deleted on the site: a placeholder took its place, {when}."}
    line = said.get(item.kind, f"{item.kind} {when}.")
    return f"{line} Status now: {item.status_now}." if item.status_now else line


def entry_content(item: FeedItem) -> str:
    if item.kind == "thread-gone":
        return entry_summary(item)
    if item.text is None:
        return ("The text and the author's name are withheld by the archive's operators: "
                f"{item.redaction_reason or 'no reason given'}")
    text = item.text
    if len(text) > MAX_ENTRY_CHARS:
        text = text[:MAX_ENTRY_CHARS] + " […cut: the whole text is on the comment's history page]"
    if item.tombstone_text:
        text += f"\n\nThe site's placeholder: {item.tombstone_text}"
    return text


def build_feed(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    """The Atom 1.0 document (UTF-8 bytes) for these items, newest first as given."""
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _add(feed, "id", meta.self_url)
    _add(feed, "title", meta.title, type="text")
    _add(feed, "subtitle", meta.subtitle, type="text")
    updated = max((item.at for item in items), default=meta.empty_updated)
    _add(feed, "updated", rfc3339(updated))
    _add(feed, "link", rel="self", type="application/atom+xml", href=meta.self_url)
    _add(feed, "link", rel="alternate", type="text/html", href=meta.page_url)
    _add(feed, "generator", "Comment-moderation transparency archive")
    author = _add(feed, "author")
    _add(author, "name", "Comment archive")
    for item in items:
        entry = _add(feed, "entry")
        _add(entry, "id", item.permalink)
        _add(entry, "title", entry_title(item), type="text")
        _add(entry, "updated", rfc3339(item.at))
        _add(entry, "published", rfc3339(item.at))
        if item.history_page:
            _add(entry, "link", rel="alternate", type="text/html", href=item.history_page,
                 title="The comment's history and evidence")
            _add(entry, "link", rel="related", type="text/html", href=item.thread_page,
                 title="The thread")
        else:
            _add(entry, "link", rel="alternate", type="text/html", href=item.thread_page)
        if item.kind != "thread-gone":
            person = _add(entry, "author")
            _add(person, "name", item.author or "anonymous")
        _add(entry, "category", term=item.kind, label=KIND_WORDS.get(item.kind, item.kind))
        _add(entry, "summary", entry_summary(item), type="text")
        _add(entry, "content", entry_content(item), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
