"""The operators' audit log: who did what, to what, when and why.

Every operator action writes one `AuditEntry` in the same transaction as the
change it describes, so the log never claims an action that was rolled back
and never misses one that was committed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.store.models import AuditEntry

# The actions the log knows; the audit page filters by them.
ACTIONS = ("login", "login-failed", "logout", "user-add", "watch-add", "watch-edit",
           "watch-pause", "watch-resume", "watch-remove", "capture-now", "feed-add", "feed-poll",
           "import", "redact", "unredact")
PAGE_SIZE = 100


def record(session: Session, actor: str, action: str, target: str = "", reason: str = "",
           details: dict[str, Any] | None = None, user_id: int | None = None) -> AuditEntry:
    """Add one entry to the log (committed with the caller's unit of work)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(user_id=user_id, actor=actor[:128], action=action,
                       target=target[:256], reason=reason, details=details)
    session.add(entry)
    return entry


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int


def list_entries(session: Session, page: int = 1, action: str | None = None) -> AuditPage:
    """Newest first, `PAGE_SIZE` a page; `action` narrows to one kind."""
    query = select(AuditEntry)
    count = select(func.count()).select_from(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
        count = count.where(AuditEntry.action == action)
    total = session.scalar(count) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    entries = session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                              .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return AuditPage(list(entries), total, page, pages)
