"""Errors on pages answer as pages: a person who follows a bad link gets HTML, not JSON.

Everything under /api/ stays application/problem+json (service.problems). A
page address answers HTML when the client takes HTML at least as readily as
JSON (browsers, and clients that send no Accept header); a client that prefers
JSON still gets problem+json there too.
"""
from __future__ import annotations

from http import HTTPStatus

from flask import Response, render_template, request

API_PREFIX = "/api"
# What a person can do about each status, said in words; anything else falls back to the status phrase.
MESSAGES = {
    400: "The address asks for something this site cannot answer.",
    404: "There is no page at {path}. Check the address, or start again from the list of every authority.",
    405: "This page cannot be used with {method}.",
    413: "What was sent is too large.",
    429: "Too many requests from here; wait a moment and try again.",
    500: "Something went wrong on our side and has been logged. Try again later.",
}

TITLES = {404: "Page not found", 405: "Method not allowed", 413: "Too large", 429: "Too many requests",
          500: "Something went wrong"}


def wants_html() -> bool:
    """True for a page address (not /api/…) asked for by a client that takes HTML rather than JSON."""
    path = request.path
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        return False
    accept = request.accept_mimetypes
    if not accept:  # no Accept header: anything goes, and a page is HTML
        return True
    return accept.quality("text/html") >= max(accept.quality("application/json"),
                                               accept.quality("application/problem+json"))


def error_page(status: int, title: str | None = None, detail: str | None = None, headers: dict | None = None) -> Response:
    """The site's error page (templates/error.html) with a status, headers (Allow, Retry-After…) and a way home."""
    title = TITLES.get(status, title) if title is None or title == _phrase(status) else title
    message = detail or MESSAGES.get(status, title).format(path=request.path, method=request.method)
    response = Response(render_template("error.html", title=title or _phrase(status), message=message, status=status),
                        status=status, mimetype="text/html")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _phrase(status: int) -> str | None:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return None
