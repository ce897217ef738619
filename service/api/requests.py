"""Reading a write request: JSON body, content type and idempotency key, each refused clearly."""
from __future__ import annotations

from flask import request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

MAX_KEY_LENGTH = 200


def json_body() -> object:
    """The request's JSON body; 415 if it is not JSON, 400 if it does not parse (413 via MAX_CONTENT_LENGTH)."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the event as JSON with Content-Type: application/json.")
    try:
        return request.get_json()
    except BadRequest:
        raise BadRequest("The request body is not valid JSON.") from None
    except RecursionError:  # the parser recursing through thousands of [ or {: hostile, not a server fault
        raise BadRequest("The request body is nested too deeply to read.") from None


def idempotency_key() -> str | None:
    """The Idempotency-Key header, if any, checked for length."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        error = BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.")
        error.data = {"messages": {"headers": {"Idempotency-Key": [f"must be 1 to {MAX_KEY_LENGTH} characters"]}}}
        raise error
    return key
