"""Authorities: the registry with each one's status, timeline, concerns and judgements."""
from __future__ import annotations

from flask import request, url_for

from events import queries
from events.appending import append_event
from service.api.blueprint import Blueprint, json_response, services, today
from service.api import schemas
from service.api.requests import idempotency_key, json_body
from service.auth import require_token
from service.problems import problem

blp = Blueprint("authorities", __name__, url_prefix="/api", description="Authorities and their record")
PROBLEMS = {"404": {"description": "Unknown authority", "content": {"application/problem+json": {"schema": "Problem"}}}}


@blp.route("/authorities")
@blp.arguments(schemas.AuthoritiesQuery, location="query", as_kwargs=True)
@blp.response(200, schemas.AuthoritySummary(many=True))
def list_authorities(region=None, grade=None, regime=None, include_inactive=False):
    """All authorities with their current status summary; filter by region, overall grade or regime."""
    svc = services()
    return json_response(queries.authority_summaries(svc.store, svc.registry, today(), region=region, grade=grade,
                                                     regime=regime, include_inactive=include_inactive))


@blp.route("/authorities/<slug>")
@blp.response(200, schemas.AuthoritySummary)
@blp.doc(responses=PROBLEMS)
def get_authority(slug):
    """One authority: codes, predecessors, successors and its status today."""
    svc = services()
    authority = queries.authority_or_404(svc.registry, slug)
    out = authority.to_dict()
    out["status"] = queries.status(svc.store, slug, today(), None)
    out["links"] = {rel: url_for(f"authorities.{view}", slug=slug) for rel, view in
                    (("status", "get_status"), ("timeline", "get_timeline"), ("concerns", "get_concerns"),
                     ("judgements", "get_judgements"))}
    return json_response(out)


@blp.route("/authorities/<slug>/status")
@blp.arguments(schemas.AsOfQuery, location="query", as_kwargs=True)
@blp.response(200, schemas.Status)
@blp.doc(responses=PROBLEMS)
def get_status(slug, as_of=None, known_at=None):
    """Status on a date (`as_of`, valid time) as known at a time (`known_at`, transaction time)."""
    svc = services()
    queries.authority_or_404(svc.registry, slug)
    return json_response(queries.status(svc.store, slug, as_of or today(), known_at))


@blp.route("/authorities/<slug>/timeline")
@blp.arguments(schemas.TimelineQuery, location="query", as_kwargs=True)
@blp.response(200, schemas.Timeline)
@blp.doc(responses=PROBLEMS)
def get_timeline(slug, known_at=None, from_=None, to=None, kind=None, include_predecessors=True, cursor=None, limit=100):
    """Every event in effective-date order, each with its source; cursor-paginated (Link: rel=next)."""
    svc = services()
    queries.authority_or_404(svc.registry, slug)
    items = queries.timeline(svc.store, svc.registry, slug, known_at=known_at, start=from_, end=to, kinds=kind,
                             include_predecessors=include_predecessors)
    try:
        chunk, next_cursor = queries.page(items, cursor, limit)
    except ValueError as exc:
        return _bad_cursor(exc)
    headers = {}
    if next_cursor:
        args = request.args.to_dict(flat=False)
        args["cursor"] = [next_cursor]
        headers["Link"] = f'<{url_for("authorities.get_timeline", slug=slug, **args)}>; rel="next"'
    return json_response({"authority": slug, "events": chunk, "next_cursor": next_cursor}, headers=headers)


def _bad_cursor(exc: ValueError):
    return problem(400, "Bad Request", "The cursor is not valid.", [{"field": "cursor", "reason": str(exc)}])


@blp.route("/authorities/<slug>/concerns")
@blp.arguments(schemas.ConcernsQuery, location="query", as_kwargs=True)
@blp.response(200, schemas.Concerns)
@blp.doc(responses=PROBLEMS)
def get_concerns(slug, as_of=None, known_at=None, state="open"):
    """Concerns on a date: open, overdue, closed (resolved or superseded) or all, with due dates and sources."""
    svc = services()
    queries.authority_or_404(svc.registry, slug)
    as_of = as_of or today()
    found = queries.concerns(svc.store, slug, as_of, known_at, state)
    return json_response({"authority": slug, "as_of": as_of.isoformat(), "state": state, "concerns": found})


@blp.route("/authorities/<slug>/judgements")
@blp.arguments(schemas.JudgementsQuery, location="query", as_kwargs=True)
@blp.response(200, schemas.Judgements)
@blp.doc(responses=PROBLEMS)
def get_judgements(slug, as_of=None, known_at=None, area=None):
    """Judgement history across frameworks, by area or normalised area."""
    svc = services()
    queries.authority_or_404(svc.registry, slug)
    found = queries.judgements(svc.store, slug, as_of or today(), known_at, area)
    return json_response({"authority": slug, "judgements": found})


@blp.route("/authorities/<slug>/events", methods=["POST"])
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": "AppendRequest"}}},
    security=[{"bearerAuth": []}],
    parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string", "maxLength": 200},
                 "description": "retries with the same key return the original result"}],
    responses={"201": {"description": "Appended (or, for a retry, the original result)",
                       "content": {"application/json": {"schema": "Event"}}},
               **{code: {"description": text, "content": {"application/problem+json": {"schema": "Problem"}}}
                  for code, text in (("400", "Malformed JSON"), ("401", "No or bad token"),
                                     ("403", "Token may not append here"), ("404", "Unknown authority"),
                                     ("409", "expected_version is stale"), ("413", "Body too large"),
                                     ("415", "Not JSON"), ("422", "Invalid event or reused idempotency key"),
                                     ("429", "Over the token's write rate limit (Retry-After says when to retry)"))}},
)
def post_event(slug):
    """Append an event to an authority's stream (bearer token)."""
    svc = services()
    queries.authority_or_404(svc.registry, slug)
    token = require_token(svc.store, slug)
    result = append_event(svc.store, svc.registry, slug, json_body(), idempotency_key=idempotency_key(),
                          recorded_by=token.name, today=today)
    headers = {"Location": url_for("events.get_event", event_id=result.event.event_id)}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(result.event.to_dict(), 201, headers)
