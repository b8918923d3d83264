"""The web side: one blueprint per audience, plus headers every response gets.

The web side reads; only operator actions write (through `get_db().write()`),
and it never fetches from the network.
"""
from __future__ import annotations

from flask import Flask, Response

from archive.clock import iso

# No inline script anywhere; captures are never rendered as HTML here.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def init_web(app: Flask) -> None:
    from archive.web import operators
    from archive.web.api import routes as api_routes
    from archive.web.inputs import init_inputs
    from archive.web.public import evidence, pages, search
    from archive.web.research import pages as research_pages

    init_inputs(app)
    for blueprint in (pages.bp, evidence.bp, search.bp, api_routes.bp, research_pages.bp):
        app.register_blueprint(blueprint)
    operators.register(app)
    app.after_request(_security_headers)
    app.jinja_env.filters["iso"] = iso
