"""Viafoura comments (The Independent, Reach's titles) through its public Live Comments API.

Sources read (never copied) for the answer shapes, all public: Viafoura's own
support page "How to moderate comments" (a disabled or spam comment "will no
longer appear"); RISJbot's Liverpool Echo spider (bootstrap, container lookup,
`contents`/`more_available` paging by `starting_from`, "deleted comments don't
have a `content` entry"); gbnews-watch (`src/viafoura.ts`: the comment object's
fields, the replies endpoint, `state` values "visible" | "hidden" | "banned");
a Telegraph client built on the same API (at most 100 top-level comments a page
and `reply_limit` 50, replies inline after their parent, an unknown cursor
silently answered with page 1, `total_visible_content` measured 0.6-0.9% above
a whole walk); an AP News client (the container answer's `container_id`,
`content_container_uuid`, `total_visible_content`, `settings.is_hidden`); La
Nacion's Arc pages (`<meta name="vf:container_id">`, `<vf-conversations>`).

A capture, all over plain GET:

    article page              <meta name="vf:container_id" content="ID">, <vf-conversations>
    {api}{site}/contentcontainer/id?container_id=ID
        -> {"container_id", "content_container_uuid", "total_visible_content", ...}
    {api}{site}/{container}/comments?limit=100&reply_limit=50&sorted_by=oldest[&starting_from=UUID]
        -> {"contents": [...], "more_available": bool}; top-level comments, each
           followed by up to `reply_limit` of its replies; the cursor is the last
           top-level comment's `content_uuid`
    {api}{site}/{container}/comments/{thread}?limit=100[&starting_from=UUID]
        -> the same shape, the replies of one top-level comment (its thread)

`site` is the publisher's section UUID. Sites learn it from a POST bootstrap
call (`api.viafoura.co/v2/{domain}/bootstrap/v2`), which a capture does not
make; the page does not carry it, so a watch names it in its options:

    {"site": "00000000-0000-4000-8000-...", "container": "ID", "api": "https://..."}

`container` (the page's `vf:container_id`) is needed only when the page does
not carry it; with it, a capture starts at the API and never fetches the page.
`api` defaults to the public host; another one must be the article's own host
(tests point it at loopback), as a capture follows links nowhere else.

Comment objects: `content_uuid` (the key), `parent_uuid` (the container for a
top-level comment, else the comment answered), `thread_uuid` (the top-level
comment of a reply), `content`, `date_created` (epoch milliseconds, UTC),
`state`, `actor_uuid`, `total_replies`. Names are not in the listing (they come
from another host by `actor_uuid`): the author is `actor.name` when an answer
carries it, else the `actor_uuid`.

Tombstones: a comment with `state: "deleted"` and no `content` that keeps its
place above its replies. Comments that are disabled, marked as spam or whose
author is banned disappear from the public listing entirely. Any other state is
a layout this adapter does not know: the page is unrecognised.

Completeness: the container's `total_visible_content` counts the visible
comments, replies included, and each top-level comment's `total_replies` its
visible replies. A capture with fewer visible records than either count, with a
page it was told of but did not read, or with a listing that repeats itself (the
cursor vanished and the API went back to page 1) is unrecognised, never a removal.
More records than counted is accepted: comments posted during the capture.

Not confirmed by any source: the exact `state` of a tombstone ("deleted" is
assumed; the Liverpool Echo spider saw only the missing `content`); whether
`total_visible_content` and `total_replies` count tombstones (assumed not: only
visible records are compared with them, the strict reading); the replies
endpoint's paging (assumed the same cursor as the listing); whether bodies carry
HTML (they are read with `fragment_text`, which leaves plain text as it is). The
measured 0.6-0.9% excess of `total_visible_content` on long live threads may
make such captures suspect: the safe failure.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from selectolax.lexbor import LexborHTMLParser

from scrapers.base import Adapter, CommentRecord, Page, PageResult, ThreadView, decode_body
from scrapers.text import fragment_text

API_HOST = "livecomments.viafoura.co"
DEFAULT_API = f"https://{API_HOST}/v4/livecomments/"
PAGE_LIMIT = 100      # the API answers 400 above this
REPLY_LIMIT = 50      # likewise
MAX_CONTAINER_ID = 200
MAX_API_URL = 500
OPTIONS = ("site", "container", "api")
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID = re.compile(rf"^{UUID}$")
_CONTAINER_PATH = re.compile(rf"/(?P<site>{UUID})/contentcontainer/id$")
_LISTING_PATH = re.compile(rf"/(?P<site>{UUID})/(?P<container>{UUID})/comments(?:/(?P<thread>{UUID}))?$")
_ID_SELECTORS = ('meta[name="vf:container_id"]', 'meta[property="vf:container_id"]',
                 "[vf-container-id]", "[data-vf-container-id]")
VISIBLE, DELETED = "visible", "deleted"


@dataclass(frozen=True)
class ViafouraOptions:
    site: str
    container: str | None
    api: str


def parse_options(options: Mapping[str, Any] | None) -> ViafouraOptions:
    """The watch's options, checked; ValueError (one line) naming what is wrong."""
    if not isinstance(options, Mapping):
        raise ValueError('viafoura: the option "site" (the publisher\'s Viafoura section UUID) is required')
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"viafoura: unknown option(s) {', '.join(map(str, unknown))} "
                         f"(known: {', '.join(OPTIONS)})")
    site = options.get("site")
    if not isinstance(site, str) or not _UUID.match(site.strip()):
        raise ValueError('viafoura: the option "site" must be the publisher\'s Viafoura section UUID')
    container = options.get("container")
    if container is not None and not _container_id(container):
        raise ValueError(f'viafoura: the option "container" must be a container id of at most '
                         f"{MAX_CONTAINER_ID} printable characters")
    api = options.get("api", DEFAULT_API)
    parts = urlsplit(api) if isinstance(api, str) and len(api) <= MAX_API_URL else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.query or parts.fragment or parts.username is not None:
        raise ValueError(f"viafoura: {str(api)[:80]!r} is not an http(s) API base URL without query or fragment")
    base = parts._replace(path=parts.path if parts.path.endswith("/") else parts.path + "/").geturl()
    return ViafouraOptions(site.strip().lower(), container.strip() if container else None, base)


def _container_id(value: object) -> bool:
    return (isinstance(value, str) and 0 < len(value.strip()) <= MAX_CONTAINER_ID
            and value.strip().isprintable())


def container_url(options: ViafouraOptions, container_id: str) -> str:
    return f"{options.api}{options.site}/contentcontainer/id?{urlencode({'container_id': container_id})}"


def comments_url(options: ViafouraOptions, container: str, after: str | None = None) -> str:
    query = {"limit": PAGE_LIMIT, "reply_limit": REPLY_LIMIT, "sorted_by": "oldest"}
    return f"{options.api}{options.site}/{container}/comments?{urlencode(query)}" + \
        (f"&starting_from={quote(after)}" if after else "")


def replies_url(options: ViafouraOptions, container: str, thread: str, after: str | None = None) -> str:
    return f"{options.api}{options.site}/{container}/comments/{thread}?limit={PAGE_LIMIT}" + \
        (f"&starting_from={quote(after)}" if after else "")


@dataclass
class ViafouraPage(PageResult):
    """A page result that also says which part of the thread it is."""
    kind: str = "article"            # 'article', 'container', 'listing' or 'replies'
    url: str = ""
    next_url: str | None = None      # the next page this page announced (more_available)
    container: str | None = None     # the content container UUID
    thread: str | None = None        # for 'replies': the top-level comment expanded
    # Top-level comment -> its `total_replies`, and those whose replies this page cut short.
    reply_counts: dict[str, int] = field(default_factory=dict)
    truncated: list[str] = field(default_factory=list)
    threads: dict[str, str] = field(default_factory=dict)   # reply key -> top-level key


class ViafouraAdapter(Adapter):
    """Every public comment and tombstone of one Viafoura content container."""

    name = "viafoura"
    label = "Viafoura (Live Comments API)"
    follow_hosts: ClassVar[frozenset[str]] = frozenset({API_HOST})

    def __init__(self) -> None:
        self.options: ViafouraOptions | None = None
        self.problem = 'the viafoura adapter needs the watch option "site" (the section UUID)'

    @classmethod
    def validate_options(cls, options: Mapping[str, Any] | None) -> dict[str, Any] | None:
        checked = parse_options(options)
        cleaned: dict[str, Any] = {"site": checked.site}
        if checked.container:
            cleaned["container"] = checked.container
        if checked.api != DEFAULT_API:
            cleaned["api"] = checked.api
        return cleaned

    def configure(self, options: Mapping[str, Any]) -> None:
        """Bad options make every page unrecognised, never an exception (as isso does)."""
        try:
            self.options, self.problem = parse_options(options), ""
        except ValueError as exc:
            self.options, self.problem = None, str(exc)

    def first_url(self, thread_url: str) -> str:
        if self.options is not None and self.options.container:
            return container_url(self.options, self.options.container)
        return thread_url

    def detect(self, page: Page) -> int:
        path = urlsplit(page.final_url or page.url).path
        if _CONTAINER_PATH.search(path) or _LISTING_PATH.search(path):
            data = json.loads(page.body)
            return 90 if isinstance(data, dict) and ("content_container_uuid" in data or "contents" in data) else 0
        text = decode_body(page)
        if "<vf-conversations" in text or "vf:container_id" in text:
            return 80 if _page_container_id(LexborHTMLParser(text)) else 40
        return 30 if "cdn.viafoura.net" in text else 0

    def read(self, page: Page) -> PageResult:
        url = page.url
        path = urlsplit(url).path
        if self.options is None:
            return ViafouraPage(recognised=False, reason=self.problem, url=url)
        if _CONTAINER_PATH.search(path):
            return self._container(page)
        listing = _LISTING_PATH.search(path)
        if listing:
            return self._listing(page, listing.group("container").lower(), listing.group("thread"))
        return self._article(page)

    def _article(self, page: Page) -> ViafouraPage:
        assert self.options is not None
        tree = LexborHTMLParser(decode_body(page))
        title_node = tree.css_first('meta[property="og:title"]')
        title = (title_node.attributes.get("content") or "") if title_node else ""
        container_id = self.options.container or _page_container_id(tree)
        if container_id is None:
            return ViafouraPage(recognised=False, url=page.url, title=title,
                                reason="no Viafoura container id on the article page "
                                       '(no vf:container_id; give the watch option "container")')
        return ViafouraPage(recognised=True, url=page.url, title=title, platform_id=container_id,
                            follow=[container_url(self.options, container_id)])

    def _container(self, page: Page) -> ViafouraPage:
        assert self.options is not None
        data = _json(page)
        if isinstance(data, dict) and isinstance(data.get("container"), dict):
            data = data["container"]      # the flat `?container_id=` form nests it
        if not isinstance(data, dict):
            return ViafouraPage(recognised=False, url=page.url, reason="the container answer is not an object")
        uuid, total = data.get("content_container_uuid"), data.get("total_visible_content")
        if not isinstance(uuid, str) or not _UUID.match(uuid):
            return ViafouraPage(recognised=False, url=page.url,
                                reason="the container answer has no content_container_uuid")
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            return ViafouraPage(recognised=False, url=page.url,
                                reason="the container answer has no total_visible_content count")
        settings = data.get("settings")
        if isinstance(settings, dict) and settings.get("is_hidden") is True:
            # The whole conversation is off this article: not moderation of its comments.
            return ViafouraPage(recognised=False, url=page.url, reason="the conversation is hidden on this article")
        container_id = data.get("container_id")
        return ViafouraPage(recognised=True, kind="container", url=page.url, container=uuid.lower(),
                            claimed_count=total,
                            platform_id=container_id if isinstance(container_id, str) else None,
                            follow=[comments_url(self.options, uuid.lower())])

    def _listing(self, page: Page, container: str, thread: str | None) -> ViafouraPage:
        assert self.options is not None
        data = _json(page)
        if not isinstance(data, dict) or not isinstance(data.get("contents"), list) \
                or not isinstance(data.get("more_available"), bool):
            return ViafouraPage(recognised=False, url=page.url,
                                reason="the comments answer has no contents list and more_available flag")
        kind = "replies" if thread else "listing"
        result = ViafouraPage(recognised=True, kind=kind, url=page.url, container=container,
                              thread=thread.lower() if thread else None)
        inline: dict[str, int] = {}
        for index, item in enumerate(data["contents"]):
            problem = self._add(item, result, inline)
            if problem:
                return ViafouraPage(recognised=False, url=page.url, reason=f"comment {index}: {problem}")
        result.truncated = [key for key, total in result.reply_counts.items() if inline.get(key, 0) < total]
        result.follow = [replies_url(self.options, container, key) for key in result.truncated]
        if data["more_available"]:
            cursor = [r.key for r in result.comments if r.parent_key is None] if kind == "listing" \
                else [r.key for r in result.comments]
            if not cursor:
                return ViafouraPage(recognised=False, url=page.url,
                                    reason="more comments are announced but this page has none to go on from")
            after = _query(page.url).get("starting_from")
            if after == cursor[-1]:
                return ViafouraPage(recognised=False, url=page.url, reason="the comment cursor did not advance")
            result.next_url = (comments_url(self.options, container, cursor[-1]) if kind == "listing"
                               else replies_url(self.options, container, result.thread or "", cursor[-1]))
            result.follow.append(result.next_url)
        return result

    def _add(self, item: Any, result: ViafouraPage, inline: dict[str, int]) -> str:
        """Append one comment object to `result`; the problem, or ""."""
        if not isinstance(item, dict):
            return "not an object"
        key, parent, created, state = (item.get(name) for name in
                                       ("content_uuid", "parent_uuid", "date_created", "state"))
        if not isinstance(key, str) or not _UUID.match(key) or not isinstance(parent, str) \
                or not _UUID.match(parent):
            return "no content_uuid or parent_uuid"
        if not isinstance(created, int) or isinstance(created, bool) or not 0 <= created < 2**48:
            return f"{key} has no date_created"
        if state not in (VISIBLE, DELETED):
            return f"{key} has a state this adapter does not know: {str(state)[:40]!r}"
        content = item.get("content")
        if state == VISIBLE and not isinstance(content, str):
            return f"{key} is visible but has no content"
        key, parent = key.lower(), parent.lower()
        top = parent == result.container
        if result.kind == "replies" and top:
            return f"{key} is a top-level comment in the replies of {result.thread}"
        if top:
            replies = item.get("total_replies", 0)
            if not isinstance(replies, int) or isinstance(replies, bool) or replies < 0:
                return f"{key} has no total_replies count"
            result.reply_counts[key] = replies
        else:
            thread = item.get("thread_uuid")
            root = thread.lower() if isinstance(thread, str) and _UUID.match(thread) \
                else result.threads.get(parent, parent)
            if result.kind == "replies" and root != result.thread:
                return f"{key} belongs to thread {root}, not {result.thread}"
            result.threads[key] = root
            inline[root] = inline.get(root, 0) + (state == VISIBLE)
        tombstone = state == DELETED
        html = "" if tombstone else str(content)
        result.comments.append(CommentRecord(
            key=key, author="" if tombstone else _author(item), text=fragment_text(html) if html else "",
            html=html, posted_at=datetime.fromtimestamp(created / 1000, UTC).replace(tzinfo=None),
            parent_key=None if top else parent, position=len(result.comments), tombstone=tombstone))
        return ""

    def join(self, results: Sequence[PageResult]) -> ThreadView:
        pages = [r for r in results if isinstance(r, ViafouraPage)]
        title = next((p.title for p in pages if p.title), "")
        failed = [r.reason or "unrecognised page" for r in results if not r.recognised or r.blocked]
        containers = [p for p in pages if p.kind == "container"]
        listings = [p for p in pages if p.kind == "listing"]
        problem = "; ".join(failed) or _incomplete(pages, containers, listings)
        if problem:
            return ThreadView(False, problem, [], "none", title=title)
        container = containers[0]
        claimed = container.claimed_count or 0
        expanded: dict[str, list[CommentRecord]] = {}
        for page in pages:
            if page.kind == "replies" and page.thread:
                expanded.setdefault(page.thread, []).extend(page.comments)
        ordered: list[CommentRecord] = []
        seen: set[str] = set()
        replies: dict[str, dict[str, CommentRecord]] = {}
        reply_counts: dict[str, int] = {}
        for page in listings:
            reply_counts.update(page.reply_counts)
            for record in page.comments:
                if record.parent_key is None:
                    if record.key in seen:
                        return ThreadView(False, f"the listing repeated comment {record.key} "
                                                 "(its cursor was not followed)", [], "none", title=title)
                    seen.add(record.key)
                    ordered.append(record)
                else:
                    replies.setdefault(page.threads[record.key], {}).setdefault(record.key, record)
        for thread, records in expanded.items():
            for record in records:
                replies.setdefault(thread, {}).setdefault(record.key, record)
        comments: list[CommentRecord] = []
        for root in ordered:
            comments.append(root)
            thread_replies = sorted(replies.pop(root.key, {}).values(),
                                    key=lambda r: (r.posted_at or datetime.min, r.key))
            visible = sum(1 for r in thread_replies if not r.tombstone)
            if visible < reply_counts.get(root.key, 0):
                return ThreadView(False, f"comment {root.key} counts {reply_counts[root.key]} replies "
                                         f"but {visible} were listed", [], "none", title=title)
            comments.extend(thread_replies)
        if replies:
            return ThreadView(False, f"replies of {len(replies)} comment(s) not in the listing "
                                     f"(e.g. {next(iter(replies))})", [], "none", title=title)
        visible = sum(1 for r in comments if not r.tombstone)
        if visible < claimed:
            return ThreadView(False, f"Viafoura counts {claimed} visible comments but listed {visible}",
                              [], "none", title=title, claimed_count=claimed)
        return ThreadView(True, "", [replace(r, position=i) for i, r in enumerate(comments)], "complete",
                          title=title, claimed_count=claimed,
                          platform_id=container.platform_id or next((p.platform_id for p in pages
                                                                     if p.platform_id), None))


def _incomplete(pages: list[ViafouraPage], containers: list[ViafouraPage],
                listings: list[ViafouraPage]) -> str:
    """Why the pages read are not the whole thread, or ""."""
    if len(containers) != 1:
        return "the Viafoura content container was not read" if not containers \
            else "more than one content container was read"
    if not listings:
        return "no Viafoura comment page was read"
    container = containers[0].container
    if any(p.container != container for p in pages if p.kind in ("listing", "replies")):
        return "a comment page belongs to another content container"
    read = {p.url for p in pages}
    unread = [p.next_url for p in pages if p.next_url and p.next_url not in read]
    expanded = {p.thread for p in pages if p.kind == "replies"}
    cut = [key for p in listings for key in p.truncated if key not in expanded]
    if unread:
        return f"{len(unread)} announced comment page(s) not read (e.g. {unread[0]})"
    if cut:
        return f"replies of {len(cut)} comment(s) not read (e.g. {cut[0]})"
    return ""


def _json(page: Page) -> Any:
    """The answer's JSON; ValueError (parse reports it) when it is not JSON."""
    if page.body.lstrip()[:1] not in (b"{", b"["):
        raise ValueError("the API answered something that is not JSON")
    return json.loads(page.body)


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def _author(item: Mapping[str, Any]) -> str:
    actor = item.get("actor")
    if isinstance(actor, dict):
        for name in ("name", "username"):
            if isinstance(actor.get(name), str) and actor[name].strip():
                return str(actor[name]).strip()
    actor_uuid = item.get("actor_uuid")
    return actor_uuid if isinstance(actor_uuid, str) else ""


def _page_container_id(tree: LexborHTMLParser) -> str | None:
    """The container id the page's widget would ask for: its vf:container_id meta tag first."""
    for selector in _ID_SELECTORS:
        node = tree.css_first(selector)
        if node is None:
            continue
        attribute = "content" if node.tag == "meta" else selector.strip("[]")
        value = node.attributes.get(attribute)
        if _container_id(value):
            return str(value).strip()
    return None
