"""What WordPress's REST API says about one comment that went missing from a capture.

`GET /wp-json/wp/v2/comments/<id>` answers an anonymous reader 200 for an
approved comment, 401 or 403 for one that exists but is hidden (held, spam,
trash) and 404 for a deleted one. The capture pipeline asks it (through
`follow_ups`) about each comment a good capture has just missed for the first
time; the answer is stored as a hint beside the verdict and never decides one.
All three WordPress adapters ask the same thing, so they share this base.
"""
from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from scrapers.base import Adapter, FollowUp


def interpret_single_comment_status(status_code: int) -> str:
    """What `/wp-json/wp/v2/comments/<id>` answering `status_code` says about that comment."""
    if status_code == 200:
        return "visible"
    if status_code in (401, 403):
        return "exists but hidden"       # held, spam or trash: WordPress will not show it
    if status_code in (404, 410):
        return "deleted"
    return f"unknown (HTTP {status_code})"


def comment_status_url(thread_url: str, key: str) -> str:
    """The REST URL of one comment, on the thread's own site (scheme, host and port)."""
    parts = urlsplit(thread_url)
    return f"{parts.scheme}://{parts.netloc}/wp-json/wp/v2/comments/{key}"


class WordPressStatusChecks(Adapter):
    """The follow-ups of every WordPress adapter: one REST look-up per missing comment id."""

    def follow_ups(self, thread_url: str, keys: Sequence[str]) -> list[FollowUp]:
        # WordPress comment ids are numbers; any other key was not read from WordPress.
        return [FollowUp(key, comment_status_url(thread_url, key)) for key in keys
                if key.isdigit()]

    def read_follow_up(self, status: int | None, body: bytes) -> str:
        return interpret_single_comment_status(status) if status else "no answer"
