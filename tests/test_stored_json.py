"""Stored events are read by orjson (events.stored_json) and read back exactly as `json.loads` reads them; events
and views are made without their dataclass __init__ (events.frozen) and equal those made with it."""
from __future__ import annotations

import json
import uuid
from dataclasses import fields

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import monitoring_visit, schema_before
from events.projections.views import View, view_of
from events.sqlite_store import SQLiteStore
from events.store import NewEvent, StoredEvent
from events.stored_json import decode, encode
from events.verify import verify_store
from migrations.migrations import upgrade
from service.app import create_app

EVENTS = "/api/authorities/manchester/events"
WIDE = (10**20, -2**63 - 1, 2**64)  # each read by orjson as a float


def _event_citing(page: int) -> NewEvent:
    return NewEvent(event_id=str(uuid.uuid4()), kind="monitoring_visit", schema_version=1,
                    effective_on="2026-10-15", date_precision="day",
                    occurred={"start": "2026-09-30", "end": "2026-10-01"},
                    payload={"ordinal": 1, "areas_covered": ["x"], "findings": [], "inspectors": []},
                    source={"title": "Monitoring visit letter", "page": page})


def _append(store: SQLiteStore, event: NewEvent) -> None:
    store.append("manchester", event, expected_version=None, idempotency_key=None,
                 request_hash=f"hash-of-{event.event_id}", recorded_by="tester")


def test_events_stored_with_wide_integers_before_m013_are_listed_and_read_exactly(tmp_path, registry):
    path = tmp_path / "old.db"
    schema_before(path, "m013_wide_integer_events", registry)
    old = SQLiteStore(path)
    wide = [_event_citing(page) for page in WIDE]
    for event in [_event_citing(12), *wide]:  # the store does not validate: as before validation bounded page
        _append(old, event)
    old.close()

    upgrade(str(path), registry)

    store = SQLiteStore(path)
    listed = {r[0] for r in store.db.execute("SELECT event_id FROM wide_integer_events")}
    assert listed == {event.event_id for event in wide}
    pages = [e.source["page"] for e in store.read_stream("manchester")]
    assert pages == [12, *WIDE] and all(type(page) is int for page in pages)
    assert [store.get_event(e.event_id).to_dict()["source"]["page"] for e in wide] == list(WIDE)
    assert verify_store(store).ok
    store.close()


def test_the_api_answers_events_with_wide_integers_exactly(tmp_path, registry):
    path = tmp_path / "old.db"
    schema_before(path, "m013_wide_integer_events", registry)
    old = SQLiteStore(path)
    wide = _event_citing(10**20)
    _append(old, wide)
    old.close()
    upgrade(str(path), registry)
    client = create_app({"TIMELINE_DATABASE": str(path), "TESTING": True}).test_client()

    for url in (f"/api/events/{wide.event_id}", "/api/authorities/manchester/timeline"):
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert '"page": 100000000000000000000' in response.get_data(as_text=True)  # json.dumps wrote it, exactly


def test_a_database_not_yet_at_m013_is_read_exactly(tmp_path, registry):
    path = tmp_path / "old.db"
    schema_before(path, "m013_wide_integer_events", registry)
    store = SQLiteStore(path)
    _append(store, _event_citing(10**20))
    assert store.read_stream("manchester")[0].source["page"] == 10**20
    store.close()


def test_a_page_past_the_bound_is_refused_naming_the_field_and_nothing_is_stored(client, auth, seeded_store):
    before = seeded_store.stream_version("manchester")
    for page in (2**53, 10**20):
        body = monitoring_visit(source={"title": "Letter", "page": page})
        response = client.post(EVENTS, json=body, headers=auth)
        assert response.status_code == 422, response.get_data(as_text=True)
        assert [e["field"] for e in response.get_json()["errors"]] == ["source.page"]
    assert seeded_store.stream_version("manchester") == before
    body = monitoring_visit(source={"title": "Letter", "page": 2**53 - 1})
    assert client.post(EVENTS, json=body, headers=auth).status_code == 201


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**63, max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_JSON)
def test_decode_reads_stored_text_as_json_loads_does(value):
    text = encode(value)
    expected = json.loads(text)
    got = decode(text)
    assert got == expected and encode(got) == text  # same values, same types (1 and 1.0 print apart)


def test_decode_reads_a_lone_surrogate_as_json_loads_does():
    text = encode({"quote": "\ud800 broken"})
    assert decode(text) == json.loads(text) == {"quote": "\ud800 broken"}


def test_events_and_views_made_without_init_equal_those_made_with_it(seeded_store):
    for event in seeded_store.read_stream("manchester"):
        rebuilt = StoredEvent(**{f.name: getattr(event, f.name) for f in fields(StoredEvent)})
        assert rebuilt == event and vars(rebuilt) == vars(event)
        view = view_of(event)
        made = View(event=event, effective=view.effective, occurred=view.occurred, payload=view.payload,
                    source=view.source)
        assert made == view and vars(made) == vars(view)
