"""Events: one by id, the global feed for other tools, and the national picture."""
from __future__ import annotations

from flask import url_for
from werkzeug.exceptions import NotFound

from events import queries
from service.api import schemas
from service.api.blueprint import Blueprint, json_response, services, today
from service.problems import problem_types

blp = Blueprint("events", __name__, url_prefix="/api", description="Events, the global feed, the national picture")


@blp.route("/events/<uuid:event_id>")
@blp.arguments(schemas.AsOfQuery(only=("known_at",)), location="query", as_kwargs=True)
@blp.response(200, schemas.Event)
@blp.doc(responses={"404": {"description": "Unknown event", "content": {"application/problem+json": {"schema": "Problem"}}}})
def get_event(event_id, known_at=None):
    """One event as now understood, with its corrections and the form it was recorded in."""
    return json_response(queries.event(services().store, str(event_id), known_at))


@blp.route("/events")
@blp.arguments(schemas.FeedQuery, location="query", as_kwargs=True)
@blp.response(200, schemas.Feed)
def get_feed(after=0, limit=100):
    """Every event in recording (position) order after `after`: follow with the returned last_position."""
    found = services().store.read_all(after, limit)
    last = found[-1].position if found else after
    headers = {"Link": f'<{url_for("events.get_feed", after=last, limit=limit)}>; rel="next"'} if found else {}
    return json_response({"events": [e.to_dict() for e in found], "last_position": last}, headers=headers)


@blp.route("/status")
@blp.arguments(schemas.AsOfQuery, location="query", as_kwargs=True)
@blp.response(200, schemas.NationalStatus)
def get_national_status(as_of=None, known_at=None):
    """Every active authority's status on one date: the national picture."""
    svc = services()
    return json_response(queries.national_status(svc.store, svc.registry, as_of or today(), known_at))


@blp.route("/problems")
@blp.response(200, schemas.ProblemType(many=True))
def list_problem_types():
    """The problem types this API's errors name in their `type` (RFC 9457)."""
    return json_response(list(problem_types().values()))


@blp.route("/problems/<code>")
@blp.response(200, schemas.ProblemType)
@blp.doc(responses={"404": {"description": "No such problem type",
                            "content": {"application/problem+json": {"schema": "Problem"}}}})
def get_problem_type(code):
    """One problem type's documentation."""
    found = problem_types().get(code)
    if found is None:
        raise NotFound(f"There is no problem type {code!r}; GET /api/problems lists them.")
    return json_response(found)
