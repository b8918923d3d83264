"""Helpers for the operator-page tests: accounts, login, CSRF tokens."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from archive.operators.auth import create_user
from archive.store.db import get_db
from archive.store.models import AuditEntry, Base

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(app: Flask, name: str = "alice", password: str = PASSWORD) -> None:
    with app.app_context(), get_db(app).write() as session:
        create_user(session, name, password)


def csrf_token(client: FlaskClient, path: str = "/ops/login") -> str:
    """The token from a real form, as a browser would send it."""
    page = client.get(path)
    match = _TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token in the form at {path}"
    return match.group(1)


def login(client: FlaskClient, name: str = "alice", password: str = PASSWORD,
          address: str = "127.0.0.1") -> TestResponse:
    token = csrf_token(client)
    return client.post("/ops/login", data={"name": name, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def logged_in(app: Flask) -> FlaskClient:
    make_user(app)
    client = app.test_client()
    assert login(client).status_code == 302
    return client


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, form_path: str = "/ops/watches",
         **kwargs: Any) -> TestResponse:
    """POST with the token taken from a page's form (the session's token works for every form)."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, form_path)}, **kwargs)


def audit_actions(app: Flask) -> list[tuple[str, str, str, str]]:
    """(actor, action, target, reason) of every audit entry, oldest first."""
    with get_db(app).read_session() as session:
        return [(e.actor, e.action, e.target, e.reason)
                for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def count(app: Flask, model: type[Base]) -> int:
    with get_db(app).read_session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0
