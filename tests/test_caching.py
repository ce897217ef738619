"""ETags on reads, 304 Not Modified, and ETags that change when an append changes the answer."""
from __future__ import annotations

import pytest

from tests.conftest import monitoring_visit

READS = [
    "/api/authorities",
    "/api/authorities/manchester",
    "/api/authorities/manchester/status",
    "/api/authorities/manchester/timeline",
    "/api/authorities/manchester/concerns",
    "/api/authorities/manchester/judgements?format=csv",
    "/api/status?as_of=2015-01-01",
    "/api/events?format=ndjson",
    "/api/events/e1f51ae0-2841-5c6e-8b00-7e7ba7087eba",
    "/api/feed.atom",
    "/api/authorities/manchester/feed.atom",
]


@pytest.mark.parametrize("path", READS)
def test_read_answers_304_to_its_own_etag(client, path):
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get(path, headers={"If-None-Match": "*"}).status_code == 304
    assert client.get(path, headers={"If-None-Match": 'W/"0-other"'}).status_code == 200


def test_etag_differs_by_format_and_query(client):
    tags = {client.get(path).headers["ETag"] for path in (
        "/api/authorities/manchester/concerns", "/api/authorities/manchester/concerns?format=csv",
        "/api/authorities/manchester/concerns?state=all")}
    assert len(tags) == 3
    negotiated = client.get("/api/authorities/manchester/concerns", headers={"Accept": "text/csv"}).headers["ETag"]
    assert negotiated == client.get("/api/authorities/manchester/concerns?format=csv").headers["ETag"]


def test_append_changes_the_etags_it_affects_and_no_others(client, auth, registry):
    paths = ["/api/authorities/manchester/timeline", "/api/authorities/manchester/status", "/api/status",
             "/api/events", "/api/authorities/manchester/feed.atom"]
    before = {path: client.get(path).headers["ETag"] for path in paths}
    leeds = client.get("/api/authorities/leeds/timeline").headers["ETag"]
    assert client.post("/api/authorities/manchester/events", json=monitoring_visit(), headers=auth).status_code == 201
    for path, etag in before.items():
        response = client.get(path, headers={"If-None-Match": etag})
        assert response.status_code == 200, path
        assert response.headers["ETag"] != etag
    assert client.get("/api/authorities/leeds/timeline", headers={"If-None-Match": leeds}).status_code == 304


def test_etag_of_an_answer_for_today_changes_with_the_date(app, client):
    path = "/api/authorities/manchester/concerns"
    before = client.get(path).headers["ETag"]
    pinned = client.get(path + "?as_of=2015-01-01").headers["ETag"]
    from datetime import date
    app.extensions["timeline"].today = lambda: date(2026, 11, 24)
    assert client.get(path).headers["ETag"] != before
    assert client.get(path + "?as_of=2015-01-01").headers["ETag"] == pinned


def test_successor_timeline_etag_follows_its_predecessors(client, auth, seeded_store, registry):
    """A successor's timeline shows its predecessors' events, so their appends change its ETag."""
    successor = next(a for a in registry.all() if a.predecessors)
    path = f"/api/authorities/{successor.slug}/timeline"
    etag = client.get(path).headers["ETag"]
    predecessor = successor.predecessors[0]
    body = monitoring_visit(effective_on="2015-10-15", occurred={"start": "2015-09-30", "end": "2015-10-01"})
    assert client.post(f"/api/authorities/{predecessor}/events", json=body, headers=auth).status_code == 201
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 200
    assert client.get(path + "?include_predecessors=false").status_code == 200


def test_a_full_feed_page_keeps_its_etag_after_appends_and_the_last_page_does_not(client, auth):
    full, last = "/api/events?after=0&limit=5", "/api/events?after=15&limit=5"
    tags = {path: client.get(path).headers["ETag"] for path in (full, last)}
    assert client.post("/api/authorities/manchester/events", json=monitoring_visit(), headers=auth).status_code == 201
    assert client.get(full, headers={"If-None-Match": tags[full]}).status_code == 304
    grown = client.get(last, headers={"If-None-Match": tags[last]})
    assert grown.status_code == 200 and len(grown.get_json()["events"]) == 3
