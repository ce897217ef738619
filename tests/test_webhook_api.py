"""The webhook, alert and health endpoints over the Flask test client."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from conftest import monitoring_visit
from webhook_receiver import Receiver

from events import clock_state
from events.deliveries import DeliverySettings
from service.app import create_app
from service.auth import new_token
from service.delivery import deliver_due

SECRET = "whsec_api_0123456789"


@pytest.fixture
def auth(seeded_store) -> dict:
    """Webhooks are administered with an admin-scoped token."""
    return {"Authorization": f"Bearer {new_token(seeded_store, 'webhook-admin', scopes=('admin',))}"}


def test_an_append_token_may_not_administer_webhooks(client, token):
    response = client.get("/api/webhooks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


@pytest.fixture
def receiver():
    with Receiver(SECRET) as r:
        yield r


def create(client, auth, **body):
    return client.post("/api/webhooks", json={"url": "https://example.org/hook", "secret": SECRET, **body},
                       headers=auth)


def test_every_webhook_endpoint_needs_a_token(client):
    for method, path in (("post", "/api/webhooks"), ("get", "/api/webhooks"), ("get", "/api/webhooks/1"),
                         ("patch", "/api/webhooks/1"), ("delete", "/api/webhooks/1"),
                         ("get", "/api/webhooks/1/deliveries"), ("post", "/api/webhooks/1/deliveries/x/replay")):
        response = getattr(client, method)(path, json={})
        assert response.status_code == 401, (method, path)
        assert response.mimetype == "application/problem+json"
    assert client.get("/api/webhooks", headers={"Authorization": "Bearer cst_wrong"}).status_code == 401


def test_register_list_pause_and_delete_never_showing_the_secret(client, auth):
    response = create(client, auth, authorities=["manchester"], kinds=["monitoring_visit", "concern.overdue"])
    assert response.status_code == 201, response.json
    hook = response.json
    assert SECRET not in response.get_data(as_text=True) and hook["secret_hint"] == "****" + SECRET[-4:]
    assert hook["kinds"] == ["concern.overdue", "monitoring_visit"] and hook["active"] is True
    assert client.get(response.headers["Location"], headers=auth).json == hook
    listed = client.get("/api/webhooks", headers=auth)
    assert [h["id"] for h in listed.json["webhooks"]] == [hook["id"]] and SECRET not in listed.get_data(as_text=True)
    paused = client.patch(f"/api/webhooks/{hook['id']}", json={"active": False}, headers=auth)
    assert paused.status_code == 200 and paused.json["active"] is False
    assert client.delete(f"/api/webhooks/{hook['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/webhooks/{hook['id']}", headers=auth).status_code == 404
    assert client.delete(f"/api/webhooks/{hook['id']}", headers=auth).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"url": "ftp://example.org/x"}, "url"),
    ({"url": "https:///nohost"}, "url"),
    ({"secret": "short"}, "secret"),
    ({"authorities": ["atlantis"]}, "authorities"),
    ({"kinds": ["inspection", "party"]}, "kinds.1"),
    ({"colour": "red"}, "colour"),
])
def test_bad_registrations_are_problems_naming_the_field(client, auth, body, field):
    response = create(client, auth, **body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.json["errors"]], response.json
    assert client.get("/api/webhooks", headers=auth).json["webhooks"] == []


def test_bad_patch_and_queries_are_problems(client, auth):
    hook = create(client, auth).json
    bad = client.patch(f"/api/webhooks/{hook['id']}", json={"active": "no"}, headers=auth)
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "active"
    assert client.get(f"/api/webhooks/{hook['id']}/deliveries?state=lost", headers=auth).status_code == 400
    assert client.get("/api/alerts?topic=party").status_code == 400
    assert client.post("/api/webhooks", data="{", headers=dict(auth, **{"Content-Type": "application/json"})
                       ).status_code == 400


def test_deliveries_are_listed_with_attempts_and_replayed(client, auth, token, receiver, seeded_store):
    hook = create(client, auth, url=receiver.url).json
    appended = client.post("/api/authorities/manchester/events", json=monitoring_visit(), headers={"Authorization": f"Bearer {token}"})
    assert appended.status_code == 201
    receiver.mode = "fail"
    now = datetime(2026, 1, 2, tzinfo=timezone.utc)
    deliver_due(seeded_store.db, now, DeliverySettings(timeout=1, max_attempts=1))
    listed = client.get(f"/api/webhooks/{hook['id']}/deliveries?state=dead", headers=auth).json["deliveries"]
    [dead] = listed
    assert dead["event_id"] == appended.json["event_id"] and dead["attempt_log"][0]["status_code"] == 500
    replay = client.post(f"/api/webhooks/{hook['id']}/deliveries/{dead['id']}/replay", headers=auth)
    assert replay.status_code == 202 and replay.json["state"] == "pending"
    receiver.mode = "ok"
    deliver_due(seeded_store.db, now + timedelta(days=1), DeliverySettings(timeout=1, max_attempts=1))
    one = client.get(f"/api/webhooks/{hook['id']}/deliveries/{dead['id']}", headers=auth).json
    assert one["state"] == "delivered" and len(one["attempt_log"]) == 2
    assert receiver.received[-1]["body"] == one["body"]  # the stored body is exactly what was sent
    assert client.post(f"/api/webhooks/{hook['id']}/deliveries/nope/replay", headers=auth).status_code == 404


def test_health_is_a_503_problem_when_the_database_cannot_be_read(tmp_path):
    folder = tmp_path / "not-a-database"
    folder.mkdir()  # a directory where the file should be: every read fails
    app = create_app({"TIMELINE_DATABASE": str(folder), "TESTING": True})
    response = app.test_client().get("/api/health")
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert "sqlite" not in response.get_data(as_text=True).lower()


def test_health_reports_database_clock_and_jobs(client, seeded_store):
    before = client.get("/api/health").json
    assert before["status"] == "degraded" and before["clock"] is None
    assert before["database"] == {"reachable": True, "last_position": seeded_store.last_position()}
    now = seeded_store.clock()
    assert clock_state.acquire(seeded_store.db, "clock-a", now, timedelta(seconds=30))
    run = clock_state.start_run(seeded_store.db, "backup", "clock-a", now)
    clock_state.finish_run(seeded_store.db, run, now, True, {"kept": 1})
    healthy = client.get("/api/health").json
    assert healthy["status"] == "ok", healthy["problems"]
    assert healthy["clock"]["holder"] == "clock-a" and healthy["jobs"]["backup"]["detail"] == {"kept": 1}
    run = clock_state.start_run(seeded_store.db, "backup", "clock-a", now)
    clock_state.finish_run(seeded_store.db, run, now, False, {"error": "disk full"})
    failed = client.get("/api/health").json
    assert failed["status"] == "degraded" and failed["jobs"]["backup"]["ok"] is False
