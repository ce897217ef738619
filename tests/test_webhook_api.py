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


NEW_SECRET = "whsec_rotated_9876543210"


def test_patch_changes_url_secret_and_filters_and_deliveries_follow(client, auth, token, seeded_store):
    hook = create(client, auth, kinds=["inspection"]).json
    with Receiver(NEW_SECRET) as receiver:
        change = {"url": receiver.url, "secret": NEW_SECRET, "authorities": ["manchester"],
                  "kinds": ["monitoring_visit"], "description": "newsroom"}
        patched = client.patch(f"/api/webhooks/{hook['id']}", json=change, headers=auth)
        assert patched.status_code == 200, patched.json
        assert NEW_SECRET not in patched.get_data(as_text=True) and patched.json["secret_hint"] == "****3210"
        assert {k: patched.json[k] for k in ("url", "authorities", "kinds", "description", "active")} == {
            "url": receiver.url, "authorities": ["manchester"], "kinds": ["monitoring_visit"],
            "description": "newsroom", "active": True}
        assert client.get(f"/api/webhooks/{hook['id']}", headers=auth).json == patched.json
        appended = client.post("/api/authorities/manchester/events", json=monitoring_visit(),
                               headers={"Authorization": f"Bearer {token}"})
        assert appended.status_code == 201
        counts = deliver_due(seeded_store.db, datetime(2026, 1, 2, tzinfo=timezone.utc), DeliverySettings(timeout=2))
        assert counts["delivered"] == 1
        [got] = receiver.received
        assert got["signed"] and got["json"]["data"]["event"]["event_id"] == appended.json["event_id"]
    cleared = client.patch(f"/api/webhooks/{hook['id']}", json={"authorities": None, "kinds": None}, headers=auth)
    assert cleared.status_code == 200 and cleared.json["authorities"] is None and cleared.json["kinds"] is None


@pytest.mark.parametrize("body, field", [
    ({"url": "ftp://example.org/x"}, "url"),
    ({"url": "https:///nohost"}, "url"),
    ({"secret": "short"}, "secret"),
    ({"authorities": ["atlantis"]}, "authorities"),
    ({"authorities": []}, "authorities"),
    ({"kinds": ["party"]}, "kinds.0"),
    ({"colour": "red"}, "colour"),
    ({"active": True, "url": "gopher://x"}, "url"),
])
def test_bad_patches_are_problems_naming_the_field_and_change_nothing(client, auth, body, field):
    hook = create(client, auth, authorities=["manchester"]).json
    response = client.patch(f"/api/webhooks/{hook['id']}", json=body, headers=auth)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.json["errors"]], response.json
    assert client.get(f"/api/webhooks/{hook['id']}", headers=auth).json == hook


def test_an_empty_patch_is_a_problem(client, auth):
    hook = create(client, auth).json
    response = client.patch(f"/api/webhooks/{hook['id']}", json={}, headers=auth)
    assert response.status_code == 422 and "at least one of" in response.get_data(as_text=True)
    assert client.patch("/api/webhooks/999", json={"active": False}, headers=auth).status_code == 404


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook", "https://192.168.0.10/hook",
    "http://169.254.169.254/latest/meta-data", "http://[::1]/hook", "http://[::ffff:127.0.0.1]/hook",
    "http://100.64.0.1/hook", "http://0.0.0.0/hook", "http://[fe80::1]/hook",
])
def test_private_receivers_are_refused_naming_url_unless_allowed(client, auth, monkeypatch, url):
    monkeypatch.delenv("TIMELINE_WEBHOOK_ALLOW_PRIVATE", raising=False)
    refused = create(client, auth, url=url)
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    [error] = refused.json["errors"]
    assert error["field"] == "url" and "TIMELINE_WEBHOOK_ALLOW_PRIVATE" in error["reason"], error
    assert client.get("/api/webhooks", headers=auth).json["webhooks"] == []
    public = create(client, auth, url="https://93.184.215.14/hook")  # a literal public address: no lookup needed
    assert public.status_code == 201, public.json
    moved = client.patch(f"/api/webhooks/{public.json['id']}", json={"url": url}, headers=auth)
    assert moved.status_code == 422 and moved.json["errors"][0]["field"] == "url"
    assert client.get(f"/api/webhooks/{public.json['id']}", headers=auth).json["url"] == "https://93.184.215.14/hook"
    monkeypatch.setenv("TIMELINE_WEBHOOK_ALLOW_PRIVATE", "1")
    assert create(client, auth, url=url).status_code == 201


def test_a_host_that_does_not_resolve_yet_is_registered_and_checked_again_when_sent(client, auth, monkeypatch):
    """`.invalid` never resolves (RFC 6761): registering it is no way in, as each delivery resolves and checks again."""
    monkeypatch.delenv("TIMELINE_WEBHOOK_ALLOW_PRIVATE", raising=False)
    created = create(client, auth, url="https://receiver.invalid/hook")
    assert created.status_code == 201, created.json
    assert create(client, auth, url="http://localhost/hook").status_code == 422  # a name that resolves privately
