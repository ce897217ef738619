"""Projections made after the append (m011): nothing is answered from a projection behind its stream.

An append stores its event and puts the stream on the due list; the web
service's writer makes the projection once appends pause, the clock and loads
make what is left, and until then every read answers from the events.
"""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from contextlib import nullcontext
from functools import partial

from conftest import TODAY, monitoring_visit
from events import rebuilding
from events.appending import append_event
from events.loading import load_lines
from events.projections.incremental import StreamProjector
from events.projections.status import projection_of
from events.registry import Registry
from events.sqlite_store import SQLiteStore
from migrations.migrations import upgrade
from service.clock import ClockConfig, project_job
from bench import generate


def _visit(ordinal: int, day: str) -> dict:
    return monitoring_visit(effective_on=day, payload=dict(monitoring_visit()["payload"], ordinal=ordinal))


def test_a_due_stream_is_answered_from_its_events_and_the_same_once_projected(client, seeded_store, registry):
    seeded_store.project_due()
    before = client.get("/api/authorities/manchester/status?as_of=2026-11-20").get_json()
    append_event(seeded_store, registry, "manchester", _visit(7, "2026-11-10"), recorded_by="t")

    assert seeded_store.due_authorities() == ["manchester"]
    assert seeded_store.status_on("manchester", "2026-11-20")[1] is None  # the stored chunk is not used
    folded = client.get("/api/authorities/manchester/status?as_of=2026-11-20").get_json()
    assert folded["events_considered"] == before["events_considered"] + 1
    assert folded["last_event"]["effective_on"] == "2026-11-10"

    assert seeded_store.project_due() == 1 and seeded_store.due_authorities() == []
    assert client.get("/api/authorities/manchester/status?as_of=2026-11-20").get_json() == folded


def test_the_service_makes_due_projections_once_appends_pause(seeded_store, registry):
    store = SQLiteStore(seeded_store.path, group_commit=True)  # as a web worker opens it
    store.projector_for = lambda authority: StreamProjector(authority, TODAY)
    try:
        for ordinal in range(3):
            append_event(store, registry, "manchester", _visit(10 + ordinal, "2026-11-1%d" % ordinal),
                         recorded_by="t")
        deadline, waited = time.monotonic() + 10, threading.Event()
        while store.due_authorities() and time.monotonic() < deadline:
            waited.wait(0.02)
        assert store.due_authorities() == []
        row = seeded_store.db.execute("SELECT stream_version FROM authority_status WHERE authority = 'manchester'")
        assert row.fetchone()[0] == store.stream_version("manchester")
    finally:
        store.close()


def test_reads_of_stored_status_rows_bring_them_up_to_date_first(seeded_store, registry):
    seeded_store.project_due()
    append_event(seeded_store, registry, "manchester", _visit(8, "2026-11-12"), recorded_by="t")
    assert seeded_store.due_authorities() == ["manchester"]
    assert seeded_store.read_projection("manchester")["stream_version"] == seeded_store.stream_version("manchester")
    assert seeded_store.due_authorities() == []


def test_the_clock_job_makes_what_is_due(seeded_store, registry, tmp_path):
    append_event(seeded_store, registry, "manchester", _visit(9, "2026-11-13"), recorded_by="t")
    config = ClockConfig(backup_dir=tmp_path)
    assert project_job(seeded_store, datetime.now(timezone.utc), config) == {"projected": 1}
    assert project_job(seeded_store, datetime.now(timezone.utc), config) == {"projected": 0}


def test_many_due_streams_are_made_in_worker_processes_as_a_whole_remake_makes_them(tmp_path, monkeypatch):
    out = tmp_path / "h.ndjson"
    registry = Registry.load(generate.write(out, 6, 30, seed=4))
    upgrade(str(tmp_path / "t.db"), registry)
    store = SQLiteStore(tmp_path / "t.db")
    lines = out.read_text().splitlines()
    half = len(lines) // 2
    assert load_lines(store, registry, lines[:half], recorded_by="t").ok  # projected in this process
    monkeypatch.setattr(rebuilding, "PARALLEL_FROM", 2)
    made = partial(rebuilding.project_due, store, partial(SQLiteStore, store.path), TODAY, processes=2)
    assert load_lines(store, registry, lines[half:], recorded_by="t", project_due=made).ok
    assert store.due_authorities() == []
    slugs = sorted({json.loads(line)["authority"] for line in lines})
    for slug in slugs:
        whole = projection_of(slug, store.read_stream(slug), TODAY)
        stored = store.db.execute("SELECT valid_from, entry FROM status_by_date WHERE authority = ? "
                                  "ORDER BY valid_from", (slug,)).fetchall()
        assert [tuple(r) for r in stored] == whole.status_by_date
        assert store.read_projection(slug)["status"] == json.loads(json.dumps(whole.status["status"]))


def test_under_unbroken_appends_only_a_backlog_past_its_bound_is_projected(seeded_store, registry, monkeypatch):
    from events import sqlite_store

    seeded_store.project_due()
    append_event(seeded_store, registry, "manchester", _visit(11, "2026-11-14"), recorded_by="t")
    assert seeded_store._project_idle(False, nullcontext) == 0  # one stream due: it waits for a pause
    assert seeded_store.due_authorities() == ["manchester"]
    monkeypatch.setattr(sqlite_store, "MAX_DUE_UNDER_LOAD", 0)
    assert seeded_store._project_idle(False, nullcontext) == 1
    assert seeded_store.due_authorities() == []
