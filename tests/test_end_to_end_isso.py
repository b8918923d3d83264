"""End to end against a live Isso on loopback, through its JSON API: seed, moderate, capture, export.

A threaded discussion is posted through Isso's public API with moderation
on; the moderator publishes all but one comment, captures run, then the
moderator deletes a comment with replies (Isso keeps a tombstone), deletes
a leaf (gone), edits one, and leaves one held. The archive must say exactly
that through `python -m archive export`. Then Isso stops and nothing new may
be called removed. The discussion and the checks are tests/isso_support.py's.
"""
from __future__ import annotations

import uuid
from pathlib import Path

from tests.archive_commands import capture, comments, statuses, watch
from tests.conftest import ArchiveRunner
from tests.isso_server import IssoServer
from tests.isso_support import (
    PUBLIC,
    check_after_one_capture,
    check_after_two_captures,
    check_first,
    moderate,
    seed,
)
from tests.local_server import LocalServer


def test_isso_moderation_is_detected_and_breakage_is_not(runner: ArchiveRunner, isso: IssoServer,
                                                         local_server: LocalServer, tmp_path: Path) -> None:
    uri = f"/2026/12/cafcass-{uuid.uuid4().hex[:8]}/"
    # The article lives on another origin and embeds Isso's widget; the capture asks Isso itself.
    local_server.route(uri, f'<html><script data-isso="{isso.base_url}" src="{isso.base_url}js/embed.min.js">'
                            '</script><section id="isso-thread"></section></html>')
    url = local_server.url(uri)
    ids = seed(isso, uri)
    key = {name: str(cid) for name, cid in ids.items()}

    # The watch names its Isso server in its options; the thread uri is the article's path.
    watch(runner, tmp_path, url, "isso", {"isso": isso.base_url})
    first = capture(runner, url)
    assert "[good]" in first and f"{len(PUBLIC)} comments" in first, first
    check_first(runner, key)

    late = moderate(isso, uri, ids)
    assert "[good]" in capture(runner, url)
    check_after_one_capture(runner, key, late)
    assert "[good]" in capture(runner, url)
    check_after_two_captures(runner, key)

    # Isso goes down: nothing new may be called removed.
    before = comments(runner)
    with isso.stopped():
        for _ in range(2):
            assert "[failed]" in capture(runner, url)
    assert comments(runner) == before
    # Back up: the next capture is good and every status is as it was.
    assert "[good]" in capture(runner, url)
    assert statuses(runner) == {cid: row["status"] for cid, row in before.items()}
