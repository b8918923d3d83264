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
import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from archive.backfill.queue import claim, request_backfill
from archive.backfill.run import run_backfill
from archive.backfill.sources import CdxSource
from archive.capture.fetch.fetcher import Fetcher
from archive.context import ArchiveContext
from archive.demo.content import Article, DemoComment, Stage
from archive.demo.pages import article_page
from archive.store.models import Site, Thread

# A stand-in host: invented content never joins a real site the archive may watch.
BASE = "https://www.communitycare.example"
WALL = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
        b"<div id=\"challenge-form\">Checking your browser before accessing the site.</div>"
        b"</body></html>")

ARCHIVED = Article(
    slug="2018/05/14/cafcass-complaints-process-marks-its-own-homework-say-parents",
    post_id=8377,
    title="Cafcass complaints process \u2018marks its own homework\u2019, say parents",
    published=datetime(2018, 5, 14, 8, 0),
    site_name="Community Care (archived snapshots, offline demo)",
    paragraphs=("Parents told a survey that complaints about family court advisers were answered by the "
                "service that wrote the reports.",
                "This article and its comments are invented for the archive's demonstration."),
    comments=(
        DemoComment(301, "Rachel", datetime(2018, 5, 14, 9, 2), (
            "Our complaint took eleven months and was closed without anyone reading the report again.",),
                    invented=True),
        DemoComment(302, "G. Hughes", datetime(2018, 5, 14, 11, 40), (
            "I have the emails where the adviser admits she never met my son. The complaint was "
            "\u201cnot upheld\u201d.",), invented=True),
        DemoComment(303, "Mo", datetime(2018, 5, 14, 12, 5), (
            "Same here. Ask for the notes: they were never written.",), parent=302, invented=True),
        DemoComment(304, "Jen", datetime(2018, 5, 15, 7, 30), (
            "The survey has eighty responses. Hardly representative.",), invented=True),
        DemoComment(305, "Ade", datetime(2018, 5, 16, 10, 15), (
            "Complaints should go to someone independent, like the Ombudsman, from the start.",),
                    invented=True),
    ),
    stages=(
        Stage("the first snapshot: four comments", visible=(301, 302, 303, 304)),
        Stage("G. Hughes's comment is held, hiding Mo's reply; Ade comments", visible=(301, 303, 304, 305)),
        Stage("a later snapshot of the same bytes", visible=(301, 303, 304, 305)),
        Stage("a challenge wall the web archive kept instead of the page", mode="wall"),
        Stage("Jen's comment is gone; Rachel has edited hers", visible=(301, 303, 305), edits={301: (
            "Our complaint took eleven months and was closed without anyone reading the report "
            "again. We have now gone to the Ombudsman.",)}),
        Stage("the last snapshot: the same bytes again", visible=(301, 303, 305), edits={301: (
            "Our complaint took eleven months and was closed without anyone reading the report "
            "again. We have now gone to the Ombudsman.",)}),
    ),
)
TIMESTAMPS = ("20180514131207", "20180516184055", "20180519070231", "20180602113000",
              "20180720154512", "20181103041009")


def snapshot_bodies() -> list[tuple[str, bytes]]:
    """(timestamp, original bytes) of every snapshot, oldest first."""
    return [(ts, WALL if stage.mode == "wall" else article_page(BASE, ARCHIVED, stage).encode("utf-8"))
            for ts, stage in zip(TIMESTAMPS, ARCHIVED.stages, strict=True)]


class DemoWebArchive:
    """A CDX server and its `id_` replay for one page's snapshots; a context manager."""

    def __init__(self, url: str, snapshots: list[tuple[str, bytes]]) -> None:
        self.url = url
        self.snapshots = dict(snapshots)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="demo-archive")

    @property
    def cdx_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/demo/cdx"

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

    def __enter__(self) -> DemoWebArchive:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


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
        found = session.scalar(select(Thread.id).join(Site).where(Site.name == ARCHIVED.site_name))
    if found is not None:
        return found
    url = f"{BASE}/{ARCHIVED.slug}/"
    say(f"backfilling \u201c{ARCHIVED.title}\u201d from a local web archive of 2018 snapshots")
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
            session.get_one(Thread, thread_id).site.name = ARCHIVED.site_name
    return thread_id
