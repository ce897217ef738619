"""A lane in front of Flask for appends: `POST /api/authorities/<slug>/events`, plainly sent.

New monitoring visits and the like arrive here, and for an append Flask's own
request machinery cost as much as the checks and the durable write together:
1,339-1,511 µs of CPU an append in process against 784-870 through this lane
(sequential appends on the bench's 1K database, in turns; issue 7). What every
lane shares is in service.lane.

The lane answers only an append that will be taken: no query, an authority in
the registry, a bearer token that may append to it, a JSON body within the
app's size limit that parses, nests no deeper than the API allows and
validates, a valid Idempotency-Key if any. Every such check is made before
anything is written, and a request failing one goes to Flask untouched (its
body put back), which refuses it as before. The append itself is
`append_event`, as in the view, with the rate-limit count in its transaction.

Once the append has been tried, the request is never tried again: if the store
refused it (a stale expected_version, a reused key, the rate limit) or the
answer cannot be made here, the token and the outcome go to Flask's view in the
environ (`APPEND_BEGUN`), which answers with them rather than appending. So a
refusal is worded, and counted, once and as Flask words and counts it.
tests/test_append_lane.py compares the two paths' answers byte for byte and the
rows they leave.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass

from werkzeug.exceptions import HTTPException

from events.appending import AppendResult, append_event, check_request
from events.errors import DomainError
from events.store import Token
from service.api.blueprint import json_bytes
from service.api.requests import MAX_JSON_DEPTH, MAX_KEY_LENGTH, too_deep_at
from service.auth import check_token
from service.lane import Lane

# The token and outcome of an append the lane made but left Flask to answer (see the module).
APPEND_BEGUN = "timeline.append_begun"
_PATH = re.compile(r"/api/authorities/([^/]+)/events\Z")


@dataclass(frozen=True)
class AppendBegun:
    """An append tried in the lane: its token, and what the store answered (a result, or the error it raised)."""

    token: Token
    result: AppendResult | None
    error: Exception | None

    def outcome(self, count_hit: tuple | None = None) -> AppendResult:
        """The append's result, or its error raised again: what `append_event` gave the lane (`count_hit` is
        the view's window, already counted by the lane's append)."""
        if self.error is not None:
            raise self.error
        return self.result


class AppendLane(Lane):
    """Plain appends answered in front of Flask (see the module)."""

    def answer(self, environ: dict) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The status line, headers and body for an append that passes every check, or None for Flask to answer
        (with the outcome in APPEND_BEGUN once the append has been tried)."""
        if environ["REQUEST_METHOD"] != "POST":
            return None
        found = _PATH.match(environ.get("PATH_INFO", ""))
        if found is None or not self._plain(environ) or self.services.registry.get(found.group(1)) is None:
            return None
        slug = found.group(1)
        token, body = self._checked(environ, slug)
        if token is None:
            return None
        window = self.limiter.write_window(f"token:{token.name}")
        try:
            result = append_event(self.services.store, self.services.registry, slug, None, checked=body,
                                  idempotency_key=environ.get("HTTP_IDEMPOTENCY_KEY"), recorded_by=token.name,
                                  count_hit=window.hit if window else None)
        except Exception as exc:  # noqa: BLE001 - whatever the store said, Flask says it (see the module)
            environ[APPEND_BEGUN] = AppendBegun(token, None, exc)
            return None
        environ[APPEND_BEGUN] = AppendBegun(token, result, None)  # answered here, unless answering fails
        verdict = None if window is None or result.rate_hits is None else window.verdict(result.rate_hits)
        if window is not None and (verdict is None or not verdict.allowed):
            return None  # the view's counted_write decides, as for any append
        answered = self._created(environ, result, verdict)
        del environ[APPEND_BEGUN]
        return answered

    def _plain(self, environ: dict) -> bool:
        """Whether the request's form is one the lane answers: no query, JSON of a stated length within the limit,
        a bearer token and a valid Idempotency-Key (if any), served at the root, by an app with only known hooks."""
        length, limit = environ.get("CONTENT_LENGTH", ""), self.app.config.get("MAX_CONTENT_LENGTH")
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        return (not environ.get("QUERY_STRING") and not environ.get("SCRIPT_NAME")
                and environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() == "application/json"
                and length.isascii() and length.isdigit() and (limit is None or int(length) <= limit)
                and "HTTP_TRANSFER_ENCODING" not in environ
                and environ.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer "
                and (key is None or 0 < len(key) <= MAX_KEY_LENGTH)
                and self.stands())

    def _checked(self, environ: dict, slug: str):
        """(token, checked request) if the token may append to `slug` and the body is a valid append request;
        (None, None) if not. The token is checked first, so a request without a good one is not read here (as
        Flask's view does not read it); a body that has been read is put back for Flask to read."""
        try:
            token = check_token(self.services.store, environ["HTTP_AUTHORIZATION"][7:], slug, count=False)
        except HTTPException:
            return None, None
        raw = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        environ["wsgi.input"] = io.BytesIO(raw)
        try:
            body = json.loads(raw)  # as Flask's get_json reads a body: bytes, any UTF encoding
        except (ValueError, RecursionError):
            return None, None
        if too_deep_at(body, MAX_JSON_DEPTH) is not None:
            return None, None
        try:
            return token, check_request(body)
        except DomainError:
            return None, None

    def _created(self, environ: dict, result: AppendResult, verdict) -> tuple[str, list[tuple[str, str]], bytes]:
        """The 201 the view sends for an append: the event, where it lives, whether it was a retry's replay."""
        body = json_bytes(result.event.envelope())
        header_list = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                       ("Location", f"/api/events/{result.event.event_id}")]
        if result.replayed:
            header_list.append(("Idempotent-Replayed", "true"))
        if verdict is not None:
            header_list.extend(verdict.headers().items())
        return "201 CREATED", header_list + list(self.security), body
