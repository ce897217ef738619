"""A lane in front of Flask for the hottest read: `GET /api/authorities/<slug>/status`, plainly asked.

Dashboards poll authorities' status, and for this one answer Flask's own
request machinery (request and app contexts, routing over some thirty rules,
hooks, a response object) costs three times the answer itself: 218 µs a read
in process against 58 for the same work done here (bench 1K database; issue 7).

The lane answers only the plain form: GET, a query that is empty or
`as_of=YYYY-MM-DD` alone, no If-None-Match, an authority in the registry whose
stored projection is current. It makes the same domain calls as the view and
sends the same status line, headers and bytes (tests/test_status_lane.py
compares them). Everything else, errors included, goes to Flask. A read is
counted against the rate limit once: a refused one goes to Flask with its
verdict (ratelimit.READ_COUNTED), which makes the 429.

The lane stands aside while the app has hooks, signal receivers or a host
check it does not reproduce; the app refuses to start with such hooks
registered when it is made, so that adding one means updating this lane.
"""
from __future__ import annotations

import re
from datetime import date

from flask import Flask, signals

from events import queries
from service import headers
from service.api.blueprint import json_text
from service.api.caching import CACHE_CONTROL, etag
from service.ratelimit import READ_COUNTED

_PATH = re.compile(r"/api/authorities/([^/]+)/status\Z")
_QUERY = re.compile(r"(?:as_of=([0-9]{4}-[0-9]{2}-[0-9]{2}))?\Z")
# The hooks whose work `answer` does itself: (module, name) of each, by Flask's hook dictionary.
HOOKS = {"before_request_funcs": {None: [("service.ratelimit", "limit_by_address")]},
         "after_request_funcs": {None: [("service.headers", "add_security_headers"),
                                        ("service.ratelimit", "rate_limit_headers")]},
         "teardown_request_funcs": {}, "url_value_preprocessors": {}}
_SIGNALS = (signals.request_started, signals.request_finished, signals.got_request_exception,
            signals.request_tearing_down, signals.appcontext_pushed, signals.appcontext_popped,
            signals.appcontext_tearing_down)


class UnsupportedHooks(RuntimeError):
    """The app runs hooks around requests that the status lane would skip."""


class StatusLane:
    """WSGI middleware answering plain status reads itself and passing every other request to `inner`."""

    def __init__(self, app: Flask, inner):
        """Wrap `inner` (the app's `wsgi_app`); UnsupportedHooks if the app has hooks `answer` does not do."""
        self.app = app
        self.inner = inner
        self.hooks = {kind: {blueprint: list(funcs) for blueprint, funcs in getattr(app, kind).items() if funcs}
                      for kind in HOOKS}
        named = {kind: {blueprint: [(func.__module__, func.__name__) for func in funcs]
                        for blueprint, funcs in hooks.items()} for kind, hooks in self.hooks.items()}
        if named != HOOKS:
            raise UnsupportedHooks(f"service/status_lane.py answers status reads without Flask's hooks and knows "
                                   f"only {HOOKS}; the app has {named}: make the lane do the new hook's work")
        self.services = app.extensions["timeline"]
        self.limiter = app.extensions["rate_limits"]
        self.security = headers.security_headers(app)

    def __call__(self, environ: dict, start_response):
        """Answer a plain status read; hand anything else to Flask."""
        try:
            answered = self.answer(environ)
        except Exception:  # noqa: BLE001 - Flask answers what the lane cannot (a failing database, say) its own way
            self.app.logger.exception("status lane: %s; Flask answers instead", environ.get("PATH_INFO"))
            answered = None
        if answered is None:
            return self.inner(environ, start_response)
        status, header_list, body = answered
        start_response(status, header_list)
        return [body]

    def answer(self, environ: dict) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The status line, headers and body for a plain status read, or None for Flask to answer it.

        Counts the read against the limit only once it can be answered (or is refused: see the module)."""
        if environ["REQUEST_METHOD"] != "GET" or "HTTP_IF_NONE_MATCH" in environ:
            return None
        path = environ.get("PATH_INFO", "")
        found, query = _PATH.match(path), _QUERY.match(environ.get("QUERY_STRING", ""))
        # The hooks are compared only for a status read: every other GET goes to Flask either way.
        if found is None or query is None or not path.isascii() or not self._stands():
            return None
        slug, as_of = found.group(1), query.group(1)
        day = _day(as_of) if as_of else self.services.today()
        if day is None or self.services.registry.get(slug) is None:
            return None
        position, entry = self.services.store.status_on(slug, day.isoformat())
        if entry is None:  # the projection is behind: Flask's view folds the events
            return None
        body = json_text(queries.status(self.services.store, slug, day, None, entry))
        body = body if isinstance(body, bytes) else body.encode()
        tag = etag(position, path, [("as_of", as_of)] if as_of else [], "json", None if as_of else day)
        verdict = self.limiter.count_read(environ.get("REMOTE_ADDR") or "unknown")
        if verdict is not None and not verdict.allowed:
            environ[READ_COUNTED] = verdict
            return None
        return "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                          ("ETag", tag), ("Cache-Control", CACHE_CONTROL), ("Vary", "Accept"),
                          *(verdict.headers().items() if verdict is not None else ()), *self.security], body

    def _stands(self) -> bool:
        """Whether the app still runs only the hooks the lane reproduces (they may be added after start-up)."""
        app = self.app
        config = app.config
        return (config["SERVER_NAME"] is None and config.get("TRUSTED_HOSTS") is None
                and not any(signal.receivers for signal in _SIGNALS)
                and all(getattr(app, kind) == funcs for kind, funcs in self.hooks.items()))


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2024-02-30: Flask's schema gives the 400
        return None
