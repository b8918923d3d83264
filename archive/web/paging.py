"""Page numbers of every paged web page: one lenient parser, one page count.

A page number comes from a link anyone can edit, so a bad one shows the
first page and one past the end shows the last, never an error. The API
checks its own arguments strictly instead: a program should hear it was wrong.
"""
from __future__ import annotations

from flask import request


def page_arg() -> int:
    """`?page=` as a number from 1 up; anything else is page 1."""
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def page_count(total: int, per_page: int) -> int:
    """Pages needed for `total` rows, at least one (an empty list still has its page)."""
    return max(1, -(-total // per_page))


def clamp(page: int, pages: int) -> int:
    return min(max(1, page), pages)
