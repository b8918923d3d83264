"""Archive states for the public pages' tests, made by the real write path.

Each capture is a list of comment records run through the verdict engine and
stored by the ledger, exactly as the capture pipeline does after fetching, so
the pages are tested against states the archive really produces.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from archive.capture.ledger import apply_verdict, load_known, thread_state
from archive.capture.watches import thread_for
from archive.rules.verdicts import Outcome, Snapshot, judge
from archive.store.db import get_db
from archive.store.models import Capture, Comment, Exchange, Thread
from scrapers.base import CommentRecord

T0 = datetime(2018, 4, 1, 12, 0)


def rec(key: str, author: str, text: str, *, parent: str | None = None, position: int = 0,
        html: str = "", posted_at: datetime | None = None, tombstone: bool = False) -> CommentRecord:
    return CommentRecord(key=key, author=author, text=text, html=html or "",
                         posted_at=posted_at or T0, parent_key=parent, position=position,
                         tombstone=tombstone)


def capture(session: Session, thread: Thread, at: datetime, records: Sequence[CommentRecord],
            outcome: Outcome = "good", reason: str = "", confirm: int = 2,
            exchanges: Sequence[Exchange] = ()) -> Capture:
    """Store one capture of `thread` showing `records` (ignored unless good)."""
    good = outcome in ("good", "unchanged")
    cap = Capture(thread_id=thread.id, started_at=at, finished_at=at + timedelta(seconds=2),
                  outcome=outcome, reason=reason, coverage="complete" if good else "none",
                  comments_found=len(records) if good else 0, pages=1, adapter="wordpress")
    for exchange in exchanges:
        cap.exchanges.append(exchange)
    session.add(cap)
    session.flush()
    snap = Snapshot(outcome=outcome, at=at, comments=tuple(records) if good else (),
                    coverage="complete" if good else "none", reason=reason)
    verdict = judge(load_known(session, thread.id), snap, thread_state(thread), confirm)
    apply_verdict(session, thread, cap, list(snap.comments), verdict)
    session.flush()
    return cap


def new_thread(session: Session, url: str, title: str) -> Thread:
    thread = thread_for(session, url)
    thread.title = title
    session.flush()
    return thread


def comment_id(app: Flask, thread_id: int, key: str) -> int:
    with get_db(app).read_session() as session:
        found = session.query(Comment).filter_by(thread_id=thread_id, key=key).one()
        return found.id


def build_moderated_thread(app: Flask) -> dict[str, int]:
    """A thread where comments were removed (Sarah, Nell), went missing (Cha),
    were edited (WL), reinstated (Dave), tombstoned (Ann) and redacted (Jo),
    with a failed and a suspect capture. Returns ids by name."""
    base = [
        rec("1", "WL", "This is bonkers. I know officers who never see their children.", position=1),
        rec("2", "Cha", "This is fantastic, we'll done.", position=2),
        rec("3", "Sarah T", "Our officer met my daughter once for twenty minutes.", position=3),
        rec("4", "Paul", "As a sidenote, criticisms have been moderated out.", position=4),
        rec("5", "Mike", "Absolutely right Paul, my comment was removed.", parent="4", position=5),
        rec("6", "Nell", "Lets assume they are not seeking to privatise Cafcass then.", position=6),
        rec("7", "Dave", "Ofsted inspected the files Cafcass chose to show them.", position=7),
        rec("8", "Jo", "Private details that the archive's operators hid.", position=8),
        rec("9", "Ann", "A comment the site later replaced with a placeholder.", position=9),
    ]
    by_key = {r.key: r for r in base}
    edited = rec("1", "WL", "This is bonkers. I know officers who rarely see their children.",
                 position=1)
    tomb = rec("9", "", "This comment was deleted.", position=9, tombstone=True)
    with get_db(app).write() as session:
        thread = new_thread(session, "https://news.example/2018/cafcass-outstanding/",
                            "Cafcass rated outstanding")
        c1 = capture(session, thread, T0, base)
        second = [edited] + [by_key[k] for k in ("2", "4", "5", "6", "8")] + [tomb]
        c2 = capture(session, thread, T0 + timedelta(hours=1), second)   # 3 and 7 missing
        capture(session, thread, T0 + timedelta(hours=2), [], outcome="failed",
                reason="the article answered HTTP 503")
        capture(session, thread, T0 + timedelta(hours=3), [], outcome="suspect",
                reason="the page says 7 comments but shows 2")
        third = [edited] + [by_key[k] for k in ("2", "4", "5", "8")] + [tomb]
        c4 = capture(session, thread, T0 + timedelta(hours=4), third)    # 3, 7 removed; 6 missing
        fourth = [r for r in third if r.key != "2"] + [by_key["7"]]
        # 7 reinstated, 6 removed, 2 missing
        c5 = capture(session, thread, T0 + timedelta(hours=5), fourth)
        comment = session.query(Comment).filter_by(thread_id=thread.id, key="8").one()
        comment.redacted = True
        comment.redaction_reason = "personal data of a child"
        ids = {"thread": thread.id, "first": c1.id, "second": c2.id, "confirming": c4.id,
               "reinstating": c5.id}
    for name, key in (("wl", "1"), ("cha", "2"), ("sarah", "3"), ("paul", "4"), ("mike", "5"),
                      ("nell", "6"), ("dave", "7"), ("jo", "8"), ("ann", "9")):
        ids[name] = comment_id(app, ids["thread"], key)
    return ids
