"""Webhook registrations: validation and storage.

A webhook's secret is kept as given, because signing needs it in clear, and
is never shown again: records carry only a hint (its last four characters).
Filters are optional: `authorities` (slugs) and `kinds` (event kinds, or the
topics `event.appended`, `concern.overdue`, `visit.expected_overdue`).
"""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate, validates
from sqlite_utils import Database

from events.dates import format_timestamp
from events.outbox import TOPICS
from events.registry import Registry
from events.schemas import KINDS

MIN_SECRET = 16
MAX_SECRET = 200
MAX_URL = 2000
_COLUMNS = "id, url, secret, authorities, kinds, description, active, created_at, created_by"


def _check_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValidationError("must be an http or https URL")
    if not parts.hostname:
        raise ValidationError("must name a host")
    if parts.fragment:
        raise ValidationError("must not have a #fragment")


class WebhookRequest(Schema):
    """What `POST /api/webhooks` takes. Unknown fields are refused."""

    url = fields.String(required=True, validate=[validate.Length(max=MAX_URL), _check_url],
                        metadata={"description": "http or https URL that receives POSTed deliveries"})
    secret = fields.String(required=True, load_only=True, validate=validate.Length(min=MIN_SECRET, max=MAX_SECRET),
                           metadata={"description": "signing key for X-Timeline-Signature; never shown again"})
    authorities = fields.List(fields.String(), validate=validate.Length(min=1, max=500), allow_none=True,
                              metadata={"description": "only events and alerts about these authority slugs"})
    kinds = fields.List(fields.String(validate=validate.OneOf(KINDS + TOPICS)), allow_none=True,
                        validate=validate.Length(min=1),
                        metadata={"description": "event kinds and/or topics: " + ", ".join(TOPICS)})
    description = fields.String(validate=validate.Length(max=500), allow_none=True)

    def __init__(self, registry: Registry | None = None, **kwargs):
        super().__init__(**kwargs)
        self.registry = registry

    @validates("authorities")
    def _known_authorities(self, value, **_):
        """Every slug must be in the registry."""
        if self.registry is None or value is None:
            return
        unknown = [slug for slug in value if self.registry.get(slug) is None]
        if unknown:
            raise ValidationError(f"unknown authority: {', '.join(unknown)}")


class WebhookPatch(Schema):
    """What `PATCH /api/webhooks/<id>` takes: pause (false) or resume (true)."""

    active = fields.Boolean(required=True, truthy={True}, falsy={False})


def _row(row: tuple) -> dict:
    (ident, url, secret, authorities, kinds, description, active, created_at, created_by) = row
    return {"id": ident, "url": url, "secret_hint": "****" + secret[-4:], "authorities": _loads(authorities),
            "kinds": _loads(kinds), "description": description, "active": bool(active),
            "created_at": created_at, "created_by": created_by}


def _loads(text: str | None):
    return json.loads(text) if text is not None else None


def create(db: Database, request: dict, created_by: str, now) -> dict:
    """Store a validated registration; the record (with a secret hint, never the secret)."""
    with db.atomic():
        cursor = db.execute(
            "INSERT INTO webhooks (url, secret, authorities, kinds, description, active, created_at, created_by) "
            "VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
            (request["url"], request["secret"], _dumps(request.get("authorities")), _dumps(request.get("kinds")),
             request.get("description"), format_timestamp(now), created_by))
    return get(db, cursor.lastrowid)


def _dumps(values: list | None) -> str | None:
    return json.dumps(sorted(set(values))) if values else None


def get(db: Database, webhook_id: int) -> dict | None:
    """One registration, or None."""
    rows = db.execute(f"SELECT {_COLUMNS} FROM webhooks WHERE id = ?", (webhook_id,)).fetchall()
    return _row(rows[0]) if rows else None


def secret_of(db: Database, webhook_id: int) -> str:
    """The signing secret (for the sender only; never for a response)."""
    return db.execute("SELECT secret FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()[0]


def list_all(db: Database) -> list[dict]:
    """Every registration, oldest first."""
    return [_row(r) for r in db.execute(f"SELECT {_COLUMNS} FROM webhooks ORDER BY id").fetchall()]


def set_active(db: Database, webhook_id: int, active: bool) -> dict | None:
    """Pause or resume; the record, or None if there is no such webhook."""
    with db.atomic():
        db.execute("UPDATE webhooks SET active = ? WHERE id = ?", (int(active), webhook_id))
    return get(db, webhook_id)


def delete(db: Database, webhook_id: int) -> bool:
    """Remove a registration with its deliveries and their attempts; False if there was none."""
    with db.atomic():
        cursor = db.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,))
    return cursor.rowcount > 0
