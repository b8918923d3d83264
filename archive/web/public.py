"""Public pages for readers and journalists: no login."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from ..db import get_session
from ..models import Comment, Thread

bp = Blueprint("public", __name__)


@bp.get("/")
def home() -> str:
    session = get_session()
    threads = session.scalars(select(Thread).order_by(Thread.id.desc()).limit(50)).all()
    counts = dict(session.execute(select(Comment.status, func.count()).group_by(Comment.status)).all())
    return render_template("home.html", threads=threads, counts=counts)
