"""Benchmark: search index build time and size, and query latency, per engine, app layer vs raw engine.

One synthetic corpus (8-40 words a comment, Zipf-distributed over the seed
documents' vocabulary plus common English words; sites, threads, authors,
statuses, edits, a few redactions) is loaded into SQLite and PostgreSQL and
indexed by each engine through `archive.search.reindex` (seconds, docs/s,
bytes on disk). Whoosh indexes only the first --whoosh-max comments: it cannot
index a million in reasonable time; tantivy is measured at that size too, so
the two compare, and tantivy, SQLite FTS5 and PostgreSQL at the full size.

Then each query type (term, phrase, prefix, field, filtered, date-sorted,
common word) runs --repeat times per query string through
`archive.search.query_index` (parse, plan, engine, facets, snippets) and
through the raw engine (the same native query, prepared in advance, run with
the driver, Whoosh or tantivy directly and fetching the same things: the page
of ids, the total and the facet counts). Prints p50 and p95 per type and
engine; with --json, prints one JSON object with every figure instead of the
tables. Asserts nothing.

    .venv/bin/python bench/search_bench.py [--size 1000000] [--whoosh-max 50000]
        [--engines tantivy,sqlite,postgres,whoosh] [--repeat 15] [--postgres URL|none]
        [--keep DIR] [--json]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from archive import create_app  # noqa: E402
from archive.context import archive_context  # noqa: E402
from archive.search import SearchQuery, query_index, reindex  # noqa: E402
from archive.search.plan import make_plan  # noqa: E402
from archive.search.postgres_backend import match_condition, tsquery_literal  # noqa: E402
from archive.search.sqlite_backend import match_expression  # noqa: E402
from archive.search.tokens import tokenize  # noqa: E402
from archive.search.whoosh_backend import filtered_query, sort_facet  # noqa: E402
from archive.store.db import get_db  # noqa: E402
from archive.store.schema import upgrade  # noqa: E402
from config import Config  # noqa: E402
from tests.context_support import with_settings  # noqa: E402

SEEDS = Path("/work/shared/seeds")
COMMON = """the of and to a in is that it was for on are as with his they be at one have this
from or had by not word but what some we can out other were all there when up use your how said an
each she which do their time if will way about many then them write would like so these her long
make thing see him two has look more day could go come did number sound no most people my over
know water than call first who may down side been now find any new work part take get place made
live where after back little only round man year came show every good me give our under name very
through just form sentence great think say help low line differ turn cause much mean before move
right boy old too same tell does set three want air well also play small end put home read hand
port large spell add even land here must big high such follow act why ask men change went light
kind off need house picture try us again animal point mother world near build self earth father
council social worker workers children child family court courts judge parents report service
care staff manager complaint complaints comment comments removed moderated deleted censored
article editor website news government policy money budget cuts local authority agency""".split()
FIRST = "jane john mary peter sarah david emma james anna paul lucy mark helen tom kate chris".split()
LAST = ("smith jones taylor brown williams wilson johnson davies robinson wright thompson evans "
        "walker white roberts green hall wood jackson clarke").split()
STATUSES = ["visible"] * 90 + ["missing"] * 3 + ["removed"] * 7
START = datetime(2019, 1, 1)
SPAN_SECONDS = 5 * 365 * 86400
COMMENTS_PER_THREAD = 50
SITES = 20
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def vocabulary() -> tuple[list[str], list[float]]:
    counts: dict[str, int] = {}
    for path in sorted(SEEDS.glob("0*.txt")):
        for word in tokenize(path.read_text(encoding="utf-8")):
            counts[word] = counts.get(word, 0) + 1
    words = sorted(counts, key=lambda w: -counts[w])
    words += [w for w in COMMON if w not in counts]
    # Zipf: the r-th word is 1/r as frequent as the first.
    return words, [1.0 / rank for rank in range(1, len(words) + 1)]


@dataclass
class Corpus:
    words: list[str]
    weights: list[float]

    def comments(self, start: int, stop: int) -> Iterator[tuple[dict[str, Any], list[str]]]:
        """(comment row, version texts) for comments start+1..stop; the same every run."""
        for i in range(start, stop):
            rng = random.Random(i)
            words = rng.choices(self.words, self.weights, k=rng.randint(8, 40))
            versions = [" ".join(words).capitalize() + "."]
            edited = rng.random() < 0.05
            if edited:
                more = rng.choices(self.words, self.weights, k=5)
                versions.append(versions[0][:-1] + " " + " ".join(more) + ".")
            posted = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
            status = rng.choice(STATUSES)
            yield ({"id": i + 1, "thread_id": i // COMMENTS_PER_THREAD + 1, "key": str(i + 1),
                    "parent_key": None, "position": i % COMMENTS_PER_THREAD,
                    "author": f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()}{rng.randrange(100)}",
                    "author_url": None, "posted_at": posted, "status": status,
                    "first_seen_at": posted, "last_seen_at": posted, "last_seen_capture_id": None,
                    "misses": 0, "removed_after": None, "removed_before": None,
                    "edit_count": len(versions) - 1, "times_removed": int(status == "removed"),
                    "times_reinstated": int(rng.random() < 0.02), "tombstone_text": None,
                    "redacted": rng.random() < 0.001, "redaction_reason": None}, versions)

    def threads(self, start: int, stop: int) -> Iterator[dict[str, Any]]:
        for t in range(start // COMMENTS_PER_THREAD, -(-stop // COMMENTS_PER_THREAD)):
            rng = random.Random(-t - 1)
            title = " ".join(rng.choices(self.words[:400], k=rng.randint(5, 12))).capitalize()
            yield {"id": t + 1, "site_id": t % SITES + 1, "url": f"https://site{t % SITES}.example/a/{t}",
                   "title": title, "adapter": "wordpress", "platform_id": None, "state": "active",
                   "gone_misses": 0, "created_at": START}


def _sites() -> list[dict[str, Any]]:
    names = ["guardian", "communitycare", "independent", "telegraph", "mirror"]
    return [{"id": s + 1, "host": f"www.{names[s % 5]}{s}.example", "name": f"{names[s % 5].title()} {s}"}
            for s in range(SITES)]


def _version_rows(rows: list[tuple[dict[str, Any], list[str]]], first_id: int) -> list[dict[str, Any]]:
    out, next_id = [], first_id
    for row, versions in rows:
        for seq, body in enumerate(versions):
            out.append({"id": next_id, "comment_id": row["id"], "seq": seq, "text": body, "html": "",
                        "text_sha256": hashlib.sha256(body.encode()).hexdigest(), "capture_id": None,
                        "seen_at": row["posted_at"]})
            next_id += 1
    return out


def load(app: Any, corpus: Corpus, start: int, stop: int) -> None:
    """Insert comments start+1..stop (with their threads and sites) into the app's database."""
    db = get_db(app)
    postgres = not db.is_sqlite
    version_id = start * 2 + 1  # at most two versions a comment: ids never collide
    threads = list(corpus.threads(start, stop))
    with db.write() as session:
        existing = {tid for (tid,) in session.execute(text("SELECT id FROM threads"))}
        if not session.execute(text("SELECT 1 FROM sites LIMIT 1")).first():
            _insert(session, postgres, "sites", _sites())
        _insert(session, postgres, "threads", [t for t in threads if t["id"] not in existing])
        batch: list[tuple[dict[str, Any], list[str]]] = []
        for item in corpus.comments(start, stop):
            batch.append(item)
            if len(batch) == 20_000:
                _insert(session, postgres, "comments", [row for row, _v in batch])
                _insert(session, postgres, "comment_versions", _version_rows(batch, version_id))
                version_id += 2 * len(batch)
                batch = []
        if batch:
            _insert(session, postgres, "comments", [row for row, _v in batch])
            _insert(session, postgres, "comment_versions", _version_rows(batch, version_id))
    if postgres:
        with db.write() as session:
            session.execute(text("ANALYZE"))


def _insert(session: Any, postgres: bool, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    if postgres:
        # COPY: ten times faster than INSERT for a million rows.
        cursor = session.connection().connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        return
    # SQLite keeps datetimes as text in SQLAlchemy's format.
    rows = [{k: v.strftime(SQLITE_TIME) if isinstance(v, datetime) else v for k, v in row.items()}
            for row in rows]
    session.execute(text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                         f"({', '.join(':' + c for c in columns)})"), rows)


# (type, query) pairs: each runs through the app and raw.
QUERIES: list[tuple[str, SearchQuery]] = [
    ("term", SearchQuery(text="court")),
    ("term", SearchQuery(text="inspectors")),
    ("term", SearchQuery(text="ofsted")),
    ("phrase", SearchQuery(text='"family court"')),
    ("phrase", SearchQuery(text='"the child"')),
    ("phrase", SearchQuery(text='"moderated out"')),
    ("prefix", SearchQuery(text="moder*")),
    ("prefix", SearchQuery(text="inspect*")),
    ("prefix", SearchQuery(text="chil*")),
    ("field", SearchQuery(text="author:smith42")),
    ("field", SearchQuery(text="author:jones court")),
    ("field", SearchQuery(text="title:cafcass ofsted")),
    ("filtered", SearchQuery(text="court", status="removed")),
    ("filtered", SearchQuery(text="cafcass", site="www.guardian0.example",
                             date_from=datetime(2020, 1, 1), date_to=datetime(2021, 1, 1))),
    ("filtered", SearchQuery(text="family", status="edited")),
    ("date-sorted", SearchQuery(text="court", sort="newest")),
    ("date-sorted", SearchQuery(text="inspectors", sort="oldest")),
    ("date-sorted", SearchQuery(text="family OR children", sort="newest")),
    # A word in ~40% of all comments (the seeds are about Cafcass): the worst case.
    ("common-word", SearchQuery(text="cafcass")),
    ("common-word", SearchQuery(text="cafcass", sort="newest")),
    ("common-word", SearchQuery(text="cafcass", status="removed")),
]


def raw_runner(app: Any, query: SearchQuery) -> Callable[[], int]:
    """The same search, native query text prepared in advance, run by the bare engine.

    Fetches what the app fetches: the facet counts (which give the total)
    and the page of ids; no snippets, no objects.
    """
    plan = make_plan(query, archive_context(app).settings.secret_key)
    backend = archive_context(app).settings.search_backend
    if backend == "tantivy":
        return _raw_tantivy(app, plan)
    if backend == "whoosh":
        from whoosh import index as whoosh_index
        from whoosh.sorting import Count, FieldFacet

        # One searcher kept open, as a program using Whoosh directly would.
        searcher = whoosh_index.open_dir(str(archive_context(app).settings.data_dir / "index")).searcher()
        q, order = filtered_query(plan, keyset=False), sort_facet(plan.sort)

        def run_whoosh() -> int:
            results = searcher.search(q, sortedby=order, limit=plan.limit,
                                      groupedby={"facet": FieldFacet("facet")}, maptype=Count)
            [int(hit["comment_id"]) for hit in results]
            return sum(results.groups("facet").values())
        return run_whoosh
    assert plan.expr is not None, "every benchmark query has words to match"
    where, params = _raw_filters(plan, get_db(app).is_sqlite)
    order = {"relevance": "m.score DESC, c.id", "newest": "sort_at DESC, c.id DESC",
             "oldest": "sort_at, c.id"}[plan.sort]
    joins = ("FROM m JOIN comments c ON c.id = m.id JOIN threads t ON t.id = c.thread_id "
             "JOIN sites s ON s.id = t.site_id")
    # sqlite3's or psycopg's: run through the DB-API calls both have (psycopg's
    # stubs want literal SQL strings, and these are built).
    connection: Any
    if get_db(app).is_sqlite:
        params["m"] = match_expression(plan.expr)
        score = "-bm25(search_fts, 1.0, 0.5, 0.5, 0.5)" if plan.sort == "relevance" else "0.0"
        head = ("WITH m AS MATERIALIZED (SELECT rowid AS id, {score} AS score FROM search_fts "
                "WHERE search_fts MATCH :m) ")
        connection = sqlite3.connect(get_db(app).url.split("///", 1)[1])
    else:
        import psycopg

        tsq: dict[str, Any] = {}
        condition = match_condition(plan.expr, tsq)
        params.update(tsq)
        body = [leaf for leaf in plan.leaves if leaf.field is None]
        score = "0.0"
        if plan.sort == "relevance" and body:
            params["rank"] = " | ".join(f"({tsquery_literal(leaf)})" for leaf in body)
            score = "ts_rank(d.body_vec, CAST(:rank AS tsquery))"
        head = (f"WITH m AS (SELECT d.comment_id AS id, {{score}} AS score FROM search_documents d "
                f"WHERE {condition}) ")
        connection = psycopg.connect(get_db(app).url.replace("postgresql+psycopg", "postgresql"))
    facets = (f"{head.format(score='0.0')}"
              "SELECT c.status, c.times_reinstated > 0, c.edit_count > 0, s.host, COUNT(*) "
              f"{joins} WHERE {where} GROUP BY 1, 2, 3, 4")
    page = (f"{head.format(score=score)}"
            f"SELECT c.id, COALESCE(c.posted_at, c.first_seen_at) AS sort_at {joins} "
            f"WHERE {where} ORDER BY {order} LIMIT {plan.limit}")
    if not get_db(app).is_sqlite:
        # psycopg's placeholders
        for name in params:
            facets, page = facets.replace(f":{name}", f"%({name})s"), page.replace(f":{name}", f"%({name})s")

    def run_sql() -> int:
        cursor = connection.cursor()
        total = sum(row[-1] for row in cursor.execute(facets, params).fetchall())
        cursor.execute(page, params).fetchall()
        return total
    return run_sql


def _raw_tantivy(app: Any, plan: Any) -> Callable[[], int]:
    """Tantivy's own calls: one terms aggregation (total and facets) and one
    top-N search (by score, or by the date fast field), ids from the fast field."""
    import tantivy

    from archive.search.tantivy_query import filtered_query as tantivy_query

    index = tantivy.Index.open(str(archive_context(app).settings.data_dir / "index" / "tantivy"))
    searcher = index.searcher()
    q, counted = tantivy_query(plan, keyset=False), tantivy_query(plan, keyset=False, ranked=False)
    facets = {"facet": {"terms": {"field": "facet", "size": 65_000}}}
    newest = tantivy.Order.Desc if plan.sort == "newest" else tantivy.Order.Asc

    def run_tantivy() -> int:
        grouped = searcher.aggregate(counted, facets)
        if plan.sort == "relevance":
            hits = searcher.search(q, plan.limit, count=False).hits
        else:
            hits = searcher.search(q, plan.limit, count=False, order_by_field="sort_at", order=newest).hits
        searcher.fast_field_values("comment_id", [address for _score, address in hits])
        return sum(int(bucket["doc_count"]) for bucket in grouped["facet"]["buckets"])
    return run_tantivy


def _raw_filters(plan: Any, sqlite: bool) -> tuple[str, dict[str, Any]]:
    where, params = ["1 = 1"], {}
    if plan.status == "edited":
        where.append("c.edit_count > 0")
    elif plan.status:
        where.append("c.status = :st")
        params["st"] = plan.status
    if plan.site:
        where.append("s.host = :site")
        params["site"] = plan.site
    if plan.date_from:
        where.append("COALESCE(c.posted_at, c.first_seen_at) >= :df")
        params["df"] = plan.date_from.strftime(SQLITE_TIME) if sqlite else plan.date_from
    if plan.date_to:
        where.append("COALESCE(c.posted_at, c.first_seen_at) <= :dt")
        params["dt"] = plan.date_to.strftime(SQLITE_TIME) if sqlite else plan.date_to
    return " AND ".join(where), params


def _timed(run: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    result = run()  # warm caches once
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(app: Any, label: str, repeat: int, quiet: bool) -> dict[str, dict[str, float]]:
    """p50 and p95 (ms) per query type, through the app and raw, and their ratio."""
    by_type: dict[str, tuple[list[float], list[float]]] = {}
    for kind, query in QUERIES:
        app_times, results = _timed(partial(query_index, archive_context(app), query), repeat)
        raw_times, raw_total = _timed(raw_runner(app, query), repeat)
        if results.total != raw_total:
            print(f"  !! {label} {query.text!r}: app total {results.total} != raw {raw_total}", file=sys.stderr)
        _say(quiet, f"  {label:<12} {kind:<11} {query.text[:26]:<26} hits {results.total:>7}  "
                    f"app {statistics.median(app_times):7.1f} ms  raw {statistics.median(raw_times):7.1f} ms")
        times = by_type.setdefault(kind, ([], []))
        times[0].extend(app_times)
        times[1].extend(raw_times)
    figures = {}
    for kind, (app_times, raw_times) in by_type.items():
        app_p50, raw_p50 = _percentile(app_times, 0.5), _percentile(raw_times, 0.5)
        figures[kind] = {"p50_ms": round(app_p50, 2), "p95_ms": round(_percentile(app_times, 0.95), 2),
                         "raw_p50_ms": round(raw_p50, 2), "raw_p95_ms": round(_percentile(raw_times, 0.95), 2),
                         "app_vs_raw": round(app_p50 / raw_p50, 2)}
    return figures


def index_bytes(app: Any, backend: str) -> int:
    """Bytes the engine's index takes on disk (or in the database)."""
    data_dir = archive_context(app).settings.data_dir
    if backend in ("whoosh", "tantivy"):
        folder = data_dir / "index" / ("tantivy" if backend == "tantivy" else "")
        files = folder.iterdir() if backend == "whoosh" else folder.rglob("*")
        return sum(path.stat().st_size for path in files if path.is_file() and path.suffix not in (".ready", ".stale"))
    with get_db(app).read_session() as session:
        if get_db(app).is_sqlite:
            return int(session.execute(text(
                "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'search_fts%'")).scalar() or 0)
        return int(session.execute(text("SELECT pg_total_relation_size('search_documents')")).scalar() or 0)


def index_with(app: Any, backend: str, quiet: bool) -> dict[str, float]:
    with_settings(app, search_backend=backend)
    if backend == "tantivy":
        # A fresh build, as when switching engines (a --keep folder may hold an earlier one).
        shutil.rmtree(archive_context(app).settings.data_dir / "index" / "tantivy", ignore_errors=True)
    started, cpu = time.perf_counter(), time.process_time()
    done = reindex(archive_context(app))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    size = index_bytes(app, backend)
    _say(quiet, f"indexed {done:,} comments with {_label(app, backend)} in {elapsed:.1f} s "
                f"({cpu:.1f} s of CPU in this process; {done / elapsed:,.0f} docs/s, {size / 1e6:,.0f} MB)")
    # CPU seconds (every thread of this process, not the database server's): on a
    # machine shared with other work, the wall-clock time mostly measures the others.
    return {"comments": done, "index_seconds": round(elapsed, 1), "index_cpu_seconds": round(cpu, 1),
            "docs_per_second": round(done / elapsed), "index_bytes": size}


def _label(app: Any, backend: str) -> str:
    if backend in ("whoosh", "tantivy"):
        return backend
    return "sqlite-fts5" if get_db(app).is_sqlite else "postgres"


def _say(quiet: bool, line: str) -> None:
    # With --json, progress goes to stderr and stdout holds the JSON alone.
    print(line, file=sys.stderr if quiet else sys.stdout, flush=True)


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).rjust(w) for cell, w in zip(row, widths)))


def _postgres_app(url: str, data_dir: Path) -> tuple[Any, Callable[[], None]]:
    name = f"archive_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = url.rsplit("/", 1)[0] + "/" + name
    engine = create_engine(db_url)
    upgrade(engine)
    engine.dispose()
    app = create_app(Config(DATA_DIR=str(data_dir), DATABASE_URL=db_url))

    def drop() -> None:
        get_db(app).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return app, drop


ENGINES = ("tantivy", "sqlite", "postgres", "whoosh")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--whoosh-max", type=int, default=50_000)
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help=f"comma-separated, from {', '.join(ENGINES)}")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="admin URL of a PostgreSQL server, or 'none'")
    parser.add_argument("--keep", help="data folder to use and keep (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object with every figure")
    args = parser.parse_args()
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    if unknown := set(engines) - set(ENGINES):
        parser.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
    if args.postgres == "none" and "postgres" in engines:
        engines.remove("postgres")
    words, weights = vocabulary()
    corpus = Corpus(words, weights)
    small = min(args.size, args.whoosh_max)
    _say(args.json, f"vocabulary {len(words)} words; corpus {args.size:,} comments; whoosh up to {small:,}")
    base = Path(args.keep or tempfile.mkdtemp(prefix="search-bench-"))
    try:
        results = run(args, engines, corpus, base)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    report = {"command": " ".join(["bench/search_bench.py", *sys.argv[1:]]), "cores": os.cpu_count(),
              "load_average_after": [round(x, 2) for x in os.getloadavg()], "repeat": args.repeat,
              "queries_per_type": 3, "runs": results}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_report(results, args.repeat)


def run(args: argparse.Namespace, engines: list[str], corpus: Corpus, base: Path) -> list[dict[str, Any]]:
    """Each engine's build and query figures: one entry per engine and size."""
    small = min(args.size, args.whoosh_max)
    results: list[dict[str, Any]] = []

    def bench(app: Any, backend: str) -> None:
        built = index_with(app, backend, args.json)
        label = _label(app, backend)
        results.append({"engine": label, **built, "queries": measure(app, label, args.repeat, args.json)})

    sqlite_engines = [e for e in ("whoosh", "tantivy", "sqlite") if e in engines]
    if sqlite_engines:
        app = create_app(Config(DATA_DIR=str(base / "sqlite")))
        upgrade(get_db(app).writer)
        with get_db(app).read_session() as session:
            kept = int(session.execute(text("SELECT COUNT(*) FROM comments")).scalar() or 0)
        if kept not in (0, args.size):
            raise SystemExit(f"{base} holds {kept:,} comments, not 0 or {args.size:,}: use another --keep folder")
        if kept:
            # A --keep folder of an earlier run: its comments are this corpus, already loaded.
            _say(args.json, f"reusing the {kept:,} comments already in {base}")
            small = args.size
            engines = [e for e in engines if e != "whoosh"]
        started = time.perf_counter()
        load(app, corpus, kept, small)
        _say(args.json, f"loaded {small:,} comments into SQLite in {time.perf_counter() - started:.1f} s")
        if "whoosh" in engines:
            bench(app, "whoosh")
            if "tantivy" in engines and args.size > small:
                bench(app, "tantivy")  # at Whoosh's size: the ratio between the two
        if args.size > small:
            started = time.perf_counter()
            load(app, corpus, small, args.size)
            _say(args.json, f"loaded {args.size:,} comments into SQLite in {time.perf_counter() - started:.1f} s more")
        for backend in ("tantivy", "sqlite"):
            if backend in engines:
                bench(app, "database" if backend == "sqlite" else backend)
        get_db(app).dispose()

    if "postgres" in engines:
        pg_app, drop = _postgres_app(args.postgres, base / "postgres")
        try:
            started = time.perf_counter()
            load(pg_app, corpus, 0, args.size)
            _say(args.json, f"loaded {args.size:,} comments into PostgreSQL in {time.perf_counter() - started:.1f} s")
            bench(pg_app, "database")
        finally:
            drop()
    return results


def _print_report(results: list[dict[str, Any]], repeat: int) -> None:
    print("\nindex build (reindex from the database)")
    _print_table(["engine", "comments", "seconds", "CPU s", "docs/s", "MB"],
                 [[r["engine"], f"{r['comments']:,}", f"{r['index_seconds']:.1f}", f"{r['index_cpu_seconds']:.1f}",
                   f"{r['docs_per_second']:,}", f"{r['index_bytes'] / 1e6:,.0f}"] for r in results])
    print(f"\nquery latency in ms ({repeat} runs per query, 3 queries per type)")
    rows = [[r["engine"], f"{r['comments']:,}", kind, f"{q['p50_ms']:.1f}", f"{q['p95_ms']:.1f}",
             f"{q['raw_p50_ms']:.1f}", f"{q['raw_p95_ms']:.1f}", f"{q['app_vs_raw']:.2f}x"]
            for r in results for kind, q in r["queries"].items()]
    _print_table(["engine", "comments", "type", "app p50", "app p95", "raw p50", "raw p95", "app/raw"], rows)


if __name__ == "__main__":
    main()
