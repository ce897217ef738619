"""Stored status entries give exactly the fold's answer, on every day that matters."""
from __future__ import annotations

import random
from datetime import date, timedelta

from bench import generate
from events.loading import load_lines
from events.projections.status import state_of, status_document
from events.registry import Registry
from migrations.migrations import upgrade
from events import queries


def _days_that_matter(store, slug: str) -> set[date]:
    """Every event date, concern due date and window edge, a day either side, and random days."""
    days: set[date] = set()
    for event in store.read_stream(slug):
        days.add(date.fromisoformat((event.effective_on + "-01-01")[:10]))
    for row in store.db.execute("SELECT due_on FROM concerns WHERE authority = ? AND due_on IS NOT NULL", [slug]):
        days.add(date.fromisoformat(row[0]))
    edges = set()
    for day in list(days):
        doc = status_document(slug, state_of(store.read_stream(slug), day))
        edges |= {date.fromisoformat(w["window"]["latest"]) for w in doc["next_expected"]}
    days |= edges
    rng = random.Random(slug)
    days |= {date(2008, 1, 1) + timedelta(days=rng.randrange(7000)) for _ in range(40)}
    return {d + timedelta(days=k) for d in days for k in (-1, 0, 1)}


def _assert_same_as_fold(store, slug: str) -> int:
    events = store.read_stream(slug)
    checked = 0
    for day in sorted(_days_that_matter(store, slug)):
        assert queries.status(store, slug, day, None) == status_document(slug, state_of(events, day)), day
        checked += 1
    return checked


def test_stored_status_equals_the_fold_for_manchester(seeded_store):
    assert seeded_store.status_entry("manchester", "2015-01-01") is not None
    assert _assert_same_as_fold(seeded_store, "manchester") > 100


def test_stored_status_equals_the_fold_for_synthetic_streams(store, tmp_path):
    out = tmp_path / "h.ndjson"
    registry = Registry.load(generate.write(out, 3, 80, seed=11))
    upgrade(store.path, registry)  # the authorities table (foreign keys) follows the registry in use
    assert load_lines(store, registry, out.read_text().splitlines(), recorded_by="bench", batch_size=50).ok
    for slug in store.authorities_with_events():
        assert _assert_same_as_fold(store, slug) > 100


def test_without_stored_entries_status_still_folds(seeded_store):
    before = queries.status(seeded_store, "manchester", date(2015, 1, 1), None)
    with seeded_store.db.atomic():
        seeded_store.db.execute("DELETE FROM status_by_date")
    assert seeded_store.status_entry("manchester", "2015-01-01") is None
    assert queries.status(seeded_store, "manchester", date(2015, 1, 1), None) == before
