"""Rate limits: writes per token, reads per client address, each a fixed window, configurable.

Writes (POST and other unsafe methods) are counted in the database, shared by
every gunicorn worker process: they hit the database anyway, and a counter in
each process would multiply the limit by the number of workers. Reads are
counted in each worker's memory, since a read must not write: with N workers
a client may get up to N times the read limit, which still bounds abuse
(reads are cheap; the limit is not metering).

TIMELINE_RATE_LIMIT_WRITES (default 1200/minute) and TIMELINE_RATE_LIMIT_READS
(default 6000/minute), from the app config or the environment, take
"N/second", "N/minute", "N/hour" or "N/day", or "off".
"""
from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import TooManyRequests

from service.responses import add_valid

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
DEFAULTS = {"TIMELINE_RATE_LIMIT_WRITES": "1200/minute", "TIMELINE_RATE_LIMIT_READS": "6000/minute"}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A read already counted in front of Flask (service.status_lane) carries its verdict here, so it counts once.
READ_COUNTED = "timeline.read_verdict"


@dataclass(frozen=True)
class Limit:
    """At most `count` requests per `period` seconds."""

    count: int
    period: int

    @classmethod
    def parse(cls, text: str) -> "Limit | None":
        """'120/minute' as a Limit; 'off' as None; ValueError for anything else."""
        text = text.strip().lower()
        if text in ("off", "none", "0"):
            return None
        count, _, unit = text.partition("/")
        if not count.isdigit() or int(count) < 1 or unit not in PERIODS:
            raise ValueError(f"a rate limit is N/second, N/minute, N/hour, N/day or off, not {text!r}")
        return cls(int(count), PERIODS[unit])


@dataclass(frozen=True)
class Verdict:
    """One counted request: the limit, how many remain in the window, seconds until it resets."""

    limit: Limit
    hits: int
    reset: int

    @property
    def allowed(self) -> bool:
        """Whether this request is within the limit."""
        return self.hits <= self.limit.count

    def headers(self) -> dict[str, str]:
        """RateLimit-* headers (IETF httpapi draft), plus Retry-After when refused."""
        out = {"RateLimit-Limit": str(self.limit.count), "RateLimit-Remaining": str(max(0, self.limit.count - self.hits)),
               "RateLimit-Reset": str(self.reset)}
        if not self.allowed:
            out["Retry-After"] = str(self.reset)
        return out


class RateLimiter:
    """The app's two limits and the in-memory read counters of this process."""

    def __init__(self, writes: Limit | None, reads: Limit | None, clock: Callable[[], float] = time.time):
        self.writes = writes
        self.reads = reads
        self.clock = clock
        self._reads: dict[str, tuple[int, int]] = {}  # address -> (window start, hits)
        self._lock = threading.Lock()

    def _window(self, limit: Limit) -> tuple[int, int]:
        now = self.clock()
        start = int(now // limit.period * limit.period)
        return start, max(1, math.ceil(start + limit.period - now))

    def count_read(self, address: str) -> Verdict | None:
        """Count a read from an address in this process's memory."""
        if self.reads is None:
            return None
        start, reset = self._window(self.reads)
        with self._lock:
            if len(self._reads) > 100_000:  # drop finished windows rather than grow without bound
                self._reads = {a: w for a, w in self._reads.items() if w[0] == start}
            window, hits = self._reads.get(address, (start, 0))
            hits = hits + 1 if window == start else 1
            self._reads[address] = (start, hits)
        return Verdict(self.reads, hits, reset)

    def count_write(self, store, who: str) -> Verdict | None:
        """Count a write by a token or address in the database, across processes."""
        if self.writes is None:
            return None
        start, reset = self._window(self.writes)
        return Verdict(self.writes, store.count_hit(f"write:{who}", start), reset)

    def write_window(self, who: str) -> "WriteWindow | None":
        """A write by a token or address, to be counted by the store inside the write's own transaction."""
        if self.writes is None:
            return None
        start, reset = self._window(self.writes)
        return WriteWindow(self.writes, (f"write:{who}", start, self.writes.count), reset)


@dataclass(frozen=True)
class WriteWindow:
    """A write's rate-limit window, for a store that counts it in the write's transaction (`count_hit`)."""

    limit: Limit
    hit: tuple[str, int, int]  # (bucket, window start, most hits allowed)
    reset: int

    def verdict(self, hits: int) -> Verdict:
        """The verdict once the store has counted the request."""
        return Verdict(self.limit, hits, self.reset)


def _setting(app: Flask, name: str) -> Limit | None:
    try:
        return Limit.parse(str(app.config.get(name) or os.environ.get(name) or DEFAULTS[name]))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def enforce(verdict: Verdict | None) -> None:
    """Remember the verdict for the response headers; 429 if over the limit."""
    if verdict is None:
        return
    g.rate_limit = verdict
    if not verdict.allowed:
        error = TooManyRequests(f"Over the rate limit of {verdict.limit.count} requests per {verdict.limit.period} s; "
                                f"retry after {verdict.reset} s.")
        error.data = {"headers": verdict.headers()}
        raise error


def counted_write(store, token_name: str, write: Callable[[tuple | None], object]) -> object:
    """Run `write(count_hit)` for an authenticated unsafe request, counting it against its token's write limit.

    The store counts the request inside the write's own transaction (one commit
    per append, not two); if the request fails before the store counted it
    (a malformed body, say), it is counted on its own, as every request is.
    Over the limit: 429, and nothing written.
    """
    window = current_app.extensions["rate_limits"].write_window(f"token:{token_name}")
    if window is None:
        return write(None)
    try:
        result = write(window.hit)
    except Exception as exc:
        hits = getattr(exc, "rate_hits", None)
        if hits is None:
            hits = store.count_hit(*window.hit[:2])
        enforce(window.verdict(hits))
        raise
    hits = result.rate_hits
    enforce(window.verdict(store.count_hit(*window.hit[:2]) if hits is None else hits))
    return result


def limit_token_writes(store, token_name: str) -> None:
    """Count an authenticated unsafe request against its token's write limit (called once the token is known)."""
    if request.method not in SAFE_METHODS:
        enforce(current_app.extensions["rate_limits"].count_write(store, f"token:{token_name}"))


def register(app: Flask) -> RateLimiter:
    """Limit reads per address before each request, and unauthenticated writes per address; add RateLimit-* headers."""
    limiter = app.extensions["rate_limits"] = RateLimiter(_setting(app, "TIMELINE_RATE_LIMIT_WRITES"),
                                                          _setting(app, "TIMELINE_RATE_LIMIT_READS"))

    @app.before_request
    def limit_by_address() -> None:
        address = request.remote_addr or "unknown"
        if request.method in SAFE_METHODS:
            counted = request.environ.pop(READ_COUNTED, None)
            enforce(counted if counted is not None else limiter.count_read(address))
        elif "Authorization" not in request.headers:  # e.g. drafts; with a token, the token's limit applies
            enforce(limiter.count_write(app.extensions["timeline"].store, f"address:{address}"))

    @app.after_request
    def rate_limit_headers(response: Response) -> Response:
        verdict = g.get("rate_limit")
        if verdict is not None and verdict.allowed:
            add_valid(response, tuple(verdict.headers().items()))  # numbers: no line break to check for
        return response

    return limiter
