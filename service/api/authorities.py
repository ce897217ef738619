"""Authorities: the registry with each one's status, timeline, concerns and judgements."""
from __future__ import annotations

from flask import request, url_for

from events import queries, tables
from events.appending import append_event
from service.api.blueprint import Blueprint, documented_only, json_response, services, today
from service.api import schemas
from service.append_lane import APPEND_BEGUN
from service.api.query_args import FORMAT, QueryReader, boolean, day, limit, one_of, text
from service.api.caching import IF_NONE_MATCH, etag_for, not_modified, stamp
from service.api.formats import answer, format_docs, negotiate
from service.api.requests import idempotency_key, json_body
from service.auth import require_token
from service.ratelimit import counted_write
from service.problems import problem

blp = Blueprint("authorities", __name__, url_prefix="/api", description="Authorities and their record")
PROBLEMS = {"404": {"description": "Unknown authority", "content": {"application/problem+json": {"schema": "Problem"}}}}
CONDITIONAL = [IF_NONE_MATCH]
# The hot reads parse their query by hand (see query_args); known_at always goes through its schema.
STATUS_QUERY = QueryReader(schemas.AsOfQuery(), {"as_of": ("as_of", day)})
TIMELINE_QUERY = QueryReader(schemas.TimelineQuery(), {
    "from": ("from_", day), "to": ("to", day), "include_predecessors": ("include_predecessors", boolean),
    "cursor": ("cursor", text), "limit": ("limit", limit), "format": ("format_", FORMAT)})
CONCERNS_QUERY = QueryReader(schemas.ConcernsQuery(), {
    "as_of": ("as_of", day), "state": ("state", one_of(*schemas.CONCERN_STATES)), "format": ("format_", FORMAT)})


@blp.route("/authorities", parameters=CONDITIONAL)
@blp.arguments(schemas.AuthoritiesQuery, location="query", as_kwargs=True)
@blp.response(200, schemas.AuthoritySummary(many=True))
@blp.doc(responses=format_docs(tables.AUTHORITIES, "AuthoritySummary", "AuthoritySummary", many=True))
def list_authorities(region=None, grade=None, regime=None, include_inactive=False, format_=None):
    """All authorities with their current status summary; filter by region, overall grade or regime."""
    svc = services()
    fmt = negotiate(format_)
    found = lambda: queries.authority_summaries(svc.store, svc.registry, today(), region=region, grade=grade,  # noqa: E731
                                                regime=regime, include_inactive=include_inactive)
    return answer(fmt, etag_for(svc.store.last_position(), fmt, today()), json_body=found,
                  table=tables.AUTHORITIES, items=found)


@blp.route("/authorities/<slug>", parameters=CONDITIONAL)
@blp.response(200, schemas.AuthoritySummary)
@blp.doc(responses=PROBLEMS)
def get_authority(slug):
    """One authority: codes, predecessors, successors and its status today."""
    svc = services()
    authority = queries.authority_or_404(svc.registry, slug)
    etag = etag_for(svc.store.stream_position(slug), "json", today())
    if cached := not_modified(etag):
        return cached
    out = authority.to_dict()
    out["status"] = queries.status(svc.store, slug, today(), None)
    out["links"] = {rel: url_for(f"authorities.{view}", slug=slug) for rel, view in
                    (("status", "get_status"), ("timeline", "get_timeline"), ("concerns", "get_concerns"),
                     ("judgements", "get_judgements"))}
    out["links"]["feed"] = url_for("feeds.authority_feed", slug=slug)
    return stamp(json_response(out), etag)


@blp.route("/authorities/<slug>/status", parameters=CONDITIONAL)
@documented_only
@blp.query_doc(STATUS_QUERY.schema)
@blp.response(200, schemas.Status)
@blp.doc(responses=PROBLEMS)
def get_status(slug):
    """Status on a date (`as_of`, valid time) as known at a time (`known_at`, transaction time)."""
    args = STATUS_QUERY()
    as_of, known_at = args.get("as_of"), args.get("known_at")
    svc = services()
    queries.authority_or_404(svc.registry, slug)
    day_ = as_of or today()
    # One read gives the ETag's position and the stored entry from the same snapshot.
    position, entry = (svc.store.status_on(slug, day_.isoformat()) if known_at is None
                       else (svc.store.stream_position(slug), None))
    etag = etag_for(position, "json", None if as_of else today())
    if cached := not_modified(etag):
        return cached
    return stamp(json_response(queries.status(svc.store, slug, day_, known_at, entry)), etag)


@blp.route("/authorities/<slug>/timeline", parameters=CONDITIONAL)
@documented_only
@blp.query_doc(TIMELINE_QUERY.schema)
@blp.response(200, schemas.Timeline)
@blp.doc(responses={**PROBLEMS, **format_docs(tables.TIMELINE, "timeline item (Event)", "Timeline")})
def get_timeline(slug):
    """Every event in effective-date order, each with its source; cursor-paginated (Link: rel=next).

    JSON pages 100 events at a time unless `limit` says otherwise; CSV and NDJSON send every event unless given a `limit`.
    """
    return _timeline(slug, **TIMELINE_QUERY())


def _timeline(slug, known_at=None, from_=None, to=None, kind=None, include_predecessors=True, cursor=None, limit=None,
              format_=None):
    svc = services()
    queries.authority_or_404(svc.registry, slug)
    fmt = negotiate(format_)
    streams = [slug] + (svc.registry.lineage(slug) if include_predecessors else [])
    etag = etag_for(max(svc.store.stream_position(s) for s in streams), fmt)
    if cached := not_modified(etag):
        return cached
    items = queries.timeline(svc.store, svc.registry, slug, known_at=known_at, start=from_, end=to, kinds=kind,
                             include_predecessors=include_predecessors)
    if limit is None and fmt == "json":
        limit = 100
    try:
        chunk, next_cursor = queries.page(items, cursor, limit or len(items) or 1)
    except ValueError as exc:
        return _bad_cursor(exc)
    headers = {}
    if next_cursor:
        args = request.args.to_dict(flat=False)
        args["cursor"] = [next_cursor]
        headers["Link"] = f'<{url_for("authorities.get_timeline", slug=slug, **args)}>; rel="next"'
    return answer(fmt, etag, json_body=lambda: {"authority": slug, "events": chunk, "next_cursor": next_cursor},
                  table=tables.TIMELINE, items=lambda: chunk, headers=headers)


def _bad_cursor(exc: ValueError):
    return problem(400, "Bad Request", "The cursor is not valid.", [{"field": "cursor", "reason": str(exc)}])


@blp.route("/authorities/<slug>/concerns", parameters=CONDITIONAL)
@documented_only
@blp.query_doc(CONCERNS_QUERY.schema)
@blp.response(200, schemas.Concerns)
@blp.doc(responses={**PROBLEMS, **format_docs(tables.CONCERNS, "Concern with its authority", "Concerns")})
def get_concerns(slug):
    """Concerns on a date: open, overdue, closed (resolved or superseded) or all, with due dates and sources."""
    return _concerns(slug, **CONCERNS_QUERY())


def _concerns(slug, as_of=None, known_at=None, state="open", format_=None):
    svc = services()
    queries.authority_or_404(svc.registry, slug)
    fmt = negotiate(format_)
    etag = etag_for(svc.store.stream_position(slug), fmt, None if as_of else today())
    as_of = as_of or today()
    found = lambda: queries.concerns(svc.store, slug, as_of, known_at, state)  # noqa: E731
    return answer(fmt, etag, json_body=lambda: {"authority": slug, "as_of": as_of.isoformat(), "state": state,
                                                "concerns": found()},
                  table=tables.CONCERNS, items=lambda: ({"authority": slug, **c} for c in found()))


@blp.route("/authorities/<slug>/judgements", parameters=CONDITIONAL)
@blp.arguments(schemas.JudgementsQuery, location="query", as_kwargs=True)
@blp.response(200, schemas.Judgements)
@blp.doc(responses={**PROBLEMS, **format_docs(tables.JUDGEMENTS, "Judgement with its authority", "Judgements")})
def get_judgements(slug, as_of=None, known_at=None, area=None, format_=None):
    """Judgement history across frameworks, by area or normalised area."""
    svc = services()
    queries.authority_or_404(svc.registry, slug)
    fmt = negotiate(format_)
    etag = etag_for(svc.store.stream_position(slug), fmt, None if as_of else today())
    found = lambda: queries.judgements(svc.store, slug, as_of or today(), known_at, area)  # noqa: E731
    return answer(fmt, etag, json_body=lambda: {"authority": slug, "judgements": found()},
                  table=tables.JUDGEMENTS, items=lambda: ({"authority": slug, **j} for j in found()))


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
    begun = request.environ.pop(APPEND_BEGUN, None)  # tried by service.append_lane, which left the answer to us
    queries.authority_or_404(svc.registry, slug)
    token = begun.token if begun else require_token(svc.store, slug, count=False)
    result = counted_write(svc.store, token.name, begun.outcome if begun else lambda hit: append_event(
        svc.store, svc.registry, slug, json_body(), idempotency_key=idempotency_key(), recorded_by=token.name,
        count_hit=hit))
    headers = {"Location": url_for("events.get_event", event_id=result.event.event_id)}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(result.event.envelope(), 201, headers)
