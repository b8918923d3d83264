"""The loopback WordPress harness itself: seeded comments reach a reader over HTTP.

These also pin the WordPress behaviours the archive relies on (what readers
see after moderation), so a WordPress upgrade that changes them shows up here.
"""
from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

import tests.wordpress_site as harness
from tests.wordpress_site import WordPressSite

pytestmark = pytest.mark.wordpress


def _listed(site: WordPressSite, url: str) -> list[int]:
    page = site.get(url)
    assert page.status == 200
    return [int(n) for n in re.findall(r'<li id="comment-(\d+)"', page.text)]


def test_seeded_threaded_comments_are_served(wordpress: WordPressSite) -> None:
    post_id, url = wordpress.add_post("Cafcass rated 'outstanding'", "<p>Ofsted inspectors.</p>")
    assert url == f"{wordpress.url}/cafcass-rated-outstanding/"
    paul = wordpress.add_comment(post_id, "Paul", "As a sidenote ... moderated out.",
                                 date=datetime(2018, 4, 7, 10, 9))
    mike = wordpress.add_comment(post_id, "Mike", "Absolutely right Paul.", parent=paul,
                                 date=datetime(2018, 4, 12, 14, 37))
    deep = wordpress.add_comment(post_id, "Nell", "Third level.", parent=mike)
    page = wordpress.get(url)
    assert page.status == 200 and "text/html" in page.headers["content-type"]
    text = page.text
    assert _listed(wordpress, url) == [paul, mike, deep]
    # Threading: Mike's reply sits in Paul's ol.children, Nell's in Mike's.
    paul_at, mike_at, deep_at = (text.index(f'id="comment-{n}"') for n in (paul, mike, deep))
    assert '<ol class="children">' in text[paul_at:mike_at]
    assert '<ol class="children">' in text[mike_at:deep_at]
    assert '<time datetime="2018-04-07T10:09:00+00:00">' in text
    assert "Absolutely right Paul." in text
    assert "3 comments" in text


def test_moderation_as_a_reader_sees_it(wordpress: WordPressSite) -> None:
    post_id, url = wordpress.add_post("Moderation", "<p>Body.</p>")
    parent = wordpress.add_comment(post_id, "WL", "Parent.")
    reply = wordpress.add_comment(post_id, "Cha", "Reply.", parent=parent)
    other = wordpress.add_comment(post_id, "Paul", "Other.")
    held = wordpress.add_comment(post_id, "Ann", "Held at once.", approved=False)
    assert _listed(wordpress, url) == [parent, reply, other]

    # A trashed parent takes its approved reply out of the HTML page, while the
    # heading's count, the REST API and the feed still include the reply.
    wordpress.trash_comment(parent)
    assert wordpress.comment_status(parent) == "trash"
    assert _listed(wordpress, url) == [other]
    assert "2 comments" in wordpress.get(url).text
    api = json.loads(wordpress.get(f"/wp-json/wp/v2/comments?post={post_id}").body)
    assert sorted(c["id"] for c in api) == [reply, other]
    assert wordpress.get(f"/wp-json/wp/v2/comments/{parent}").status == 401
    assert wordpress.get(f"/wp-json/wp/v2/comments/{held}").status == 401

    # Deleting the parent for good re-parents the reply to the top level.
    wordpress.delete_comment(parent)
    assert wordpress.comment_status(parent) is None
    assert _listed(wordpress, url) == [reply, other]
    assert json.loads(wordpress.get(f"/wp-json/wp/v2/comments/{reply}").body)["parent"] == 0
    assert wordpress.get(f"/wp-json/wp/v2/comments/{parent}").status == 404

    wordpress.set_comment_status(other, "spam")
    assert _listed(wordpress, url) == [reply]
    wordpress.set_comment_status(other, "approve")
    wordpress.edit_comment(other, "Other, edited.")
    assert "Other, edited." in wordpress.get(url).text


def test_maintenance_stop_start_and_options(wordpress: WordPressSite) -> None:
    post_id, url = wordpress.add_post("Breakage", "<p>Body.</p>")
    wordpress.add_comment(post_id, "WL", "Still here.")
    wordpress.maintenance(True)
    down = wordpress.get(url)
    assert down.status == 503
    assert "Briefly unavailable for scheduled maintenance" in down.text
    wordpress.maintenance(False)
    assert wordpress.get(url).status == 200

    wordpress.stop()
    with pytest.raises(OSError):
        wordpress.get(url)
    wordpress.start()
    assert wordpress.get(url).status == 200

    wordpress.set_option("comments_per_page", 7)
    assert wordpress.get_option("comments_per_page") == "7"   # options come back as stored text
    wordpress.switch_theme("twentytwentythree")
    assert "wp-block-comments" in wordpress.get(url).text
    feed = wordpress.get(url + "feed/")
    assert feed.status == 200 and "Still here." in feed.text


def test_missing_wordpress_skips_but_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "unavailable_reason", lambda: "php-cli is not installed")
    monkeypatch.setattr(harness, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="php-cli is not installed"):
        harness.require_wordpress()
    monkeypatch.setattr(harness, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true but php-cli is not installed"):
        harness.require_wordpress()


def test_two_sites_run_side_by_side(wordpress: WordPressSite) -> None:
    with WordPressSite() as other:
        assert other.port != wordpress.port and other.db_name != wordpress.db_name
        other.maintenance(True)
        post_id, url = wordpress.add_post("Unaffected", "<p>Body.</p>")
        assert wordpress.get(url).status == 200, "one site's maintenance never reaches another"
        assert other.get("/").status == 503
    assert not other.config_path.exists() and not other.workdir.exists()
