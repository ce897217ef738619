"""Reading a write request: JSON body, content type and idempotency key, each refused clearly."""
from __future__ import annotations

from flask import request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

MAX_KEY_LENGTH = 200
MAX_JSON_DEPTH = 20  # the deepest valid event nests 5 levels (payload.judgements.0.label)


def json_body() -> object:
    """The request's JSON body; 415 if not JSON, 400 if it does not parse or nests too deep (413 via MAX_CONTENT_LENGTH)."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the event as JSON with Content-Type: application/json.")
    try:
        body = request.get_json()
    except BadRequest:
        raise BadRequest("The request body is not valid JSON.") from None
    except RecursionError:  # thousands of levels: the parser gives up before we can measure
        raise _too_deep("body") from None
    path = too_deep_at(body, MAX_JSON_DEPTH)
    if path is not None:
        raise _too_deep(path)
    return body


def too_deep_at(value: object, limit: int) -> str | None:
    """The dotted path of the first container nested more than `limit` levels deep, or None.

    Walks iteratively, so a hostile document cannot exhaust the stack here either.
    """
    if _within(value, limit):
        return None
    stack = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        if depth >= limit:
            return path or "body"
        items = node.items() if isinstance(node, dict) else enumerate(node)
        stack.extend((child, f"{path}.{key}" if path else str(key), depth + 1) for key, child in items)
    return None


def _within(value: object, limit: int) -> bool:
    """Whether no container in `value` is nested `limit` levels deep: `too_deep_at`'s walk without the paths,
    which only a document that fails needs (building one per item was most of the check's time)."""
    if not isinstance(value, (dict, list)):
        return True
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth >= limit:
            return False
        depth += 1
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth) for child in children if isinstance(child, (dict, list)))
    return True


def _too_deep(field: str) -> BadRequest:
    error = BadRequest(f"The JSON body nests more than {MAX_JSON_DEPTH} levels deep.")
    error.data = {"messages": {"json": {field: [f"nested more than {MAX_JSON_DEPTH} levels deep"]}}}
    return error


def idempotency_key() -> str | None:
    """The Idempotency-Key header, if any, checked for length."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        error = BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.")
        error.data = {"messages": {"headers": {"Idempotency-Key": [f"must be 1 to {MAX_KEY_LENGTH} characters"]}}}
        raise error
    return key
