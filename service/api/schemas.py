"""Schemas for the OpenAPI document and query parsing.

Responses are documented with these schemas but not dumped through them: the
views return JSON built by the domain, which keeps marshmallow off the read
path (see issue 7's measurements).
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from events import dates
from events.frameworks import NORMALISED_AREAS
from events.schemas import KINDS, Occurred, Source, Strict
from events.projections.status import CONCERN_STATES


class DayField(fields.Date):
    """A full YYYY-MM-DD date in a query string."""


class KnownAtField(fields.String):
    """A transaction time: ISO timestamp, or a date meaning the end of that day (UTC)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return dates.format_timestamp(dates.parse_timestamp(text))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def format_field() -> fields.String:
    """`?format=`: the list's format, overriding the Accept header."""
    return fields.String(data_key="format", validate=validate.OneOf(["json", "csv", "ndjson"]),
                         metadata={"description": "json, csv or ndjson (overrides the Accept header)"})


class AsOfQuery(Strict):
    as_of = DayField(metadata={"description": "valid date (default today): the record as it stood on this day"})
    known_at = KnownAtField(metadata={"description": "transaction time: only events recorded by then (default now)"})


class NationalStatusQuery(AsOfQuery):
    format_ = format_field()


class ConcernsQuery(AsOfQuery):
    state = fields.String(load_default="open", validate=validate.OneOf(CONCERN_STATES))
    format_ = format_field()


class JudgementsQuery(AsOfQuery):
    area = fields.String(metadata={"description": "an area key or a normalised area: " + ", ".join(NORMALISED_AREAS)})
    format_ = format_field()


class TimelineQuery(Strict):
    known_at = KnownAtField()
    from_ = DayField(data_key="from", metadata={"description": "first effective date to include"})
    to = DayField(metadata={"description": "last effective date to include"})
    kind = fields.List(fields.String(validate=validate.OneOf(KINDS)), metadata={"description": "repeatable"})
    include_predecessors = fields.Boolean(load_default=True, metadata={"description": "show predecessor authorities' events, marked from_predecessor"})
    cursor = fields.String()
    limit = fields.Integer(validate=validate.Range(min=1, max=1000),
                           metadata={"description": "page size: default 100 for JSON; CSV and NDJSON send every event unless given"})
    format_ = format_field()


class FeedQuery(Strict):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**63 - 1), metadata={"description": "last position seen"})
    limit = fields.Integer(validate=validate.Range(min=1, max=1000),
                           metadata={"description": "page size: default 100 for JSON; CSV and NDJSON stream every event after `after` unless given"})
    format_ = format_field()


class AtomQuery(Strict):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500),
                           metadata={"description": "how many of the newest events"})


class AuthoritiesQuery(Strict):
    region = fields.String()
    grade = fields.Integer(validate=validate.Range(min=1, max=4), metadata={"description": "overall grade in force"})
    regime = fields.String(validate=validate.OneOf(["monitoring", "intervention", "none"]))
    include_inactive = fields.Boolean(load_default=False)
    format_ = format_field()


class Event(Schema):
    event_id = fields.UUID()
    authority = fields.String()
    version = fields.Integer()
    position = fields.Integer()
    kind = fields.String()
    schema_version = fields.Integer()
    effective_on = fields.String()
    date_precision = fields.String()
    occurred = fields.Nested(Occurred)
    recorded_at = fields.String(metadata={"description": "server time when stored (transaction time)"})
    recorded_by = fields.String()
    payload = fields.Dict()
    source = fields.Nested(Source)
    corrections = fields.List(fields.Dict())
    as_recorded = fields.Dict()
    retracted = fields.Dict()
    from_predecessor = fields.String()


class Overall(Schema):
    judged = fields.Boolean()
    grade = fields.Integer(allow_none=True)
    label = fields.String(allow_none=True)
    framework = fields.String()
    effective_on = fields.String()
    date_precision = fields.String()
    event_id = fields.UUID()
    basis = fields.String()
    note = fields.String()
    components = fields.List(fields.Dict())


class Status(Schema):
    authority = fields.String()
    as_of = fields.Date()
    known_at = fields.String(allow_none=True)
    overall = fields.Nested(Overall, allow_none=True)
    judgements = fields.List(fields.Dict())
    inspection = fields.Dict(allow_none=True)
    regime = fields.Dict()
    open_concerns = fields.Integer()
    overdue_concerns = fields.Integer()
    last_event = fields.Dict(allow_none=True)
    next_expected = fields.List(fields.Dict())
    imprecise_dates = fields.List(fields.Dict())
    events_considered = fields.Integer()


class Concern(Schema):
    concern_id = fields.String()
    text = fields.String()
    section = fields.String(allow_none=True)
    timescale = fields.String(allow_none=True)
    opened_on = fields.String()
    due_on = fields.String(allow_none=True)
    due_precision = fields.String(allow_none=True)
    source = fields.Dict()
    state = fields.String(metadata={"description": "open, resolved or superseded"})
    overdue = fields.Boolean()
    closed_on = fields.String(allow_none=True)
    closed_by = fields.Dict(allow_none=True)
    updates = fields.List(fields.Dict())


class Judgement(Schema):
    event_id = fields.UUID()
    effective_on = fields.String()
    date_precision = fields.String()
    framework = fields.String()
    type = fields.String()
    area = fields.String()
    normalised_area = fields.String(allow_none=True)
    label = fields.String(allow_none=True)
    grade = fields.Integer(allow_none=True)
    derived = fields.Boolean()
    note = fields.String()


class AuthoritySummary(Schema):
    slug = fields.String()
    name = fields.String()
    ofsted_urn = fields.String(allow_none=True)
    la_code = fields.String(allow_none=True)
    ons_code = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    active = fields.Boolean()
    predecessors = fields.List(fields.String())
    successors = fields.List(fields.String())
    created_on = fields.String(allow_none=True, metadata={"description": "when a reorganisation created it"})
    abolished_on = fields.String(allow_none=True, metadata={"description": "when a reorganisation abolished it"})
    status = fields.Dict(allow_none=True)
    links = fields.Dict(metadata={"description": "one authority: its status, timeline, concerns and judgements"})


class Timeline(Schema):
    authority = fields.String()
    events = fields.List(fields.Nested(Event))
    next_cursor = fields.String(allow_none=True)


class Concerns(Schema):
    authority = fields.String()
    as_of = fields.Date()
    state = fields.String()
    concerns = fields.List(fields.Nested(Concern))


class Judgements(Schema):
    authority = fields.String()
    judgements = fields.List(fields.Nested(Judgement))


class Feed(Schema):
    events = fields.List(fields.Nested(Event))
    last_position = fields.Integer()


class NationalStatusEntry(Status):
    name = fields.String()
    region = fields.String(allow_none=True)


class NationalStatus(Schema):
    as_of = fields.Date()
    counts_by_grade = fields.Dict()
    authorities = fields.List(fields.Nested(NationalStatusEntry))


class ProblemType(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    description = fields.String()


class Problem(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    errors = fields.List(fields.Dict(), metadata={"description": "[{field, reason}]"})
