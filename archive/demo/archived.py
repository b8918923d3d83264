"""The demo's second Community Care thread, rebuilt from archived snapshots.

A small web archive on 127.0.0.1 (a CDX index in pywb's layout and `id_`
replay, like a pywb collection) holds six snapshots of an article taken in
2018; `backfill` reads them exactly as it reads the Wayback Machine, so a
newcomer sees what a backfill looks like: archived moments on the timeline,
removals between two snapshots, a wall that proves nothing, and a repeated
snapshot that is not fetched again. The article and its comments are
invented for the demonstration (the output says so).
"""
from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from archive.backfill.queue import claim, request_backfill
from archive.backfill.run import run_backfill
from archive.backfill.sources import CdxSource
from archive.capture.fetch.fetcher import Fetcher
from archive.context import ArchiveContext
from archive.demo.site import LoopbackServer
from archive.store.models import Site, Thread

# A stand-in host: invented content never joins a real site the archive may watch.
BASE = "https://www.communitycare.example"
SLUG = "2018/05/14/cafcass-complaints-process-marks-its-own-homework-say-parents"
URL = f"{BASE}/{SLUG}/"
TITLE = "Cafcass complaints process \u2018marks its own homework\u2019, say parents"
SITE_NAME = "Community Care (archived snapshots, offline demo)"
WALL = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
        b"<div id=\"challenge-form\">Checking your browser before accessing the site.</div></body></html>")


@dataclass(frozen=True)
class ArchivedComment:
    id: int
    author: str
    posted_at: datetime
    text: str
    parent: int = 0


COMMENTS = (
    ArchivedComment(301, "Rachel", datetime(2018, 5, 14, 9, 2),
                    "Our complaint took eleven months and was closed without anyone reading the report again."),
    ArchivedComment(302, "G. Hughes", datetime(2018, 5, 14, 11, 40),
                    "I have the emails where the adviser admits she never met my son. The complaint was "
                    "\u201cnot upheld\u201d."),
    ArchivedComment(303, "Mo", datetime(2018, 5, 14, 12, 5),
                    "Same here. Ask for the notes: they were never written.", parent=302),
    ArchivedComment(304, "Jen", datetime(2018, 5, 15, 7, 30),
                    "The survey has eighty responses. Hardly representative."),
    ArchivedComment(305, "Ade", datetime(2018, 5, 16, 10, 15),
                    "Complaints should go to someone independent, like the Ombudsman, from the start."),
)
RACHEL_EDITED = ("Our complaint took eleven months and was closed without anyone reading the report again. "
                 "We have now gone to the Ombudsman.")
# (timestamp, comments shown, edits) of each snapshot; None: a challenge wall instead of the page.
SNAPSHOTS: tuple[tuple[str, tuple[int, ...] | None, dict[int, str]], ...] = (
    ("20180514131207", (301, 302, 303, 304), {}),
    # G. Hughes's comment is held, which hides Mo's reply; Ade comments.
    ("20180516184055", (301, 303, 304, 305), {}),
    ("20180519070231", (301, 303, 304, 305), {}),     # the same bytes again
    ("20180602113000", None, {}),                     # a wall the web archive kept
    # Jen's comment is gone; Rachel has edited hers.
    ("20180720154512", (301, 303, 305), {301: RACHEL_EDITED}),
    ("20181103041009", (301, 303, 305), {301: RACHEL_EDITED}),
)


def _page(shown: tuple[int, ...], edits: dict[int, str]) -> bytes:
    """The article as a WordPress theme (twentytwentyone) prints it. WordPress hides a
    reply whose parent is not approved, and still counts it."""
    by_id = {c.id: c for c in COMMENTS}

    def tree(parent: int) -> str:
        items = []
        for c in sorted((by_id[i] for i in shown if by_id[i].parent == parent), key=lambda c: c.posted_at):
            kids = tree(c.id)
            items.append(
                f'<li id="comment-{c.id}" class="comment depth-1"><article id="div-comment-{c.id}" '
                f'class="comment-body"><footer class="comment-meta"><div class="comment-author vcard">'
                f'<b class="fn">{escape(c.author)}</b> <span class="says">says:</span></div>'
                f'<div class="comment-metadata"><a href="{URL}#comment-{c.id}"><time '
                f'datetime="{c.posted_at.isoformat()}+00:00">{c.posted_at:%B %d, %Y at %I:%M %p}</time></a>'
                f'</div></footer><div class="comment-content"><p>{escape(edits.get(c.id, c.text))}</p></div>'
                f'</article>{f"<ol class=children>{kids}</ol>" if kids else ""}</li>')
        return "".join(items)

    return (f'<!doctype html><html lang="en-GB"><head><meta charset="UTF-8">'
            f'<meta name="generator" content="WordPress 6.1"><title>{escape(TITLE)}</title></head>'
            f'<body class="single single-post postid-8377"><main id="main"><article id="post-8377">'
            f'<h1 class="entry-title">{escape(TITLE)}</h1><div class="entry-content"><p>Parents told a survey '
            f'that complaints about family court advisers were answered by the service that wrote the '
            f'reports. (This article and its comments are invented for the archive\'s demonstration.)</p>'
            f'</div></article><div id="comments" class="comments-area"><h2 class="comments-title">'
            f'{len(shown)} Responses</h2><ol class="comment-list">{tree(0)}</ol>'
            f'<div id="respond" class="comment-respond"></div></div></main></body></html>').encode()


def snapshot_bodies() -> list[tuple[str, bytes]]:
    """(timestamp, original bytes) of every snapshot, oldest first."""
    return [(ts, WALL if shown is None else _page(shown, edits)) for ts, shown, edits in SNAPSHOTS]


class DemoWebArchive(LoopbackServer):
    """A CDX server and its `id_` replay for one page's snapshots; a context manager."""

    def __init__(self, url: str, snapshots: list[tuple[str, bytes]]) -> None:
        self.url = url
        self.snapshots = dict(snapshots)
        super().__init__(_handler_for(self), "demo-archive")

    @property
    def cdx_url(self) -> str:
        return f"{self.local_origin}/demo/cdx"

    def answer(self, path: str, query: str) -> tuple[int, bytes]:
        if path == "/demo/cdx":
            if parse_qs(query).get("url") != [self.url]:
                return 200, b""
            lines = [json.dumps({"urlkey": self.url, "timestamp": ts, "url": self.url, "mime": "text/html",
                                 "status": "200", "digest": _digest(body)})
                     for ts, body in sorted(self.snapshots.items())]
            return 200, ("\n".join(lines) + "\n").encode()
        prefix, _, original = path.removeprefix("/demo/").partition("id_/")
        body = self.snapshots.get(prefix) if original == self.url else None
        return (200, body) if body is not None else (404, b"not archived")


def _digest(body: bytes) -> str:
    # The Wayback Machine's digests: base32 of the body's SHA-1.
    return base64.b32encode(hashlib.sha1(body).digest()).decode()


def _handler_for(archive: DemoWebArchive) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            parts = urlsplit(self.path)
            status, body = archive.answer(parts.path, parts.query)
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if parts.path.endswith("/cdx")
                             else "text/html; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet: the demo prints its own account."""

    return Handler


def load_archived_thread(ctx: ArchiveContext, say: Callable[[str], None] = print) -> int:
    """Backfill the archived thread unless the archive has it; returns its thread id."""
    with ctx.db.read_session() as session:
        found = session.scalar(select(Thread.id).join(Site).where(Site.name == SITE_NAME))
    if found is not None:
        return found
    url = URL
    say(f"backfilling \u201c{TITLE}\u201d from a local web archive of 2018 snapshots")
    fetcher = Fetcher(user_agent=ctx.settings.user_agent, min_host_delay=0.0, timeout=10.0,
                      max_bytes=ctx.settings.max_response_bytes, retries=0, allow_private=True)
    with DemoWebArchive(url, snapshot_bodies()) as archive, fetcher:
        with ctx.db.write() as session:
            run = request_backfill(session, url, kind="cdx", source=archive.cdx_url, date_from=None,
                                   date_to=None, requested_by="demo")
            run_id, thread_id = run.id, run.thread_id
        claim(ctx, run_id)
        report = run_backfill(ctx, run_id, lambda line: say(f"  {line}"), CdxSource(fetcher, archive.cdx_url))
    say(f"  {report.line()}")
    if report.state == "done":
        # Named last, so an interrupted load is simply done again.
        with ctx.db.write() as session:
            session.get_one(Thread, thread_id).site.name = SITE_NAME
    return thread_id
