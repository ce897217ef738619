"""ETags for reads, and 304 Not Modified for a client that already holds the answer.

An answer changes only when an event it reads is appended, so its ETag is the
last event position that affects it (the authority's stream and, where shown,
its predecessors'; the whole store for national and global lists), with a hash
of everything else the answer depends on: path, query string, format, the
service's today (when a date defaults to today) and the code's version.
"""
from __future__ import annotations

import hashlib
from datetime import date
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

from flask import Response, request

from service.responses import add_valid

CACHE_CONTROL = "no-cache"  # stored, but revalidated every time: an append can change any answer
CACHE_DOCS = {
    "ETag": {"description": "weak validator: `W/\"<last event position>-<hash of the request>\"`; "
                            "send it back in If-None-Match for a 304 when nothing has changed",
             "schema": {"type": "string"}},
    "Cache-Control": {"description": "`no-cache`: caches may keep the answer but must revalidate it",
                      "schema": {"type": "string"}},
    "Link": {"description": "`<…>; rel=\"next\"` where there is a next page", "schema": {"type": "string"}},
}
IF_NONE_MATCH = {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
                 "description": "an ETag from an earlier answer (or `*`): 304 with no body if it still stands"}


@lru_cache(maxsize=1)
def _code_version() -> str:
    try:
        return version("childrens-services-timeline")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "dev"


def etag_for(position: int, fmt: str, today: date | None = None) -> str:
    """A weak ETag for this request's answer, given the last event position it reads."""
    query = sorted((k, v) for k, values in request.args.lists() for v in values if k != "format")
    return etag(position, request.path, query, fmt, today)


def etag(position: int, path: str, query: list[tuple[str, str]], fmt: str, today: date | None = None) -> str:
    """The weak ETag of an answer to `path` with `query` (its sorted pairs, `format` left out) in `fmt`."""
    basis = repr((path, query, fmt, today and today.isoformat(), _code_version()))
    return f'W/"{position}-{hashlib.sha256(basis.encode()).hexdigest()[:16]}"'


def not_modified(etag: str) -> Response | None:
    """A 304 if If-None-Match holds this ETag (weak comparison, as RFC 9110 asks for GET) or `*`."""
    if "HTTP_IF_NONE_MATCH" not in request.environ:  # most requests: skip parsing an absent header
        return None
    wanted = request.if_none_match
    if not wanted:
        return None
    if wanted.star_tag or wanted.contains_weak(etag.removeprefix("W/").strip('"')):
        return stamp(Response(status=304), etag)
    return None


def stamp(response: Response, etag: str) -> Response:
    """Add the validator and caching headers to an answer."""
    headers = response.headers
    if any(name.lower() in _STAMPED for name in headers.keys()):
        headers["ETag"] = etag
        headers["Cache-Control"] = CACHE_CONTROL
        response.vary.add("Accept")
    else:  # the usual case, in one pass rather than a scan of the headers for each (an ETag has no line break)
        add_valid(response, (("ETag", etag), ("Cache-Control", CACHE_CONTROL), ("Vary", "Accept")))
    return response


_STAMPED = frozenset({"etag", "cache-control", "vary"})
