"""Disqus: the embed page's thread data, and Disqus's public API for further pages.

A capture reads, in order:

1. the article page, only when the watch's options do not name the forum and
   the thread: its embed configuration (`disqus_shortname`, `embed.js` from
   `<forum>.disqus.com`, `disqus_config`'s `this.page.identifier` and
   `this.page.url`, or the WordPress plugin's `embedVars`) gives the embed URL;
2. the embed page `<base>embed/comments/?base=default&f=<forum>&t_i=<identifier>&t_u=<url>`,
   whose `<script type="text/json" id="disqus-threadData">` holds
   `{"code": 0, "response": {"thread": {..., "posts": N}, "posts": [...], "order": ...},
   "cursor": {"hasNext", "next", "prev", "id", ...}}`: the thread, its count and
   the first page of posts;
3. while a cursor says `hasNext`, `<base>api/3.0/threads/listPostsThreaded?...&cursor=<next>
   &api_key=<key>`, answering `{"code": 0, "cursor": {...}, "response": [posts]}`. The
   API needs a public API key (the watch option `api_key`, or the archive's setting):
   without one, a thread longer than the embed's first page is unrecognised.

Options (`validate_options`): `forum` (the shortname), `identifier` and/or `url`
(the thread as the embed names it), `api_key`, and `base` (Disqus's address,
`https://disqus.com/` unless a test says otherwise: the capture follows links only to
disqus.com and the article's own host, so another base must be the article's host).

A post is `{"id": "5256177490", "parent": null | 123 | "123", "message": "<p>HTML</p>",
"raw_message", "createdAt": "2021-02-05T22:37:28" (UTC, no zone), "author": {"name",
"username", "url", "profileUrl", "isAnonymous", ...}, "isDeleted", "isApproved", "isSpam",
"isFlagged", "likes", "thread": "<thread id>", ...}`. Keys are post ids, text is
`fragment_text(message)`. A post that is deleted but listed (`isDeleted: true`: Disqus keeps
the place of a deleted post that has replies) is a tombstone; a deleted leaf is simply absent.
Posts marked spam or not approved are not public and are left out.

Completeness: every page the cursors point to must have been read, the pages must
belong to one thread, and the posts that are neither deleted nor hidden must number
exactly the thread's `posts`. Otherwise the capture is unrecognised (never a removal).

Sources for these shapes (read, not copied): the post JSON Raymond Camden published from
`posts/list.json?related=thread` (2021: a full post and its thread object with `posts`);
Disqus's API documentation of threads/listPosts and posts/list (cursor `{prev, hasNext,
next, hasPrev, total, id, more}`, `code`, `include` defaults to approved); DisqusJS
(SukkaW/DisqusJS: `listPostsThreaded` with `cursor`, post types, deleted posts drawn as a
"deleted" placeholder); Disqus.NET's post model (field meanings; `parent` an int becoming a
string); scrapers reading `#disqus-threadData` (`response.thread.id`, `response.posts`,
`cursor.total`) and paging `listPostsThreaded` with cursors `1:0:0`, `2:0:0`.

Not confirmed, and handled so that a wrong guess is a suspect capture, never a removal:
whether `thread.posts` counts deleted placeholders (taken as not: with a tombstone listed,
a count that did include it fails the check); what a deleted placeholder still carries
(its message and author are ignored); `response.order` in the thread data (the API pages
are asked in that order, "popular" when absent); whether cursors stay valid while votes
reorder a "popular" thread (a skipped post fails the count). disqus.com's robots.txt is
obeyed like any host's and was not checked: a refusal fails the capture.
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

from selectolax.lexbor import LexborHTMLParser

from scrapers.base import Adapter, CommentRecord, Page, PageResult, ThreadView, decode_body
from scrapers.text import fragment_text, parse_iso_utc

DEFAULT_BASE = "https://disqus.com/"
API_PATH = "api/3.0/threads/listPostsThreaded"
PAGE_LIMIT = 100
ORDERS = frozenset({"popular", "desc", "asc"})
OPTIONS = ("forum", "identifier", "url", "api_key", "base")
MAX_OPTION = 2000
_FORUM = re.compile(r"[A-Za-z0-9_-]{1,64}")
_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
_ID = re.compile(r"[0-9]{1,30}")
_STRING = r"""(?:"((?:[^"\\\n]|\\.){1,2000})"|'((?:[^'\\\n]|\\.){1,2000})')"""
_SHORTNAME = (re.compile(r"(?:https?:)?//([A-Za-z0-9_-]{1,64})\.disqus\.com/embed\.js"),
              re.compile(r"\bdisqus_shortname\s*=\s*" + _STRING),
              re.compile(r'"disqusShortname"\s*:\s*' + _STRING))
_IDENTIFIER = (re.compile(r"\bthis\.page\.identifier\s*=\s*(?:" + _STRING + r"|(\d{1,30})\b)"),
               re.compile(r"\bdisqus_identifier\s*=\s*(?:" + _STRING + r"|(\d{1,30})\b)"),
               re.compile(r'"disqusIdentifier"\s*:\s*(?:' + _STRING + r"|(\d{1,30})\b)"))
_URL = (re.compile(r"\bthis\.page\.url\s*=\s*" + _STRING),
        re.compile(r"\bdisqus_url\s*=\s*" + _STRING),
        re.compile(r'"disqusUrl"\s*:\s*' + _STRING))


@dataclass
class DisqusPage(PageResult):
    """A page result that also says where it stands in the thread's cursor chain."""
    kind: str = "article"              # 'article', 'embed' or 'api'
    cursor_in: str | None = None       # the cursor this API page was asked with
    cursor_next: str | None = None     # the page after this one, when Disqus says there is one


def validate(options: Mapping[str, Any]) -> dict[str, str]:
    """The options, cleaned; ValueError (one line) when one is wrong."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"disqus: unknown option(s) {', '.join(unknown)} (known: {', '.join(OPTIONS)})")
    cleaned: dict[str, str] = {}
    for name in OPTIONS:
        value = options.get(name)
        if value is None or value == "":
            continue
        if name == "identifier" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or len(value) > MAX_OPTION or not value.strip():
            raise ValueError(f'disqus: the option "{name}" must be a non-empty string')
        cleaned[name] = value.strip()
    if "forum" in cleaned and not _FORUM.fullmatch(cleaned["forum"]):
        raise ValueError('disqus: the option "forum" must be a Disqus shortname (letters, digits, - and _)')
    if "api_key" in cleaned and not _KEY.fullmatch(cleaned["api_key"]):
        raise ValueError('disqus: the option "api_key" must be letters and digits')
    for name in ("url", "base"):
        if name in cleaned:
            parts = urlsplit(cleaned[name])
            if parts.scheme not in ("http", "https") or not parts.hostname or (
                    name == "base" and (parts.query or parts.fragment)):
                raise ValueError(f'disqus: the option "{name}" must be an http(s) URL'
                                 + (" without query or fragment" if name == "base" else ""))
    if "base" in cleaned and not cleaned["base"].endswith("/"):
        cleaned["base"] += "/"
    return cleaned


def embed_url(base: str, forum: str, identifier: str | None, url: str) -> str:
    query = [("base", "default"), ("f", forum)]
    if identifier:
        query.append(("t_i", identifier))
    query += [("t_u", url), ("s_o", "default")]
    return f"{base}embed/comments/?{urlencode(query)}"


def api_url(base: str, thread_id: str, forum: str, order: str, cursor: str, api_key: str) -> str:
    query = [("limit", str(PAGE_LIMIT)), ("thread", thread_id), ("forum", forum), ("order", order),
             ("cursor", cursor), ("api_key", api_key)]
    return f"{base}{API_PATH}?{urlencode(query)}"


def _js_string(match: re.Match[str]) -> str:
    """The value of a quoted JS/JSON string (or bare number) a pattern matched."""
    double, single, *number = match.groups()
    if double is None and single is None:
        return number[0] if number else ""
    raw = double if double is not None else single.replace("\\'", "'").replace('"', '\\"')
    try:
        return str(json.loads(f'"{raw}"'))
    except ValueError:
        return raw


def _first(patterns: Sequence[re.Pattern[str]], text: str) -> str | None:
    for pattern in patterns:
        found = pattern.search(text)
        if found:
            value = (found.group(1) if pattern.groups == 1 else _js_string(found)).strip()
            if value:
                return value
    return None


def _thread_data(text: str) -> Any:
    """The parsed `disqus-threadData` of an embed page; None when the page has none."""
    if "disqus-threadData" not in text:
        return None
    node = LexborHTMLParser(text).css_first("script#disqus-threadData")
    return None if node is None else json.loads(node.text(deep=True))


def _check_code(data: Any) -> None:
    if not isinstance(data, dict):
        raise ValueError("the answer is not a JSON object")
    if data.get("code") != 0:
        # Both are the answer's own words: one short line in the capture's reason.
        message = data.get("response")
        shown = " ".join(message.split())[:200] if isinstance(message, str) else ""
        raise ValueError(f"Disqus answered code {repr(data.get('code'))[:40]}" + (f": {shown}" if shown else ""))


def _cursor_next(cursor: Any) -> str | None:
    if not isinstance(cursor, dict) or not isinstance(cursor.get("hasNext"), bool):
        raise ValueError("the answer has no cursor")
    if not cursor["hasNext"]:
        return None
    following = cursor.get("next")
    if not isinstance(following, str) or not following or len(following) > 200:
        raise ValueError("the cursor says there is a next page but names none")
    return following


class DisqusAdapter(Adapter):
    """Every public post and tombstone of one Disqus thread."""

    name = "disqus"
    label = "Disqus (embed and API)"
    follow_hosts: ClassVar[frozenset[str]] = frozenset({"disqus.com"})
    setting_options: ClassVar[Mapping[str, str]] = {"api_key": "disqus_api_key"}

    def __init__(self) -> None:
        self.options: dict[str, str] = {}
        self.problem = ""

    @classmethod
    def validate_options(cls, options: Mapping[str, Any] | None) -> dict[str, Any] | None:
        return (validate(options) or None) if options else None

    def configure(self, options: Mapping[str, Any]) -> None:
        """Take the watch's options; bad ones make every page unrecognised, never an exception."""
        try:
            self.options, self.problem = validate(options), ""
        except ValueError as exc:
            self.options, self.problem = {}, str(exc)

    @property
    def base(self) -> str:
        return self.options.get("base", DEFAULT_BASE)

    def first_url(self, thread_url: str) -> str:
        forum = self.options.get("forum")
        if forum and ("identifier" in self.options or "url" in self.options):
            return embed_url(self.base, forum, self.options.get("identifier"),
                             self.options.get("url", thread_url))
        return thread_url

    def detect(self, page: Page) -> int:
        text = decode_body(page)
        if "disqus" not in text:   # every sign below spells it so: most pages stop here
            return 0
        if _thread_data(text) is not None:
            return 95
        shortname = _first(_SHORTNAME, text)
        if shortname and 'id="disqus_thread"' in text:
            return 95
        return 70 if shortname else 0

    def read(self, page: Page) -> PageResult:
        if self.problem:
            return DisqusPage(recognised=False, reason=self.problem)
        if page.body.lstrip()[:1] == b"{":
            return self._api(page)
        text = decode_body(page)
        try:
            data = _thread_data(text)
        except ValueError as exc:
            return DisqusPage(recognised=False, kind="embed", reason=f"the embed's thread data is not JSON: {exc}")
        if data is None:
            return self._article(page, text)
        return self._embed(page, data)

    def _article(self, page: Page, text: str) -> DisqusPage:
        forum = self.options.get("forum") or _first(_SHORTNAME, text)
        if not forum or not _FORUM.fullmatch(forum):
            return DisqusPage(recognised=False, reason="no Disqus embed found on this page")
        identifier = self.options.get("identifier") or _first(_IDENTIFIER, text)
        url = self.options.get("url") or _first(_URL, text) or page.final_url or page.url
        if not url.startswith(("http://", "https://")):
            url = page.final_url or page.url
        return DisqusPage(recognised=True, follow=[embed_url(self.base, forum, identifier, url)])

    def _embed(self, page: Page, data: Any) -> DisqusPage:
        try:
            _check_code(data)
            response = data.get("response")
            if not isinstance(response, dict) or not isinstance(response.get("thread"), dict):
                raise ValueError("the thread data holds no thread")
            thread = response["thread"]
            thread_id, count, forum = thread.get("id"), thread.get("posts"), thread.get("forum")
            if not isinstance(thread_id, str | int) or not _ID.fullmatch(str(thread_id)):
                raise ValueError("the thread has no id")
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValueError("the thread has no comment count")
            asked = parse_qs(urlsplit(page.url).query).get("f", [None])[0]
            forum = forum if isinstance(forum, str) and _FORUM.fullmatch(forum) else asked
            if not forum:
                raise ValueError("the thread names no forum")
            if asked and forum != asked:
                raise ValueError(f"the embed answered for forum {forum!r}, not {asked!r}")
            comments = _records(response.get("posts"), str(thread_id))
            following = _cursor_next(data.get("cursor"))
        except ValueError as exc:
            return DisqusPage(recognised=False, kind="embed", reason=f"unexpected Disqus thread data: {exc}")
        title = thread.get("clean_title") or thread.get("title")
        result = DisqusPage(recognised=True, kind="embed", comments=comments, platform_id=str(thread_id),
                            title=" ".join(title.split()) if isinstance(title, str) else "",
                            claimed_count=count if comments or count else None, cursor_next=following)
        if following is None:
            return result
        key = self.options.get("api_key")
        if not key:
            result.recognised = False
            result.reason = (f"Disqus counts {count} comments, more than its embed page shows; reading "
                             "the rest needs a Disqus API key (the watch option api_key, or the archive's "
                             "setting ARCHIVE_DISQUS_API_KEY)")
            return result
        order = response.get("order")
        result.follow = [api_url(self.base, str(thread_id), forum, order if order in ORDERS else "popular",
                                 following, key)]
        return result

    def _api(self, page: Page) -> DisqusPage:
        parts = urlsplit(page.url)
        query = parse_qs(parts.query)
        thread_id, cursor_in = query.get("thread", [""])[0], query.get("cursor", [None])[0]
        if not parts.path.endswith("/" + API_PATH) or not _ID.fullmatch(thread_id):
            return DisqusPage(recognised=False, kind="api",
                              reason="the disqus adapter reads only the threads/listPostsThreaded API")
        try:
            data = json.loads(page.body)
            _check_code(data)
            comments = _records(data.get("response"), thread_id)
            following = _cursor_next(data.get("cursor"))
        except ValueError as exc:
            return DisqusPage(recognised=False, kind="api", reason=f"unexpected Disqus API answer: {exc}")
        result = DisqusPage(recognised=True, kind="api", comments=comments, platform_id=thread_id,
                            cursor_in=cursor_in, cursor_next=following)
        if following is not None:
            query["cursor"] = [following]
            result.follow = [parts._replace(query=urlencode(query, doseq=True)).geturl()]
        return result

    def join(self, results: Sequence[PageResult]) -> ThreadView:
        problems = [r.reason or "a page was not recognised" for r in results if not r.recognised]
        pages = [r for r in results if isinstance(r, DisqusPage)]
        if problems or not pages:
            return ThreadView(recognised=False, reason="; ".join(problems) or "nothing was read",
                              comments=[], coverage="none")
        chain, problem = _chain(pages)
        if problem:
            return ThreadView(recognised=False, reason=problem, comments=[], coverage="none")
        records: dict[str, CommentRecord] = {}
        for page in chain:
            for record in page.comments:
                records.setdefault(record.key, dataclasses.replace(record, position=len(records)))
        embed = chain[0]
        count = embed.claimed_count
        visible = sum(1 for r in records.values() if not r.tombstone)
        view = ThreadView(recognised=True, reason="", comments=list(records.values()), coverage="complete",
                          title=embed.title, claimed_count=count, platform_id=embed.platform_id)
        if count is not None and visible != count:
            view.recognised, view.coverage, view.comments = False, "none", []
            view.reason = f"Disqus counts {count} comments but the capture listed {visible}"
        return view


def _chain(pages: Sequence[DisqusPage]) -> tuple[list[DisqusPage], str]:
    """The embed page and the API pages its cursors lead to, in order; or the problem."""
    embeds = [p for p in pages if p.kind == "embed"]
    if not embeds:
        return [], "the Disqus embed page was not read"
    by_cursor = {p.cursor_in: p for p in pages if p.kind == "api" and p.cursor_in}
    chain, seen = [embeds[0]], set()
    while chain[-1].cursor_next is not None:
        cursor = chain[-1].cursor_next
        if cursor in seen:
            return [], f"Disqus's cursors loop back to {cursor!r}"
        seen.add(cursor)
        following = by_cursor.get(cursor)
        if following is None:
            return [], f"Disqus has more comments after cursor {cursor!r}, and that page was not read"
        if following.platform_id != chain[0].platform_id:
            return [], "the API pages belong to another thread than the embed page"
        chain.append(following)
    return chain, ""


def _records(posts: Any, thread_id: str) -> list[CommentRecord]:
    """One page's posts as records, in reading order."""
    if not isinstance(posts, list):
        raise ValueError("the answer lists no posts")
    records: list[CommentRecord] = []
    for index, item in enumerate(posts):
        record = _record(item, thread_id, index)
        if record is not None:
            records.append(dataclasses.replace(record, position=len(records)))
    return records


def _record(item: Any, thread_id: str, index: int) -> CommentRecord | None:
    """One post as a record; None for a post that is not public; ValueError when it is not a post."""
    if not isinstance(item, dict):
        raise ValueError(f"post {index} is not an object")
    post_id, parent, thread = item.get("id"), item.get("parent"), item.get("thread")
    flags = [item.get(name) for name in ("isDeleted", "isApproved", "isSpam")]
    if not isinstance(post_id, str | int) or isinstance(post_id, bool) or not _ID.fullmatch(str(post_id)):
        raise ValueError(f"post {index} has no id")
    if not all(isinstance(flag, bool) for flag in flags):
        raise ValueError(f"post {post_id} lacks isDeleted, isApproved or isSpam")
    if parent is not None and (isinstance(parent, bool) or not isinstance(parent, str | int)
                               or not _ID.fullmatch(str(parent))):
        raise ValueError(f"post {post_id} has an unreadable parent")
    if isinstance(thread, str | int) and str(thread) != thread_id:
        raise ValueError(f"post {post_id} belongs to thread {thread!r}, not {thread_id}")
    deleted, approved, spam = flags
    created = item.get("createdAt")
    posted = parse_iso_utc(created) if isinstance(created, str) else None
    parent_key = None if parent is None else str(parent)
    if deleted:
        # The placeholder keeping a deleted post's place: what it still carries is not shown.
        return CommentRecord(key=str(post_id), author="", text="", posted_at=posted,
                             parent_key=parent_key, position=index, tombstone=True)
    if spam or not approved:
        return None
    author, html = item.get("author"), item.get("message")
    if posted is None or not isinstance(author, dict) or not isinstance(html, str):
        raise ValueError(f"post {post_id} has no creation time, author or message")
    name = author.get("name")
    profile = next((u for u in (author.get("profileUrl"), author.get("url"))
                    if isinstance(u, str) and u.startswith(("http://", "https://"))), None)
    return CommentRecord(key=str(post_id), author=name if isinstance(name, str) else "",
                         text=fragment_text(html), html=html, posted_at=posted, parent_key=parent_key,
                         author_url=profile, position=index)
