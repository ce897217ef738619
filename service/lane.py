"""What the lanes in front of Flask share: the check that Flask would run no hook they skip, and the dispatch.

A lane (service.status_lane, service.append_lane) answers the plain form of
one hot request itself, with the same domain calls as Flask's view, and sends
the same status line, headers and bytes; everything else, errors included,
goes to Flask. Flask's request machinery (contexts, routing over some thirty
rules, hooks, a response object) costs more than the hottest answers
themselves, which is why the lanes exist (issue 7; README, Performance).

A lane reproduces the app's hooks by hand, so it stands aside while the app
has hooks, signal receivers or a host check it does not know; the app refuses
to start with unknown hooks registered when it is made, so that adding one
means updating the lanes.
"""
from __future__ import annotations

from flask import Flask, signals

from service import headers

# The hooks whose work the lanes do themselves: (module, name) of each, by Flask's hook dictionary.
HOOKS = {"before_request_funcs": {None: [("service.ratelimit", "limit_by_address")]},
         "after_request_funcs": {None: [("service.headers", "add_security_headers"),
                                        ("service.ratelimit", "rate_limit_headers")]},
         "teardown_request_funcs": {}, "url_value_preprocessors": {}}
_SIGNALS = (signals.request_started, signals.request_finished, signals.got_request_exception,
            signals.request_tearing_down, signals.appcontext_pushed, signals.appcontext_popped,
            signals.appcontext_tearing_down)


class UnsupportedHooks(RuntimeError):
    """The app runs hooks around requests that a lane would skip."""


class Lane:
    """WSGI middleware answering what `answer` can and passing every other request to `inner` (Flask)."""

    def __init__(self, app: Flask, inner):
        """Wrap `inner` (the app's `wsgi_app`, or another lane); UnsupportedHooks if the app has hooks the lanes
        do not do."""
        self.app = app
        self.inner = inner
        self.hooks = {kind: {blueprint: list(funcs) for blueprint, funcs in getattr(app, kind).items() if funcs}
                      for kind in HOOKS}
        named = {kind: {blueprint: [(func.__module__, func.__name__) for func in funcs]
                        for blueprint, funcs in hooks.items()} for kind, hooks in self.hooks.items()}
        if named != HOOKS:
            raise UnsupportedHooks(f"{type(self).__module__} answers requests without Flask's hooks and knows "
                                   f"only {HOOKS}; the app has {named}: make the lanes do the new hook's work")
        self.services = app.extensions["timeline"]
        self.limiter = app.extensions["rate_limits"]
        self.security = headers.security_headers(app)

    def __call__(self, environ: dict, start_response):
        """Answer a request of the lane's kind; hand anything else to `inner`."""
        try:
            answered = self.answer(environ)
        except Exception:  # noqa: BLE001 - Flask answers what the lane cannot (a failing database, say) its own way
            self.app.logger.exception("%s: %s; Flask answers instead", type(self).__name__, environ.get("PATH_INFO"))
            answered = None
        if answered is None:
            return self.inner(environ, start_response)
        status, header_list, body = answered
        start_response(status, header_list)
        return [body]

    def answer(self, environ: dict) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The status line, headers and body, or None for `inner` to answer. A lane must not have changed
        anything it does not tell Flask of when it returns None or raises."""
        raise NotImplementedError

    def stands(self) -> bool:
        """Whether the app still runs only the hooks the lanes reproduce (they may be added after start-up)."""
        app = self.app
        config = app.config
        return (config["SERVER_NAME"] is None and config.get("TRUSTED_HOSTS") is None
                and not any(signal.receivers for signal in _SIGNALS)
                and all(getattr(app, kind) == funcs for kind, funcs in self.hooks.items()))
