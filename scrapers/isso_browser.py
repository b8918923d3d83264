"""Isso comments as its embedded widget loads them in a browser (fetch mode "browser").

The watch names no Isso server: the article's embed script tells the browser
where Isso is. The widget asks `GET <isso>/?uri=<path>&limit=N&nested_limit=M`
for its first screen, and each "load more" link (`a.isso-load-hidden`) asks
again, with `offset` for more top-level comments, or `parent` and `offset` for
more replies to one comment. The browser capture clicks those links (a
bounded number of times) and hands this adapter every answer it received.

`read` reads one answer; `join` puts the answers together and checks them
against Isso's own counts, which every answer carries:
- every top-level answer gives the thread's `total_replies` (every public
  comment and tombstone, replies included) and, through its `offset`, its
  length and its `hidden_replies`, the number of top-level comments;
- every top-level comment listed gives its own `total_replies`, and every
  answer for one parent gives that parent's count again.
The answers must all agree (a thread that changed while the widget loaded it
cannot be put together reliably), and every comment counted must have been
listed: a "load more" left unclicked (the click cap, the deadline) leaves its
comments unseen, and unseen comments must never look removed, so the view is
then unrecognised, which makes the capture suspect.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scrapers.base import Adapter, BrowserPlan, CommentRecord, Page, PageResult, ThreadView
from scrapers.isso import comment_record, is_answer, load_answer

# Rendered comments, or the heading Isso fills in once its first answer came
# (an empty thread renders no comment, only "No comments yet").
READY_SELECTOR = "#isso-thread .isso-comment, #isso-thread .isso-thread-heading:not(:empty)"
MORE_SELECTOR = "#isso-thread a.isso-load-hidden"
# The widget's thread request: `<isso>/?uri=...` (its other requests have a path: /config, /count, /new).
READY_RESPONSE = "/?uri="
MAX_CLICKS = 50


@dataclass
class IssoAnswer(PageResult):
    """One answer of Isso's thread API, with the counts `join` checks."""
    uri: str = ""                      # the thread asked about
    parent: str | None = None          # whose replies it lists; None: top-level comments
    offset: int = 0
    total: int = 0                     # its total_replies
    hidden: int = 0                    # its hidden_replies
    # Per top-level comment listed in a top-level answer: its total_replies.
    reply_counts: dict[str, int] = field(default_factory=dict)
    # Each record's place among its siblings (offset in its parent's list).
    order: dict[str, int] = field(default_factory=dict)


def _count(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"Isso's answer has no valid {what}")
    return value


def _asked(url: str) -> tuple[str, int]:
    """The thread uri and the offset a widget's request asked for."""
    query = parse_qs(urlsplit(url).query)
    uris, offsets = query.get("uri", []), query.get("offset", ["0"])
    if len(uris) != 1 or len(offsets) != 1 or not offsets[0].isdigit():
        raise ValueError("the request names no single thread uri and offset")
    return uris[0], int(offsets[0])


class IssoBrowserAdapter(Adapter):
    """Every public comment and tombstone of an Isso thread, as its embedded widget loads them."""

    name = "isso-browser"
    label = "Isso (embedded widget, in a browser)"
    fetch_mode = "browser"

    def browser_plan(self, thread_url: str) -> BrowserPlan:
        return BrowserPlan(url=thread_url, ready_selector=READY_SELECTOR, ready_response=READY_RESPONSE,
                           more_selector=MORE_SELECTOR, max_clicks=MAX_CLICKS)

    def reads_response(self, page: Page) -> bool:
        # By address alone, so a refused or failed thread request still counts against the capture.
        parts = urlsplit(page.url)
        return parts.path.endswith("/") and "uri" in parse_qs(parts.query)

    def read(self, page: Page) -> PageResult:
        try:
            data = load_answer(page)
        except ValueError as exc:
            return PageResult(recognised=False, reason=f"Isso answered invalid JSON: {exc}")
        if not is_answer(data):
            return PageResult(recognised=False, reason=f"not an Isso thread answer: {page.url}")
        parent = data["id"]
        if parent is not None and (not isinstance(parent, int) or isinstance(parent, bool)):
            return PageResult(recognised=False, reason="Isso's answer names no valid parent")
        uri, offset = _asked(page.url)
        answer = IssoAnswer(recognised=True, uri=uri, parent=None if parent is None else str(parent),
                            offset=offset, total=_count(data["total_replies"], "total_replies"),
                            hidden=_count(data["hidden_replies"], "hidden_replies"))
        for index, item in enumerate(data["replies"]):
            record = comment_record(item, answer.parent, 0)
            if record is None:
                return PageResult(recognised=False, reason=f"unexpected comment object in {page.url}")
            answer.comments.append(record)
            answer.order[record.key] = answer.offset + index
            if answer.parent is None:
                _read_nested(item, record, answer)
        return answer

    def join(self, results: Sequence[PageResult]) -> ThreadView:
        problem = next((r.reason or "an answer was not recognised" for r in results if not r.recognised), "")
        answers = [r for r in results if isinstance(r, IssoAnswer)]
        if not problem:
            problem = _incomplete(answers)
        if problem:
            return ThreadView(recognised=False, reason=problem, comments=[], coverage="none")
        comments = _in_reading_order(answers)
        total = answers[0].total
        # As in the API adapter: Isso answers a uri it does not know like an empty thread.
        return ThreadView(recognised=True, reason="", comments=comments, coverage="complete",
                          claimed_count=total if comments else None)


def _read_nested(item: dict[str, Any], record: CommentRecord, answer: IssoAnswer) -> None:
    """The replies a top-level answer lists under one of its comments, and that comment's count."""
    answer.reply_counts[record.key] = _count(item.get("total_replies"), f"reply count of {record.key}")
    replies = item.get("replies")
    if not isinstance(replies, list):
        raise ValueError(f"unexpected replies of comment {record.key}")
    for index, reply in enumerate(replies):
        child = comment_record(reply, record.key, 0)
        if child is None:
            raise ValueError(f"unexpected reply of comment {record.key}")
        answer.comments.append(child)
        answer.order[child.key] = index


def _incomplete(answers: list[IssoAnswer]) -> str:
    """Why these answers are not the whole thread, or "" when Isso's counts say they are."""
    if len({a.uri for a in answers}) > 1:
        return "the widget asked Isso about more than one thread"
    roots = [a for a in answers if a.parent is None]
    if not any(a.offset == 0 for a in roots):
        return "the widget's first answer (the top-level comments) was not received"
    totals = {a.total for a in roots}
    tops = {a.offset + len([c for c in a.comments if c.parent_key is None]) + a.hidden for a in roots}
    if len(totals) > 1 or len(tops) > 1:
        return "the thread changed while the widget loaded it (Isso's counts differ between its answers)"
    counts: dict[str, set[int]] = {}
    for answer in answers:
        for key, count in answer.reply_counts.items():
            counts.setdefault(key, set()).add(count)
        if answer.parent is not None:
            counts.setdefault(answer.parent, set()).add(answer.total)
    changed = sorted(key for key, values in counts.items() if len(values) > 1)
    if changed:
        return f"the thread changed while the widget loaded it (reply counts of comment {changed[0]} differ)"
    seen = {c.key: c for a in answers for c in a.comments}
    top = {key for key, c in seen.items() if c.parent_key is None}
    if len(top) != tops.pop():
        return f"Isso counts more top-level comments than the widget loaded ({len(top)} seen)"
    for key, values in sorted(counts.items()):
        if key not in top:
            return f"Isso answered for replies of comment {key}, which no top-level answer listed"
        listed = sum(1 for c in seen.values() if c.parent_key == key)
        if listed != next(iter(values)):
            return (f"Isso counts {next(iter(values))} replies of comment {key} "
                    f"but the widget loaded {listed}")
    stray = sorted(c.key for c in seen.values() if c.parent_key is not None and c.parent_key not in top)
    if stray:
        return f"comment {stray[0]} answers a comment no top-level answer listed"
    if len(seen) != totals.pop():
        return f"Isso counts {answers[0].total} comments but the widget loaded {len(seen)}"
    return ""


def _in_reading_order(answers: list[IssoAnswer]) -> list[CommentRecord]:
    """Top-level comments in Isso's order, each followed by its replies; positions numbered afresh."""
    seen: dict[str, CommentRecord] = {}
    order: dict[str, int] = {}
    for answer in answers:
        for record in answer.comments:
            seen.setdefault(record.key, record)
            order.setdefault(record.key, answer.order[record.key])
    tops = sorted((c for c in seen.values() if c.parent_key is None), key=lambda c: order[c.key])
    out: list[CommentRecord] = []
    for top in tops:
        out.append(replace(top, position=len(out)))
        for reply in sorted((c for c in seen.values() if c.parent_key == top.key), key=lambda c: order[c.key]):
            out.append(replace(reply, position=len(out)))
    return out
