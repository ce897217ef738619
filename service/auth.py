"""Bearer tokens: made once, shown once, stored only as SHA-256 hashes, each with its scopes.

Scopes are given at creation and neither implies the other: `append` may add
events (to the listed authorities, if any), `admin` may manage tokens and
webhooks. An admin token cannot append, so a leaked administrative token cannot
write history and every event's `recorded_by` names a token made for writing;
a token may be given both scopes when one caller needs both.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import request
from werkzeug.exceptions import Forbidden, Unauthorized

from events.store import TOKEN_SCOPES, EventStore, Token
from service.ratelimit import limit_token_writes

TOKEN_PREFIX = "cst_"


def hash_token(value: str) -> str:
    """The stored form of a token value."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_token(store: EventStore, name: str, authorities: list[str] | None = None,
              scopes: tuple[str, ...] = ("append",)) -> str:
    """Create a token with its scopes and return its value (the only time it is ever available)."""
    unknown = [s for s in scopes if s not in TOKEN_SCOPES]
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {', '.join(TOKEN_SCOPES)}")
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.create_token(name, hash_token(value), authorities, tuple(dict.fromkeys(scopes)))
    return value


def authenticate(store: EventStore, count: bool = True) -> Token:
    """The request's live token; 401 if there is none, or it is unknown or revoked (see `token_for` on `count`)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Send a bearer token: Authorization: Bearer <token> (create one with `timeline tokens create NAME`).")
    return token_for(store, value, count)


def token_for(store: EventStore, value: str, count: bool = True) -> Token:
    """The live token with this value (counted against its write rate limit); 401 if unknown or revoked.

    `count=False` leaves the counting to the caller (`ratelimit.counted_write`, which counts in the append's
    own transaction).

    Lookup is by hash (an indexed equality on digests, never on the secret),
    then the digests are compared again in constant time.
    """
    digest = hash_token(value.strip())
    token = store.find_token(digest)
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        raise Unauthorized("The bearer token is unknown or revoked.")
    if count:
        limit_token_writes(store, token.name)
    return token


def require_token(store: EventStore, authority: str, count: bool = True) -> Token:
    """The request's token, with scope `append` and allowed to append to `authority`; 401 or 403 otherwise.

    With `count=False` the caller counts an allowed request itself; a refused one is counted here.
    """
    token = authenticate(store, count)
    try:
        return _may_append(token, authority)
    except Forbidden:
        if not count:
            limit_token_writes(store, token.name)
        raise


def check_token(store: EventStore, value: str, authority: str, count: bool = True) -> Token:
    """The token with this value, with scope `append` and allowed to append to `authority`; 401 or 403 otherwise.

    The HTML form's token field goes through the same checks as the API's Authorization header. With
    `count=False` nothing is counted (service.append_lane: an append the lane does not take goes to Flask,
    which counts it).
    """
    return _may_append(token_for(store, value, count), authority)


def _may_append(token: Token, authority: str) -> Token:
    if not token.has_scope("append"):
        raise Forbidden(f"Token {token.name!r} has no 'append' scope (its scopes: {' '.join(token.scopes)}).")
    if not token.may_append_to(authority):
        raise Forbidden(f"Token {token.name!r} may not append to {authority}.")
    return token


def require_admin(store: EventStore) -> Token:
    """The request's token, with scope `admin` (tokens, webhooks); 401 or 403 otherwise."""
    token = authenticate(store)
    if not token.has_scope("admin"):
        raise Forbidden(f"Token {token.name!r} has no 'admin' scope (its scopes: {' '.join(token.scopes)}).")
    return token
