"""Marshmallow schemas for the event envelope and every kind's payload.

Each kind's payload has a schema per `schema_version`; old versions stay here so
stored events can still be validated, and `events.upcasting` lifts them to the
current shape for projections.
"""
from __future__ import annotations

import functools
import re
import uuid

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from events import compiled_schemas, dates
from events.frameworks import FRAMEWORKS, TIMESCALES, allowed_labels, label_matches_grade

KINDS = (
    "inspection",
    "monitoring_visit",
    "focused_visit",
    "ungraded_inspection",
    "diagnostic",
    "committee_response",
    "intervention",
    "concern_update",
    "correction",
    "retraction",
)
# Kinds that report on activity: their findings cannot be published before the activity ended.
REPORT_KINDS = frozenset({"inspection", "monitoring_visit", "focused_visit", "ungraded_inspection", "diagnostic"})
Text = lambda **kw: fields.String(validate=validate.Length(min=1, max=kw.pop("max", 20000)), **kw)  # noqa: E731
TextList = lambda **kw: fields.List(Text(max=20000), validate=validate.Length(max=500), **kw)  # noqa: E731
# Every list has a bound, like every string: a body under the size limit still cannot hold unbounded work.
Items = lambda nested, **kw: fields.List(fields.Nested(nested), validate=validate.Length(max=kw.pop("max", 500)), **kw)  # noqa: E731
Names = lambda **kw: fields.List(Text(max=200), validate=validate.Length(max=100), **kw)  # noqa: E731
MAX_URL_LENGTH = 2000
# The highest page a source may cite: the largest integer every JSON reader holds exactly (I-JSON, RFC 7493).
# It bounds the one integer an event could otherwise make as large as it liked; stored events are read by
# orjson, which reads integers past 64 bits as floats (events.stored_json). Any page accepted before this
# bound and below it still restores from an export.
MAX_PAGE = 2**53 - 1


class Strict(Schema):
    """Refuses unknown fields, so a typo is an error and not silently dropped."""

    class Meta:
        unknown = RAISE


class PartialDateField(fields.String):
    """A date at day, month or year precision: YYYY-MM-DD, YYYY-MM or YYYY."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            dates.parse_partial(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return text


class Occurred(Strict):
    start = PartialDateField(required=True, metadata={"description": "first day of the activity"})
    end = PartialDateField(required=True, metadata={"description": "last day of the activity"})

    @validates_schema
    def _end_after_start(self, data, **kwargs):
        if dates.parse_partial(data["end"]).last < dates.parse_partial(data["start"]).first:
            raise ValidationError("end is before start", "end")


class Source(Strict):
    title = Text(required=True, max=500)
    url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=MAX_URL_LENGTH))
    file = Text(max=500, metadata={"description": "document file name or path"})
    sha256 = fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$", error="must be 64 lowercase hex digits"))
    page = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE))
    paragraph = Text(max=100)
    quote = Text(max=2000)
    note = Text(max=4000)


class Judgement(Strict):
    area = Text(required=True, max=100)
    label = Text(required=True, max=200, metadata={"description": "the label exactly as printed"})
    grade = fields.Integer(required=True, validate=validate.Range(min=1, max=4))


class Grade(Strict):
    label = Text(required=True, max=200)
    grade = fields.Integer(required=True, validate=validate.Range(min=1, max=4))


class Recommendation(Strict):
    text = Text(required=True)
    section = Text(max=200)
    timescale = fields.String(validate=validate.OneOf(TIMESCALES))
    tags = fields.List(Text(max=200), validate=validate.Length(max=50), metadata={"description": "tags printed with the item, e.g. 'outcome 3: national framework'"})


class InspectionV1(Strict):
    """Inspection payload as first recorded: areas for improvement as bare strings."""

    framework = fields.String(required=True, validate=validate.OneOf(sorted(FRAMEWORKS)))
    type = fields.String(load_default="standard", validate=validate.Length(max=100))
    judgements = Items(Judgement, required=True, max=50)
    areas_for_improvement = TextList(load_default=list)
    lead_inspector = Text(max=200)

    @validates_schema
    def _consistent(self, data, **kwargs):
        check_judgements(data)


class InspectionV2(InspectionV1):
    """Current inspection payload: recommendations carry section and timescale."""

    areas_for_improvement = None
    recommendations = Items(Recommendation, load_default=list)
    lscb = fields.Nested(Grade, metadata={"description": "LSCB review judgement (2013-18) where given"})

    class Meta:
        exclude = ("areas_for_improvement",)

    @validates_schema
    def _lscb(self, data, **kwargs):
        lscb = data.get("lscb")
        framework = FRAMEWORKS.get(data.get("framework"))
        if lscb and framework and not label_matches_grade(framework, lscb["label"], lscb["grade"]):
            raise ValidationError(_label_reason(framework, lscb["grade"]), "lscb")


def _label_reason(framework, grade: int) -> str:
    labels = " or ".join(repr(label) for label in allowed_labels(framework, grade))
    return f"label does not match grade {grade} under {framework.key} (expected {labels})"


def check_judgements(data: dict) -> None:
    """Areas must belong to the framework, labels must match grades, each area once."""
    framework = FRAMEWORKS.get(data.get("framework"))
    if framework is None:
        return
    errors: dict = {}
    if data.get("type") not in framework.types:
        errors["type"] = [f"must be one of {', '.join(framework.types)} for {framework.key}"]
    seen: set[str] = set()
    for index, judgement in enumerate(data.get("judgements", [])):
        problems = {}
        if judgement["area"] not in framework.areas:
            problems["area"] = [f"{judgement['area']!r} is not a judgement area of {framework.key}"]
        elif judgement["area"] in seen:
            problems["area"] = ["judged twice in one inspection"]
        elif not label_matches_grade(framework, judgement["label"], judgement["grade"]):
            problems["label"] = [_label_reason(framework, judgement["grade"])]
        seen.add(judgement["area"])
        if problems:
            errors.setdefault("judgements", {})[index] = problems
    if errors:
        raise ValidationError(errors)


class Finding(Strict):
    text = Text(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(["progress", "no_progress", "new_concern"]))


class MonitoringVisit(Strict):
    ordinal = fields.Integer(required=True, validate=validate.Range(min=1, max=100))
    areas_covered = TextList(required=True)
    findings = Items(Finding, required=True)
    inspectors = Names(load_default=list)


class FocusedVisit(Strict):
    topic = Text(required=True, max=500)
    findings = Items(Finding, load_default=list)
    priority_actions = Items(Recommendation, load_default=list)
    inspectors = Names(load_default=list)


class UngradedInspection(Strict):
    inspection_type = fields.String(
        required=True,
        validate=validate.OneOf(["jtai", "send_local_area", "contact_referral_assessment", "service_inspection", "other"]),
    )
    title = Text(required=True, max=500)
    service = Text(max=200)
    service_judgement = fields.Nested(Grade, metadata={"description": "a service inspection's own grade (2009-12)"})
    outcome = Text(max=2000)
    written_statement_of_action_required = fields.Boolean()
    next_visit_window = Text(max=500)
    strengths = TextList(load_default=list)
    areas_for_improvement = Items(Recommendation, load_default=list)
    inspectors = Names(load_default=list)


class Diagnostic(Strict):
    provider = Text(required=True, max=200)
    title = Text(required=True, max=500)
    questions = TextList(load_default=list)
    strengths = TextList(load_default=list)
    areas_for_development = Items(Recommendation, load_default=list)


class ActionItem(Strict):
    text = Text(required=True)
    owner = Text(max=200)
    due = PartialDateField()
    addresses = fields.List(Text(max=200), validate=validate.Length(max=500), load_default=list, metadata={"description": "concern ids"})


class CommitteeResponse(Strict):
    body = Text(required=True, max=300)
    title = Text(required=True, max=500)
    report_of = Text(max=300)
    responds_to = fields.List(fields.UUID(), validate=validate.Length(max=100), load_default=list)
    quoted_judgements = Items(Judgement, load_default=list, max=50)
    action_items = Items(ActionItem, load_default=list)


INTERVENTION_MEASURES = ("improvement_adviser", "improvement_notice", "statutory_direction", "commissioner", "trust", "other")
# Measures that put an authority into the intervention regime while in force.
REGIME_MEASURES = frozenset({"improvement_notice", "statutory_direction", "commissioner", "trust"})


class Intervention(Strict):
    measure = fields.String(required=True, validate=validate.OneOf(INTERVENTION_MEASURES))
    action = fields.String(required=True, validate=validate.OneOf(["issued", "revised", "lifted"]))
    summary = Text(required=True)


class ConcernUpdate(Strict):
    concern_id = Text(required=True, max=200)
    state = fields.String(required=True, validate=validate.OneOf(["progress", "resolved", "escalated"]))
    evidence = Text(required=True)
    evidence_event_id = fields.UUID()


class Changes(Strict):
    effective_on = PartialDateField()
    date_precision = fields.String(validate=validate.OneOf(dates.PRECISIONS))
    occurred = fields.Nested(Occurred)
    payload = fields.Dict(metadata={"description": "payload fields to replace, by top-level key"})
    source = fields.Nested(Source)

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("name at least one field to change")


class Correction(Strict):
    target_event_id = fields.UUID(required=True)
    changes = fields.Nested(Changes, required=True)
    reason = Text(required=True)


class Retraction(Strict):
    target_event_id = fields.UUID(required=True)
    reason = Text(required=True)


PAYLOAD_SCHEMAS: dict[tuple[str, int], type[Schema]] = {
    ("inspection", 1): InspectionV1,
    ("inspection", 2): InspectionV2,
    ("monitoring_visit", 1): MonitoringVisit,
    ("focused_visit", 1): FocusedVisit,
    ("ungraded_inspection", 1): UngradedInspection,
    ("diagnostic", 1): Diagnostic,
    ("committee_response", 1): CommitteeResponse,
    ("intervention", 1): Intervention,
    ("concern_update", 1): ConcernUpdate,
    ("correction", 1): Correction,
    ("retraction", 1): Retraction,
}
CURRENT_VERSION = {kind: max(v for k, v in PAYLOAD_SCHEMAS if k == kind) for kind in KINDS}


class NewEvent(Strict):
    """What a client sends to append an event (the server adds the rest of the envelope)."""

    event_id = fields.UUID(metadata={"description": "optional; the server makes one if absent"})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    schema_version = fields.Integer(validate=validate.Range(min=1), metadata={"description": "defaults to the current version of the kind"})
    effective_on = PartialDateField(required=True, metadata={"description": "when the findings take effect in the public record (publication, letter or meeting date)"})
    date_precision = fields.String(validate=validate.OneOf(dates.PRECISIONS), metadata={"description": "day (default), month or year"})
    occurred = fields.Nested(Occurred, metadata={"description": "when the activity happened; defaults to effective_on"})
    payload = fields.Dict(required=True)
    source = fields.Nested(Source, required=True)
    expected_version = fields.Integer(validate=validate.Range(min=0), metadata={"description": "the stream version the client last saw"})


_new_event = NewEvent()


def validate_new_event(body: object) -> dict:
    """Validate an append request; return the normalised event or raise InvalidEvent.

    Normalises: event_id to a string (made if absent), schema_version defaulted,
    effective_on coarsened to its precision, occurred defaulted to effective_on.
    """
    from events.errors import InvalidEvent

    if not isinstance(body, dict):
        raise InvalidEvent("The request body must be a JSON object.", [{"field": "body", "reason": "must be a JSON object"}])
    try:
        data = compiled_schemas.load(_new_event, body)
    except ValidationError as exc:
        raise InvalidEvent("The event is not valid.", flatten_errors(exc.messages)) from None
    errors: list[dict] = []
    event = _normalise_envelope(data, errors)
    if not errors:
        _validate_payload(event, errors)
    if errors:
        raise InvalidEvent("The event is not valid.", errors)
    return event


def _normalise_envelope(data: dict, errors: list[dict]) -> dict:
    kind = data["kind"]
    version = data.get("schema_version", CURRENT_VERSION[kind])
    if (kind, version) not in PAYLOAD_SCHEMAS:
        errors.append({"field": "schema_version", "reason": f"{kind} has schema versions 1 to {CURRENT_VERSION[kind]}"})
    try:
        effective = dates.parse_partial(data["effective_on"], data.get("date_precision"))
    except ValueError as exc:
        errors.append({"field": "effective_on", "reason": str(exc)})
        return data
    occurred = data.get("occurred") or {"start": effective.iso, "end": effective.iso}
    if kind in REPORT_KINDS and effective.last < dates.parse_partial(occurred["end"]).first:
        errors.append({"field": "effective_on", "reason": f"is before the activity ended ({occurred['end']}); a report cannot take effect before its fieldwork"})
    return {
        "event_id": str(data.get("event_id") or uuid.uuid4()),
        "kind": kind,
        "schema_version": version,
        "effective_on": effective.iso,
        "date_precision": effective.precision,
        "occurred": occurred,
        "payload": data["payload"],
        "source": data["source"],
        **({"expected_version": data["expected_version"]} if "expected_version" in data else {}),
    }


def _validate_payload(event: dict, errors: list[dict]) -> None:
    schema = _payload_schema(event["kind"], event["schema_version"])
    try:
        event["payload"] = compiled_schemas.load(schema, event["payload"])
    except ValidationError as exc:
        errors.extend(flatten_errors(exc.messages, "payload"))
        return
    event["payload"] = _jsonable(event["payload"])


@functools.cache
def _payload_schema(kind: str, version: int) -> Schema:
    # One instance per schema: building one deep-copies every field, a third of a validation's cost.
    return PAYLOAD_SCHEMAS[(kind, version)]()


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def flatten_errors(messages, prefix: str = "") -> list[dict]:
    """Turn marshmallow's nested messages into [{field: "payload.judgements.0.grade", reason}]."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = prefix if key == "_schema" else f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_errors(value, name))
    elif isinstance(messages, list):
        for message in messages:
            out.extend(flatten_errors(message, prefix) if isinstance(message, (dict, list)) else [{"field": prefix, "reason": _reason(message)}])
    else:
        out.append({"field": prefix, "reason": _reason(messages)})
    return out


def _reason(message) -> str:
    text = str(message)
    return re.sub(r"^Unknown field\.$", "unknown field (not part of this schema)", text)
