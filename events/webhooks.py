"""Webhook registrations: validation and storage.

A webhook's secret is kept as given, because signing needs it in clear, and
is never shown again: records carry only a hint (its last four characters).
Filters are optional: `authorities` (slugs) and `kinds` (event kinds, or the
topics `event.appended`, `concern.overdue`, `visit.expected_overdue`).
"""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema
from sqlite_utils import Database

from events.dates import format_timestamp
from events.outbox import TOPICS
from events.receiver_address import RefusedAddress, check_url, private_allowed
from events.registry import Registry
from events.schemas import KINDS

MIN_SECRET = 16
MAX_SECRET = 200
MAX_URL = 2000
_UPDATABLE = ("url", "secret", "authorities", "kinds", "description", "active")  # column names, never from input
_COLUMNS = "id, url, secret, authorities, kinds, description, active, created_at, created_by"


def _check_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValidationError("must be an http or https URL")
    if not parts.hostname:
        raise ValidationError("must name a host")
    if parts.fragment:
        raise ValidationError("must not have a #fragment")


def _url(**kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(max=MAX_URL), _check_url],
                         metadata={"description": "http or https URL that receives POSTed deliveries; its host must "
                                                  "resolve to public addresses only (unless "
                                                  "TIMELINE_WEBHOOK_ALLOW_PRIVATE=1)"}, **kwargs)


def _secret(**kwargs) -> fields.String:
    return fields.String(load_only=True, validate=validate.Length(min=MIN_SECRET, max=MAX_SECRET),
                         metadata={"description": "signing key for X-Timeline-Signature; never shown again"}, **kwargs)


def _authorities() -> fields.List:
    return fields.List(fields.String(), validate=validate.Length(min=1, max=500), allow_none=True,
                       metadata={"description": "only events and alerts about these authority slugs (null: all)"})


def _kinds() -> fields.List:
    return fields.List(fields.String(validate=validate.OneOf(KINDS + TOPICS)), allow_none=True,
                       validate=validate.Length(min=1),
                       metadata={"description": "event kinds and/or topics: " + ", ".join(TOPICS) + " (null: all)"})


class _WebhookFields(Schema):
    """Checks shared by registering and changing a webhook: known authorities, a public receiver."""

    def __init__(self, registry: Registry | None = None, allow_private: bool | None = None, **kwargs):
        super().__init__(**kwargs)
        self.registry = registry
        self.allow_private = private_allowed() if allow_private is None else allow_private

    @validates("authorities")
    def _known_authorities(self, value, **_):
        """Every slug must be in the registry."""
        if self.registry is None or value is None:
            return
        unknown = [slug for slug in value if self.registry.get(slug) is None]
        if unknown:
            raise ValidationError(f"unknown authority: {', '.join(unknown)}")

    @validates("url")
    def _public_receiver(self, value, **_):
        """The receiver's host must resolve, and only to public addresses (see events.receiver_address)."""
        if self.allow_private:
            return
        try:
            check_url(value)
        except RefusedAddress as exc:
            raise ValidationError(str(exc)) from None


class WebhookRequest(_WebhookFields):
    """What `POST /api/webhooks` takes. Unknown fields are refused."""

    url = _url(required=True)
    secret = _secret(required=True)
    authorities = _authorities()
    kinds = _kinds()
    description = fields.String(validate=validate.Length(max=500), allow_none=True)


class WebhookPatch(_WebhookFields):
    """What `PATCH /api/webhooks/<id>` takes: any of the registration's fields, validated as on POST, and
    `active` to pause (false) or resume (true). Fields left out are unchanged; null filters mean "all"."""

    active = fields.Boolean(truthy={True}, falsy={False},
                            metadata={"description": "false pauses (deliveries wait, unsent); true resumes"})
    url = _url()
    secret = _secret()
    authorities = _authorities()
    kinds = _kinds()
    description = fields.String(validate=validate.Length(max=500), allow_none=True)

    @validates_schema
    def _something(self, data, **_):
        """An empty change is a mistake, not a no-op."""
        if not data:
            raise ValidationError("give at least one of: " + ", ".join(self.fields), "_schema")


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
    return update(db, webhook_id, {"active": active})


def update(db: Database, webhook_id: int, change: dict) -> dict | None:
    """Apply a validated change (any of url, secret, authorities, kinds, description, active); the record, or None.

    Deliveries already written keep their filter's verdict; waiting ones go to the new url, signed with the new
    secret, because both are read when sending.
    """
    values = {key: value for key, value in change.items() if key in _UPDATABLE}
    if "active" in values:
        values["active"] = int(values["active"])
    for key in ("authorities", "kinds"):
        if key in values:
            values[key] = _dumps(values[key])
    if values:
        with db.atomic():
            db.execute(f"UPDATE webhooks SET {', '.join(f'{key} = ?' for key in values)} WHERE id = ?",
                       (*values.values(), webhook_id))
    return get(db, webhook_id)


def delete(db: Database, webhook_id: int) -> bool:
    """Remove a registration with its deliveries and their attempts; False if there was none."""
    with db.atomic():
        cursor = db.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,))
    return cursor.rowcount > 0
