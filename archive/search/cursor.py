"""Search cursors: where the next page of one search starts, signed by the archive.

A cursor travels in links anyone can edit, and its fields reach the engines
as query values, so it is signed with the archive's secret key (HMAC-SHA256
over the search it belongs to and its position): an edited or forged
cursor, or one from another search, is refused before it is read. The
fields are checked all the same, so that a cursor from an older release or
a leaked key cannot crash an engine.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from archive.search.types import SearchQueryError
from archive.store.models import MAX_ID

STALE = "this page link is out of date: start again from the first page"


@dataclass(frozen=True)
class Position:
    """Relevance pages continue from an offset, date-sorted ones after (sort_at, comment id)."""
    offset: int = 0
    after: tuple[datetime, int] | None = None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _mac(secret: str, scope: str, payload: str) -> str:
    # The prefix keeps these signatures apart from anything else the key signs.
    message = f"archive-search-cursor\n{scope}\n{payload}".encode()
    return _b64(hmac.new(secret.encode(), message, hashlib.sha256).digest()[:16])


def sign(secret: str, scope: str, position: Position) -> str:
    """The cursor of `position` in the search identified by `scope`."""
    state: dict[str, object] = {"o": position.offset}
    if position.after is not None:
        state = {"t": position.after[0].isoformat(), "i": position.after[1]}
    payload = _b64(json.dumps(state, separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, scope, payload)}"


def read(secret: str, scope: str, cursor: str, keyset: bool) -> Position:
    """The position in `cursor`; SearchQueryError unless this archive signed it
    for this search, with the fields a `keyset` (date-sorted) page or an offset needs."""
    payload, _dot, mac = cursor.partition(".")
    if not hmac.compare_digest(mac.encode("utf-8", "replace"), _mac(secret, scope, payload).encode()):
        raise SearchQueryError(STALE)
    try:
        state = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:  # bad base64, bad UTF-8 and bad JSON are all ValueErrors
        raise SearchQueryError(STALE) from None
    position = _checked(state, keyset)
    if position is None:
        raise SearchQueryError(STALE)
    return position


def _checked(state: object, keyset: bool) -> Position | None:
    # `type(...) is int`, not isinstance: JSON's true and false are bools, which are ints.
    if not isinstance(state, dict):
        return None
    if not keyset:
        offset = state.get("o")
        # The plan bounds the offset itself, with a message of its own.
        return Position(offset=offset) if set(state) == {"o"} and type(offset) is int and offset >= 0 else None
    at, comment_id = state.get("t"), state.get("i")
    if (set(state) != {"t", "i"} or type(at) is not str or type(comment_id) is not int
            or not 1 <= comment_id <= MAX_ID):
        return None
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return None
    # Sort times are naive UTC; an aware one cannot be compared with them.
    return Position(after=(moment, comment_id)) if moment.tzinfo is None else None
