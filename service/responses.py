"""The app's Flask and response classes: Flask's own behaviour, with less work on every request.

Every answer carries about a dozen headers (security, caching, rate limit), and
werkzeug checks each value for line breaks when it is added, then copies the
whole list, checking every value again, to fix up the few headers that need it
when the answer is sent (`get_wsgi_headers`); Flask asks `inspect`, four times
a request, whether each view and hook is a coroutine function. Without that
work a `status?as_of=` read takes 311 µs in process rather than 364 (the
median of five runs each, taken in turns, on the benchmark's 1K database).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from weakref import WeakSet

from flask import Flask, Response
from werkzeug.datastructures import Headers

Pairs = Sequence[tuple[str, str]]
_FIXED_UP = frozenset({"location", "content-location"})  # what get_wsgi_headers rewrites in a 2xx answer


class ResponseHeaders(Headers):
    """werkzeug's Headers, which can also take pairs known to be valid without checking each again."""

    def extend_valid(self, pairs: Pairs) -> None:
        """Append pairs that are valid header lines: made by `checked` or, like an ETag or a count, by code
        that cannot put a line break in them."""
        self._list.extend(pairs)


def checked(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Header pairs checked as werkzeug checks any header (ValueError for a line break), for `add_valid`."""
    return tuple(Headers(list(pairs)))


def add_valid(response: Response, pairs: Pairs) -> None:
    """Add valid pairs (see `ResponseHeaders.extend_valid`) to a response, checked again only if it was made
    with other headers than ours (by werkzeug for an HTTP error, say)."""
    headers = response.headers
    if isinstance(headers, ResponseHeaders):
        headers.extend_valid(pairs)
    else:
        headers.extend(pairs)


class TimelineResponse(Response):
    """Flask's Response, with ResponseHeaders, sent without a second copy of its headers when none needs fixing."""

    def __init__(self, response=None, status=None, headers=None, *args, **kwargs):
        if not isinstance(headers, Headers):
            headers = ResponseHeaders(headers)
        super().__init__(response, status, headers, *args, **kwargs)

    def get_wsgi_headers(self, environ) -> Headers:
        """The headers to send. werkzeug's copy is for what a 2xx answer with its length set does not have (a
        Location or Content-Location to make absolute, a 204's length to drop): such an answer sends its own
        (the caller only lists them: `to_wsgi_list`)."""
        status = self.status_code
        if not 200 <= status < 300 or status == 204:
            return super().get_wsgi_headers(environ)
        has_length = False
        for name, _ in self.headers:
            lowered = name.lower()
            if lowered in _FIXED_UP:
                return super().get_wsgi_headers(environ)
            has_length = has_length or lowered == "content-length"
        return self.headers if has_length else super().get_wsgi_headers(environ)


class TimelineFlask(Flask):
    """Flask, with TimelineResponse, remembering which functions are coroutine functions."""

    response_class = TimelineResponse

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Weak: a function made for one request (after_this_request's) is forgotten with it. A bound method
        # is made anew at each lookup, so it is never found here and is asked about every time, as Flask does.
        self._plain: WeakSet[Callable] = WeakSet()

    def ensure_sync(self, func: Callable) -> Callable:
        """Flask's answer for `func`, remembered for a plain function: whether a function is a coroutine
        function never changes, and Flask asks for each view, before- and after-request function on every request."""
        if func in self._plain:
            return func
        made = super().ensure_sync(func)
        if made is func:
            with suppress(TypeError):  # no weak reference to it (a builtin): asked every time
                self._plain.add(func)
        return made
