"""Redaction: hide a comment's text and author from the public side, with a reason.

The comment keeps its place in every count and statistic (a redacted removal
is still a removal); only its text and author stop being shown and indexed
for the public: pages and statistics by author say WITHHELD_AUTHOR, the API
and the exports leave both out (empty in exports) beside `redacted: true`.
Redacting and unredacting both need a reason and are written to the audit
log in the same transaction.

The evidence is kept, but raw bodies may hold the redacted text and name, so
every body kept for a thread with a redacted comment (a browser capture's
DOM, screenshot and request bodies too) is withheld from the
public (`withheld_bodies`): its SHA-256, size and the reasons stay public, so
a copy from elsewhere can still be checked; logged-in operators still read it.
"""
from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, case, select, union
from sqlalchemy.orm import Session

from archive.errors import ArchiveError
from archive.operators import audit
from archive.store.models import Capture, Comment, Exchange

if TYPE_CHECKING:
    from archive.context import ArchiveContext

MAX_REASON_CHARS = 2000
# A redacted comment's author as public pages and statistics by author show it.
WITHHELD_AUTHOR = "(name withheld)"


def public_author() -> ColumnElement[str]:
    """Comment.author as the public may see it."""
    return case((Comment.redacted.is_(True), WITHHELD_AUTHOR), else_=Comment.author)


def withheld_bodies(session: Session, shas: Collection[str]) -> dict[str, list[str]]:
    """Which of these stored bodies the public may not read, each with the reasons
    of the redactions that withhold it. Any capture of the thread may hold the
    text (a failed or suspect one too, and every page of it), so the rule is
    per thread: a redaction must never leak through the raw evidence."""
    found: dict[str, list[str]] = {}
    if not shas:
        return found
    wanted = list(shas)
    # Every blob a capture keeps: response and request bodies, a browser capture's DOM and screenshot.
    kept = [select(column.label("sha"), Capture.thread_id).join(Capture, Exchange.capture_id == Capture.id)
            .where(column.in_(wanted)) for column in (Exchange.body_sha256, Exchange.request_body_sha256)]
    kept += [select(column.label("sha"), Capture.thread_id).where(column.in_(wanted))
             for column in (Capture.dom_sha256, Capture.screenshot_sha256)]
    blobs = union(*kept).subquery()
    rows = session.execute(
        select(blobs.c.sha, Comment.redaction_reason).distinct()
        .join(Comment, Comment.thread_id == blobs.c.thread_id)
        .where(Comment.redacted.is_(True)))
    for sha, reason in rows:
        found.setdefault(str(sha), []).append(reason or "no reason given")
    return found


def _checked_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ArchiveError("a reason is required (it is kept in the audit log)")
    if len(reason) > MAX_REASON_CHARS:
        raise ArchiveError(f"the reason is longer than {MAX_REASON_CHARS} characters")
    return reason


def set_redacted(session: Session, comment_id: int, redacted: bool, *, reason: str | None,
                 actor: str, user_id: int | None) -> Comment:
    """Redact (or unredact) one comment; ArchiveError for a missing reason or no change."""
    reason = _checked_reason(reason)
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise ArchiveError(f"no comment with id {comment_id}")
    if comment.redacted == redacted:
        raise ArchiveError(f"comment {comment_id} is {'already' if redacted else 'not'} redacted")
    comment.redacted = redacted
    comment.redaction_reason = reason if redacted else None
    audit.record(session, actor, "redact" if redacted else "unredact", f"comment {comment_id}",
                 reason, details={"thread_id": comment.thread_id, "key": comment.key},
                 user_id=user_id)
    return comment


def reindex_comment(ctx: ArchiveContext, comment_id: int) -> None:
    """Bring the search index in line after the change was committed."""
    from archive.search import index_comments

    with ctx.db.read_session() as session:
        index_comments(ctx, session, [comment_id])
