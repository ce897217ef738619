"""Contract tests of the `EventStore` interface (events/store.py, DESIGN §3).

Every test runs against each backend in `BACKENDS`. Adding a backend (PostgreSQL)
means adding one entry there: a function that returns a fresh, migrated store
for a location. Tests that have to reach under the interface to prove a
database-level guarantee (immutability) say which backends they know how to
reach and skip the others.
"""
from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from events.dates import format_timestamp, utc_now
from events.errors import EventIdReused, IdempotencyMismatch, VersionConflict
from events.loading import bundled_lines, load_lines
from events.projections.fold import is_overdue
from events.projections.incremental import StreamProjector
from events.projections.status import projection_of, state_of
from events.sqlite_store import SQLiteStore
from events.store import EventStore, NewEvent, Projection, StoredEvent, Token
from migrations.migrations import upgrade

TODAY = date(2026, 11, 23)
MANCHESTER, SALFORD, LEEDS = "manchester", "salford", "leeds"


# -- backends -------------------------------------------------------------


def _open_sqlite(location: str, clock: Callable[[], datetime]) -> SQLiteStore:
    upgrade(location)  # idempotent: a second store on the same file sees the same database
    return _projecting_on_today(SQLiteStore(location, clock=clock))


def _open_sqlite_grouped(location: str, clock: Callable[[], datetime]) -> SQLiteStore:
    """The store as the web service opens it: appends go through the group-commit writer (events.group_commit)."""
    upgrade(location)
    return _projecting_on_today(SQLiteStore(location, clock=clock, group_commit=True))


def _projecting_on_today(store: SQLiteStore) -> SQLiteStore:
    store.projector_for = lambda authority: StreamProjector(authority, TODAY)
    return store


BACKENDS: dict[str, Callable[[str, Callable[[], datetime]], EventStore]] = {
    "sqlite": _open_sqlite, "sqlite-grouped": _open_sqlite_grouped}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request):
    """A factory: backend(location, clock=...) -> a migrated store on that location.

    Calling it twice with one location gives two stores (two connections) on one database.
    """
    opened: list = []
    open_store = BACKENDS[request.param]

    def factory(location, clock: Callable[[], datetime] = utc_now) -> EventStore:
        store = open_store(str(location), clock)
        opened.append(store)
        return store

    factory.name = request.param
    yield factory
    for store in opened:
        close = getattr(store, "close", None)
        if close:
            close()


@pytest.fixture
def location(tmp_path) -> str:
    return str(tmp_path / "contract.db")


@pytest.fixture
def es(backend, location, clock) -> EventStore:
    """A fresh store under test, on the StepClock of conftest."""
    return backend(location, clock=clock)


class SettableClock:
    """A clock that says whatever time it was last set to (it may be set backwards)."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# -- helpers ----------------------------------------------------------------


def visit(ordinal: int = 1, event_id: str | None = None) -> NewEvent:
    """A simple, valid monitoring-visit event."""
    return NewEvent(
        event_id=event_id or str(uuid.uuid4()),
        kind="monitoring_visit",
        schema_version=1,
        effective_on="2026-10-15",
        date_precision="day",
        occurred={"start": "2026-09-30", "end": "2026-10-01"},
        payload={"ordinal": ordinal, "areas_covered": ["x"],
                 "findings": [{"text": "t", "direction": "progress"}], "inspectors": []},
        source={"title": "Monitoring visit letter", "url": "https://example.org/letter.pdf"},
    )


def append(store: EventStore, authority: str, event: NewEvent | None = None, *, expected_version: int | None = None,
           key: str | None = None, request_hash: str | None = None, recorded_by: str = "tester"):
    event = event or visit()
    return store.append(authority, event, expected_version=expected_version, idempotency_key=key,
                        request_hash=request_hash or f"hash-of-{event.event_id}", recorded_by=recorded_by)


def snapshot(store: EventStore, *authorities: str) -> dict:
    """Everything observable about the store's events and projections."""
    return {
        "all": store.read_all(),
        "last_position": store.last_position(),
        "with_events": sorted(store.authorities_with_events()),
        "streams": {a: (store.stream_version(a), store.read_stream(a), store.read_projection(a)) for a in authorities},
    }


def raw_sqlite(backend, location: str) -> sqlite3.Connection:
    """A plain sqlite3 connection beside the store (SQLite backend only)."""
    if not backend.name.startswith("sqlite"):
        pytest.skip(f"no raw access written for the {backend.name} backend")
    return sqlite3.connect(location)


def load_manchester(store: EventStore, registry) -> EventStore:
    """The bundled Manchester history, loaded as conftest's seeded_store loads it, into this backend."""
    report = load_lines(store, registry, bundled_lines(), recorded_by="seed")
    assert report.ok, report.refused
    assert report.appended > 0
    return store


# -- appending and reading ----------------------------------------------------


def test_append_numbers_each_stream_from_one_and_positions_globally(es):
    results = [append(es, a) for a in (MANCHESTER, SALFORD, MANCHESTER, SALFORD, MANCHESTER)]

    assert [(r.event.authority, r.event.version) for r in results] == [
        (MANCHESTER, 1), (SALFORD, 1), (MANCHESTER, 2), (SALFORD, 2), (MANCHESTER, 3)]
    positions = [r.event.position for r in results]
    assert positions == sorted(positions) and len(set(positions)) == 5
    assert all(r.replayed is False for r in results)
    assert es.stream_version(MANCHESTER) == 3
    assert es.stream_version(SALFORD) == 2
    assert es.last_position() == positions[-1]


def test_append_returns_the_stored_envelope(es):
    event = visit(ordinal=7)
    result = append(es, MANCHESTER, event, recorded_by="alice")

    stored = es.get_event(event.event_id)
    assert stored == result.event
    assert isinstance(stored, StoredEvent)
    assert (stored.event_id, stored.authority, stored.kind, stored.schema_version) == (
        event.event_id, MANCHESTER, "monitoring_visit", 1)
    assert (stored.effective_on, stored.date_precision, stored.occurred) == (
        "2026-10-15", "day", {"start": "2026-09-30", "end": "2026-10-01"})
    assert stored.payload == event.payload and stored.payload["ordinal"] == 7
    assert stored.source == event.source
    assert stored.recorded_by == "alice"


def test_recorded_at_comes_from_the_stores_clock(backend, location):
    clock = SettableClock(datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc))
    store = backend(location, clock=clock)

    result = append(store, MANCHESTER)

    assert result.event.recorded_at == "2030-05-06T07:08:09.123456Z"
    assert store.get_event(result.event.event_id).recorded_at == "2030-05-06T07:08:09.123456Z"


def test_recorded_at_never_runs_backwards_even_when_the_clock_does(backend, location):
    noon = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
    clock = SettableClock(noon)
    store = backend(location, clock=clock)

    first = append(store, MANCHESTER).event
    clock.now = datetime(2026, 6, 1, 11, 0, tzinfo=timezone.utc)  # the wall clock is set back an hour
    second = append(store, SALFORD).event  # another stream: transaction time is global
    clock.now = datetime(2026, 6, 1, 13, 0, tzinfo=timezone.utc)
    third = append(store, MANCHESTER).event

    assert first.recorded_at == format_timestamp(noon)
    assert second.recorded_at >= first.recorded_at
    assert second.recorded_at != "2026-06-01T11:00:00.000000Z"
    assert third.recorded_at == "2026-06-01T13:00:00.000000Z"
    stamps = [e.recorded_at for e in store.read_all()]
    assert stamps == sorted(stamps)
    assert store.get_event(second.event_id).recorded_at == second.recorded_at


def test_read_stream_returns_one_stream_in_version_order(es):
    ids = {MANCHESTER: [], SALFORD: []}
    for authority in (SALFORD, MANCHESTER, SALFORD, MANCHESTER, MANCHESTER):
        ids[authority].append(append(es, authority).event.event_id)

    stream = es.read_stream(MANCHESTER)
    assert [e.version for e in stream] == [1, 2, 3]
    assert [e.event_id for e in stream] == ids[MANCHESTER]
    assert {e.authority for e in stream} == {MANCHESTER}
    assert [e.event_id for e in es.read_stream(SALFORD)] == ids[SALFORD]
    assert es.read_stream(LEEDS) == []


def test_get_event_finds_by_id_and_answers_none_for_unknown(es):
    result = append(es, MANCHESTER)
    assert es.get_event(result.event.event_id) == result.event
    assert es.get_event(str(uuid.uuid4())) is None


def test_read_all_pages_by_position(es):
    events = [append(es, a).event for a in (MANCHESTER, SALFORD, MANCHESTER, LEEDS, SALFORD)]
    positions = [e.position for e in events]

    assert es.read_all() == es.read_all(0) == [es.get_event(e.event_id) for e in events]
    assert [e.position for e in es.read_all(after=positions[1])] == positions[2:]
    assert [e.position for e in es.read_all(limit=2)] == positions[:2]
    assert [e.position for e in es.read_all(after=positions[1], limit=2)] == positions[2:4]
    assert es.read_all(after=positions[-1]) == []
    assert es.read_all(after=es.last_position()) == []


@pytest.mark.parametrize("count", [4, 5])  # a whole number of batches, and a partial last batch
def test_iter_all_yields_everything_in_position_order_in_batches(es, count):
    for index in range(count):
        append(es, (MANCHESTER, SALFORD, LEEDS)[index % 3])

    iterated = es.iter_all(batch=2)
    assert not isinstance(iterated, list)  # an iterator, not the whole store at once
    got = list(iterated)
    assert len(got) == count
    assert got == es.read_all()
    assert [e.position for e in got] == sorted({e.position for e in got})


def test_iter_all_on_an_empty_store_yields_nothing(es):
    assert list(es.iter_all(batch=2)) == []


def test_stream_version_is_zero_for_an_unknown_stream(es):
    assert es.stream_version(LEEDS) == 0
    append(es, MANCHESTER)
    assert es.stream_version(LEEDS) == 0
    assert es.stream_version(MANCHESTER) == 1


def test_authorities_with_events_and_last_position(es):
    assert es.authorities_with_events() == []
    assert es.last_position() == 0

    append(es, SALFORD)
    append(es, MANCHESTER)
    last = append(es, SALFORD).event

    assert sorted(es.authorities_with_events()) == [MANCHESTER, SALFORD]
    assert len(es.authorities_with_events()) == 2
    assert es.last_position() == last.position == max(e.position for e in es.read_all())


# -- optimistic concurrency ---------------------------------------------------------


def test_expected_version_that_matches_succeeds(es):
    first = append(es, MANCHESTER, expected_version=0)
    second = append(es, MANCHESTER, expected_version=1)
    assert (first.event.version, second.event.version) == (1, 2)
    assert es.stream_version(MANCHESTER) == 2


@pytest.mark.parametrize("stale", [0, 1, 5])  # behind, and ahead of, the actual version 2
def test_stale_expected_version_conflicts_and_writes_nothing(es, stale):
    append(es, MANCHESTER)
    append(es, MANCHESTER)
    append(es, SALFORD)
    before = snapshot(es, MANCHESTER, SALFORD)
    assert before["streams"][MANCHESTER][2] is not None

    event = visit()
    with pytest.raises(VersionConflict) as raised:
        append(es, MANCHESTER, event, expected_version=stale, key="conflicting-key")

    assert raised.value.actual == 2
    assert raised.value.expected == stale
    assert es.stream_version(MANCHESTER) == 2
    assert es.last_position() == before["last_position"]
    assert es.get_event(event.event_id) is None
    assert snapshot(es, MANCHESTER, SALFORD) == before
    # The key was not kept either: a different request may use it.
    assert append(es, MANCHESTER, key="conflicting-key", request_hash="another").event.version == 3


def test_expected_version_on_a_new_stream(es):
    with pytest.raises(VersionConflict) as raised:
        append(es, LEEDS, expected_version=1)
    assert raised.value.actual == 0
    assert es.stream_version(LEEDS) == 0
    assert LEEDS not in es.authorities_with_events()
    assert es.read_projection(LEEDS) is None


# -- idempotency -----------------------------------------------------------------


def test_same_key_and_same_request_replays_the_original(es):
    original = append(es, MANCHESTER, key="k1", request_hash="h1")
    before = snapshot(es, MANCHESTER)

    # A retry: the server made a fresh event_id for the same request body.
    retry_event = visit()
    again = append(es, MANCHESTER, retry_event, key="k1", request_hash="h1")

    assert again.replayed is True
    assert again.event == original.event
    assert es.get_event(retry_event.event_id) is None
    assert snapshot(es, MANCHESTER) == before


def test_a_retry_after_success_replays_rather_than_conflicting(es):
    """The client's first attempt succeeded but the response was lost; its retry still says expected_version 0."""
    original = append(es, MANCHESTER, key="k1", request_hash="h1", expected_version=0)
    again = append(es, MANCHESTER, key="k1", request_hash="h1", expected_version=0)
    assert again.replayed is True
    assert again.event == original.event
    assert es.stream_version(MANCHESTER) == 1


def test_same_key_with_a_different_request_is_refused(es):
    append(es, MANCHESTER, key="k1", request_hash="h1")
    before = snapshot(es, MANCHESTER)
    event = visit()
    with pytest.raises(IdempotencyMismatch):
        append(es, MANCHESTER, event, key="k1", request_hash="h2")
    assert es.get_event(event.event_id) is None
    assert snapshot(es, MANCHESTER) == before


def test_same_event_id_without_key_and_same_request_replays(es):
    event = visit()
    original = append(es, MANCHESTER, event, request_hash="h1")
    before = snapshot(es, MANCHESTER)
    again = append(es, MANCHESTER, event, request_hash="h1")
    assert again.replayed is True
    assert again.event == original.event
    assert snapshot(es, MANCHESTER) == before


def test_same_event_id_with_a_different_request_is_refused(es):
    event = visit()
    append(es, MANCHESTER, event, request_hash="h1")
    before = snapshot(es, MANCHESTER)
    with pytest.raises(IdempotencyMismatch):
        append(es, MANCHESTER, replace(event, payload={**event.payload, "ordinal": 2}), request_hash="h2")
    assert snapshot(es, MANCHESTER) == before
    assert es.get_event(event.event_id).payload["ordinal"] == 1


def test_a_key_used_on_another_authority_is_refused(es):
    append(es, MANCHESTER, key="k1", request_hash="h1")
    before = snapshot(es, MANCHESTER, SALFORD)
    with pytest.raises(IdempotencyMismatch):
        append(es, SALFORD, key="k1", request_hash="h1")
    assert snapshot(es, MANCHESTER, SALFORD) == before
    assert es.stream_version(SALFORD) == 0
    assert SALFORD not in es.authorities_with_events()


def test_an_event_id_used_on_another_authority_is_refused(es):
    event = visit()
    append(es, MANCHESTER, event, request_hash="h1")
    before = snapshot(es, MANCHESTER, SALFORD)
    with pytest.raises(IdempotencyMismatch):
        append(es, SALFORD, event, request_hash="h1")
    assert snapshot(es, MANCHESTER, SALFORD) == before
    assert es.get_event(event.event_id).authority == MANCHESTER


# -- atomicity -------------------------------------------------------------------


def _failing_projector(events):
    raise RuntimeError("projection failed")


@pytest.mark.parametrize("existing", [0, 2])  # a new stream, and one with events
def test_a_failing_projection_loses_nothing_and_is_made_once_it_can_be(es, existing):
    for _ in range(existing):
        append(es, MANCHESTER)
    es.project_due()
    stored_before = es.read_projection(MANCHESTER)
    made = es.projector_for
    es.projector_for = lambda authority: _failing_projector

    result = append(es, MANCHESTER, key="k-failed", request_hash="h1")  # acknowledged: the event is stored

    with pytest.raises(RuntimeError, match="projection failed"):
        es.project_due()
    assert es.get_event(result.event.event_id) == result.event
    assert es.due_authorities() == [MANCHESTER]
    assert es.status_on(MANCHESTER, "2026-11-01") == (result.event.position, None)  # readers fold the events
    es.projector_for = made
    assert es.project_due() == 1 and es.due_authorities() == []
    row = es.read_projection(MANCHESTER)
    assert row["stream_version"] == existing + 1 != (stored_before or {}).get("stream_version")
    assert es.status_on(MANCHESTER, "2026-11-01")[1] is not None


def test_the_projector_sees_the_new_event_and_its_result_is_stored(es):
    append(es, MANCHESTER)
    seen: list[list[StoredEvent]] = []

    def spy(events):
        seen.append(list(events))
        return projection_of(MANCHESTER, events, TODAY)

    es.project_due()
    es.projector_for = lambda authority: spy
    result = append(es, MANCHESTER)
    row = es.read_projection(MANCHESTER)  # brought up to date by the read, if the writer has not yet

    assert len(seen) == 1
    assert [e.version for e in seen[0]] == [1, 2]
    assert seen[0][-1] == result.event
    assert row["authority"] == MANCHESTER
    assert row["stream_version"] == 2
    assert row["last_position"] == result.event.position
    assert row["status"]["events_considered"] == 2
    assert row["status"]["last_event"]["event_id"] == result.event.event_id


# -- immutability in the database ---------------------------------------------------


@pytest.mark.parametrize("statement", [
    "UPDATE events SET payload = '{}'",
    "UPDATE events SET recorded_at = '1970-01-01T00:00:00.000000Z' WHERE version = 1",
    "DELETE FROM events",
    "DELETE FROM events WHERE position = (SELECT max(position) FROM events)",
])
def test_the_database_refuses_to_change_or_delete_events(es, backend, location, statement):
    for authority in (MANCHESTER, SALFORD, MANCHESTER):
        append(es, authority)
    before = es.read_all()

    raw = raw_sqlite(backend, location)
    try:
        rows_before = raw.execute("SELECT * FROM events ORDER BY position").fetchall()
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            raw.execute(statement)
        raw.commit()
        assert raw.execute("SELECT * FROM events ORDER BY position").fetchall() == rows_before
    finally:
        raw.close()
    assert es.read_all() == before
    assert len(before) == 3


def test_the_database_refuses_insert_or_replace_over_an_event(es, backend, location):
    original = append(es, MANCHESTER).event
    raw = raw_sqlite(backend, location)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            raw.execute(
                "INSERT OR REPLACE INTO events (event_id, authority, version, kind, schema_version, effective_on, "
                "date_precision, occurred_start, occurred_end, recorded_at, recorded_by, payload, source, request_hash) "
                "SELECT event_id, authority, version, kind, schema_version, effective_on, date_precision, "
                "occurred_start, occurred_end, recorded_at, recorded_by, '{}', source, request_hash "
                "FROM events WHERE event_id = ?", (original.event_id,))
        raw.commit()
    finally:
        raw.close()
    assert es.get_event(original.event_id) == original


# -- concurrency across threads and connections -------------------------------------


def test_two_writers_with_the_same_expected_version_exactly_one_wins(backend, location):
    rounds = 50
    stores = [backend(location) for _ in range(2)]  # two stores, two connections, one file
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[list] = [[None] * rounds for _ in range(2)]

    def writer(index: int) -> None:
        store = stores[index]
        try:
            for round_ in range(rounds):
                event = visit(ordinal=round_ + 1)
                barrier.wait()
                try:
                    result = append(store, MANCHESTER, event, expected_version=round_)
                    outcomes[index][round_] = ("won", result.event)
                except VersionConflict as exc:
                    outcomes[index][round_] = ("conflict", exc.actual, event.event_id)
                except Exception as exc:  # noqa: BLE001 - recorded and asserted on below
                    outcomes[index][round_] = ("error", repr(exc))
                barrier.wait()  # both have finished this round before the next starts
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)

    reader = backend(location)
    for round_ in range(rounds):
        got = sorted((outcomes[0][round_], outcomes[1][round_]), key=lambda o: o[0])
        assert [o[0] for o in got] == ["conflict", "won"], (round_, got)
        conflict, won = got
        assert won[1].version == round_ + 1
        assert conflict[1] == round_ + 1  # the loser is told the version the winner made
        assert reader.get_event(conflict[2]) is None
        assert reader.get_event(won[1].event_id) == won[1]
    assert reader.stream_version(MANCHESTER) == rounds
    assert [e.version for e in reader.read_stream(MANCHESTER)] == list(range(1, rounds + 1))


@pytest.mark.parametrize("sharing", ["store per thread", "one store shared by threads"])
def test_concurrent_appends_without_expected_version_get_contiguous_versions(backend, location, sharing):
    threads_count, each = 4, 25
    shared = backend(location)
    stores = [shared] * threads_count if sharing.startswith("one") else [backend(location) for _ in range(threads_count)]
    barrier = threading.Barrier(threads_count, timeout=30)
    errors: list[str] = []
    appended: list[list[StoredEvent]] = [[] for _ in range(threads_count)]

    def writer(index: int) -> None:
        store = stores[index]
        try:
            barrier.wait()
            for _ in range(each):
                appended[index].append(append(store, MANCHESTER, recorded_by=f"writer-{index}").event)
        except Exception as exc:  # noqa: BLE001 - recorded and asserted on below
            errors.append(repr(exc))
        finally:
            store.close()  # this thread's connection

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)

    assert errors == []
    stream = shared.read_stream(MANCHESTER)
    assert len(stream) == threads_count * each
    assert [e.version for e in stream] == list(range(1, threads_count * each + 1))
    assert shared.stream_version(MANCHESTER) == threads_count * each
    assert {e.event_id for e in stream} == {e.event_id for events in appended for e in events}
    # Within each writer its own appends are in order; globally positions follow versions.
    for events in appended:
        assert [e.version for e in events] == sorted(e.version for e in events)
    assert [e.position for e in stream] == sorted(e.position for e in stream)
    stamps = [e.recorded_at for e in shared.read_all()]
    assert stamps == sorted(stamps)
    assert shared.read_projection(MANCHESTER)["stream_version"] == threads_count * each


# -- projections ----------------------------------------------------------------


def _with_status(projection: Projection, **changes) -> Projection:
    return replace(projection, status={**projection.status, **changes})


def test_save_and_read_projection_round_trip(es):
    append(es, MANCHESTER)
    append(es, SALFORD)
    mine = _with_status(projection_of(MANCHESTER, es.read_stream(MANCHESTER), TODAY),
                        regime="monitoring", overall_grade=4, status={"marker": "manchester", "nested": [1, {"a": None}]})
    theirs = _with_status(projection_of(SALFORD, es.read_stream(SALFORD), TODAY), status={"marker": "salford"})

    es.save_projection(MANCHESTER, mine)
    es.save_projection(SALFORD, theirs)

    assert es.read_projection(MANCHESTER) == {**mine.status, "authority": MANCHESTER}
    assert es.read_projection(SALFORD) == {**theirs.status, "authority": SALFORD}
    assert es.read_projection(LEEDS) is None
    rows = sorted(es.read_projections(), key=lambda r: r["authority"])
    assert rows == [es.read_projection(MANCHESTER), es.read_projection(SALFORD)]

    # Saving again replaces, it does not add.
    es.save_projection(MANCHESTER, _with_status(mine, status={"marker": "second"}))
    assert es.read_projection(MANCHESTER)["status"] == {"marker": "second"}
    assert len(es.read_projections()) == 2


def _concern(event_id: str, number: int, state: str, due_on: str | None) -> dict:
    return {"concern_id": f"{event_id}:{number}", "event_id": event_id, "kind": "inspection", "text": f"concern {number}",
            "section": None, "timescale": "three_months" if due_on else None, "opened_on": "2025-01-01",
            "due_on": due_on, "state": state, "closed_on": None if state == "open" else "2025-06-01",
            "closed_by_event_id": None}


def test_count_overdue_counts_stored_open_concerns_due_before_the_date(es):
    event_id = append(es, MANCHESTER).event.event_id
    other_id = append(es, SALFORD).event.event_id
    base = projection_of(MANCHESTER, es.read_stream(MANCHESTER), TODAY)
    concerns = [
        _concern(event_id, 1, "open", "2026-01-01"),
        _concern(event_id, 2, "open", "2026-12-31"),
        _concern(event_id, 3, "open", None),
        _concern(event_id, 4, "superseded", "2025-01-01"),
        _concern(event_id, 5, "resolved", "2025-01-01"),
    ]
    es.save_projection(MANCHESTER, replace(base, concerns=concerns))
    es.save_projection(SALFORD, replace(projection_of(SALFORD, es.read_stream(SALFORD), TODAY),
                                        concerns=[_concern(other_id, 1, "open", "2020-01-01")]))

    assert es.count_overdue(MANCHESTER, "2026-01-01") == 0  # due that day: not yet overdue
    assert es.count_overdue(MANCHESTER, "2026-01-02") == 1
    assert es.count_overdue(MANCHESTER, "2027-01-01") == 2  # never the closed ones, nor one with no due date
    assert es.count_overdue(SALFORD, "2027-01-01") == 1
    assert es.count_overdue(LEEDS, "2027-01-01") == 0

    es.save_projection(MANCHESTER, base)  # replacing the projection replaces its concerns
    assert es.count_overdue(MANCHESTER, "2027-01-01") == 0


def test_count_overdue_on_the_seeded_manchester_stream(es, registry):
    """count_overdue reads the *stored* concern rows; it does not fold history to `as_of`.

    The stored projection is Manchester's state now (as of the load day, at least
    2025-11-11): every concern opened before the 2025-11-11 inspection is
    "superseded", and the one open concern (that inspection's single recommendation)
    has no timescale, hence no due date. So nothing is overdue on 2026-11-23, and
    the stored rows also say 0 for 2012-01-01, although on that day, in valid time,
    all 25 recommendations of the 2010-12-17 inspection (due "immediately" or in
    three months: 2010-12-17 or 2011-03-17) were open and overdue: the 2014
    inspection had not yet superseded them. Historical questions go through
    state_of; count_overdue is only for "today" over the current projection.
    """
    load_manchester(es, registry)
    events = es.read_stream(MANCHESTER)

    assert es.count_overdue(MANCHESTER, TODAY.isoformat()) == 0
    row = es.read_projection(MANCHESTER)
    assert row["status"]["open_concerns"] == 1
    assert row["status"]["overdue_concerns"] == 0
    assert es.count_overdue(MANCHESTER, "9999-12-31") == 0  # the open concern has no due date

    in_2012 = state_of(events, date(2012, 1, 1))
    overdue_in_2012 = [c for c in in_2012.concerns.values() if is_overdue(c, date(2012, 1, 1))]
    assert len(overdue_in_2012) == 25
    assert {c["due_on"] for c in overdue_in_2012} == {"2010-12-17", "2011-03-17"}
    assert es.count_overdue(MANCHESTER, "2012-01-01") == 0  # stored rows are "superseded", not "open"

    # Store the projection as it stood at the start of 2012, and count_overdue agrees with the fold.
    early = [e for e in events if e.effective_on < "2012"]
    es.save_projection(MANCHESTER, projection_of(MANCHESTER, early, date(2012, 1, 1)))
    assert es.count_overdue(MANCHESTER, "2012-01-01") == 25
    assert es.count_overdue(MANCHESTER, "2011-01-01") == 13  # only the "immediately" ones, due 2010-12-17
    assert es.count_overdue(MANCHESTER, "2010-12-17") == 0

    es.save_projection(MANCHESTER, projection_of(MANCHESTER, events, TODAY))
    assert es.count_overdue(MANCHESTER, "2012-01-01") == 0


# -- tokens -------------------------------------------------------------------------


def test_create_and_find_a_token(es):
    es.create_token("alice", "hash-a")
    token = es.find_token("hash-a")
    assert isinstance(token, Token)
    assert token.name == "alice"
    assert token.revoked_at is None
    assert token.created_at
    assert token.authorities is None
    assert token.may_append_to(MANCHESTER) and token.may_append_to(LEEDS)
    assert es.find_token("hash-unknown") is None


def test_a_token_name_can_be_used_once(es):
    es.create_token("alice", "hash-a")
    with pytest.raises(ValueError):
        es.create_token("alice", "hash-b")
    assert es.find_token("hash-b") is None
    assert es.find_token("hash-a").name == "alice"
    assert [t.name for t in es.list_tokens()] == ["alice"]


def test_list_and_revoke_tokens(es):
    es.create_token("bob", "hash-b")
    es.create_token("alice", "hash-a", [MANCHESTER])
    assert sorted(t.name for t in es.list_tokens()) == ["alice", "bob"]

    assert es.revoke_token("bob") is True
    assert es.find_token("hash-b") is None
    assert es.find_token("hash-a").name == "alice"
    listed = {t.name: t for t in es.list_tokens()}
    assert set(listed) == {"alice", "bob"}  # revoked tokens are still listed
    assert listed["bob"].revoked_at is not None
    assert listed["alice"].revoked_at is None
    assert listed["alice"].authorities == (MANCHESTER,)

    assert es.revoke_token("bob") is False  # no longer live
    assert es.revoke_token("nobody") is False


def test_a_token_limited_to_authorities(es):
    es.create_token("limited", "hash-l", [MANCHESTER, SALFORD])
    token = es.find_token("hash-l")
    assert set(token.authorities) == {MANCHESTER, SALFORD}
    assert token.may_append_to(MANCHESTER)
    assert token.may_append_to(SALFORD)
    assert not token.may_append_to(LEEDS)


def test_a_token_limited_to_no_authorities_may_append_nowhere(es):
    es.create_token("nowhere", "hash-n", [])
    token = es.find_token("hash-n")
    assert not token.may_append_to(MANCHESTER)


def test_an_events_dict_is_the_whole_envelope_and_a_copy(seeded_store):
    from dataclasses import asdict

    for event in seeded_store.read_all():
        out = event.to_dict()
        assert out == asdict(event) and list(out) == list(asdict(event))
        out["payload"].clear()
        out["occurred"].clear()
        assert event.payload and event.occurred["start"]  # changing the dict leaves the event as it was


@pytest.mark.parametrize("existing", [0, 2])  # a new stream, and one with events
def test_an_append_failing_part_way_writes_nothing(es, backend, location, existing, monkeypatch):
    """The last write of an append (its webhook deliveries) fails: the event, its link, its key and its place on
    the due list all go with it."""
    from events import outbox

    for _ in range(existing):
        append(es, MANCHESTER)
    es.project_due()
    before = snapshot(es, MANCHESTER, SALFORD)

    def failing(db, stored):
        raise RuntimeError("deliveries failed")

    monkeypatch.setattr(outbox, "enqueue_event", failing)
    event = visit()
    with pytest.raises(RuntimeError, match="deliveries failed"):
        append(es, MANCHESTER, event, key="k-failed", request_hash="h1")
    monkeypatch.undo()

    assert es.get_event(event.event_id) is None
    assert es.stream_version(MANCHESTER) == existing
    assert es.due_authorities() == []
    assert snapshot(es, MANCHESTER, SALFORD) == before
    with raw_sqlite(backend, location) as raw:
        assert raw.execute("SELECT count(*) FROM idempotency_keys WHERE key = 'k-failed'").fetchone() == (0,)
        assert raw.execute("SELECT count(*) FROM event_hashes").fetchone() == (existing,)
    retried = append(es, MANCHESTER, event, key="k-failed", request_hash="h1")  # key and id are still free
    assert retried.replayed is False and retried.event.version == existing + 1


@pytest.mark.parametrize("refusal", ["stale version", "reused key", "reused event id"])
def test_a_refused_counted_append_leaves_its_count_and_nothing_else(es, backend, location, refusal):
    """Refused after it was counted against its rate limit: the count stands, and nothing else is written; on a
    new stream too, whose row an accepted append makes (no empty stream row is left behind)."""
    refused = _refuse_on_a_new_stream(es, refusal)
    assert refused.rate_hits == 1
    _assert_only_the_count_stands(backend, location, events=1)
    accepted = es.append(SALFORD, visit(), expected_version=0, idempotency_key="k-later", request_hash="h-later",
                         recorded_by="tester", count_hit=("write:token:tester", 0, 100))
    assert accepted.event.version == 1 and accepted.rate_hits == 2


@pytest.mark.parametrize("refusal", ["stale version", "reused key", "reused event id"])
def test_a_refused_append_in_a_batch_leaves_the_batch_its_count_and_nothing_else(es, backend, location, refusal):
    """Inside a batch (a load's transaction) an append refused on a new stream leaves nothing of itself but its
    count, and the appends either side of it commit with the batch."""
    with es.batch():
        before = append(es, LEEDS, visit(), expected_version=0)
        refused = _refuse_on_a_new_stream(es, refusal)
        after = append(es, LEEDS, visit(2), expected_version=1)
    assert refused.rate_hits == 1
    assert [e.event_id for e in es.read_stream(LEEDS)] == [before.event.event_id, after.event.event_id]
    _assert_only_the_count_stands(backend, location, events=3)


def test_an_append_failing_part_way_through_its_writes_in_a_batch_stores_nothing_of_the_batch(es, backend, location):
    """A batch's appends take no savepoint each (the batch holds the write lock, so each checks before it writes).
    One that fails after writing (here its hash link is refused, after its event row went in) must not leave those
    writes to commit with the batch, even when the caller carries on after the error."""
    with raw_sqlite(backend, location) as raw:
        raw.execute("CREATE TRIGGER refuse_links BEFORE INSERT ON event_hashes BEGIN SELECT RAISE(ABORT, 'no'); END")
    with pytest.raises(RuntimeError, match="nothing in the batch is stored"):
        with es.batch():
            with pytest.raises(sqlite3.IntegrityError):
                append(es, LEEDS, visit(), expected_version=0)
    with raw_sqlite(backend, location) as raw:
        raw.execute("DROP TRIGGER refuse_links")
        for table in ("events", "streams", "projection_due"):
            assert raw.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    # The store goes on: the next batch commits.
    with es.batch():
        append(es, LEEDS, visit(), expected_version=0)
    assert [e.version for e in es.read_stream(LEEDS)] == [1]


def _refuse_on_a_new_stream(es: EventStore, refusal: str) -> Exception:
    """After an append to Manchester, a counted append to Salford's new stream refused for `refusal`; the error."""
    first = visit()
    append(es, MANCHESTER, first, key="k-first", request_hash="h-first")
    event, key, error = visit(), "k-new", VersionConflict
    if refusal == "reused key":
        key, error = "k-first", IdempotencyMismatch
    elif refusal == "reused event id":
        event, error = visit(event_id=first.event_id), EventIdReused
    with pytest.raises(error) as refused:
        es.append(SALFORD, event, expected_version=3 if refusal == "stale version" else None, idempotency_key=key,
                  request_hash="h-other", recorded_by="tester", count_hit=("write:token:tester", 0, 100))
    return refused.value


def _assert_only_the_count_stands(backend, location: str, events: int) -> None:
    """Nothing of Salford's refused append is stored but its rate-limit count; `events` hash links in all."""
    with raw_sqlite(backend, location) as raw:
        for table in ("streams", "events", "projection_due", "idempotency_keys"):
            assert raw.execute(f"SELECT count(*) FROM {table} WHERE authority = ?", (SALFORD,)).fetchone() == (0,)
        assert raw.execute("SELECT count(*) FROM event_hashes").fetchone() == (events,)
        assert raw.execute("SELECT hits FROM rate_limit_windows WHERE bucket = 'write:token:tester'").fetchone() == (1,)
