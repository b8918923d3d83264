"""Operator accounts: login, sessions, rate limits kept in the database, CSRF, `user add`."""
from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from archive.clock import utcnow
from archive.store.db import get_db
from archive.store.models import User, Watch
from tests.operator_support import PASSWORD, audit_actions, count, csrf_token, logged_in, login, make_user

PAGES = ["/ops/", "/ops/watches", "/ops/watches/new", "/ops/watches/import", "/ops/watches/export.csv",
         "/ops/feeds", "/ops/health", "/ops/audit", "/ops/threads/1", "/ops/comments/1"]


@pytest.mark.parametrize("path", PAGES)
def test_operator_pages_need_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/ops/login?next=")


def test_state_changing_post_needs_login_even_with_a_token(app, client):
    token = csrf_token(client)
    response = client.post("/ops/watches/new", data={"url": "http://127.0.0.1:9/a/", "action": "add",
                                                     "csrf_token": token})
    assert response.status_code == 302 and "/ops/login" in response.headers["Location"]
    assert count(app, Watch) == 0


def test_public_pages_need_no_login(client):
    assert client.get("/").status_code == 200


def test_login_then_logout(app):
    make_user(app)
    client = app.test_client()
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/ops/watches"
    assert client.get("/ops/watches").status_code == 200
    logout = client.post("/ops/logout", data={"csrf_token": csrf_token(client, "/ops/watches")})
    assert logout.status_code == 302
    assert client.get("/ops/watches").status_code == 302
    actions = [(actor, action) for actor, action, _t, _r in audit_actions(app)]
    assert actions == [("alice", "login"), ("alice", "logout")]


def test_session_cookie_expires_after_eight_hours(app):
    make_user(app)
    client = app.test_client()
    response = login(client)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    expires = next(part.split("=", 1)[1] for part in cookie.split("; ") if part.startswith("Expires="))
    lifetime = parsedate_to_datetime(expires).replace(tzinfo=None) - utcnow()
    assert timedelta(hours=7, minutes=55) < lifetime <= timedelta(hours=8)


def test_wrong_password_and_unknown_user_get_the_same_answer(app):
    make_user(app)
    client = app.test_client()
    wrong = login(client, password="not the password")
    unknown = login(client, name="mallory", address="10.0.0.2")
    assert wrong.status_code == unknown.status_code == 401
    assert "wrong user name or password" in wrong.get_data(as_text=True)
    assert "wrong user name or password" in unknown.get_data(as_text=True)


def test_five_wrong_passwords_lock_the_account_from_any_address(app):
    make_user(app)
    client = app.test_client()
    for attempt in range(5):
        assert login(client, password="guess", address=f"10.0.0.{attempt + 1}").status_code == 401
    refused = login(client, address="10.0.0.99")
    assert refused.status_code == 401
    assert "too many failed logins for this account" in refused.get_data(as_text=True)
    with get_db(app).read_session() as session:
        user = session.scalar(select(User).where(User.name == "alice"))
        assert user is not None and user.locked_until is not None and user.locked_until > utcnow()
    # The lock is a time in the database: once it has passed, the right password works again.
    with get_db(app).write() as session:
        locked = session.scalar(select(User).where(User.name == "alice"))
        assert locked is not None
        locked.locked_until = utcnow() - timedelta(seconds=1)
    assert login(client, address="10.0.0.99").status_code == 302
    reasons = [reason for _a, action, _t, reason in audit_actions(app) if action == "login-failed"]
    assert reasons == ["wrong password"] * 4 + ["wrong password; account locked", "account locked"]


def test_five_failures_from_one_address_refuse_it_for_every_account(app):
    make_user(app)
    client = app.test_client()
    for attempt in range(5):
        assert login(client, name=f"guess{attempt}", address="10.9.9.9").status_code == 401
    refused = login(client, address="10.9.9.9")
    assert refused.status_code == 401
    assert "too many failed logins from your address" in refused.get_data(as_text=True)
    assert login(client, address="10.1.1.1").status_code == 302, "another address is not affected"


def test_post_without_csrf_token_is_rejected_and_changes_nothing(app):
    client = logged_in(app)
    response = client.post("/ops/watches/new", data={"url": "http://127.0.0.1:9/a/", "action": "add"})
    assert response.status_code == 400
    assert "Nothing was changed" in response.get_data(as_text=True)
    forged = client.post("/ops/watches/new", data={"url": "http://127.0.0.1:9/a/", "action": "add",
                                                   "csrf_token": "forged"})
    assert forged.status_code == 400
    assert count(app, Watch) == 0


def test_login_form_needs_its_token_too(app):
    make_user(app)
    response = app.test_client().post("/ops/login", data={"name": "alice", "password": PASSWORD})
    assert response.status_code == 400


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/ops/", "/", "/\\evil.example"])
def test_next_never_leaves_the_operator_pages(app, target):
    make_user(app)
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/ops/login", query_string={"next": target},
                           data={"name": "alice", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/ops/watches"


def test_next_returns_to_the_page_asked_for(app):
    make_user(app)
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/ops/login", query_string={"next": "/ops/health"},
                           data={"name": "alice", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/ops/health"


def test_user_add_command(app, runner):
    result = runner.invoke("user", "add", "bob", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "user bob created" in result.output
    assert login(app.test_client(), name="bob").status_code == 302
    again = runner.invoke("user", "add", "bob", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.exit_code == 1 and "already exists" in again.output
    short = runner.invoke("user", "add", "carol", input="short\nshort\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    bad_name = runner.invoke("user", "add", "no spaces", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert bad_name.exit_code == 1 and "user name" in bad_name.output
    assert count(app, User) == 1
    assert [(a, act, t) for a, act, t, _r in audit_actions(app) if act == "user-add"] == [
        ("command line", "user-add", "user bob")]


def _copy_session(app, client):
    """A second browser holding the same session cookie, as a thief would."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def test_logout_ends_a_copied_session_cookie(app):
    client = logged_in(app)
    stolen = _copy_session(app, client)
    assert stolen.get("/ops/watches").status_code == 200
    client.post("/ops/logout", data={"csrf_token": csrf_token(client, "/ops/watches")})
    response = stolen.get("/ops/watches")
    assert response.status_code == 302 and "/ops/login" in response.headers["Location"]
    assert login(app.test_client()).status_code == 302, "logging in again gives a working session"


def test_password_change_ends_every_session(app, runner):
    client = logged_in(app)
    new_password = "another long passphrase"
    result = runner.invoke("user", "password", "alice", input=f"{new_password}\n{new_password}\n")
    assert result.exit_code == 0, result.output
    assert client.get("/ops/watches").status_code == 302
    assert login(app.test_client()).status_code == 401, "the old password no longer works"
    assert login(app.test_client(), password=new_password).status_code == 302
    assert ("command line", "user-password", "user alice") in [
        (a, act, t) for a, act, t, _r in audit_actions(app)]
    unknown = runner.invoke("user", "password", "mallory", input=f"{new_password}\n{new_password}\n")
    assert unknown.exit_code == 1 and "no user 'mallory'" in unknown.output


@pytest.mark.parametrize("addresses", [1, 40])
def test_forty_parallel_wrong_passwords_get_five_checks(app, monkeypatch, addresses):
    """The failure counters are counted one attempt after another, even on PostgreSQL:
    from one address or from forty, the account locks after exactly MAX_FAILURES checks."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from archive.operators import auth

    make_user(app)
    checks: list[str] = []
    real_check = auth.check_password_hash

    def counted(pwhash: str, password: str) -> bool:
        checks.append(pwhash)
        return real_check(pwhash, password)

    monkeypatch.setattr(auth, "check_password_hash", counted)
    start = threading.Barrier(40, timeout=30)

    def attempt(n: int) -> str:
        start.wait()
        try:
            auth.login(get_db(app), "alice", "wrong password!", f"10.0.0.{n % addresses}", utcnow())
        except auth.LoginRefused as exc:
            return str(exc)
        return "logged in"

    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(attempt, range(40)))
    assert len(checks) == auth.MAX_FAILURES
    assert answers.count("wrong user name or password") == auth.MAX_FAILURES
    with get_db(app).read_session() as session:
        user = session.scalars(select(User)).one()
        assert user.locked_until is not None and user.locked_until > utcnow()
