"""Bearer tokens: made once, shown once, stored only as SHA-256 hashes."""
from __future__ import annotations

import hashlib
import secrets

from flask import request
from werkzeug.exceptions import Forbidden, Unauthorized

from events.store import EventStore, Token

TOKEN_PREFIX = "cst_"


def hash_token(value: str) -> str:
    """The stored form of a token value."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_token(store: EventStore, name: str, authorities: list[str] | None = None) -> str:
    """Create a token and return its value (the only time it is ever available)."""
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.create_token(name, hash_token(value), authorities)
    return value


def require_token(store: EventStore, authority: str) -> Token:
    """The request's token, allowed to append to `authority`; 401 or 403 otherwise.

    Lookup is by hash, so the comparison is of digests in an indexed equality,
    never of the secret itself character by character.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Send a bearer token: Authorization: Bearer <token> (create one with `timeline tokens create NAME`).")
    return check_token(store, value, authority)


def check_token(store: EventStore, value: str, authority: str) -> Token:
    """The stored token with this value, allowed to append to `authority`; 401 or 403 otherwise.

    Shared by the API's Authorization header and the HTML form's token field.
    """
    token = store.find_token(hash_token(value.strip()))
    if token is None:
        raise Unauthorized("The bearer token is unknown or revoked.")
    if not token.may_append_to(authority):
        raise Forbidden(f"Token {token.name!r} may not append to {authority}.")
    return token
