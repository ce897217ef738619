"""RFC 9457 problem details: every error the API returns is application/problem+json."""
from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from events.errors import (ERROR_TYPES, DomainError, IdempotencyMismatch, InvalidEvent, UnknownAuthority, UnknownEvent,
                           UnreadableDocument, UnrecognisedDocument, VersionConflict)
from events.schemas import flatten_errors
from service.web.error_pages import error_page, wants_html

log = logging.getLogger(__name__)
PROBLEM_TYPES_PATH = "/api/problems/"
DOMAIN_STATUS = {
    InvalidEvent: 422,
    UnreadableDocument: 422,
    UnrecognisedDocument: 422,
    IdempotencyMismatch: 422,
    UnknownAuthority: 404,
    UnknownEvent: 404,
    VersionConflict: 409,
}


def status_of(kind: type[DomainError]) -> int:
    """The HTTP status a kind of domain error is answered with."""
    return next((code for cls, code in DOMAIN_STATUS.items() if issubclass(kind, cls)), 400)


def problem(status: int, title: str, detail: str, errors: list[dict] | None = None,
            headers: dict | None = None, type_: str = "about:blank") -> Response:
    """A problem+json response naming each bad field and the reason.

    HTTP-level problems use type about:blank with the status phrase as title;
    domain problems have their own type, documented at /api/problems/<code>.
    """
    body = {"type": type_, "title": title, "status": status, "detail": detail, "instance": request.path}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_domain_error(error: DomainError) -> Response:
    """Domain errors carry their own type, title, detail and field errors."""
    return problem(status_of(type(error)), error.title, error.detail, error.errors, type_=problem_type_uri(error.code))


def problem_type_uri(code: str) -> str:
    """The absolute URI of a problem type (RFC 9457 recommends absolute), served by this API."""
    return request.url_root.rstrip("/") + PROBLEM_TYPES_PATH + code


def problem_types() -> dict[str, dict]:
    """Every domain problem type, for the /api/problems documentation."""
    return {cls.code: {"type": problem_type_uri(cls.code), "title": cls.title,
                       "status": status_of(cls), "description": cls.__doc__} for cls in ERROR_TYPES}


def handle_http_exception(error: HTTPException) -> Response:
    """Werkzeug and webargs errors (404, 405, 413, query validation) as problems; on pages, as an error page."""
    data = getattr(error, "data", None) or {}
    errors = None
    if "messages" in data:  # webargs: {"query": {"as_of": ["..."]}}
        errors = [e for location in data["messages"].values() for e in flatten_errors(location)]
    custom = error.description and error.description != type(error).description
    detail = error.description if custom or not errors else "Some parameters are not valid."
    headers = dict(data.get("headers") or {})
    if error.code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="timeline"'
    if error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    if wants_html():
        return error_page(error.code or 500, error.name, error.description if custom else None, headers)
    return problem(error.code or 500, error.name, detail, errors, headers)


def handle_unexpected(error: Exception) -> Response:
    """Anything unforeseen: logged in full here, never shown (no stack trace or SQL in the body)."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    if wants_html():
        return error_page(500, "Internal Server Error")
    return problem(500, "Internal Server Error", "The server could not answer this request; the error has been logged.")


def register(app: Flask) -> None:
    """Install the problem handlers on an app."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
