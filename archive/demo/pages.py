"""WordPress-like HTML for the demo site. Pure: a stage in, page bytes out.

The markup follows what WordPress 6.1 prints with an html5 theme (Twenty
Twenty-One): `#comments` wrapper, `h2.comments-title` with the count,
`ol.comment-list` of `li#comment-N` with `article#div-comment-N.comment-body`,
replies nested in `ol.children`, and the REST API discovery links. Links
name the article's real address: the demo's fetcher maps them to its local site.
"""
from __future__ import annotations

import json
from datetime import datetime
from html import escape

from archive.demo.content import Article, DemoComment, Stage


def _when(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    meridiem = "am" if moment.hour < 12 else "pm"
    return f"{moment:%B} {moment.day}, {moment.year} at {hour}:{moment:%M} {meridiem}"


def _comment_li(article: Article, comment: DemoComment, paragraphs: tuple[str, ...],
                children: str, depth: int, parity: str) -> str:
    author = escape(comment.author)
    if comment.author_url:
        author = (f"<a href='{escape(comment.author_url)}' class='url' rel='ugc external nofollow'>"
                  f"{author}</a>")
    classes = f"comment {parity} thread-{parity} depth-{depth}" + (" parent" if children else "")
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    base = article.origin
    link = f"{article.url}#comment-{comment.id}"
    iso = comment.posted_at.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    nested = f'\n<ol class="children">\n{children}</ol><!-- .children -->' if children else ""
    return f"""<li id="comment-{comment.id}" class="{classes}">
<article id="div-comment-{comment.id}" class="comment-body">
<footer class="comment-meta">
<div class="comment-author vcard">
<img alt='' src='{base}/wp-content/avatar.png' class='avatar avatar-60 photo' height='60' width='60' loading='lazy' decoding='async'/>
<b class="fn">{author}</b> <span class="says">says:</span>
</div><!-- .comment-author -->
<div class="comment-metadata">
<a href="{link}"><time datetime="{iso}">{_when(comment.posted_at)}</time></a>
</div><!-- .comment-metadata -->
</footer><!-- .comment-meta -->
<div class="comment-content">
{body}
</div><!-- .comment-content -->
<div class="reply"><a rel='nofollow' class='comment-reply-link' href='{article.url}?replytocom={comment.id}#respond' data-commentid="{comment.id}" data-postid="{article.post_id}" data-belowelement="div-comment-{comment.id}" data-respondelement="respond" data-replyto="Reply to {escape(comment.author)}" aria-label='Reply to {escape(comment.author)}'>Reply</a></div>
</article><!-- .comment-body -->{nested}
</li><!-- #comment-## -->
"""  # noqa: E501 (markup kept line for line as WordPress prints it)


def _tree(article: Article, stage: Stage, shown: list[int]) -> str:
    children: dict[int, list[int]] = {}
    for cid in shown:
        parent = article.comment(cid).parent
        # WordPress hides a reply whose parent is not approved.
        if parent and parent not in shown:
            continue
        children.setdefault(parent, []).append(cid)

    def render(parent: int, depth: int) -> str:
        out = []
        for n, cid in enumerate(sorted(children.get(parent, []),
                                       key=lambda i: article.comment(i).posted_at)):
            comment = article.comment(cid)
            paragraphs = stage.edits.get(cid, comment.paragraphs)
            out.append(_comment_li(article, comment, paragraphs, render(cid, depth + 1),
                                   depth, "even" if n % 2 == 0 else "odd"))
        return "".join(out)

    return render(0, 1)


def article_page(article: Article, stage: Stage) -> str:
    """The article with its comments as the stage has them."""
    base = article.origin
    visible = list(stage.visible)
    count = len(visible)
    shown = visible[:2] if stage.mode == "half-rendered" else visible
    title = escape(article.title)
    comments = _tree(article, stage, shown)
    area = ""
    if count:
        noun = "Response" if count == 1 else "Responses"
        area = f"""<h2 class="comments-title">{count} {noun} to &#8220;{title}&#8221;</h2>
<ol class="comment-list">
{comments}</ol><!-- .comment-list -->"""
    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    return f"""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} &#8211; {escape(article.site_name)}</title>
<meta name="generator" content="WordPress 6.1">
<link rel="https://api.w.org/" href="{base}/wp-json/">
<link rel="alternate" type="application/json" href="{base}/wp-json/wp/v2/posts/{article.post_id}">
<link rel="canonical" href="{article.url}">
<link rel='shortlink' href='{base}/?p={article.post_id}'>
<link rel="alternate" type="application/rss+xml" title="{title} Comments Feed" href="{article.url}feed/">
</head>
<body class="post-template-default single single-post postid-{article.post_id} single-format-standard">
<div id="page" class="site">
<main id="main" class="site-main">
<article id="post-{article.post_id}" class="post-{article.post_id} post type-post status-publish format-standard hentry entry">
<header class="entry-header"><h1 class="entry-title">{title}</h1>
<time class="entry-date published" datetime="{article.published:%Y-%m-%dT%H:%M:%S}+00:00">{article.published:%B %d, %Y}</time></header>
<div class="entry-content">
{paragraphs}
</div>
</article>
<div id="comments" class="comments-area default-max-width show-avatars">
{area}
<div id="respond" class="comment-respond"><h2 id="reply-title" class="comment-reply-title">Leave a comment</h2>
<form action="{base}/wp-comments-post.php" method="post" id="commentform" class="comment-form"><p class="comment-form-comment"><textarea id="comment" name="comment"></textarea></p></form>
</div><!-- #respond -->
</div><!-- #comments -->
</main>
</div>
</body>
</html>
"""  # noqa: E501 (markup kept line for line as WordPress prints it)


MAINTENANCE_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Maintenance</title></head>
<body><h1>Briefly unavailable for scheduled maintenance. Check back in a minute.</h1></body></html>
"""


def rest_comment(article: Article, stage: Stage, comment_id: int) -> tuple[int, str]:
    """WordPress's answer to GET /wp-json/wp/v2/comments/<id> for an anonymous reader."""
    known = {c.id for c in article.comments}
    if comment_id in stage.visible:
        comment = article.comment(comment_id)
        text = "".join(f"<p>{escape(p)}</p>\n" for p in stage.edits.get(comment_id, comment.paragraphs))
        return 200, json.dumps({
            "id": comment_id, "post": article.post_id, "parent": comment.parent,
            "author_name": comment.author, "date_gmt": comment.posted_at.isoformat(),
            "link": f"{article.url}#comment-{comment_id}", "status": "approved",
            "content": {"rendered": text}})
    if comment_id in known and article.takedown == "hold":
        return 401, json.dumps({"code": "rest_forbidden",
                                "message": "Sorry, you are not allowed to do that.",
                                "data": {"status": 401}})
    return 404, json.dumps({"code": "rest_comment_invalid_id", "message": "Invalid comment ID.",
                            "data": {"status": 404}})
