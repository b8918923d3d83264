"""Rules every request's input must pass before any page reads it.

Two rules that no page should have to remember: a number in a URL path is an
id the database can hold (any other is a 404: nothing has that id), and no
parameter carries a NUL character, which PostgreSQL refuses in text and
which no search, filter or form field has a use for.
"""
from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, ValidationError

from archive.store.models import MAX_ID

_MAX_DIGITS = len(str(MAX_ID))


def parse_id(text: str) -> int | None:
    """`text` as an id (1 to MAX_ID), or None."""
    text = text.strip()
    # The length check first: int() of thousands of digits is slow, then refused.
    if not text.isdecimal() or len(text) > _MAX_DIGITS or not 1 <= int(text) <= MAX_ID:
        return None
    return int(text)


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: only numbers that can be ids match."""

    def to_python(self, value: str) -> int:
        found = parse_id(value)
        if found is None:
            raise ValidationError()
        return found


def _no_nul() -> None:
    for source in (request.args, request.form):
        for name, values in source.lists():
            if any("\0" in value for value in values):
                abort(400, f"{name} must not contain a NUL character")


def init_inputs(app: Flask) -> None:
    """Call before any route is added: routes bind their converters when added."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_no_nul)
