"""Property tests on the projections, over generated histories of real event shapes.

Histories are drawn from Manchester's bundled events (every kind the importer
and the API see, with real payloads) plus generated interventions, given to
a few authorities, recorded into real SQLite stores. Bounded and fast: few
examples, short streams.
"""
from __future__ import annotations

import copy
import json
import uuid
from datetime import date, datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TODAY, StepClock
from events import queries
from events.appending import append_event
from events.dates import parse_partial
from events.loading import bundled_lines
from events.projections.incremental import StreamProjector
from events.registry import Registry
from events.sqlite_store import SQLiteStore
from migrations.migrations import upgrade

REGISTRY = Registry.load()
AUTHORITIES = ("manchester", "leeds", "kent")
DATES = [date(2009, 6, 1), date(2012, 1, 1), date(2015, 1, 1), date(2017, 9, 1), date(2019, 3, 1),
         date(2023, 1, 1), TODAY]
PROPERTY = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _template(line: str) -> dict:
    body = json.loads(line)
    for key in ("event_id", "authority"):
        body.pop(key, None)
    body["payload"].pop("responds_to", None)  # links to Manchester's own events
    for item in body["payload"].get("action_items", []):
        item.pop("addresses", None)
    return body


POOL = [_template(line) for line in bundled_lines()]


@st.composite
def interventions(draw) -> dict:
    """An intervention measure issued or lifted, dated the 28th (no bundled event falls on a 28th)."""
    day = date(draw(st.integers(2010, 2025)), draw(st.integers(1, 12)), 28).isoformat()
    return {"kind": "intervention", "effective_on": day,
            "payload": {"measure": draw(st.sampled_from(["improvement_notice", "statutory_direction", "commissioner"])),
                        "action": draw(st.sampled_from(["issued", "lifted"])), "summary": "Generated measure."},
            "source": {"title": "DfE letter"}}


@st.composite
def streams(draw, authority: str) -> list[dict]:
    """One authority's events in recording (version) order: any order of effective dates."""
    picks = draw(st.lists(st.sampled_from(range(len(POOL))), unique=True, max_size=6))
    events = [copy.deepcopy(POOL[i]) for i in picks] + draw(st.lists(interventions(), max_size=2))
    events = draw(st.permutations(events))
    for index, body in enumerate(events):
        body["event_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{authority}/{index}"))
    return events


def fresh_store(tmp_path_factory) -> SQLiteStore:
    path = tmp_path_factory.mktemp("prop") / "timeline.db"
    upgrade(str(path))
    store = SQLiteStore(path, clock=StepClock(datetime(2026, 1, 1, tzinfo=timezone.utc)))
    store.projector_for = lambda authority: StreamProjector(authority, TODAY)
    return store


def record(store: SQLiteStore, authority: str, body: dict):
    return append_event(store, REGISTRY, authority, body, recorded_by="property")


def answers(store: SQLiteStore, authority: str) -> list[dict]:
    """Status on each of the dates, as now known."""
    return [queries.status(store, authority, day, None) for day in DATES]


@given(data=st.data())
@PROPERTY
def test_any_interleaving_of_streams_gives_the_same_status(data, tmp_path_factory):
    histories = {a: data.draw(streams(a), label=a) for a in AUTHORITIES[:2]}
    slots = [a for a, events in histories.items() for _ in events]
    orders = [data.draw(st.permutations(slots), label=f"interleaving {n}") for n in (1, 2)]
    results = []
    for order in orders:
        store = fresh_store(tmp_path_factory)
        cursor = {a: iter(events) for a, events in histories.items()}
        for authority in order:
            record(store, authority, next(cursor[authority]))
        results.append({a: (answers(store, a), (store.read_projection(a) or {}).get("status")) for a in histories})
        store.close()
    assert results[0] == results[1]


@given(history=streams("manchester"), cut=st.sampled_from(DATES))
@PROPERTY
def test_status_as_of_a_date_ignores_events_effective_after_it(history, cut, tmp_path_factory):
    full, early = fresh_store(tmp_path_factory), fresh_store(tmp_path_factory)
    for body in history:
        record(full, "manchester", body)
        if parse_partial(body["effective_on"]).first <= cut:
            record(early, "manchester", body)
    assert queries.status(full, "manchester", cut, None) == queries.status(early, "manchester", cut, None)
    full.close(), early.close()


@given(history=streams("manchester").filter(bool), data=st.data())
@PROPERTY
def test_retraction_then_re_append_restores_the_answers(history, data, tmp_path_factory):
    store = fresh_store(tmp_path_factory)
    for body in history:
        record(store, "manchester", body)
    before = answers(store, "manchester")
    victim = data.draw(st.sampled_from(history), label="retracted")
    record(store, "manchester", {"kind": "retraction", "effective_on": "2026-11-01",
                                 "payload": {"target_event_id": victim["event_id"], "reason": "recorded in error"},
                                 "source": {"title": "Correction note"}})
    again = dict(copy.deepcopy(victim), event_id=str(uuid.uuid4()))
    record(store, "manchester", again)
    after = json.loads(json.dumps(answers(store, "manchester")).replace(again["event_id"], victim["event_id"]))
    for day_before, day_after in zip(before, after):
        assert day_before == day_after
    store.close()
