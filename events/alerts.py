"""Alerts: an open concern past its due date, a monitoring visit expected and not made. Each raised once.

The sweep asks the same domain rules the status answers use (`fold`,
`schedule.next_monitoring_visit`) what is overdue today. Every alert has a
key naming what it is about, unique in the table, so a sweep run twice, or
by two clocks at once, raises nothing new; the alert's deliveries are written
in the transaction that raises it.

Keys: `concern.overdue:<concern_id>` (a concern is overdue once: its due date
does not move); `visit.expected_overdue:<authority>:<event the window counts
from>`, so a visit made and then another missed raises a new alert.
"""
from __future__ import annotations

import json
from datetime import date, datetime

from events import outbox, schedule
from events.dates import format_timestamp
from events.outbox import CONCERN_OVERDUE, VISIT_EXPECTED_OVERDUE
from events.projections.fold import is_overdue
from events.projections.status import state_of
from events.sqlite_store import SQLiteStore

_COLUMNS = "id, key, topic, authority, due_on, raised_at, detail"


def overdue_today(authority: str, events: list, today: date) -> list[dict]:
    """The alerts one authority's stream calls for today (not yet stored): key, topic, due_on, detail."""
    state = state_of(events, today)
    found = []
    for concern in state.concerns.values():
        if is_overdue(concern, today):
            found.append({"key": f"{CONCERN_OVERDUE}:{concern['concern_id']}", "topic": CONCERN_OVERDUE,
                          "authority": authority, "due_on": concern["due_on"],
                          "detail": {k: concern.get(k) for k in ("concern_id", "text", "section", "timescale",
                                                                  "opened_on", "due_on", "source")}})
    if state.monitoring:
        window = schedule.next_monitoring_visit(state.monitoring, state.last_monitoring_visit, today)
        if window["overdue"]:
            found.append({"key": f"{VISIT_EXPECTED_OVERDUE}:{authority}:{window['based_on']}",
                          "topic": VISIT_EXPECTED_OVERDUE, "authority": authority,
                          "due_on": window["window"]["latest"],
                          "detail": dict(window, monitoring_since=state.monitoring["since"],
                                         last_visit=state.last_monitoring_visit)})
    return found


def sweep(store: SQLiteStore, today: date, now: datetime) -> dict:
    """The daily sweep: raise (once) every alert due today and enqueue its deliveries; what was raised."""
    raised = {CONCERN_OVERDUE: 0, VISIT_EXPECTED_OVERDUE: 0}
    already = 0
    for authority in store.authorities_with_events():
        for alert in overdue_today(authority, store.read_stream(authority), today):
            if raise_alert(store, alert, now):
                raised[alert["topic"]] += 1
            else:
                already += 1
    return {"today": today.isoformat(), "raised": raised, "already_raised": already}


def raise_alert(store: SQLiteStore, alert: dict, now: datetime) -> bool:
    """Store an alert and its deliveries in one transaction; False if its key was raised before."""
    db = store.db
    stamp = format_timestamp(now)
    with db.atomic():
        cursor = db.execute(
            "INSERT INTO alerts (key, topic, authority, due_on, raised_at, detail) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO NOTHING",
            (alert["key"], alert["topic"], alert["authority"], alert["due_on"], stamp,
             json.dumps(alert["detail"], sort_keys=True)))
        if cursor.rowcount != 1:
            return False
        outbox.enqueue_alert(db, dict(alert, id=cursor.lastrowid, raised_at=stamp))
    return True


def list_alerts(store: SQLiteStore, authority: str | None = None, topic: str | None = None,
                since: str | None = None, limit: int = 100) -> list[dict]:
    """Alerts raised, newest first, optionally of one authority, one topic, or raised at or after `since`."""
    clauses, params = [], []
    for column, value, op in (("authority", authority, "="), ("topic", topic, "="), ("raised_at", since, ">=")):
        if value is not None:
            clauses.append(f"{column} {op} ?")
            params.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = store.db.execute(f"SELECT {_COLUMNS} FROM alerts {where} ORDER BY id DESC LIMIT ?",
                            (*params, limit)).fetchall()
    return [dict(zip(("id", "key", "topic", "authority", "due_on", "raised_at"), r[:6]), detail=json.loads(r[6]))
            for r in rows]
