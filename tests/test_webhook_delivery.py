"""The outbox and its delivery: real SQLite, a real HTTP receiver on 127.0.0.1."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from conftest import monitoring_visit
from webhook_receiver import Receiver

from events import deliveries, webhooks
from events.appending import append_event
from events.deliveries import DeliverySettings
from events.errors import VersionConflict
from events.sqlite_store import SQLiteStore
from service.delivery import deliver_due

SECRET = "whsec_0123456789abcdef"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
FAST = DeliverySettings(timeout=0.5, max_attempts=3, backoff=10, backoff_cap=15)


@pytest.fixture
def receiver():
    with Receiver(SECRET) as r:
        yield r


def register(store, url, **filters) -> dict:
    return webhooks.create(store.db, {"url": url, "secret": SECRET, **filters}, "tester", NOW)


def append(store, registry, authority="manchester", **overrides):
    return append_event(store, registry, authority, monitoring_visit(**overrides), recorded_by="tester").event


def rows(store, sql, params=()):
    return store.db.execute(sql, params).fetchall()


def test_append_writes_a_delivery_per_matching_webhook_whose_body_is_the_event(seeded_store, registry, receiver):
    every = register(seeded_store, receiver.url)
    visits = register(seeded_store, receiver.url, kinds=["monitoring_visit"])
    elsewhere = register(seeded_store, receiver.url, authorities=["leeds"])
    inspections = register(seeded_store, receiver.url, kinds=["inspection", "concern.overdue"])
    event = append(seeded_store, registry)
    found = rows(seeded_store, "SELECT webhook_id, topic, event_id, body FROM deliveries ORDER BY webhook_id")
    assert [r[0] for r in found] == [every["id"], visits["id"]]
    assert elsewhere["id"] not in [r[0] for r in found] and inspections["id"] not in [r[0] for r in found]
    body = json.loads(found[0][3])
    assert body["topic"] == "event.appended" and found[0][2] == event.event_id
    assert body["data"]["event"] == event.to_dict()


def test_an_append_refused_writes_no_delivery_and_every_delivery_names_a_stored_event(seeded_store, registry, receiver):
    register(seeded_store, receiver.url)
    with pytest.raises(VersionConflict):
        append(seeded_store, registry, expected_version=3)
    assert rows(seeded_store, "SELECT count(*) FROM deliveries")[0][0] == 0
    append(seeded_store, registry)
    orphans = rows(seeded_store, "SELECT count(*) FROM deliveries d LEFT JOIN events e USING (event_id) "
                                 "WHERE e.event_id IS NULL")
    assert orphans[0][0] == 0 and rows(seeded_store, "SELECT count(*) FROM deliveries")[0][0] == 1


def test_delivery_is_signed_posted_once_and_recorded(seeded_store, registry, receiver):
    hook = register(seeded_store, receiver.url)
    event = append(seeded_store, registry)
    assert deliver_due(seeded_store.db, NOW, FAST) == {"delivered": 1, "pending": 0, "dead": 0, "skipped": 0,
                                                       "deferred": 0}
    assert deliver_due(seeded_store.db, NOW + timedelta(hours=1), FAST)["delivered"] == 0
    [got] = receiver.received
    assert got["signed"] and got["headers"]["X-Timeline-Timestamp"] == str(int(NOW.timestamp()))
    assert got["headers"]["X-Timeline-Topic"] == "event.appended"
    assert got["json"]["data"]["event"]["event_id"] == event.event_id
    [delivery] = deliveries.list_for(seeded_store.db, hook["id"])
    assert got["headers"]["X-Timeline-Delivery"] == delivery["id"] == got["json"]["id"]
    assert delivery["state"] == "delivered" and delivery["attempt_log"][0]["status_code"] == 204


def test_failures_back_off_exponentially_then_dead_letter_then_replay(seeded_store, registry, receiver):
    hook = register(seeded_store, receiver.url)
    append(seeded_store, registry)
    receiver.mode = "fail"
    moment = NOW
    for expected_wait in (10, 15):  # 10 * 2**0, then 10 * 2**1 capped at 15
        assert deliver_due(seeded_store.db, moment, FAST)["pending"] == 1
        [delivery] = deliveries.list_for(seeded_store.db, hook["id"])
        assert delivery["next_attempt_at"] == (moment + timedelta(seconds=expected_wait)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        assert deliver_due(seeded_store.db, moment + timedelta(seconds=expected_wait - 1), FAST)["pending"] == 0
        moment += timedelta(seconds=expected_wait)
    assert deliver_due(seeded_store.db, moment, FAST)["dead"] == 1
    [dead] = deliveries.list_for(seeded_store.db, hook["id"], state="dead")
    assert dead["attempts"] == 3 and dead["last_status"] == 500 and "500" in dead["last_error"]
    assert [a["status_code"] for a in dead["attempt_log"]] == [500, 500, 500]
    assert deliver_due(seeded_store.db, moment + timedelta(days=1), FAST)["dead"] == 0  # dead letters stay put

    receiver.mode = "ok"
    replayed = deliveries.replay(seeded_store.db, hook["id"], dead["id"], moment + timedelta(days=1))
    assert replayed["state"] == "pending" and replayed["attempts"] == 0
    assert deliver_due(seeded_store.db, moment + timedelta(days=1), FAST)["delivered"] == 1
    final = deliveries.get(seeded_store.db, hook["id"], dead["id"])
    assert final["state"] == "delivered" and [a["attempt"] for a in final["attempt_log"]] == [1, 2, 3, 4]
    assert len(set(receiver.delivery_ids())) == 1 and len(receiver.received) == 4


def test_a_receiver_that_stalls_past_the_timeout_or_redirects_is_a_failed_attempt(seeded_store, registry, receiver):
    hook = register(seeded_store, receiver.url)
    append(seeded_store, registry)
    receiver.mode, receiver.delay = "slow", 1.5
    assert deliver_due(seeded_store.db, NOW, FAST)["pending"] == 1
    [delivery] = deliveries.list_for(seeded_store.db, hook["id"])
    assert "timed out" in delivery["last_error"].lower() and delivery["last_status"] is None
    assert delivery["attempt_log"][0]["duration_ms"] >= 400
    receiver.mode = "redirect"
    assert deliver_due(seeded_store.db, NOW + timedelta(seconds=10), FAST)["pending"] == 1
    assert deliveries.list_for(seeded_store.db, hook["id"])[0]["last_status"] == 302
    assert len(receiver.received) == 2  # the redirect was not followed


def test_a_paused_webhook_accumulates_deliveries_and_receives_them_when_resumed(seeded_store, registry, receiver):
    hook = register(seeded_store, receiver.url)
    webhooks.set_active(seeded_store.db, hook["id"], False)
    append(seeded_store, registry)
    append(seeded_store, registry, effective_on="2026-11-01", payload=dict(monitoring_visit()["payload"], ordinal=2))
    assert deliver_due(seeded_store.db, NOW, FAST)["delivered"] == 0 and receiver.received == []
    webhooks.set_active(seeded_store.db, hook["id"], True)
    assert deliver_due(seeded_store.db, NOW, FAST)["delivered"] == 2
    assert [r["json"]["data"]["event"]["version"] for r in receiver.received] == [18, 19]


def test_a_failing_receiver_is_tried_once_per_run_and_does_not_hold_up_others(seeded_store, registry, receiver):
    with Receiver(SECRET) as healthy:
        failing = register(seeded_store, receiver.url)
        register(seeded_store, healthy.url)
        receiver.mode = "fail"
        append(seeded_store, registry)
        append(seeded_store, registry, effective_on="2026-11-01", payload=dict(monitoring_visit()["payload"], ordinal=2))
        counts = deliver_due(seeded_store.db, NOW, FAST)
        assert counts == {"delivered": 2, "pending": 1, "dead": 0, "skipped": 0, "deferred": 1}
        assert len(receiver.received) == 1 and len(healthy.received) == 2
        untried = deliveries.list_for(seeded_store.db, failing["id"])
        assert sorted(d["attempts"] for d in untried) == [0, 1]


def test_two_senders_that_see_the_same_due_delivery_send_it_once(seeded_store, db_path, registry, receiver):
    register(seeded_store, receiver.url)
    append(seeded_store, registry)
    other = SQLiteStore(db_path)  # a second process's connection
    try:
        [mine], [theirs] = deliveries.due(seeded_store.db, NOW), deliveries.due(other.db, NOW)
        assert deliveries.claim(seeded_store.db, mine, NOW + timedelta(minutes=1))
        assert not deliveries.claim(other.db, theirs, NOW + timedelta(minutes=1))
        assert deliver_due(other.db, NOW, FAST)["delivered"] == 0  # claimed: not due again until the claim lapses
    finally:
        other.close()


def test_deleting_a_webhook_removes_its_deliveries_and_attempts(seeded_store, registry, receiver):
    hook = register(seeded_store, receiver.url)
    append(seeded_store, registry)
    deliver_due(seeded_store.db, NOW, FAST)
    assert webhooks.delete(seeded_store.db, hook["id"]) and not webhooks.delete(seeded_store.db, hook["id"])
    assert rows(seeded_store, "SELECT (SELECT count(*) FROM deliveries) + (SELECT count(*) FROM delivery_attempts)")[0][0] == 0


def test_a_receiver_that_turns_private_is_refused_at_delivery_as_a_failed_attempt(seeded_store, registry, receiver,
                                                                                  monkeypatch):
    # Registered while private receivers were allowed; by delivery time they are not (as if DNS had changed).
    hook = register(seeded_store, receiver.url)
    append(seeded_store, registry)
    monkeypatch.delenv("TIMELINE_WEBHOOK_ALLOW_PRIVATE")
    counts = deliver_due(seeded_store.db, NOW, FAST)
    assert counts["pending"] == 1 and receiver.received == []  # nothing was sent
    [delivery] = deliveries.list_for(seeded_store.db, hook["id"])
    [attempt] = delivery["attempt_log"]
    assert attempt["status_code"] is None and attempt["error"].startswith("refused: 127.0.0.1 is a loopback address")
    assert delivery["last_error"] == attempt["error"]
    allowed = DeliverySettings(timeout=0.5, max_attempts=3, backoff=10, backoff_cap=15, allow_private=True)
    assert deliver_due(seeded_store.db, NOW + timedelta(seconds=10), allowed)["delivered"] == 1
    assert receiver.received[0]["signed"]
