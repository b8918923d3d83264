"""The "Find my comment" page: paste what you wrote, see what became of it.

A GET form, so an answer is a link a reader can keep or send. The matching
itself is archive/web/public/finder.py, shared with the API.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request

from archive.context import archive_context
from archive.errors import ArchiveError
from archive.rules.similarity import THRESHOLD, VERY_CLOSE
from archive.store.db import get_session
from archive.web.public.finder import (
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
    FindError,
    checked_request,
    find_comments,
)

bp = Blueprint("find", __name__)


@bp.get("/find")
def find() -> tuple[str, int] | str:
    args = request.args
    form = {"text": args.get("text", ""), "author": args.get("author", ""), "url": args.get("url", "")}
    context: dict[str, object] = dict(form=form, found=None, problem=None, limits=dict(
        text=MAX_TEXT_CHARS, author=MAX_NAME_CHARS, url=MAX_URL_CHARS),
        threshold=THRESHOLD, very_close=VERY_CLOSE)
    if "text" not in args:
        return render_template("public/find.html", **context)
    try:
        wanted = checked_request(form["text"], form["author"], form["url"])
        context["found"] = find_comments(archive_context(), get_session(), wanted)
    except FindError as exc:
        context["problem"] = str(exc)
        return render_template("public/find.html", **context), 400
    except ArchiveError as exc:
        context["problem"] = f"Finding comments is not available right now: {exc}"
        return render_template("public/find.html", **context), 503
    return render_template("public/find.html", **context)
