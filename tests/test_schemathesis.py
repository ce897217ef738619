"""Schemathesis against /api/openapi.json, in process (WSGI): no 5xx, every error problem+json, responses match the schema.

Bounded: a few examples per operation (SCHEMATHESIS_EXAMPLES, default 15), so the
whole run stays well under a minute. Appends carry a valid token.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from conftest import TODAY
from service.app import create_app

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))


@schemathesis.check
def errors_are_problem_json(ctx, response, case):
    """Every 4xx and 5xx is application/problem+json."""
    if response.status_code >= 400:
        content_type = (response.headers.get("content-type") or [""])[0]
        if not content_type.startswith("application/problem+json"):
            raise AssertionError(f"{response.status_code} answered with {content_type!r}, not application/problem+json")


# The spec is read from an app at collection (create_app opens no database); each test then points
# that app at its own seeded store. (schemathesis.pytest.from_fixture does not work with pytest 9.2.)
_app = create_app({"TIMELINE_DATABASE": "not-opened.db", "TESTING": True, "TODAY": lambda: TODAY})
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", _app)


@schemathesis.serializer("application/pdf")
def pdf_body(ctx, value):
    """Generated binary bodies sent as they are (random bytes: the drafts endpoint must refuse them cleanly)."""
    return {"data": value if isinstance(value, bytes) else str(value).encode()}


@pytest.fixture
def served(seeded_store):
    _app.extensions["timeline"].store = seeded_store
    yield _app
    _app.extensions["timeline"].store = None


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_conforms(case, served, auth):
    case.call_and_validate(headers=auth, checks=[not_a_server_error, response_schema_conformance,
                                                 content_type_conformance, errors_are_problem_json])
