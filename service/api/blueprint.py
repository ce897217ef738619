"""A flask-smorest Blueprint whose query errors are 400s (bad request), not 422s."""
from __future__ import annotations

from datetime import date

import flask_smorest
from flask import Response, current_app, json
from webargs.flaskparser import FlaskParser


class QueryParser(FlaskParser):
    """Query strings that do not parse are the client's malformed request: 400.

    Unknown parameters are refused too (the schemas say RAISE; webargs would
    otherwise drop them), so a misspelt `asof=` is an error, not a silent
    answer for today.
    """

    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    """Blueprint with the 400 parser."""

    ARGUMENTS_PARSER = QueryParser(unknown=None)


def json_response(body: object, status: int = 200, headers: dict | None = None) -> Response:
    """JSON built by the domain, sent as it is (no marshmallow dump on the read path)."""
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def services():
    """The app's store and registry."""
    return current_app.extensions["timeline"]


def today() -> date:
    """Today's date for default as_of (the service's clock)."""
    return services().today()
