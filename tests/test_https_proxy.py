"""ARCHIVE_HTTPS marks the session cookie Secure; ARCHIVE_BEHIND_PROXY trusts the proxy's X-Forwarded-* headers."""
from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import config
from archive import create_app
from archive.context import archive_context
from tests.operator_support import PASSWORD, audit_actions, csrf_token, login, make_user


@pytest.fixture
def make_app(tmp_path: Path, sqlite_template: Path) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def make(**settings: Any) -> Flask:
        data_dir = tmp_path / f"instance{len(apps)}"
        data_dir.mkdir()
        shutil.copy(sqlite_template, data_dir / "archive.db")
        apps.append(create_app(config.TestConfig(DATA_DIR=str(data_dir), **settings)))
        make_user(apps[-1])
        return apps[-1]

    yield make
    for app in apps:
        archive_context(app).close()


def _session_cookie(app: Flask) -> str:
    response = login(app.test_client())
    assert response.status_code == 302
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_session_cookie_is_secure_only_when_served_over_https(make_app):
    assert "Secure" not in _session_cookie(make_app()), "plain HTTP (e.g. make run) must keep working"
    assert "; Secure" in _session_cookie(make_app(HTTPS="1"))


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "archive.example.org"}


def test_forwarded_address_is_trusted_only_behind_a_proxy(make_app):
    for app, address in ((make_app(), "127.0.0.1"), (make_app(BEHIND_PROXY="1"), "203.0.113.7")):
        client = app.test_client()
        client.post("/ops/login", headers={**FORWARDED, "Referer": "https://archive.example.org/ops/login"},
                    data={"name": "alice", "password": "wrong", "csrf_token": csrf_token(client)})
        assert [actor for actor, action, _t, _r in audit_actions(app)] == [f"address {address}"]


def test_forms_work_over_https_behind_a_proxy(make_app):
    """Over HTTPS Flask-WTF wants a same-host Referer, so the pages must let browsers send one."""
    app = make_app(HTTPS="1", BEHIND_PROXY="1")
    client = app.test_client()
    page = client.get("/ops/login", headers=FORWARDED)
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert 'content="same-origin"' in page.get_data(as_text=True)
    response = client.post("/ops/login", headers={**FORWARDED, "Referer": "https://archive.example.org/ops/login"},
                           data={"name": "alice", "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/ops/watches"
    elsewhere = client.post("/ops/logout", headers={**FORWARDED, "Referer": "https://evil.example/"},
                            data={"csrf_token": csrf_token(client, "/ops/watches")})
    assert elsewhere.status_code == 400 and "does not match the host" in elsewhere.get_data(as_text=True)


def test_behind_a_proxy_the_forwarded_prefix_makes_the_links(make_app):
    client = make_app(BEHIND_PROXY="1").test_client()
    response = client.get("/ops/watches", headers={**FORWARDED, "X-Forwarded-Prefix": "/moderation"})
    assert response.headers["Location"].startswith("/moderation/ops/login")
