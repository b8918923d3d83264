"""End to end against a fake Disqus on loopback (tests/disqus_server.py): seed, moderate, capture, export.

The article embeds Disqus; the fake serves the article, the embed page with its
thread data (three posts a page) and the listPostsThreaded API behind a public key.
Captures run through `python -m archive capture`; then the moderator deletes a post
with replies (Disqus keeps a deleted placeholder: a tombstone), deletes a leaf (gone)
and edits one, and the archive must say exactly that through `export`. When the API
or the whole of Disqus fails, nothing new may be called removed.
"""
from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import config
from archive import create_app
from archive.capture.fetch.fetcher import Fetcher
from archive.capture.preview import preview_url
from archive.context import ArchiveContext, archive_context
from tests import archive_commands as cli
from tests.conftest import ArchiveRunner
from tests.disqus_server import API_KEY, DisqusServer, FakeThread

SEED = [
    # (name, author, html, parent name)
    ("wl", "WL", "<p>This is bonkers. I know officers who never see their children.</p>", None),
    ("critic", "Sam", "<p>Cafcass ignored the Parental Conflict Tool in my case entirely.</p>", None),
    ("critic_reply", "Jo", "<p>Same here: no sibling was ever interviewed.</p>", "critic"),
    ("deep_reply", "Kim", "<p>Jo, mine too.</p>", "critic_reply"),
    ("nell", "Nell", "<p>Lets assume they are not seeking to privatise Cafcass then.</p>", None),
    ("leaf", "Bob", "<p>Complaints data shows the opposite of outstanding.</p>", None),
]


@pytest.fixture(scope="module")
def disqus() -> Iterator[DisqusServer]:
    with DisqusServer(page_size=3) as server:
        yield server








def _watch(runner: ArchiveRunner, folder: Path, url: str, options: dict[str, str]) -> None:
    cli.watch(runner, folder, url, "disqus", options)


def _seed(disqus: DisqusServer) -> tuple[FakeThread, dict[str, int]]:
    slug = uuid.uuid4().hex[:8]
    thread = disqus.add_thread("localnews", f"story-{slug}", f"/2026/12/cafcass-{slug}/", "Cafcass inspected")
    ids: dict[str, int] = {}
    for name, author, html, parent in SEED:
        ids[name] = disqus.post(thread, author, html, parent=ids[parent] if parent else None)
    ids["held"] = disqus.post(thread, "Ann", "<p>The inspection never spoke to a father.</p>", approved=False)
    return thread, ids


def test_disqus_moderation_is_detected_and_breakage_is_not(runner: ArchiveRunner, disqus: DisqusServer,
                                                           tmp_path: Path) -> None:
    thread, ids = _seed(disqus)
    key = {name: str(pid) for name, pid in ids.items()}
    url = disqus.url(thread.path)
    # The watch names Disqus's address (the loopback fake) and the API key; the forum and
    # the thread's identifier come from the article's embed code.
    _watch(runner, tmp_path, url, {"base": disqus.base_url, "api_key": API_KEY})
    before_api = len(disqus.api_requests())
    first = cli.capture(runner, url)
    assert "[good]" in first and f"{len(SEED)} comments" in first, first
    api = disqus.api_requests()[before_api:]
    assert len(api) == 1 and "cursor=1%3A0%3A0" in api[0] and f"api_key={API_KEY}" in api[0]
    rows = cli.comments(runner)
    assert set(rows) == {key[n] for n in key if n != "held"}, "a held post is never public"
    assert {row["status"] for row in rows.values()} == {"visible"}
    assert rows[key["deep_reply"]]["parent_id"] == key["critic_reply"]
    assert rows[key["critic_reply"]]["author"] == "Jo"
    assert rows[key["nell"]]["text"] == "Lets assume they are not seeking to privatise Cafcass then."

    # The moderator's afternoon.
    disqus.delete(ids["critic"])       # has replies: a deleted placeholder stays listed
    disqus.delete(ids["leaf"])         # a leaf: gone from the listing
    disqus.edit(ids["nell"], "<p>Lets assume they are not seeking to privatise Cafcass.</p>")
    assert thread.count() == 4 and len(thread.listed()) == 5

    assert "[good]" in cli.capture(runner, url)
    rows = cli.comments(runner)
    assert rows[key["critic"]]["status"] == "removed", "a tombstone is a removal at once"
    assert rows[key["leaf"]]["status"] == "missing"
    assert rows[key["nell"]]["edit_count"] == 1
    assert rows[key["nell"]]["text"].endswith("privatise Cafcass.")

    assert "[good]" in cli.capture(runner, url)
    rows = cli.comments(runner)
    removed = {cid for cid, row in rows.items() if row["status"] == "removed"}
    assert removed == {key["critic"], key["leaf"]}
    visible = {key[n] for n in ("wl", "critic_reply", "deep_reply", "nell")}
    assert {rows[c]["status"] for c in visible} == {"visible"}, "replies under a tombstone stay"
    kinds = {(e["comment_id"], e["kind"]) for e in cli.export(runner, "events")}
    assert (key["critic"], "tombstoned") in kinds and (key["leaf"], "removed") in kinds

    # Disqus's API fails, then the whole of Disqus: nothing new may be called removed.
    before = cli.comments(runner)
    disqus.delete(ids["wl"])           # would be a removal, if a failed capture could prove one
    for what in ("api", "all"):
        with disqus.failing(what):
            assert "[failed]" in cli.capture(runner, url)
    assert cli.comments(runner) == before
    disqus.post(thread, "Liz", "<p>Ofsted saw what Cafcass chose to show.</p>")
    assert "[good]" in cli.capture(runner, url)
    assert cli.comments(runner)[key["wl"]]["status"] == "missing", "only a good capture may see it go"


def test_a_long_thread_needs_the_api_key_from_the_watch_or_the_setting(
        runner: ArchiveRunner, disqus: DisqusServer, tmp_path: Path, sqlite_template: Path) -> None:
    thread, ids = _seed(disqus)
    url = disqus.url(thread.path)
    naming = {"base": disqus.base_url, "forum": "localnews", "identifier": thread.identifier}
    _watch(runner, tmp_path, url, naming)
    before_api = len(disqus.api_requests())
    suspect = cli.capture(runner, url)
    assert "[suspect]" in suspect and "API key" in suspect, suspect
    assert len(disqus.api_requests()) == before_api, "no key, no API request"
    assert cli.comments(runner) == {}, "a suspect capture records no comment"
    article_hits = [r for r in disqus.requests if r.startswith(thread.path)]
    assert article_hits == [], "options naming the thread start at the embed page"

    # The same watch in an archive whose setting holds the key.
    data_dir = tmp_path / "keyed"
    data_dir.mkdir()
    shutil.copy(sqlite_template, data_dir / "archive.db")
    app = create_app(config.TestConfig(DATA_DIR=str(data_dir), DISQUS_API_KEY=API_KEY))
    try:
        keyed = ArchiveRunner(app)
        _watch(keyed, tmp_path, url, naming)
        assert "[good]" in cli.capture(keyed, url)
        assert any(f"api_key={API_KEY}" in r for r in disqus.api_requests()[before_api:])
        assert set(cli.comments(keyed)) == {str(pid) for name, pid in ids.items() if name != "held"}
    finally:
        archive_context(app).close()


def test_the_operator_preview_takes_the_key_from_the_settings_as_captures_do(
        ctx: ArchiveContext, disqus: DisqusServer) -> None:
    thread, _ids = _seed(disqus)
    url = disqus.url(thread.path)
    options = {"base": disqus.base_url, "forum": "localnews", "identifier": thread.identifier}

    class Keyed:
        disqus_api_key = API_KEY

    fetcher = Fetcher.from_settings(ctx.settings)
    try:
        bare = preview_url(url, fetcher, allow_private=True, adapter_name="disqus", options=options)
        keyed = preview_url(url, fetcher, allow_private=True, adapter_name="disqus", options=options,
                            settings=Keyed())
    finally:
        fetcher.close()
    assert any("API key" in problem for problem in bare.problems), bare.problems
    assert keyed.ok and (keyed.found, keyed.claimed, keyed.unread_pages) == (3, 6, 1), keyed.problems


def test_a_thread_that_changes_while_it_is_read_is_never_a_false_removal(
        runner: ArchiveRunner, disqus: DisqusServer, tmp_path: Path) -> None:
    # Three posts a page, positions as cursors: wl, critic, critic_reply | deep_reply, nell, leaf.
    thread, ids = _seed(disqus)
    key = {name: str(pid) for name, pid in ids.items()}
    url = disqus.url(thread.path)
    _watch(runner, tmp_path, url, {"base": disqus.base_url, "api_key": API_KEY})
    assert "[good]" in cli.capture(runner, url)

    # A post written after the embed page answered: listed, not held against its count.
    disqus.after_embed.append(lambda: disqus.post(thread, "Liz", "<p>Ofsted saw what it was shown.</p>"))
    grown = cli.capture(runner, url)
    assert "[good]" in grown and f"{len(SEED) + 1} comments" in grown, grown

    # wl is deleted after page 1 was read: deep_reply moves up onto page 1, unseen, and a
    # new post fills the count back up. Its six posts are not the six the count meant.
    def shift() -> None:
        disqus.delete(ids["wl"])
        disqus.post(thread, "Max", "<p>Written during the capture.</p>")
    disqus.after_embed.append(shift)
    shifted = cli.capture(runner, url)
    assert "[suspect]" in shifted and "posted by then" in shifted, shifted
    assert {row["status"] for row in cli.comments(runner).values()} == {"visible"}

    assert "[good]" in cli.capture(runner, url)
    rows = cli.comments(runner)
    assert rows[key["wl"]]["status"] == "missing" and rows[key["deep_reply"]]["status"] == "visible"
