"""The webhook outbox: deliveries written in the same transaction as the event or alert they carry.

Called inside the transaction that stores an event (`SQLiteStore.append`) or
raises an alert (`events.alerts`), so an event is never stored without its
deliveries and no delivery names something that was not stored. The body
written here is exactly the one later signed and sent.

Every webhook whose filters match gets a delivery, paused ones included: a
paused webhook accumulates deliveries and receives them when resumed.
"""
from __future__ import annotations

import json
import uuid

from sqlite_utils import Database

from events.store import StoredEvent

EVENT_APPENDED = "event.appended"
CONCERN_OVERDUE = "concern.overdue"
VISIT_EXPECTED_OVERDUE = "visit.expected_overdue"
ALERT_TOPICS = (CONCERN_OVERDUE, VISIT_EXPECTED_OVERDUE)
TOPICS = (EVENT_APPENDED, *ALERT_TOPICS)

# Delivery ids are derived from (webhook, topic, subject): enqueueing the same thing twice is impossible.
_NAMESPACE = uuid.UUID("0d6f6a5e-3c1b-4f0e-9a47-6b8f0f5f2b11")


def delivery_id(webhook_id: int, topic: str, subject: str) -> str:
    """The stable id of the delivery of `subject` (an event id or alert key) to one webhook."""
    return str(uuid.uuid5(_NAMESPACE, f"{webhook_id}:{topic}:{subject}"))


def matching_webhooks(db: Database, authority: str, names: tuple[str, ...]) -> list[int]:
    """Ids of webhooks whose authorities filter admits `authority` and whose kinds filter names any of `names`."""
    marks = ", ".join("?" for _ in names)
    rows = db.execute(
        "SELECT id FROM webhooks WHERE "
        "(authorities IS NULL OR EXISTS (SELECT 1 FROM json_each(webhooks.authorities) WHERE value = ?)) AND "
        f"(kinds IS NULL OR EXISTS (SELECT 1 FROM json_each(webhooks.kinds) WHERE value IN ({marks}))) "
        "ORDER BY id", (authority, *names)).fetchall()
    return [r[0] for r in rows]


def enqueue_event(db: Database, event: StoredEvent) -> int:
    """Write an `event.appended` delivery for each matching webhook; the number written.

    A `kinds` filter matches the event's kind or the topic `event.appended` itself.
    """
    count = 0
    for webhook_id in matching_webhooks(db, event.authority, (event.kind, EVENT_APPENDED)):
        _insert(db, webhook_id, EVENT_APPENDED, event.event_id, event.recorded_at,
                {"event": event.to_dict()}, event_id=event.event_id)
        count += 1
    return count


def enqueue_alert(db: Database, alert: dict) -> int:
    """Write a delivery of a just-raised alert (a row of `alerts`, as a dict) to each matching webhook."""
    count = 0
    for webhook_id in matching_webhooks(db, alert["authority"], (alert["topic"],)):
        _insert(db, webhook_id, alert["topic"], alert["key"], alert["raised_at"], {"alert": alert},
                alert_id=alert["id"])
        count += 1
    return count


def _insert(db: Database, webhook_id: int, topic: str, subject: str, now: str, data: dict, *,
            event_id: str | None = None, alert_id: int | None = None) -> None:
    ident = delivery_id(webhook_id, topic, subject)
    body = json.dumps({"id": ident, "topic": topic, "created_at": now, "data": data}, separators=(",", ":"))
    db.execute(
        "INSERT INTO deliveries (id, webhook_id, topic, event_id, alert_id, body, state, attempts, next_attempt_at, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (id) DO NOTHING",
        (ident, webhook_id, topic, event_id, alert_id, body, now, now))
