"""Public reads about the running service: alerts raised, and health (database, clock, jobs)."""
from __future__ import annotations

import os
import sqlite3
from datetime import datetime, time, timezone

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate

from events import alerts, clock_state
from events.dates import format_timestamp, parse_day, parse_timestamp, precision_of
from events.outbox import ALERT_TOPICS
from events.schemas import Strict
from service.api.blueprint import Blueprint, json_response, services
from service.problems import problem

blp = Blueprint("operations", __name__, url_prefix="/api", description="Alerts and health")

DEFAULT_STALE_SECONDS = 120


class SinceField(fields.String):
    """A moment: an ISO timestamp, or a date meaning the start of that day (UTC)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            if precision_of(text) == "day":
                return format_timestamp(datetime.combine(parse_day(text), time.min, timezone.utc))
            return format_timestamp(parse_timestamp(text))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class AlertsQuery(Strict):
    authority = fields.String(validate=validate.Length(min=1, max=100))
    topic = fields.String(validate=validate.OneOf(ALERT_TOPICS))
    since = SinceField(metadata={"description": "only alerts raised at or after this time (ISO, or a date: its start)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class Alert(Schema):
    id = fields.Integer()
    key = fields.String(metadata={"description": "what makes the alert unique: it is raised once"})
    topic = fields.String(validate=validate.OneOf(ALERT_TOPICS))
    authority = fields.String()
    due_on = fields.String(metadata={"description": "the date that passed"})
    raised_at = fields.String()
    detail = fields.Dict(metadata={"description": "the concern or the expected visit, with its source"})


class Alerts(Schema):
    alerts = fields.List(fields.Nested(Alert))


class JobRun(Schema):
    holder = fields.String(allow_none=True)
    started_at = fields.String()
    finished_at = fields.String(allow_none=True)
    ok = fields.Boolean(allow_none=True, metadata={"description": "null while the job is running"})
    detail = fields.Raw(allow_none=True, metadata={"description": "what the run did, or why it failed"})


class ClockStatus(Schema):
    holder = fields.String()
    last_heartbeat = fields.String()
    heartbeat_age_seconds = fields.Float()
    lease_expires_at = fields.String()


class Health(Schema):
    status = fields.String(validate=validate.OneOf(("ok", "degraded")))
    problems = fields.List(fields.String())
    database = fields.Dict(metadata={"description": "reachable, and the last event position"})
    clock = fields.Nested(ClockStatus, allow_none=True, metadata={"description": "null until a clock has run"})
    jobs = fields.Dict(keys=fields.String(), values=fields.Nested(JobRun))
    deliveries = fields.Dict(keys=fields.String(), values=fields.Integer(),
                             metadata={"description": "webhook deliveries pending and dead"})


@blp.route("/alerts")
@blp.arguments(AlertsQuery, location="query", as_kwargs=True)
@blp.response(200, Alerts)
def list_alerts(authority=None, topic=None, since=None, limit=100):
    """Alerts raised by the daily sweep (`concern.overdue`, `visit.expected_overdue`), newest first."""
    return json_response({"alerts": alerts.list_alerts(services().store, authority, topic, since, limit)})


@blp.route("/health")
@blp.response(200, Health)
@blp.doc(responses={"503": {"description": "The database cannot be read",
                            "content": {"application/problem+json": {"schema": "Problem"}}}})
def health():
    """ok or degraded: database reachable, last event position, the clock's heartbeat and each job's last run.

    503 (problem+json) only when the database cannot be read; a stale clock or a failed job is
    `degraded` with 200, since the API itself still answers.
    """
    store = services().store
    try:
        position = store.last_position()
        lease = clock_state.lease(store.db)
        runs = clock_state.last_runs(store.db)
        backlog = dict(store.db.execute("SELECT state, count(*) FROM deliveries WHERE state != 'delivered' "
                                        "GROUP BY state").fetchall())
    except sqlite3.Error:
        current_app.logger.exception("health: the database cannot be read")
        return problem(503, "Service Unavailable", "The database cannot be read; the service cannot answer.")
    problems = []
    clock = _clock(lease, store.clock())
    if clock is None:
        problems.append("no clock has ever run (start `timeline clock`)")
    elif clock["heartbeat_age_seconds"] > _stale_after():
        problems.append(f"the clock's last heartbeat was {clock['heartbeat_age_seconds']:.0f} s ago")
    problems += [f"job {job} failed at {run['finished_at']}" for job, run in runs.items() if run["ok"] is False]
    return json_response({
        "status": "degraded" if problems else "ok",
        "problems": problems,
        "database": {"reachable": True, "last_position": position},
        "clock": clock,
        "jobs": runs,
        "deliveries": {"pending": backlog.get("pending", 0), "dead": backlog.get("dead", 0)},
    })


def _clock(lease: dict | None, now: datetime) -> dict | None:
    if lease is None:
        return None
    age = (now - parse_timestamp(lease["heartbeat_at"])).total_seconds()
    return {"holder": lease["holder"], "last_heartbeat": lease["heartbeat_at"], "heartbeat_age_seconds": round(age, 1),
            "lease_expires_at": lease["expires_at"]}


def _stale_after() -> float:
    return float(os.environ.get("TIMELINE_CLOCK_STALE", DEFAULT_STALE_SECONDS))
