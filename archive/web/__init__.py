"""The web side: one blueprint per audience, plus headers every response gets.

The web side reads; only operator actions write (through `get_db().write()`).
It never fetches or captures, except a bounded preview: "Capture now" and
"Poll now" only mark the watch or feed as requested, and the one capturing
process (archive/capture/scheduler.py) runs the job, so a web request never
waits on a site and a second `serve` captures nothing. The preview of a new
watch reads one page within `PREVIEW_SECONDS` (archive/capture/preview.py).
"""
from __future__ import annotations

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from archive.clock import iso
from archive.context import archive_context
from archive.web.sanitize import isolate

# No inline script anywhere; captures are never rendered as HTML here.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # Not no-referrer: over HTTPS, Flask-WTF refuses a form whose Referer is
    # missing or from another host. Other sites still learn nothing.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def init_web(app: Flask) -> None:
    from archive.web import operators
    from archive.web.api import routes as api_routes
    from archive.web.inputs import init_inputs
    from archive.web.public import evidence, feeds, find, pages, search
    from archive.web.research import pages as research_pages

    init_inputs(app)
    for blueprint in (pages.bp, evidence.bp, search.bp, find.bp, feeds.bp, api_routes.bp,
                      research_pages.bp):
        app.register_blueprint(blueprint)
    operators.register(app)
    app.after_request(_security_headers)
    app.jinja_env.filters["iso"] = iso
    app.jinja_env.filters["isolate"] = isolate
    proxies = archive_context(app).settings.behind_proxy
    if proxies:
        # Otherwise every visitor has the proxy's address (one login rate limit
        # for all of them) and an HTTPS request looks like plain HTTP.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,  # type: ignore[method-assign]
                                x_host=proxies, x_prefix=proxies)
