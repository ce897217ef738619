"""Appends remake only the projection rows they can change, and what is stored equals a whole remake.

Streams come from the benchmark's generator (back-filled events, corrections,
retractions, concern updates), appended one at a time through `append_event`,
so each append takes the incremental path; after every append the stored
projection must be exactly what `projection_of` makes from the whole stream.
"""
from __future__ import annotations

import json
import random
from datetime import date, datetime, timezone

import pytest

from bench import generate
from events.appending import append_event
from events.projections import by_date
from events.projections.by_date import first_changed_day, status_by_date
from events.projections.fold import fold
from events.projections.incremental import StreamProjector
from events.projections.status import projection_of, status_document
from events.projections.views import resolve
from events.registry import Registry
from events.sqlite_store import SQLiteStore
from migrations.migrations import upgrade
from tests.conftest import StepClock


def _stored(store: SQLiteStore, slug: str) -> dict:
    db = store.db
    return {
        "status": db.execute("SELECT stream_version, last_position, last_effective_on, overall_grade, overall_label, "
                             "framework, inspection_effective_on, regime, status FROM authority_status "
                             "WHERE authority = ?", (slug,)).fetchall(),
        "concerns": sorted(db.execute("SELECT * FROM concerns WHERE authority = ?", (slug,)).fetchall()),
        "judgements": sorted(db.execute("SELECT * FROM judgements WHERE authority = ?", (slug,)).fetchall(),
                             key=repr),
        "by_date": db.execute("SELECT valid_from, entry FROM status_by_date WHERE authority = ? ORDER BY valid_from",
                              (slug,)).fetchall(),
    }


def _remade(store: SQLiteStore, slug: str, today: date) -> dict:
    """The same rows, from a whole remake written into a scratch transaction and rolled back."""
    projection = projection_of(slug, store.read_stream(slug), today)
    db = store.db
    db.execute("BEGIN")
    try:
        store._write_projection(slug, projection)
        return _stored(store, slug)
    finally:
        db.execute("ROLLBACK")


@pytest.mark.parametrize("seed, today", [(3, date(2026, 11, 23)), (11, date(2026, 11, 23)), (5, date(2016, 6, 1))])
def test_every_append_stores_what_a_whole_remake_stores(tmp_path, seed, today):
    out = tmp_path / "h.ndjson"
    registry = Registry.load(generate.write(out, 2, 70, seed=seed))
    upgrade(str(tmp_path / "t.db"), registry)
    store = SQLiteStore(tmp_path / "t.db", clock=StepClock(datetime(2026, 1, 1, tzinfo=timezone.utc)))
    store.projector_for = lambda authority: StreamProjector(authority, today)
    kinds = set()
    for line in out.read_text().splitlines():
        body = json.loads(line)
        slug = body.pop("authority")
        kinds.add(body["kind"])
        append_event(store, registry, slug, body, recorded_by="test")
        store.project_due()
        assert _stored(store, slug) == _remade(store, slug, today), f"after {body['kind']} {body['event_id']}"
    assert {"correction", "retraction", "concern_update"} <= kinds


def test_an_append_after_the_last_date_remakes_only_the_last_chunk(tmp_path):
    out = tmp_path / "h.ndjson"
    registry = Registry.load(generate.write(out, 1, 100, seed=3))
    upgrade(str(tmp_path / "t.db"), registry)
    store = SQLiteStore(tmp_path / "t.db", clock=StepClock(datetime(2026, 1, 1, tzinfo=timezone.utc)))
    store.projector_for = lambda authority: StreamProjector(authority, date(2026, 11, 23))
    for line in out.read_text().splitlines():
        body = json.loads(line)
        append_event(store, registry, body.pop("authority"), body, recorded_by="test")
    slug = json.loads(out.read_text().splitlines()[0])["authority"]
    events = store.read_stream(slug)
    whole = projection_of(slug, events, date(2026, 11, 23))
    assert len(whole.status_by_date) > 2  # more chunks than the two an append always remakes
    since = StreamProjector(slug, date(2026, 11, 23)).since(events, events[-1].version - 1)
    assert since.status_by_date == whole.status_by_date[-len(since.status_by_date):]
    assert len(since.status_by_date) < len(whole.status_by_date)
    assert since.status_by_date_from == since.status_by_date[0][0]
    assert since.status == whole.status and since.concerns == whole.concerns


def _hundred_events(tmp_path, today: date) -> tuple[SQLiteStore, Registry, str]:
    """One generated stream of 100 events, appended and projected: its store, registry and slug."""
    out = tmp_path / "h.ndjson"
    registry = Registry.load(generate.write(out, 1, 100, seed=3))
    upgrade(str(tmp_path / "t.db"), registry)
    store = SQLiteStore(tmp_path / "t.db", clock=StepClock(datetime(2026, 1, 1, tzinfo=timezone.utc)))
    store.projector_for = lambda authority: StreamProjector(authority, today)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    for body in lines:
        append_event(store, registry, body.pop("authority"), body, recorded_by="test")
    store.project_due()
    return store, registry, store.authorities_with_events()[0]


def test_a_stored_rows_entries_before_the_changed_day_are_kept_not_made_again(tmp_path, monkeypatch):
    today = date(2026, 11, 23)
    store, registry, slug = _hundred_events(tmp_path, today)
    days = len(status_by_date(slug, resolve(store.read_stream(slug))).days)
    assert days % by_date.CHUNK > 0  # the new day's row starts earlier: without the stored entries, more are made
    made = []
    real_entry = by_date._entry
    monkeypatch.setattr(by_date, "_entry", lambda *a, **k: made.append(1) or real_entry(*a, **k))
    body = {"kind": "diagnostic", "effective_on": "2026-11-20", "payload": {"provider": "LGA", "title": "Peer review"},
            "source": {"title": "A peer review"}}
    append_event(store, registry, slug, body, recorded_by="test")
    store.project_due()
    assert len(made) == 1  # the new day's entry only
    assert _stored(store, slug) == _remade(store, slug, today)


def test_a_stored_row_is_used_only_if_it_holds_the_same_days(tmp_path):
    store, _, slug = _hundred_events(tmp_path, date(2026, 11, 23))
    views = resolve(store.read_stream(slug))
    whole = status_by_date(slug, views)
    since = whole.days[-1]
    assert whole.days.index(since) % by_date.CHUNK > 0 and len(whole.rows) > 2
    kept = by_date.status_rows_from(slug, views, since, lambda day: whole.rows[-1][1])
    other = by_date.status_rows_from(slug, views, since, lambda day: whole.rows[0][1])  # a row of other days
    assert kept.rows == other.rows == whole.rows[-len(kept.rows):]


def test_a_retraction_changes_entries_from_its_targets_date(seeded_store):
    events = seeded_store.read_stream("manchester")
    target = events[3]
    retraction = type(target)(**dict(target.to_dict(), event_id="r", kind="retraction", version=len(events) + 1,
                                     position=10_000, effective_on="2026-11-01", date_precision="day",
                                     payload={"target_event_id": target.event_id, "reason": "wrong authority"}))
    before = {v.event_id: v.effective.first for v in resolve(events)}[target.event_id]
    assert first_changed_day([*events, retraction], resolve([*events, retraction]), len(events)) == before


def test_back_dated_appends_on_one_day_store_what_a_whole_remake_stores(tmp_path):
    """As the benchmark's load appends: many events on one day months before the stream's last, and a few others."""
    out = tmp_path / "h.ndjson"
    registry = Registry.load(generate.write(out, 1, 60, seed=2))
    upgrade(str(tmp_path / "t.db"), registry)
    store = SQLiteStore(tmp_path / "t.db", clock=StepClock(datetime(2026, 1, 1, tzinfo=timezone.utc)))
    store.projector_for = lambda authority: StreamProjector(authority, date(2026, 11, 23))
    today = date(2026, 11, 23)
    for line in out.read_text().splitlines():
        body = json.loads(line)
        append_event(store, registry, body.pop("authority"), body, recorded_by="test")
    slug = "bench-00001"
    stream = generate.Stream(slug, random.Random(1), date(2026, 1, 1), 1.0)
    days = [date(2026, 6, 1)] * 12 + [date(2026, 10, 30), date(2026, 6, 1), date(2025, 2, 3), date(2026, 6, 1)]
    for day in days:
        body = generate.ungraded(stream, day)
        body.pop("authority")
        append_event(store, registry, slug, body, recorded_by="test")
        store.project_due()
        assert _stored(store, slug) == _remade(store, slug, today), f"after an event on {day}"


@pytest.mark.parametrize("today", [date(2026, 11, 23), date(2016, 6, 1)])
def test_the_status_today_from_the_entries_walk_is_the_folds(tmp_path, today):
    """projection_of takes the state today from the walk that made the entries (a second fold cost 18%): it must
    be exactly the fold's, including when events take effect after today (then it folds after all)."""
    out = tmp_path / "h.ndjson"
    generate.write(out, 4, 60, seed=9)
    events: dict[str, list] = {}
    for line in out.read_text().splitlines():
        body = json.loads(line)
        events.setdefault(body["authority"], []).append(body)
    registry = Registry.load(generate.registry_path_for(out))
    upgrade(str(tmp_path / "t.db"), registry)
    store = SQLiteStore(tmp_path / "t.db", clock=StepClock(datetime(2026, 1, 1, tzinfo=timezone.utc)))
    for slug, bodies in events.items():
        for body in bodies:
            body.pop("authority")
            append_event(store, registry, slug, body, recorded_by="test")
        views = resolve(store.read_stream(slug))
        walked = status_by_date(slug, views).state_on(today)
        assert (walked is None) == any(v.active and v.effective.first > today for v in views)
        expected = status_document(slug, fold(views, today))
        assert projection_of(slug, store.read_stream(slug), today).status["status"] == expected
        if walked is not None:
            assert status_document(slug, walked) == expected
