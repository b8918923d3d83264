"""The operators' audit log: who did what, to what, when and why.

Every operator action writes one `AuditEntry` in the same transaction as the
change it describes, so the log never claims an action that was rolled back
and never misses one that was committed.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from archive.store.models import AuditEntry

# The actions the log knows; the audit page filters by them.
ACTIONS = ("login", "login-failed", "logout", "user-add", "user-password", "watch-add", "watch-edit",
           "watch-pause", "watch-resume", "watch-remove", "capture-now", "feed-add", "feed-poll",
           "import", "redact", "unredact", "backfill-queued")


def record(session: Session, actor: str, action: str, target: str = "", reason: str = "",
           details: dict[str, Any] | None = None, user_id: int | None = None) -> AuditEntry:
    """Add one entry to the log (committed with the caller's unit of work)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(user_id=user_id, actor=actor[:128], action=action,
                       target=target[:256], reason=reason, details=details)
    session.add(entry)
    return entry
