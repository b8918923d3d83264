"""A real WordPress on loopback for tests (Debian's wordpress + php -S + MariaDB).

    def test_something(wordpress: WordPressSite) -> None:
        post_id, url = wordpress.add_post("Title", "<p>Body</p>")
        wordpress.add_comment(post_id, "WL", "This is bonkers.")
        page = wordpress.get(url)

Each `WordPressSite` is a fresh, fully installed site with its own MariaDB
database and user, its own `/etc/wordpress/config-<name>.php` and its own
document root (symlinks into /usr/share/wordpress plus a private wp-content),
served by `php -S 127.0.0.1:<free port>`. Debian's wp-config.php picks the
config file named by `$_SERVER['WORDPRESS_CONFIG']`, which tests/wordpress/
router.php sets, so several test sessions on one machine never share a
config file, a `.maintenance` file, an mu-plugin or a database. Everything is
removed at teardown; leftovers of killed runs are reaped at the next start.

Without php, WordPress or MariaDB the `wordpress` fixture skips with the
reason, except under CI=true, where it fails: CI never skips real-part tests.
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

WORDPRESS_ROOT = Path("/usr/share/wordpress")
THEMES_DIR = WORDPRESS_ROOT / "wp-content" / "themes"
CONFIG_DIR = Path("/etc/wordpress")
HARNESS_DIR = Path(__file__).resolve().parent / "wordpress"
IN_CI = os.environ.get("CI") == "true"
NAME_PREFIX = "wploop"
RESULT_MARK = "WPLOOP-RESULT "
MAINTENANCE_FILE = "<?php $upgrading = time(); ?>\n"
START_TIMEOUT = 15.0
CONTROL_TIMEOUT = 120.0
HTTP_TIMEOUT = 30.0
PR_SET_PDEATHSIG = 1


class WordPressError(RuntimeError):
    """The test site could not be set up or refused an operation."""


@dataclass(frozen=True)
class Response:
    """One HTTP response from the test site, as a test sees it."""
    url: str                    # after redirects
    status: int
    headers: dict[str, str]     # keys lower-case
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def _mysql(sql: str) -> str:
    done = subprocess.run(["mysql", "-uroot", "--batch", "--skip-column-names", "-e", sql],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise WordPressError(f"mysql failed: {done.stderr.strip()}")
    return done.stdout


def unavailable_reason() -> str | None:
    """Why a loopback WordPress cannot run here, or None when it can."""
    if shutil.which("php") is None:
        return "php-cli is not installed (apt-get install php-cli php-mysql)"
    if not (WORDPRESS_ROOT / "wp-load.php").is_file():
        return f"WordPress is not installed at {WORDPRESS_ROOT} (apt-get install wordpress)"
    for theme in ("twentytwentyone", "twentytwentythree"):
        if not (THEMES_DIR / theme).is_dir():
            return f"theme {theme} missing (apt-get install wordpress-theme-{theme})"
    if shutil.which("mysql") is None:
        return "the mysql client is not installed (apt-get install mariadb-server)"
    try:
        _mysql("SELECT 1")
    except (WordPressError, OSError, subprocess.TimeoutExpired) as exc:
        return f"MariaDB does not answer to `mysql -uroot`: {exc}"
    mysqli = subprocess.run(["php", "-r", "exit(extension_loaded('mysqli') ? 0 : 1);"],
                            capture_output=True, timeout=30)
    if mysqli.returncode != 0:
        return "PHP has no mysqli extension (apt-get install php-mysql)"
    if not os.access(CONFIG_DIR, os.W_OK):
        return f"{CONFIG_DIR} is not writable (the site config goes there)"
    return None


def require_wordpress() -> None:
    """Skip the calling test when WordPress cannot run here; fail instead under CI."""
    reason = unavailable_reason()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: a killed test run takes its php server with it (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale_pid(name: str) -> int | None:
    """The pid embedded in a harness name whose process is gone, else None."""
    match = re.fullmatch(rf"{NAME_PREFIX}[-_](\d+)[-_][0-9a-f]+", name)
    if match is None:
        return None
    pid = int(match.group(1))
    return None if _pid_alive(pid) else pid


def reap_stale_sites() -> None:
    """Remove configs, document roots, databases and users left by killed test runs."""
    for path in CONFIG_DIR.glob(f"config-{NAME_PREFIX}-*.php"):
        if _stale_pid(path.stem.removeprefix("config-")) is not None:
            path.unlink(missing_ok=True)
    for path in Path(tempfile.gettempdir()).glob(f"{NAME_PREFIX}-*"):
        if _stale_pid(path.name) is not None:
            shutil.rmtree(path, ignore_errors=True)
    for db_name in _mysql(f"SHOW DATABASES LIKE '{NAME_PREFIX}\\_%'").split():
        if _stale_pid(db_name) is not None:
            _mysql(f"DROP DATABASE IF EXISTS `{db_name}`; DROP USER IF EXISTS '{db_name}'@'localhost'")


class WordPressSite:
    """One private WordPress site on 127.0.0.1; use as a context manager or via `setup`/`close`."""

    def __init__(self, title: str = "Loopback test site", theme: str = "twentytwentyone") -> None:
        self.name = f"{NAME_PREFIX}-{os.getpid()}-{secrets.token_hex(4)}"
        self.title = title
        self.theme = theme
        self.db_name = self.name.replace("-", "_")
        self.db_password = secrets.token_hex(16)
        self.workdir = Path(tempfile.gettempdir()) / self.name
        self.root = self.workdir / "root"
        self.config_path = CONFIG_DIR / f"config-{self.name}.php"
        self.port = 0
        self._server: subprocess.Popen[bytes] | None = None

    # -- life cycle -------------------------------------------------------
    @property
    def url(self) -> str:
        """The site's home URL, e.g. http://127.0.0.1:41234 (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def setup(self) -> WordPressSite:
        reap_stale_sites()
        self._build_root()
        _mysql(f"CREATE DATABASE `{self.db_name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; "
               f"CREATE USER '{self.db_name}'@'localhost' IDENTIFIED BY '{self.db_password}'; "
               f"GRANT ALL PRIVILEGES ON `{self.db_name}`.* TO '{self.db_name}'@'localhost'")
        self._start_on_free_port()
        self.run_ops([
            ("install", {"title": self.title}),
            ("set_option", {"name": "permalink_structure", "value": "/%postname%/"}),
            ("switch_theme", {"slug": self.theme}),
        ])
        return self

    def close(self) -> None:
        """Stop the server and remove everything the site created; safe to call twice."""
        self.stop()
        self.maintenance(False)
        self.config_path.unlink(missing_ok=True)
        _mysql(f"DROP DATABASE IF EXISTS `{self.db_name}`; "
               f"DROP USER IF EXISTS '{self.db_name}'@'localhost'")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> WordPressSite:
        try:
            return self.setup()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start (or restart after `stop`) the php server on the site's port."""
        if self._server is not None and self._server.poll() is None:
            return
        env = {**os.environ, "WPLOOP_ROOT": str(self.root), "WPLOOP_CONFIG": self.name}
        log = open(self.workdir / "server.log", "ab")  # noqa: SIM115 (the server writes to it after we return)
        try:
            self._server = subprocess.Popen(
                ["php", "-d", "display_errors=0", "-d", "log_errors=1", "-d", "opcache.enable_cli=1",
                 "-d", f"error_log={self.workdir / 'php-errors.log'}",
                 "-S", f"127.0.0.1:{self.port}", "-t", str(self.root),
                 str(HARNESS_DIR / "router.php")],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._server.poll() is not None:
                self._server = None
                raise WordPressError(f"php -S exited on port {self.port}: {self._log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise WordPressError(f"php -S did not listen on port {self.port} within {START_TIMEOUT}s")

    def stop(self) -> None:
        """Stop the php server (the port stays the site's; `start` reuses it)."""
        server, self._server = self._server, None
        if server is None or server.poll() is not None:
            return
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)

    def maintenance(self, on: bool) -> None:
        """Put the site in WordPress maintenance mode (every page answers 503) or take it out."""
        path = self.root / ".maintenance"
        if on:
            path.write_text(MAINTENANCE_FILE)
        else:
            path.unlink(missing_ok=True)

    # -- content ------------------------------------------------------------
    def run_ops(self, ops: list[tuple[str, Mapping[str, Any]]]) -> list[Any]:
        """Run several control operations in one PHP process (see tests/wordpress/control.php)."""
        done = subprocess.run(
            ["php", "-d", "display_errors=stderr", str(HARNESS_DIR / "control.php"),
             self.name, str(self.root), f"127.0.0.1:{self.port}"],
            input=json.dumps([[op, dict(args)] for op, args in ops]).encode(),
            capture_output=True, timeout=CONTROL_TIMEOUT)
        lines = [line for line in done.stdout.decode(errors="replace").splitlines()
                 if line.startswith(RESULT_MARK)]
        if not lines:
            raise WordPressError(f"control script gave no result (exit {done.returncode}): "
                                 f"{done.stderr.decode(errors='replace')[-2000:]}")
        answer = json.loads(lines[-1][len(RESULT_MARK):])
        if "error" in answer:
            raise WordPressError(f"{ops[len(answer.get('results', []))][0]}: {answer['error']}")
        return list(answer["results"])

    def _one(self, op: str, **args: Any) -> Any:
        return self.run_ops([(op, args)])[0]

    def add_post(self, title: str, content: str, date: datetime | None = None) -> tuple[int, str]:
        """Publish a post (comments open); returns (post id, permalink)."""
        post_id, url = self._one("add_post", title=title, content=content, date=_wp_date(date))
        return int(post_id), str(url)

    def add_comment(self, post_id: int, author: str, text: str, parent: int = 0,
                    date: datetime | None = None, approved: bool = True,
                    author_url: str = "", email: str = "") -> int:
        """Store a comment as given (no kses filtering: hostile HTML stays); date is naive UTC."""
        return int(self._one("add_comment", post_id=post_id, author=author, text=text,
                             parent=parent, date=_wp_date(date), approved=approved,
                             author_url=author_url, email=email))

    def set_comment_status(self, comment_id: int, status: str) -> None:
        """'approve', 'hold' or 'spam' (wp_set_comment_status)."""
        self._one("set_comment_status", comment_id=comment_id, status=status)

    def trash_comment(self, comment_id: int) -> None:
        self._one("trash_comment", comment_id=comment_id)

    def delete_comment(self, comment_id: int) -> None:
        """Delete for good (wp_delete_comment with force)."""
        self._one("delete_comment", comment_id=comment_id)

    def edit_comment(self, comment_id: int, text: str) -> None:
        self._one("edit_comment", comment_id=comment_id, text=text)

    def comment_status(self, comment_id: int) -> str | None:
        """WordPress's own view: 'approved', 'unapproved', 'spam', 'trash', or None when deleted."""
        status = self._one("comment_status", comment_id=comment_id)
        return None if status is None else str(status)

    def set_comments_open(self, post_id: int, open_: bool) -> None:
        """Open or close a post's comment form (existing comments stay listed)."""
        self._one("set_comments_open", post_id=post_id, open=open_)

    def set_option(self, name: str, value: Any) -> None:
        """update_option; `permalink_structure` also flushes the rewrite rules."""
        self._one("set_option", name=name, value=value)

    def get_option(self, name: str) -> Any:
        return self._one("get_option", name=name)

    def switch_theme(self, slug: str) -> None:
        self._one("switch_theme", slug=slug)

    # -- reading ------------------------------------------------------------
    def get(self, path_or_url: str, headers: Mapping[str, str] | None = None) -> Response:
        """GET a page of this site (a path or a full URL); 4xx/5xx are returned, not raised."""
        url = path_or_url if path_or_url.startswith("http") else self.url + path_or_url
        request = urllib.request.Request(url, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
                return Response(answer.geturl(), answer.status,
                                {k.lower(): v for k, v in answer.headers.items()}, answer.read())
        except urllib.error.HTTPError as answer:
            return Response(answer.geturl(), answer.code,
                            {k.lower(): v for k, v in answer.headers.items()}, answer.read())

    # -- internals ------------------------------------------------------------
    def _build_root(self) -> None:
        """A private document root: the WordPress tree by symlink, wp-content of its own."""
        self.root.mkdir(parents=True)
        for entry in WORDPRESS_ROOT.iterdir():
            if entry.name not in ("wp-content", ".htaccess", ".maintenance"):
                (self.root / entry.name).symlink_to(entry)
        content = self.root / "wp-content"
        for sub in ("themes", "plugins", "mu-plugins", "uploads"):
            (content / sub).mkdir(parents=True)
        for theme in THEMES_DIR.iterdir():
            (content / "themes" / theme.name).symlink_to(theme)
        for plugin in (HARNESS_DIR / "mu-plugins").glob("*.php"):
            (content / "mu-plugins" / plugin.name).symlink_to(plugin)

    def _write_config(self) -> None:
        salts = "".join(f"define('{key}', '{secrets.token_hex(32)}');\n" for key in (
            "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
            "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"))
        self.config_path.write_text(
            "<?php\n// Written by tests/wordpress_site.py for one test site; removed at teardown.\n"
            f"define('DB_NAME', '{self.db_name}');\n"
            f"define('DB_USER', '{self.db_name}');\n"
            f"define('DB_PASSWORD', '{self.db_password}');\n"
            "define('DB_HOST', 'localhost');\n"
            "define('DB_CHARSET', 'utf8mb4');\n"
            f"define('WP_HOME', '{self.url}');\n"
            f"define('WP_SITEURL', '{self.url}');\n"
            f"define('WP_CONTENT_DIR', '{self.root / 'wp-content'}');\n"
            f"define('WP_CONTENT_URL', '{self.url}/wp-content');\n"
            "define('DISABLE_WP_CRON', true);\n"
            "define('AUTOMATIC_UPDATER_DISABLED', true);\n"
            # The test site must never reach the internet (update checks, oEmbed).
            "define('WP_HTTP_BLOCK_EXTERNAL', true);\n"
            + salts)

    def _start_on_free_port(self) -> None:
        """Pick a free port, write the config for it and start; retry if the port was taken."""
        for _ in range(5):
            self.port = _free_port()
            self._write_config()
            try:
                self.start()
                return
            except WordPressError:
                continue
        raise WordPressError(f"php -S could not start: {self._log_tail()}")

    def _log_tail(self) -> str:
        log = self.workdir / "server.log"
        return log.read_text(errors="replace")[-1000:] if log.exists() else ""


def _wp_date(date: datetime | None) -> str | None:
    return None if date is None else date.strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def wordpress() -> Iterator[WordPressSite]:
    """A fresh WordPress (theme twentytwentyone, /%postname%/ permalinks) for one test."""
    require_wordpress()
    with WordPressSite() as site:
        yield site
