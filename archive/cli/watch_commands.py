"""`watch add|list|pause|resume|remove`: what the archive watches."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import click
from sqlalchemy import select

from archive.capture.watches import add_watch, get_watch, set_paused, watch_state
from archive.cli import current_context
from archive.clock import format_duration, iso, parse_date, parse_duration, utcnow
from archive.store.models import Watch


def duration_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> timedelta | None:
    try:
        return parse_duration(value) if value else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def date_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    try:
        return parse_date(value) if value else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group()
def watch() -> None:
    """Add, list, pause, resume, remove, import and export watched threads."""


def json_object_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dict | None:
    if not value:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON ({exc.msg})") from None
    if not isinstance(parsed, dict):
        raise click.BadParameter("must be a JSON object, e.g. '{\"isso\": \"https://comments.example.com/\"}'")
    return parsed


@watch.command("add")
@click.argument("url")
@click.option("--adapter", help="Adapter name (default: chosen from the page at each capture).")
@click.option("--every", callback=duration_option, help="Capture interval, e.g. 30m, 1h, 1d (default 1h).")
@click.option("--until", callback=date_option, help="Stop capturing after this date (YYYY-MM-DD).")
@click.option("--options", callback=json_object_option,
              help="The adapter's options as a JSON object (README, Platforms), e.g. "
                   "'{\"isso\": \"https://comments.example.com/\"}'; needs --adapter.")
def watch_add(url: str, adapter: str | None, every: timedelta | None, until: datetime | None,
              options: dict | None) -> None:
    """Watch the comment thread at URL."""
    ctx = current_context()
    settings = ctx.settings
    interval = every or settings.default_interval
    with ctx.db.write() as session:
        created = add_watch(session, url, allow_private=settings.allow_private_addresses,
                            adapter=adapter, every=interval, until=until, options=options)
        done = (f"watch {created.id}: {created.thread.url} every {format_duration(interval.total_seconds())}"
                f"{f' until {iso(until)}' if until else ''} (adapter: {adapter or 'auto'})")
    # Said once committed: a write that fails (a full disk) must not read as done.
    click.echo(done)


@watch.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
def watch_list(as_json: bool) -> None:
    """List watches with their state, last outcome and next due time."""
    now = utcnow()
    with current_context().db.read_session() as session:
        rows: list[dict[str, Any]] = [{
            "id": w.id, "url": w.thread.url, "adapter": w.adapter or "auto",
            "every": format_duration(w.interval_seconds), "until": iso(w.until),
            "state": watch_state(w, now), "last_capture_at": iso(w.last_capture_at),
            "last_outcome": w.last_outcome, "last_reason": w.last_reason,
            "consecutive_failures": w.consecutive_failures, "next_due_at": iso(w.next_due_at),
        } for w in session.scalars(select(Watch).order_by(Watch.id))]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No watches yet. Add one with: python -m archive watch add URL")
        return
    for r in rows:
        last = f"{r['last_outcome']} at {r['last_capture_at']}" if r["last_outcome"] else "never captured"
        failures = r["consecutive_failures"]
        in_a_row = f", {failures} failure{'s' if failures != 1 else ''} in a row" if failures else ""
        click.echo(f"{r['id']:>4}  {r['state']:<8} every {r['every']:<4} {r['url']}\n"
                   f"      last: {last}{' (' + r['last_reason'] + ')' if r['last_reason'] else ''}{in_a_row}; "
                   f"next due {r['next_due_at']}")


def _set_paused(watch_id: int, paused: bool) -> None:
    with current_context().db.write() as session:
        w = get_watch(session, watch_id)
        set_paused(w, paused, utcnow())
        done = f"watch {watch_id} {'paused' if paused else 'resumed'}: {w.thread.url}"
    click.echo(done)


@watch.command("pause")
@click.argument("watch_id", type=int)
def watch_pause(watch_id: int) -> None:
    """Stop capturing a watch until it is resumed."""
    _set_paused(watch_id, True)


@watch.command("resume")
@click.argument("watch_id", type=int)
def watch_resume(watch_id: int) -> None:
    """Resume a paused watch (it is captured at the next round)."""
    _set_paused(watch_id, False)


@watch.command("remove")
@click.argument("watch_id", type=int)
def watch_remove(watch_id: int) -> None:
    """Stop watching; the thread, its captures and comments stay as evidence."""
    with current_context().db.write() as session:
        w = get_watch(session, watch_id)
        url = w.thread.url
        session.delete(w)
    click.echo(f"watch {watch_id} removed; its evidence stays: {url}")


COMMANDS = [watch]
