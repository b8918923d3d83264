"""Redaction: hide a comment's text from the public side, with a reason.

The comment keeps its place in every count and statistic (a redacted removal
is still a removal); only its text and author stop being shown and indexed
for the public. Redacting and unredacting both need a reason and are written
to the audit log in the same transaction. The evidence (captures) is kept.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from archive.errors import ArchiveError
from archive.operators import audit
from archive.store.models import Comment

if TYPE_CHECKING:
    from archive.context import ArchiveContext

MAX_REASON_CHARS = 2000


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
