"""Revision 0008: captures, comments and events get a source; live and backfill chains
are numbered apart; going back down drops only the backfilled history."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from archive.store.db import get_db
from archive.store.schema import _alembic_config


def _insert_capture(conn, capture_id: int, seq: int, source: str | None = None) -> None:
    columns, values = "", ""
    if source is not None:
        columns, values = ", source", f", '{source}'"
    conn.execute(text(f"INSERT INTO captures (id, thread_id, seq, started_at, outcome, reason, coverage, "
                      f"comments_found, pages{columns}) VALUES ({capture_id}, 1, {seq}, CURRENT_TIMESTAMP, "
                      f"'good', '', 'none', 0, 0{values})"))


def test_0008_marks_what_exists_live_and_keeps_two_chains(app):
    engine = get_db(app).writer
    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    command.downgrade(cfg, "0007")
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO sites (id, host, name) VALUES (1, 'example.org', '')"))
            conn.execute(text("INSERT INTO threads (id, site_id, url, title, state, gone_misses, created_at) "
                              "VALUES (1, 1, 'https://example.org/a/', '', 'active', 0, CURRENT_TIMESTAMP)"))
            _insert_capture(conn, 1, 1)
    finally:
        command.upgrade(cfg, "head")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT source FROM captures")).scalar_one() == "live"
        _insert_capture(conn, 2, 1, "backfill")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        _insert_capture(conn, 3, 1, "backfill")

    command.downgrade(cfg, "0007")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM captures")).scalars().all() == [1]
    finally:
        command.upgrade(cfg, "head")
