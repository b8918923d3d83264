"""Comments to search documents: what every engine indexes, read from the database.

One document per comment. Its body is every version's text, then the thread
title, then the marked stems of those words (archive/search/tokens.py), as
separate segments: engines keep a gap between segments so that a phrase never
matches across two versions. The title field is the title's words followed by
their marked stems. So every engine indexes stems with no change of its own. A redacted comment is indexed with
no text and no author, so that counts still include it but nothing it said
can be found.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from sqlalchemy import ColumnElement, SQLColumnExpression, select
from sqlalchemy.orm import Session

from archive.search.tokens import stem_tokens, tokenize
from archive.store.models import Comment, CommentVersion, Site, Thread

# Tokens kept per document: a hostile megabyte of text must not blow up an
# engine (PostgreSQL positions stop at 16383).
MAX_DOCUMENT_TOKENS = 12_000
# Distinct stems kept per document, on top of its tokens (positions stay under 16383).
MAX_DOCUMENT_STEMS = 4_000
# What documents hold: an index built from another format must be rebuilt
# (archive/search/engines.py). 2: stems added.
DOCUMENT_FORMAT = 2
SEGMENT_BREAK = " \u00a6 "


@dataclass(frozen=True)
class SearchDocument:
    comment_id: int
    # Versions' tokens (oldest first), then the title's, then the marked stems
    # of all of them: one list per segment.
    body: tuple[tuple[str, ...], ...]
    # The title's tokens, then their marked stems.
    title: tuple[str, ...]
    author: tuple[str, ...]
    # The site's host and name, as two segments.
    site: tuple[tuple[str, ...], ...]
    site_host: str
    thread_id: int
    status: str
    reinstated: bool
    edited: bool
    # When it was posted, or first seen when the page gave no date.
    sort_at: datetime


@dataclass(frozen=True)
class Selection:
    """Which comments an index update covers: listed ids, or an id range.

    A range (low, high] (None: unbounded) lets a rebuild also drop index
    entries of comments that no longer exist.
    """
    ids: tuple[int, ...] | None = None
    low: int | None = None
    high: int | None = None

    def where(self, column: SQLColumnExpression[int]) -> ColumnElement[bool]:
        if self.ids is not None:
            return column.in_(self.ids)
        clause: ColumnElement[bool] = column.is_not(None)
        if self.low is not None:
            clause = clause & (column > self.low)
        if self.high is not None:
            clause = clause & (column <= self.high)
        return clause


def _capped(segments: Iterable[list[str]]) -> tuple[tuple[str, ...], ...]:
    kept: list[tuple[str, ...]] = []
    budget = MAX_DOCUMENT_TOKENS
    for tokens in segments:
        if budget <= 0:
            break
        kept.append(tuple(tokens[:budget]))
        # Each segment also costs the gap that follows it.
        budget -= len(tokens) + 1
    return tuple(kept)


def segments_text(segments: Sequence[Sequence[str]]) -> str:
    """Segments as one string of space-separated tokens, with a break token between
    segments: no query can contain it (it is not a letter or digit), so a phrase
    never spans two versions of a comment."""
    return SEGMENT_BREAK.join(" ".join(tokens) for tokens in segments if tokens)


def load_documents(session: Session, selection: Selection) -> list[SearchDocument]:
    """Documents for the selected comments that exist, in id order."""
    rows = session.execute(
        select(Comment.id, Comment.author, Comment.redacted, Comment.status,
               Comment.times_reinstated, Comment.edit_count, Comment.posted_at,
               Comment.first_seen_at, Comment.thread_id, Thread.title, Site.host, Site.name)
        .join(Thread, Thread.id == Comment.thread_id).join(Site, Site.id == Thread.site_id)
        .where(selection.where(Comment.id)).order_by(Comment.id)).all()
    texts: dict[int, list[str]] = {}
    open_ids = [row.id for row in rows if not row.redacted]
    if open_ids:
        for comment_id, text in session.execute(
                select(CommentVersion.comment_id, CommentVersion.text)
                .where(CommentVersion.comment_id.in_(open_ids))
                .order_by(CommentVersion.comment_id, CommentVersion.seq)):
            texts.setdefault(comment_id, []).append(text)
    documents = []
    # A thread's comments share its title: tokenized and stemmed once a batch.
    titles: dict[str, tuple[list[str], tuple[str, ...]]] = {}
    for row in rows:
        if row.title not in titles:
            tokens = tokenize(row.title or "")[:MAX_DOCUMENT_TOKENS]
            titles[row.title] = (tokens, stem_tokens(tokens)[:MAX_DOCUMENT_STEMS])
        title, title_stems = titles[row.title]
        versions = [tokenize(text) for text in texts.get(row.id, [])]
        body = _capped([*versions, title])
        stems = stem_tokens(chain.from_iterable(body))[:MAX_DOCUMENT_STEMS]
        documents.append(SearchDocument(
            comment_id=row.id,
            body=(*body, stems),
            title=(*title, *title_stems),
            author=() if row.redacted else tuple(tokenize(row.author or "")[:256]),
            site=(tuple(tokenize(row.host)), tuple(tokenize(row.name or "")[:256])),
            site_host=row.host,
            thread_id=row.thread_id,
            status=row.status,
            reinstated=row.times_reinstated > 0,
            edited=row.edit_count > 0,
            sort_at=row.posted_at or row.first_seen_at,
        ))
    return documents


def comment_texts(session: Session, comment_ids: Sequence[int]) -> dict[int, list[str]]:
    """Every version's text of the given unredacted comments (oldest first), for snippets."""
    texts: dict[int, list[str]] = {comment_id: [] for comment_id in comment_ids}
    if not comment_ids:
        return texts
    # Core rows through the session's connection: no ORM work for 20 strings.
    for comment_id, text in session.connection().execute(
            select(CommentVersion.comment_id, CommentVersion.text)
            .join(Comment, Comment.id == CommentVersion.comment_id)
            .where(CommentVersion.comment_id.in_(comment_ids), Comment.redacted.is_(False))
            .order_by(CommentVersion.comment_id, CommentVersion.seq)):
        texts[comment_id].append(text)
    return texts


def batch_bounds(session: Session, after: int | None, size: int) -> int | None:
    """The id closing the next batch of `size` comments after `after` (None: no more)."""
    query = select(Comment.id).order_by(Comment.id).offset(size - 1).limit(1)
    if after is not None:
        query = query.where(Comment.id > after)
    return session.scalar(query)
