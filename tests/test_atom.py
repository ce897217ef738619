"""Atom feeds: valid RFC 4287 that a feed reader (feedparser) parses cleanly."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser

from tests.conftest import monitoring_visit

A = "{http://www.w3.org/2005/Atom}"


def test_authority_feed_parses_cleanly_in_a_feed_reader(client, seeded_store):
    response = client.get("/api/authorities/manchester/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Manchester: children's services timeline"
    newest = seeded_store.read_recent(1, "manchester")[0]
    assert len(parsed.entries) == 17
    entry = parsed.entries[0]
    assert entry.id == f"urn:uuid:{newest.event_id}"
    assert entry.title.startswith("Manchester: ")
    assert entry.tags[0].term == "manchester"
    assert entry.link == f"http://localhost/events/{newest.event_id}"


def test_feed_document_has_the_required_atom_elements(client, seeded_store):
    root = ET.fromstring(client.get("/api/feed.atom?limit=3").data)
    assert root.tag == f"{A}feed"
    assert root.findtext(f"{A}id") == "http://localhost/api/feed.atom"
    assert root.find(f"{A}link[@rel='self']").get("href") == "http://localhost/api/feed.atom"
    newest = seeded_store.read_recent(3)
    assert root.findtext(f"{A}updated") == newest[0].recorded_at
    entries = root.findall(f"{A}entry")
    assert [e.findtext(f"{A}id") for e in entries] == [f"urn:uuid:{e.event_id}" for e in newest]
    for entry, event in zip(entries, newest):
        assert entry.findtext(f"{A}updated") == entry.findtext(f"{A}published") == event.recorded_at
        assert entry.find(f"{A}link[@rel='related']").get("href") == f"http://localhost/api/events/{event.event_id}"
        assert entry.findtext(f"{A}summary").strip()


def test_inspection_entry_says_what_was_judged(client):
    root = ET.fromstring(client.get("/api/authorities/manchester/feed.atom").data)
    sif = next(e for e in root.findall(f"{A}entry") if e.findtext(f"{A}id").endswith("e1f51ae0-2841-5c6e-8b00-7e7ba7087eba"))
    assert sif.findtext(f"{A}title") == "Manchester: Inspection (sif-2013), 2014-09-01: Inadequate"
    assert "Inadequate" in sif.findtext(f"{A}summary")


def test_new_event_appears_at_the_top(client, auth):
    created = client.post("/api/authorities/manchester/events", json=monitoring_visit(), headers=auth).get_json()
    parsed = feedparser.parse(client.get("/api/feed.atom").data)
    assert parsed.entries[0].id == f"urn:uuid:{created['event_id']}"
    assert parsed.entries[0].title == "Manchester: Monitoring visit 1, 2026-10-15"
    assert "Progress in the front door." in parsed.entries[0].summary


def test_unknown_authority_feed_is_404_problem(client):
    response = client.get("/api/authorities/atlantis/feed.atom")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_feeds_are_documented_as_atom(client):
    spec = client.get("/api/openapi.json").get_json()
    for path in ("/api/feed.atom", "/api/authorities/{slug}/feed.atom"):
        operation = spec["paths"][path]["get"]
        assert "application/atom+xml" in operation["responses"]["200"]["content"]
        assert "limit" in {p["name"] for p in operation["parameters"]}
