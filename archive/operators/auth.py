"""Operator accounts: password hashing, login with rate limiting, sessions.

Passwords are hashed with werkzeug's default (scrypt). Failed logins are
limited twice over, both tracked in the database so that several server
processes agree and a restart forgives nothing:
- per account: `MAX_FAILURES` wrong passwords lock it for `LOCK_DURATION`
  (`User.failed_logins`, `User.locked_until`);
- per client address: `MAX_FAILURES` failed attempts within `LOCK_DURATION`
  (counted from the `login-failed` audit entries, whose actor is the address)
  refuse every login from it, so guessing across many names is slowed too.
A refused attempt is logged as well: an attack leaves a trail. Parallel
attempts are counted one after another (`_one_at_a_time`), or forty at once
would each read "no failures yet" and each get a password check.

A session cookie is signed, not stored, so it cannot be revoked by itself:
each session carries its operator's `User.session_version`, and logout or a
password change bumps that number, which turns every older cookie (a copied
one included) into an anonymous visitor at once, in every server process.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from archive.context import archive_context
from archive.errors import ArchiveError
from archive.operators import audit
from archive.store.db import Database, get_session
from archive.store.models import AuditEntry, User

MAX_FAILURES = 5
LOCK_DURATION = timedelta(minutes=5)
SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD_LENGTH = 10
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Checked against when the account does not exist, so that a wrong name takes
# as long as a wrong password and does not reveal which names exist.
_DUMMY_HASH = ("scrypt:32768:8:1$UMLEPiTBih0J2Ch8$38ed92ddcb257f4d026b04d9d53f2bb8787e89db4045af7"
               "357107dd7dc21852b77c4e7954e3b5cbe4860e8934e9e0fcfb338f4d2b6ee796a006beb10575bd677")


class LoginRefused(ArchiveError):
    """Wrong name or password, or too many failures: one message for the form."""


@dataclass
class Operator(UserMixin):
    """The logged-in operator as Flask-Login sees it (detached from any session)."""
    id: int
    name: str
    session_version: int

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


def init_auth(app: Flask) -> None:
    """Flask-Login and app-wide CSRF protection for every state-changing request."""
    # Flask's own defaults (a 31-day session, no SameSite) are too loose for operators.
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # The CSRF token lives in this cookie too, so Secure covers it; there is no remember-me cookie.
    app.config["SESSION_COOKIE_SECURE"] = archive_context(app).settings.https
    manager = LoginManager(app)
    manager.login_view = "operators.login"
    manager.login_message = "Please log in to use the operator pages."
    manager.login_message_category = "error"
    manager.user_loader(_load_operator)
    CSRFProtect(app)


def _load_operator(session_id: str) -> Operator | None:
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = get_session().get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return Operator(user.id, user.name, user.session_version)


def end_sessions(session: Session, user_id: int) -> None:
    """Log the operator out everywhere: every session issued so far stops working."""
    # One UPDATE, not read-modify-write: two logouts at once must both count.
    session.execute(update(User).where(User.id == user_id)
                    .values(session_version=User.session_version + 1))


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ArchiveError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


def create_user(session: Session, name: str, password: str) -> User:
    """A new operator account; raises ArchiveError for a bad name, weak password or duplicate."""
    if not _NAME.match(name):
        raise ArchiveError("user name must be 1-64 letters, digits, '.', '_' or '-'")
    _check_password(password)
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise ArchiveError(f"user {name!r} already exists")
    user = User(name=name, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def change_password(session: Session, name: str, password: str) -> User:
    """Set an operator's password and end every session logged in with the old one."""
    _check_password(password)
    user = session.scalar(select(User).where(User.name == name)) if _NAME.match(name) else None
    if user is None:
        raise ArchiveError(f"no user {name!r}")
    user.password_hash = hash_password(password)
    end_sessions(session, user.id)
    return user


def _address_failures(session: Session, address: str, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "login-failed", AuditEntry.actor == address,
        AuditEntry.at > now - LOCK_DURATION)) or 0


def _minutes(delta: timedelta) -> int:
    return max(1, -(-int(delta.total_seconds()) // 60))


def _one_at_a_time(session: Session, address: str) -> None:
    """Make attempts from one address wait for each other until commit, so each
    counts the failures logged before it. SQLite's writers already run one at a
    time (BEGIN IMMEDIATE); PostgreSQL needs a lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"login {address}"})


def authenticate(session: Session, name: str, password: str, address: str,
                 now: datetime) -> User:
    """The user for a correct name and password, else LoginRefused.

    Writes to `session` either way (counters and the audit log): the caller
    must commit it even when this raises, which `login()` below does.
    """
    address = f"address {address or 'unknown'}"
    _one_at_a_time(session, address)
    # Locked until commit: the next attempt at this account reads this one's count.
    user = (session.scalar(select(User).where(User.name == name).with_for_update())
            if _NAME.match(name) else None)
    if _address_failures(session, address, now) >= MAX_FAILURES:
        audit.record(session, address, "login-failed", f"user {name[:64]}", "address rate-limited")
        raise LoginRefused(f"too many failed logins from your address; try again in "
                           f"{_minutes(LOCK_DURATION)} minutes")
    if user is not None and user.locked_until is not None and user.locked_until > now:
        audit.record(session, address, "login-failed", f"user {name}", "account locked")
        raise LoginRefused(f"too many failed logins for this account; try again in "
                           f"{_minutes(user.locked_until - now)} minutes")
    if user is None or not check_password_hash(user.password_hash, password):
        if user is None:
            check_password_hash(_DUMMY_HASH, password)
            reason = "unknown user"
        else:
            reason = "wrong password"
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.failed_logins = 0
                user.locked_until = now + LOCK_DURATION
                reason = "wrong password; account locked"
        audit.record(session, address, "login-failed", f"user {name[:64]}", reason)
        raise LoginRefused("wrong user name or password")
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, user.name, "login", f"user {user.name}", details={"address": address},
                 user_id=user.id)
    return user


def login(db: Database, name: str, password: str, address: str, now: datetime) -> Operator:
    """Authenticate in its own unit of work, committing the counters even on refusal."""
    refused: LoginRefused | None = None
    with db.write() as session:
        try:
            user = authenticate(session, name, password, address, now)
            operator = Operator(user.id, user.name, user.session_version)
        except LoginRefused as exc:
            refused = exc
    if refused is not None:
        raise refused
    return operator
