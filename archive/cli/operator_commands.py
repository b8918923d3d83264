"""`user add|password`, `feed add|list|poll`, `watch import|export`: the operators' side on the command line.

Actions here are written to the audit log like the web's, with the actor
"command line" (whoever can run commands on the server owns the archive).
"""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

import click
from sqlalchemy import select

from archive.capture.feeds import add_feed, watch_schedule
from archive.cli import current_context
from archive.cli.watch_commands import duration_option, watch
from archive.clock import format_duration, iso, parse_duration, utcnow
from archive.errors import ArchiveError
from archive.operators import audit
from archive.operators.watch_csv import (
    CsvImportError,
    decode_csv,
    export_watches,
    import_watches,
    parse_watch_csv,
)
from archive.store.models import Feed, FeedEntry, Watch
from scrapers import ADAPTERS

ACTOR = "command line"


@click.group()
def user() -> None:
    """Operator accounts for the web pages under /ops/."""


@user.command("add")
@click.argument("name")
@click.password_option(help="The password (asked twice when not given).")
def user_add(name: str, password: str) -> None:
    """Create an operator account NAME."""
    from archive.operators.auth import create_user  # loads Flask-Login: only this command needs it

    with current_context().db.write() as session:
        created = create_user(session, name, password)
        audit.record(session, ACTOR, "user-add", f"user {created.name}")
    click.echo(f"user {name} created; log in at /ops/login")


@user.command("password")
@click.argument("name")
@click.password_option(help="The new password (asked twice when not given).")
def user_password(name: str, password: str) -> None:
    """Set operator NAME's password; every session logged in before is ended."""
    from archive.operators.auth import change_password  # loads Flask-Login: only this command needs it

    with current_context().db.write() as session:
        changed = change_password(session, name, password)
        audit.record(session, ACTOR, "user-password", f"user {changed.name}")
    click.echo(f"password of user {name} changed; their sessions have ended")


@click.group()
def feed() -> None:
    """Site feeds polled for new articles to watch."""


@feed.command("add")
@click.argument("feed_url")
@click.option("--every", callback=duration_option, help="How often to poll the feed (default 1h).")
@click.option("--watch-for", callback=duration_option, help="How long to watch each new article (default 14d).")
@click.option("--watch-every", callback=duration_option, help="Capture interval of those watches (default 6h).")
@click.option("--early-every", callback=duration_option, help="Their interval in the first days (default 1h).")
@click.option("--early-for", callback=duration_option, help="How long the first days last (default 2d).")
def feed_add(feed_url: str, every: timedelta | None, watch_for: timedelta | None, watch_every: timedelta | None,
             early_every: timedelta | None, early_for: timedelta | None) -> None:
    """Discover new articles from a site's RSS or Atom feed and watch each."""
    ctx = current_context()
    settings = ctx.settings
    with ctx.db.write() as session:
        created = add_feed(session, feed_url, allow_private=settings.allow_private_addresses,
                           every=every or parse_duration("1h"), watch_for=watch_for or parse_duration("14d"),
                           watch_every=watch_every, early_every=early_every, early_for=early_for)
        audit.record(session, ACTOR, "feed-add", f"feed {created.id}", details={"url": created.url})
        first, early, span = watch_schedule(created)
        done = (f"feed {created.id}: {created.url} polled every {format_duration(created.interval_seconds)}; "
                f"new articles watched for {format_duration(created.watch_for_seconds)} "
                f"(every {format_duration(early.total_seconds())} for {format_duration(span.total_seconds())}, "
                f"then every {format_duration(first.total_seconds())})")
    click.echo(done)


@feed.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
def feed_list(as_json: bool) -> None:
    """List feeds with their last poll outcome and what they discovered."""
    with current_context().db.read_session() as session:
        rows = []
        for f in session.scalars(select(Feed).order_by(Feed.id)):
            entries = session.scalars(select(FeedEntry).where(FeedEntry.feed_id == f.id)).all()
            rows.append({
                "id": f.id, "url": f.url, "title": f.title, "every": format_duration(f.interval_seconds),
                "watch_for": format_duration(f.watch_for_seconds), "paused": f.paused,
                "last_polled_at": iso(f.last_polled_at), "last_outcome": f.last_outcome,
                "last_error": f.last_error, "consecutive_failures": f.consecutive_failures,
                "next_due_at": iso(f.next_due_at), "articles": len(entries),
                "watched": sum(1 for e in entries if e.watch_id is not None)})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No feeds yet. Add one with: python -m archive feed add FEED_URL")
        return
    for r in rows:
        last = f"{r['last_outcome']} at {r['last_polled_at']}" if r["last_outcome"] else "never polled"
        error = f" ({r['last_error']})" if r["last_error"] else ""
        click.echo(f"{r['id']:>4}  every {r['every']:<4} {r['url']}\n"
                   f"      last: {last}{error}; {r['articles']} articles, {r['watched']} watched; "
                   f"next due {r['next_due_at']}")


@feed.command("poll")
@click.argument("feed_id", type=int)
def feed_poll(feed_id: int) -> None:
    """Poll feed FEED_ID now, whatever its schedule, and watch its new articles."""
    from archive.capture.fetch.fetcher import Fetcher
    from archive.capture.jobs import run_feed_job
    from archive.capture.workers import reporting

    ctx = current_context()
    with Fetcher.from_settings(ctx.settings) as fetcher, reporting(ctx):
        result = run_feed_job(ctx, feed_id, fetcher, "command line")
    with ctx.db.write() as session:
        audit.record(session, ACTOR, "feed-poll", f"feed {feed_id}",
                     details={"outcome": result.outcome, "error": result.error, "watch_ids": result.watch_ids})
    click.echo(result.line())


@watch.command("import")
@click.argument("csv_file", type=click.File("rb"))
def watch_import(csv_file: BinaryIO) -> None:
    """Add the watches listed in a CSV file ('-' for stdin); all or nothing.

    Columns: url (required), adapter, every, until, paused, early_every,
    early_for, options (JSON). An exported file can be imported as it is."""
    ctx = current_context()
    settings = ctx.settings
    rows, problems = parse_watch_csv(decode_csv(csv_file.read()), ADAPTERS, utcnow())
    if not problems:
        try:
            with ctx.db.write() as session:
                created = import_watches(session, rows, allow_private=settings.allow_private_addresses,
                                         default_every=settings.default_interval)
                audit.record(session, ACTOR, "import", f"{len(created)} watches",
                             details={"watch_ids": [w.id for w in created]})
        except CsvImportError as exc:
            problems = exc.problems
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise ArchiveError(f"nothing imported: {len(problems)} problem(s)")
    click.echo(f"imported {len(created)} watches")


@watch.command("export")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write to this file instead of standard output.")
def watch_export(output: Path | None) -> None:
    """Write every watch as CSV (importable with `watch import`)."""
    with current_context().db.read_session() as session:
        watches = session.scalars(select(Watch).order_by(Watch.id)).all()
        text = export_watches(watches, utcnow())
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(watches)} watches to {output}")


COMMANDS = [user, feed]
