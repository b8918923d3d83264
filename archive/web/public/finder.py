"""Find my comment: the archived comments closest to a text a reader remembers.

Shared by the `/find` page and `/api/v1/find`. The work per request is
bounded: one search of at most `CANDIDATES` comments by the text's likely
rarest words and some of its word pairs (any of them may match, so a
misspelt word costs nothing), a second only when a name narrowed the first
to nothing close, then every version of each candidate scored by
`archive.rules.similarity`.

Redacted comments are never answered for: "your text is close to a comment
whose text is withheld" would tell what the redaction hides.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.capture.watches import canonical_url
from archive.context import ArchiveContext
from archive.errors import ArchiveError
from archive.rules.similarity import THRESHOLD, best_similarity, search_pairs, search_words, trigrams, words
from archive.search import SearchQuery, SearchQueryError, query_index
from archive.store.models import CommentVersion, Thread
from archive.web.public import queries as q
from archive.web.public.search import MAX_QUERY_CHARS

MAX_TEXT_CHARS = 4000
MIN_WORDS = 3
MAX_NAME_CHARS = 200
MAX_URL_CHARS = 2000
# Comments compared per search; the search layer's page size caps it too.
CANDIDATES = 100
SEARCH_WORDS = 10
SEARCH_PAIRS = 6
NAME_WORDS = 6
MAX_WORD_CHARS = 30
SHOWN = 10


class FindError(ArchiveError):
    """What the reader must change in the request; one line."""


@dataclass(frozen=True)
class FindRequest:
    text: str
    author: str = ""
    thread_url: str = ""


@dataclass
class Match:
    comment: q.CommentView
    thread: Thread
    score: float


@dataclass
class Found:
    matches: list[Match]
    compared: int
    thread: Thread | None = None
    notes: list[str] = field(default_factory=list)
    stale: bool = False


def checked_request(text: str, author: str = "", thread_url: str = "") -> FindRequest:
    """The request, or FindError naming the first thing wrong with it."""
    text, author, thread_url = text.strip(), author.strip(), thread_url.strip()
    if len(text) > MAX_TEXT_CHARS:
        raise FindError(f"The text is {len(text):,} characters long; paste at most "
                        f"{MAX_TEXT_CHARS:,} (a few sentences are enough).")
    if len(words(text)) < MIN_WORDS:
        raise FindError(f"Paste at least {MIN_WORDS} words of your comment.")
    if len(author) > MAX_NAME_CHARS:
        raise FindError(f"The name is longer than {MAX_NAME_CHARS} characters.")
    if len(thread_url) > MAX_URL_CHARS:
        raise FindError(f"The article address is longer than {MAX_URL_CHARS} characters.")
    return FindRequest(text, author, thread_url)


def _thread(session: Session, url: str) -> Thread | None:
    try:
        canonical = canonical_url(url)
    except ValueError:
        return None
    return session.scalar(select(Thread).where(Thread.url.in_({url, canonical})))


def _query_text(text: str, author: str) -> str:
    """`w1 OR w2 ... OR "w3 w4" ...`, and `author:"..."` for a name. Words are
    letters and digits only, so nothing the reader typed can become an operator
    of the query language; any of them may match, so a misspelt one costs nothing."""
    name = " ".join(w for w in words(author)[:NAME_WORDS] if len(w) <= MAX_WORD_CHARS)
    leaves = search_words(text, SEARCH_WORDS, MAX_WORD_CHARS)
    leaves += [f'"{a} {b}"' for a, b in search_pairs(text, SEARCH_PAIRS, MAX_WORD_CHARS)]
    while leaves:
        query = " OR ".join(leaves)
        if name:
            query = f'({query}) author:"{name}"'
        if len(query) <= MAX_QUERY_CHARS or len(leaves) == 1:
            return query
        leaves.pop()
    return ""


def _candidates(ctx: ArchiveContext, text: str, author: str, thread_id: int | None) -> tuple[list[int], bool]:
    query_text = _query_text(text, author)
    if not query_text:
        return [], False
    query = SearchQuery(text=query_text, thread_id=thread_id, sort="relevance", per_page=CANDIDATES)
    try:
        results = query_index(ctx, query)
    except SearchQueryError as exc:   # the words come from the reader's text: say so plainly
        raise FindError(f"This text cannot be searched: {exc}") from None
    return [hit.comment_id for hit in results.hits], results.stale


def _versions(session: Session, ids: list[int]) -> dict[int, list[str]]:
    texts: dict[int, list[str]] = {}
    if ids:
        for comment_id, text in session.execute(
                select(CommentVersion.comment_id, CommentVersion.text)
                .where(CommentVersion.comment_id.in_(ids))):
            texts.setdefault(comment_id, []).append(text)
    return texts


def _ranked(session: Session, wanted: frozenset[str], ids: list[int]) -> list[Match]:
    views = q.comment_views(session, ids)
    public = [views[i] for i in ids if i in views and not views[i].redacted]
    texts = _versions(session, [v.id for v in public])
    scored = [(best_similarity(wanted, texts.get(v.id, [])), v) for v in public]
    close = sorted((pair for pair in scored if pair[0] >= THRESHOLD),
                   key=lambda pair: (-pair[0], pair[1].id))[:SHOWN]
    q.fill_bodies(session, [v for _s, v in close])
    threads = {t.id: t for t in session.scalars(
        select(Thread).where(Thread.id.in_({v.thread_id for _s, v in close})))}
    return [Match(v, threads[v.thread_id], round(score, 3)) for score, v in close]


def find_comments(ctx: ArchiveContext, session: Session, request: FindRequest) -> Found:
    """The archived comments closest to the request's text, closest first."""
    found = Found([], 0)
    thread_id = None
    if request.thread_url:
        found.thread = _thread(session, request.thread_url)
        if found.thread is None:
            found.notes.append("The archive does not watch that article address, so every "
                               "watched thread was searched.")
        else:
            thread_id = found.thread.id
    wanted = trigrams(request.text)
    ids, found.stale = _candidates(ctx, request.text, request.author, thread_id)
    found.matches, found.compared = _ranked(session, wanted, ids), len(ids)
    if request.author and not found.matches:
        ids, found.stale = _candidates(ctx, request.text, "", thread_id)
        found.matches, found.compared = _ranked(session, wanted, ids), found.compared + len(ids)
        if found.matches:
            found.notes.append("No close comment has that name; these were posted under "
                               "other names (a site may show a different name than you expect).")
    return found
