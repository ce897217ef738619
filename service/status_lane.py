"""A lane in front of Flask for the hottest read: `GET /api/authorities/<slug>/status`, plainly asked.

Dashboards poll authorities' status, and for this one answer Flask's own
request machinery costs three times the answer itself: 218 µs a read in
process against 58 for the same work done here (bench 1K database; issue 7).
What every lane shares, and why it stands aside while the app has hooks it
does not reproduce, is in service.lane.

The lane answers only the plain form: GET, a query that is empty or
`as_of=YYYY-MM-DD` alone, no If-None-Match, an authority in the registry whose
stored projection is current. It makes the same domain calls as the view and
sends the same status line, headers and bytes (tests/test_status_lane.py
compares them). Everything else, errors included, goes to Flask. A read is
counted against the rate limit once: a refused one goes to Flask with its
verdict (ratelimit.READ_COUNTED), which makes the 429.
"""
from __future__ import annotations

import re
from datetime import date

from events import queries
from service.api.blueprint import json_bytes
from service.api.caching import CACHE_CONTROL, etag
from service.lane import Lane
from service.ratelimit import READ_COUNTED

_PATH = re.compile(r"/api/authorities/([^/]+)/status\Z")
_QUERY = re.compile(r"(?:as_of=([0-9]{4}-[0-9]{2}-[0-9]{2}))?\Z")


class StatusLane(Lane):
    """Plain status reads answered in front of Flask (see the module)."""

    def answer(self, environ: dict) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The status line, headers and body for a plain status read, or None for Flask to answer it.

        Counts the read against the limit only once it can be answered (or is refused: see the module)."""
        if environ["REQUEST_METHOD"] != "GET" or "HTTP_IF_NONE_MATCH" in environ:
            return None
        path = environ.get("PATH_INFO", "")
        found, query = _PATH.match(path), _QUERY.match(environ.get("QUERY_STRING", ""))
        # The hooks are compared only for a status read: every other GET goes to Flask either way.
        if found is None or query is None or not path.isascii() or not self.stands():
            return None
        slug, as_of = found.group(1), query.group(1)
        day = _day(as_of) if as_of else self.services.today()
        if day is None or self.services.registry.get(slug) is None:
            return None
        position, entry = self.services.store.status_on(slug, day.isoformat())
        if entry is None:  # the projection is behind: Flask's view folds the events
            return None
        body = json_bytes(queries.status(self.services.store, slug, day, None, entry))
        tag = etag(position, path, [("as_of", as_of)] if as_of else [], "json", None if as_of else day)
        verdict = self.limiter.count_read(environ.get("REMOTE_ADDR") or "unknown")
        if verdict is not None and not verdict.allowed:
            environ[READ_COUNTED] = verdict
            return None
        return "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                          ("ETag", tag), ("Cache-Control", CACHE_CONTROL), ("Vary", "Accept"),
                          *(verdict.headers().items() if verdict is not None else ()), *self.security], body


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2024-02-30: Flask's schema gives the 400
        return None
