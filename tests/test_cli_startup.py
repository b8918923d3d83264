"""The command line loads only what a command needs: `--help`, `watch list`
and `capture` start without the web app or the search engines (a capture
worker and a cron job pay for neither)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("flask", "flask_login", "flask_wtf", "werkzeug", "whoosh", "tantivy", "archive.web",
         "archive.search.whoosh_backend", "archive.search.tantivy_backend")
PROBE = f"""
import runpy, sys
sys.argv = ["archive", *sys.argv[1:]]
try:
    runpy.run_module("archive", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(m for m in sys.modules if m.startswith({HEAVY!r}))
print("exit", code, "loaded", heavy, file=sys.stderr)
"""


def _run(data_dir: Path, *args: str) -> str:
    env = {**os.environ, "ARCHIVE_DATA_DIR": str(data_dir), "ARCHIVE_DATABASE_URL": "",
           "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1", "ARCHIVE_FETCH_RETRIES": "0"}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    return done.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli")
    subprocess.run([sys.executable, "-m", "archive", "init"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "ARCHIVE_DATA_DIR": str(path), "ARCHIVE_DATABASE_URL": ""})
    return path


@pytest.mark.parametrize("args", [["--help"], ["watch", "list"], ["capture", "--help"],
                                  ["watch", "add", "http://127.0.0.1:9/a/"], ["capture", "--all"]])
def test_commands_start_without_the_web_app_or_search_engines(data_dir: Path, args: list[str]) -> None:
    assert _run(data_dir, *args) == "exit 0 loaded []"


def test_the_probe_sees_what_a_command_loads(data_dir: Path) -> None:
    # Operator accounts need Flask-Login: proves the probe notices a heavy import.
    assert "flask_login" in _run(data_dir, "user", "add", "probe", "--password", "a long enough password")
