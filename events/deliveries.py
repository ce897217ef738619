"""Deliveries of the outbox: which are due, claiming one, recording each attempt, retries and dead letters.

A delivery is `pending` until a 2xx answer makes it `delivered`; each failure
schedules the next attempt after an exponential backoff (base * 2**(n-1),
capped), and after the configured number of attempts it is `dead`: kept, with
the last error, until replayed. Sending itself (HTTP) is the service's job.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from events.dates import format_timestamp
from events.receiver_address import private_allowed

STATES = ("pending", "delivered", "dead")
_COLUMNS = ("id, webhook_id, topic, event_id, alert_id, state, attempts, next_attempt_at, last_status, last_error, "
            "created_at, delivered_at")


@dataclass(frozen=True)
class DeliverySettings:
    """How deliveries are sent and retried."""

    timeout: float = 10.0  # seconds per POST
    max_attempts: int = 8
    backoff: float = 30.0  # seconds before the first retry; doubles each time
    backoff_cap: float = 6 * 3600.0
    # None: as TIMELINE_WEBHOOK_ALLOW_PRIVATE says when sending (events.receiver_address); else forced.
    allow_private: bool | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DeliverySettings:
        """TIMELINE_WEBHOOK_TIMEOUT, _MAX_ATTEMPTS, _BACKOFF, _BACKOFF_CAP and _ALLOW_PRIVATE, where set;
        ValueError if malformed."""
        default = cls()
        settings = cls(
            timeout=float(env.get("TIMELINE_WEBHOOK_TIMEOUT", default.timeout)),
            max_attempts=int(env.get("TIMELINE_WEBHOOK_MAX_ATTEMPTS", default.max_attempts)),
            backoff=float(env.get("TIMELINE_WEBHOOK_BACKOFF", default.backoff)),
            backoff_cap=float(env.get("TIMELINE_WEBHOOK_BACKOFF_CAP", default.backoff_cap)),
            allow_private=private_allowed(env),
        )
        if settings.timeout <= 0 or settings.max_attempts < 1 or settings.backoff < 0 or settings.backoff_cap < 0:
            raise ValueError("webhook timeout must be > 0, max attempts >= 1, backoff and its cap >= 0")
        return settings

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt: base * 2**(attempts-1), capped. No jitter, so
        schedules are predictable; deliveries are spread anyway by when their events were appended."""
        return timedelta(seconds=min(self.backoff_cap, self.backoff * 2 ** (attempts - 1)))


@dataclass(frozen=True)
class Attempt:
    """The outcome of one POST."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        """A 2xx answer, and only that, is a delivery."""
        return self.status_code is not None and 200 <= self.status_code < 300


def sign(secret: str, timestamp: int, body: str) -> str:
    """The X-Timeline-Signature value: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def due(db: Database, now: datetime, limit: int = 100) -> list[dict]:
    """Pending deliveries whose time has come, to active webhooks, oldest first, with what sending needs."""
    rows = db.execute(
        "SELECT d.id, d.webhook_id, d.topic, d.body, d.attempts, d.next_attempt_at, w.url, w.secret "
        "FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id "
        "WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND w.active = 1 ORDER BY d.rowid LIMIT ?",
        (format_timestamp(now), limit)).fetchall()
    keys = ("id", "webhook_id", "topic", "body", "attempts", "next_attempt_at", "url", "secret")
    return [dict(zip(keys, r)) for r in rows]


def claim(db: Database, delivery: dict, until: datetime) -> bool:
    """Take a due delivery by moving its next attempt to `until`; False if someone else took it first.

    A sender that dies mid-POST leaves it to be retried at `until`, never lost.
    """
    with db.atomic():
        cursor = db.execute("UPDATE deliveries SET next_attempt_at = ? WHERE id = ? AND state = 'pending' "
                            "AND next_attempt_at = ?", (format_timestamp(until), delivery["id"],
                                                        delivery["next_attempt_at"]))
    return cursor.rowcount == 1


def record(db: Database, delivery: dict, attempt: Attempt, now: datetime, settings: DeliverySettings) -> str:
    """Store one attempt and the delivery's new state (delivered, pending with a retry time, or dead)."""
    attempts = delivery["attempts"] + 1
    stamp = format_timestamp(now)
    error = attempt.error or (None if attempt.ok else f"HTTP {attempt.status_code}")
    with db.atomic():
        # Write first, so the transaction takes the write lock at once (a read first could not upgrade later).
        db.execute("INSERT INTO delivery_attempts (delivery_id, attempt, attempted_at, status_code, error, "
                   "duration_ms) SELECT ?, count(*) + 1, ?, ?, ?, ? FROM delivery_attempts WHERE delivery_id = ?",
                   (delivery["id"], stamp, attempt.status_code, error, attempt.duration_ms, delivery["id"]))
        if attempt.ok:
            state, next_at = "delivered", None
        elif attempts >= settings.max_attempts:
            state, next_at = "dead", None
        else:
            state, next_at = "pending", format_timestamp(now + settings.delay(attempts))
        db.execute("UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_status = ?, "
                   "last_error = ?, delivered_at = ? WHERE id = ?",
                   (state, attempts, next_at, attempt.status_code, error, stamp if attempt.ok else None,
                    delivery["id"]))
    return state


def _row(row: tuple) -> dict:
    keys = [k.strip() for k in _COLUMNS.split(",")]
    return dict(zip(keys, row))


def get(db: Database, webhook_id: int, delivery_id: str) -> dict | None:
    """One delivery of a webhook, with its body and every attempt."""
    rows = db.execute(f"SELECT {_COLUMNS}, body FROM deliveries WHERE webhook_id = ? AND id = ?",
                      (webhook_id, delivery_id)).fetchall()
    if not rows:
        return None
    found = dict(_row(rows[0][:-1]), body=rows[0][-1])
    found["attempt_log"] = attempts_of(db, [delivery_id]).get(delivery_id, [])
    return found


def list_for(db: Database, webhook_id: int, state: str | None = None, limit: int = 100) -> list[dict]:
    """A webhook's deliveries, newest first, each with its attempts (when, status code, error, duration)."""
    sql = f"SELECT {_COLUMNS} FROM deliveries WHERE webhook_id = ?"
    params: list = [webhook_id]
    if state:
        sql += " AND state = ?"
        params.append(state)
    found = [_row(r) for r in db.execute(sql + " ORDER BY rowid DESC LIMIT ?", (*params, limit)).fetchall()]
    log = attempts_of(db, [d["id"] for d in found])
    return [dict(d, attempt_log=log.get(d["id"], [])) for d in found]


def attempts_of(db: Database, ids: list[str]) -> dict[str, list[dict]]:
    """Attempts of the given deliveries, in order, by delivery id."""
    out: dict[str, list[dict]] = {}
    if not ids:
        return out
    marks = ", ".join("?" for _ in ids)
    for row in db.execute(f"SELECT delivery_id, attempt, attempted_at, status_code, error, duration_ms "
                          f"FROM delivery_attempts WHERE delivery_id IN ({marks}) ORDER BY delivery_id, attempt",
                          ids).fetchall():
        out.setdefault(row[0], []).append({"attempt": row[1], "attempted_at": row[2], "status_code": row[3],
                                           "error": row[4], "duration_ms": row[5]})
    return out


def replay(db: Database, webhook_id: int, delivery_id: str, now: datetime) -> dict | None:
    """Send a dead or delivered delivery again (a fresh round of attempts); None if there is no such delivery.

    A pending delivery is left as it is: it is already going to be sent.
    """
    with db.atomic():
        db.execute("UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, delivered_at = NULL "
                   "WHERE webhook_id = ? AND id = ? AND state IN ('dead', 'delivered')",
                   (format_timestamp(now), webhook_id, delivery_id))
    return get(db, webhook_id, delivery_id)
