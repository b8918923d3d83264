"""What every operator page shares: the blueprint, the login guard, form
fields checked into one-line errors, and the audit helper.

Routes live in __init__.py (login), watches.py and
records.py (feeds, capture health, redaction, audit log).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, request
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from archive.clock import parse_date, parse_duration
from archive.errors import ArchiveError
from archive.operators import audit

bp = Blueprint("operators", __name__, url_prefix="/ops")
Reply = str | BaseResponse | tuple[str, int]
_UNSAFE_IN_TARGET = re.compile(r"[\x00-\x20\x7f\\]")


@bp.before_request
def _require_login() -> BaseResponse | None:
    if request.endpoint != "operators.login" and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    return None


def record(db_session: Session, action: str, target: str, reason: str = "",
            details: dict[str, Any] | None = None) -> None:
    audit.record(db_session, current_user.name, action, target, reason, details, current_user.id)


def field(name: str) -> str:
    return (request.form.get(name) or "").strip()


def duration(name: str, label: str) -> timedelta | None:
    try:
        return parse_duration(field(name)) if field(name) else None
    except ValueError as exc:
        raise ArchiveError(f"{label}: {exc}") from None


def date_field(name: str, label: str) -> datetime | None:
    try:
        return parse_date(field(name)) if field(name) else None
    except ValueError as exc:
        raise ArchiveError(f"{label}: {exc}") from None


def options_field() -> dict[str, Any] | None:
    text = field("options")
    if not text:
        return None
    try:
        options = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchiveError(f"options are not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(options, dict):
        raise ArchiveError("options must be a JSON object")
    return options


def local_target(target: str | None) -> str | None:
    """A `next` address only when it stays on the operator pages (no open
    redirect) and can go in a Location header: no control characters, spaces
    or backslashes, which browsers read in surprising ways."""
    if not target or _UNSAFE_IN_TARGET.search(target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ops/"):
        return None
    return target
