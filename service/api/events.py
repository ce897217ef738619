"""Events: one by id, the global feed for other tools, and the national picture."""
from __future__ import annotations

from flask import url_for
from werkzeug.exceptions import NotFound

from events import queries, tables
from service.api import schemas
from service.api.blueprint import Blueprint, json_response, services, today
from service.api.caching import IF_NONE_MATCH, etag_for, not_modified, stamp
from service.api.formats import answer, format_docs, negotiate
from service.problems import problem_types

blp = Blueprint("events", __name__, url_prefix="/api", description="Events, the global feed, the national picture")


@blp.route("/events/<uuid:event_id>", parameters=[IF_NONE_MATCH])
@blp.arguments(schemas.AsOfQuery(only=("known_at",)), location="query", as_kwargs=True)
@blp.response(200, schemas.Event)
@blp.doc(responses={"404": {"description": "Unknown event", "content": {"application/problem+json": {"schema": "Problem"}}}})
def get_event(event_id, known_at=None):
    """One event as now understood, with its corrections and the form it was recorded in."""
    store = services().store
    found = queries.event(store, str(event_id), known_at)
    # Corrections and retractions of an event are in its own stream.
    etag = etag_for(store.stream_position(found["authority"]), "json")
    return not_modified(etag) or stamp(json_response(found), etag)


@blp.route("/events", parameters=[IF_NONE_MATCH])
@blp.arguments(schemas.FeedQuery, location="query", as_kwargs=True)
@blp.response(200, schemas.Feed)
@blp.doc(responses=format_docs(tables.FEED, "Event", "Feed"))
def get_feed(after=0, limit=None, format_=None):
    """Every event in recording (position) order after `after`: follow with the returned last_position.

    JSON pages 100 events at a time unless `limit` says otherwise; CSV and NDJSON without a `limit` stream every
    event after `after`, read from the store in batches.
    """
    store = services().store
    fmt = negotiate(format_)
    upto = store.last_position()
    if limit is None and fmt != "json":
        items = lambda: (tables.event_record(e) for e in store.iter_all(after=after, upto=upto))  # noqa: E731
        return answer(fmt, etag_for(upto, fmt), json_body=dict, table=tables.FEED, items=items)
    size = limit or 100
    found = store.read_all(after, size)
    last = found[-1].position if found else after
    # A full page never changes (positions only grow), so its ETag outlives later appends; a partial one may grow.
    etag = etag_for(last if len(found) == size else upto, fmt)
    args = {"after": last, "limit": size} | ({"format": format_} if format_ else {})
    headers = {"Link": f'<{url_for("events.get_feed", **args)}>; rel="next"'} if found else {}
    return answer(fmt, etag, json_body=lambda: {"events": [e.envelope() for e in found], "last_position": last},
                  table=tables.FEED, items=lambda: (tables.event_record(e) for e in found), headers=headers)


@blp.route("/status", parameters=[IF_NONE_MATCH])
@blp.arguments(schemas.NationalStatusQuery, location="query", as_kwargs=True)
@blp.response(200, schemas.NationalStatus)
@blp.doc(responses=format_docs(tables.NATIONAL_STATUS, "Status with name and region", "NationalStatus"))
def get_national_status(as_of=None, known_at=None, format_=None):
    """Every active authority's status on one date: the national picture."""
    svc = services()
    fmt = negotiate(format_)
    etag = etag_for(svc.store.last_position(), fmt, None if as_of else today())
    as_of = as_of or today()
    return answer(fmt, etag, json_body=lambda: queries.national_status(svc.store, svc.registry, as_of, known_at),
                  table=tables.NATIONAL_STATUS,
                  items=lambda: queries.national_statuses(svc.store, svc.registry, as_of, known_at))


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
