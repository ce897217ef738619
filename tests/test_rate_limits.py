"""Rate limits: writes per token (shared by processes, in the database), reads per client address; 429 with Retry-After."""
from __future__ import annotations

import sqlite3

import pytest

from conftest import monitoring_visit
from service.app import create_app
from service.auth import new_token
from service.ratelimit import Limit

EVENTS = "/api/authorities/manchester/events"
NOW = 1_800_000_030.0  # 30 s into a minute


@pytest.fixture
def limited(seeded_store, db_path):
    """An app allowing 3 writes per token and 5 reads per address a minute, on a clock the test moves."""
    app = create_app({"TIMELINE_DATABASE": db_path, "TESTING": True,
                      "TIMELINE_RATE_LIMIT_WRITES": "3/minute", "TIMELINE_RATE_LIMIT_READS": "5/minute"})
    app.extensions["timeline"].store = seeded_store
    clock = {"now": NOW}
    app.extensions["rate_limits"].clock = lambda: clock["now"]
    return app, clock


def bearer(value: str) -> dict:
    return {"Authorization": f"Bearer {value}"}


def assert_429(response, retry_after: int) -> dict:
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == str(retry_after)
    assert response.headers["RateLimit-Remaining"] == "0"
    return response.get_json()


def test_writes_are_limited_per_token_and_the_window_resets(limited, seeded_store):
    app, clock = limited
    client = app.test_client()
    first, second = new_token(seeded_store, "first"), new_token(seeded_store, "second")
    codes = [client.post(EVENTS, json=monitoring_visit(payload={"ordinal": 1}), headers=bearer(first)).status_code
             for _ in range(3)]
    assert codes == [422, 422, 422]  # refused events count too: the limit is on requests
    body = assert_429(client.post(EVENTS, json=monitoring_visit(), headers=bearer(first)), retry_after=30)
    assert "3 requests per 60 s" in body["detail"]
    assert seeded_store.stream_version("manchester") == 17  # nothing written when refused
    assert client.post(EVENTS, json=monitoring_visit(), headers=bearer(second)).status_code == 201  # its own budget
    clock["now"] += 30
    accepted = client.post(EVENTS, json=monitoring_visit(effective_on="2026-10-16"), headers=bearer(first))
    assert accepted.status_code == 201
    assert (accepted.headers["RateLimit-Limit"], accepted.headers["RateLimit-Remaining"]) == ("3", "2")


def test_write_counts_are_shared_through_the_database(limited, seeded_store, db_path):
    app, clock = limited
    value = new_token(seeded_store, "shared")
    other = create_app({"TIMELINE_DATABASE": db_path, "TIMELINE_RATE_LIMIT_WRITES": "3/minute"})  # another worker
    other.extensions["rate_limits"].clock = lambda: clock["now"]
    for target in (app, other, app):
        target.test_client().post(EVENTS, json={}, headers=bearer(value))
    assert_429(other.test_client().post(EVENTS, json={}, headers=bearer(value)), retry_after=30)


def test_reads_are_limited_per_client_address(limited):
    app, clock = limited
    client = app.test_client()
    for remaining in range(4, -1, -1):
        response = client.get("/api/authorities/manchester")
        assert response.headers["RateLimit-Remaining"] == str(remaining)
    assert_429(client.get("/api/authorities/manchester"), retry_after=30)
    elsewhere = client.get("/api/authorities/manchester", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert elsewhere.status_code == 200
    clock["now"] += 30
    assert client.get("/api/authorities/manchester").status_code == 200


def test_unauthenticated_writes_count_per_address(limited):
    app, _ = limited
    client = app.test_client()
    for _ in range(3):
        assert client.post("/api/drafts", data=b"", content_type="text/plain").status_code == 400
    assert_429(client.post("/api/drafts", data=b"", content_type="text/plain"), retry_after=30)


def test_limits_can_be_turned_off(seeded_store, db_path):
    app = create_app({"TIMELINE_DATABASE": db_path, "TIMELINE_RATE_LIMIT_WRITES": "off",
                      "TIMELINE_RATE_LIMIT_READS": "off"})
    client = app.test_client()
    assert all(client.get("/api/problems").status_code == 200 for _ in range(50))
    assert "RateLimit-Limit" not in client.get("/api/problems").headers


def test_limit_settings_parse_or_are_refused():
    assert Limit.parse("120/minute") == Limit(120, 60)
    assert Limit.parse(" 5/Second ") == Limit(5, 1)
    assert Limit.parse("off") is None
    for bad in ("120", "0/minute", "x/hour", "10/fortnight"):
        with pytest.raises(ValueError):
            Limit.parse(bad)
    with pytest.raises(ValueError, match="TIMELINE_RATE_LIMIT_READS"):
        create_app({"TIMELINE_DATABASE": "unused.db", "TIMELINE_RATE_LIMIT_READS": "lots"})


def test_store_counts_hits_per_bucket_and_window_and_forgets_old_windows(store, db_path):
    assert [store.count_hit("write:a", 60) for _ in range(3)] == [1, 2, 3]
    assert store.count_hit("write:b", 60) == 1
    assert store.count_hit("write:a", 120) == 1  # a new window starts from one …
    rows = sqlite3.connect(db_path).execute("SELECT bucket, window_start, hits FROM rate_limit_windows "
                                            "ORDER BY bucket").fetchall()
    assert rows == [("write:a", 120, 1), ("write:b", 60, 1)]  # … and the bucket's old one is gone
