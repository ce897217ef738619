"""The benchmark's synthetic history, the batched load, and the cheap reference checks.

The generator's output must pass the production validation untouched; a batched
load must store exactly what one-by-one appends store; `concern_exists` and
`current_view` must agree with the whole-stream fold they stand in for.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from bench import generate
from events.appending import append_event, concern_exists, current_view
from events.loading import load_lines
from events.projections.status import state_of
from events.projections.views import resolve
from events.registry import Registry
from events.sqlite_store import SQLiteStore
from migrations.migrations import upgrade
from service.app import create_app
from tests.conftest import StepClock

AUTHORITIES, EACH = 4, 60
TODAY = date(2026, 11, 29)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A small synthetic history: (ndjson path, registry)."""
    out = tmp_path_factory.mktemp("bench") / "small.ndjson"
    registry_csv = generate.write(out, AUTHORITIES, EACH, seed=7)
    return out, Registry.load(registry_csv)


def _store(path, registry) -> SQLiteStore:
    upgrade(str(path), registry)
    return SQLiteStore(path, clock=StepClock(datetime(2026, 1, 1, tzinfo=timezone.utc)))


def _dump(store: SQLiteStore) -> dict:
    tables = ("events", "streams", "authority_status", "concerns", "judgements")
    dump = {t: store.db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}
    # status_by_date's rowid (m009) depends on the order rows were written, not on what they say.
    dump["status_by_date"] = store.db.execute("SELECT authority, valid_from, entry FROM status_by_date "
                                              "ORDER BY 1, 2").fetchall()
    return dump


def test_generate_is_deterministic_by_seed(tmp_path, history):
    again = tmp_path / "again.ndjson"
    generate.write(again, AUTHORITIES, EACH, seed=7)
    assert again.read_bytes() == history[0].read_bytes()
    other = tmp_path / "other.ndjson"
    generate.write(other, AUTHORITIES, EACH, seed=8)
    assert other.read_bytes() != again.read_bytes()


def test_generated_history_has_the_real_mix(history):
    lines = [json.loads(line) for line in history[0].read_text().splitlines()]
    assert len(lines) == AUTHORITIES * EACH
    kinds = {line["kind"] for line in lines}
    assert {"inspection", "monitoring_visit", "concern_update", "correction", "retraction",
            "committee_response", "focused_visit", "ungraded_inspection"} <= kinds
    frameworks = {line["payload"]["framework"] for line in lines if line["kind"] == "inspection"}
    assert len(frameworks) >= 4
    # back-filled: some event takes effect before one recorded earlier in its stream
    first_seen: dict[str, str] = {}
    backfilled = 0
    for line in lines:
        latest = first_seen.get(line["authority"], "")
        backfilled += line["effective_on"] < latest[:len(line["effective_on"])]
        first_seen[line["authority"]] = max(latest, line["effective_on"])
    assert backfilled > 0


def test_generated_history_loads_with_no_refusal_through_the_real_validation(tmp_path, history):
    path, registry = history
    store = _store(tmp_path / "t.db", registry)
    report = load_lines(store, registry, path.read_text().splitlines(), recorded_by="bench")
    assert report.ok, report.refused[:3]
    assert report.appended == AUTHORITIES * EACH
    again = load_lines(store, registry, path.read_text().splitlines(), recorded_by="bench")
    assert (again.appended, again.already_present) == (0, AUTHORITIES * EACH)


def test_the_service_takes_its_registry_from_timeline_registry(tmp_path, history, monkeypatch):
    path, _ = history
    monkeypatch.setenv("TIMELINE_REGISTRY", str(generate.registry_path_for(path)))
    app = create_app({"TIMELINE_DATABASE": str(tmp_path / "x.db")})
    assert app.extensions["timeline"].registry.get("bench-00001") is not None
    assert app.extensions["timeline"].registry.get("manchester") is None
    monkeypatch.delenv("TIMELINE_REGISTRY")
    assert create_app({"TIMELINE_DATABASE": str(tmp_path / "x.db")}).extensions["timeline"].registry.get("manchester")


def test_batched_load_stores_what_one_by_one_appends_store(tmp_path, history):
    path, registry = history
    lines = path.read_text().splitlines()
    batched = _store(tmp_path / "batched.db", registry)
    assert load_lines(batched, registry, lines, recorded_by="bench", batch_size=37).ok
    single = _store(tmp_path / "single.db", registry)
    for line in lines:
        body = json.loads(line)
        append_event(single, registry, body.pop("authority"), body, recorded_by="bench")
        single.project_due()  # each append's projection made from the one before it, as a quiet service makes it
    assert _dump(batched) == _dump(single)


def test_a_refused_line_in_a_batch_leaves_the_rest_of_the_batch(tmp_path, history):
    path, registry = history
    lines = path.read_text().splitlines()[:30]
    broken = json.loads(lines[5])
    broken["effective_on"] = "not a date"
    lines[5] = json.dumps(broken)
    store = _store(tmp_path / "t.db", registry)
    report = load_lines(store, registry, lines, recorded_by="bench")
    assert [r["line"] for r in report.refused] == [6]
    assert report.appended == 29
    assert store.get_event(broken["event_id"]) is None



def test_lines_checked_in_worker_processes_load_and_are_refused_exactly_as_here(tmp_path, history):
    path, registry = history
    lines = path.read_text().splitlines()[:120]
    lines[3] = "{not json"
    lines[7] = json.dumps({**json.loads(lines[7]), "effective_on": "not a date"})
    lines[9] = json.dumps({**json.loads(lines[9]), "authority": "nowhere", "kind": "no such kind"})
    lines[11] = "[1, 2]"
    lines[13] = ""
    here = _store(tmp_path / "here.db", registry)
    there = _store(tmp_path / "there.db", registry)
    mine = load_lines(here, registry, lines, recorded_by="bench", batch_size=25)
    theirs = load_lines(there, registry, lines, recorded_by="bench", batch_size=25, checkers=2)
    assert theirs == mine
    # (later lines that name events of the refused ones are refused too)
    assert [r["line"] for r in mine.refused][:4] == [4, 8, 10, 12]
    assert "nowhere" in mine.refused[2]["detail"]  # the unknown authority is said before the unknown kind
    assert mine.appended == 119 - len(mine.refused) > 100
    assert _dump(there) == _dump(here)

def test_cheap_reference_checks_agree_with_the_whole_stream_fold(tmp_path, history):
    path, registry = history
    store = _store(tmp_path / "t.db", registry)
    assert load_lines(store, registry, path.read_text().splitlines(), recorded_by="bench").ok
    checked = 0
    for slug in store.authorities_with_events():
        events = store.read_stream(slug)
        views = {v.event_id: v for v in resolve(events)}
        folded = state_of(events, date.max).concerns
        for event in events:
            assert current_view(store, slug, event.event_id) == views[event.event_id]
            for n in range(1, 10):
                concern_id = f"{event.event_id}:{n}"
                assert concern_exists(store, slug, concern_id) == (concern_id in folded)
                checked += concern_id in folded
        assert current_view(store, "bench-00001" if slug != "bench-00001" else "bench-00002",
                            events[0].event_id) is None
        assert not concern_exists(store, slug, "nonsense")
    assert checked > 50


def test_rebuild_in_worker_processes_stores_what_appends_stored(tmp_path, history):
    from functools import partial

    from events.rebuilding import rebuild_all

    path, registry = history
    store = _store(tmp_path / "t.db", registry)
    assert load_lines(store, registry, path.read_text().splitlines(), recorded_by="bench").ok
    before = _dump(store)
    with store.db.atomic():
        for table in ("authority_status", "concerns", "judgements", "status_by_date"):
            store.db.execute(f"DELETE FROM {table}")
    assert rebuild_all(store, partial(SQLiteStore, store.path), date.today(), processes=2) == AUTHORITIES
    assert _dump(store) == before


def test_rebuild_in_this_process_writes_each_call_into_its_own_database(tmp_path, history):
    """Without worker processes, each rebuild opens a store of its own on the database it was given: one kept from
    an earlier call (as a worker process keeps its store for all its chunks) would rebuild the wrong database."""
    from functools import partial

    from events.rebuilding import rebuild_all

    path, registry = history
    lines = path.read_text().splitlines()
    stores = {name: _store(tmp_path / f"{name}.db", registry) for name in ("first", "second")}
    for name, store in stores.items():  # different histories: the second lacks the last line
        assert load_lines(store, registry, lines if name == "first" else lines[:-1], recorded_by="bench").ok
    before = {name: _dump(store) for name, store in stores.items()}
    assert before["first"] != before["second"]
    for store in stores.values():
        with store.db.atomic():
            for table in ("authority_status", "concerns", "judgements", "status_by_date"):
                store.db.execute(f"DELETE FROM {table}")
        assert rebuild_all(store, partial(SQLiteStore, store.path), date.today(), processes=1) == AUTHORITIES
    assert {name: _dump(store) for name, store in stores.items()} == before


def test_rebuild_remakes_a_projection_whose_stream_grew_meanwhile(tmp_path, history):
    from events.projections.status import projection_of

    path, registry = history
    store = _store(tmp_path / "t.db", registry)
    lines = path.read_text().splitlines()
    assert load_lines(store, registry, lines[:-1], recorded_by="bench").ok
    slug = json.loads(lines[-1])["authority"]
    stale = projection_of(slug, store.read_stream(slug), date.today())
    assert load_lines(store, registry, lines[-1:], recorded_by="bench").ok
    fresh = _dump(store)
    store.save_projections([(slug, stale)], lambda s: lambda events: projection_of(s, events, date.today()))
    assert _dump(store) == fresh


def _brought_up_to_date(before, since) -> list:
    """The status rows stored after `since` (a StreamProjector.since projection) is written over `before`'s."""
    return [row for row in before.status_by_date if row[0] < since.status_by_date_from] + since.status_by_date


def test_projection_reusing_stored_status_rows_equals_one_made_whole(history, monkeypatch):
    """Every split of every stream: rows kept from the projection of the first versions plus rows made for the rest
    are exactly the rows of a projection made from nothing; and rows are actually kept when nothing earlier changed."""
    from events.projections import by_date
    from events.projections.incremental import StreamProjector
    from events.projections.status import projection_of

    path, registry = history
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    made = []
    real_entry = by_date._entry
    monkeypatch.setattr(by_date, "_entry", lambda *a: made.append(1) or real_entry(*a))
    store = _store(path.with_name("reuse.db"), registry)
    assert load_lines(store, registry, path.read_text().splitlines(), recorded_by="bench").ok
    reused = 0
    for slug in sorted({line["authority"] for line in lines}):
        events = store.read_stream(slug)
        for k in range(1, len(events), 3):
            before = projection_of(slug, events[:k], TODAY)
            made.clear()
            whole = projection_of(slug, events, TODAY)
            entries_whole = len(made)
            made.clear()
            again = StreamProjector(slug, TODAY).since(events, k)
            assert _brought_up_to_date(before, again) == whole.status_by_date, (slug, k)
            assert (again.status, again.concerns, again.judgements) == (whole.status, whole.concerns,
                                                                        whole.judgements), (slug, k)
            reused += len(made) < entries_whole
    assert reused >= 3


def test_a_load_in_many_small_batches_stores_what_one_batch_stores(tmp_path, history):
    path, registry = history
    whole = _store(tmp_path / "whole.db", registry)
    assert load_lines(whole, registry, path.read_text().splitlines(), recorded_by="bench").ok
    small = _store(tmp_path / "small.db", registry)
    assert load_lines(small, registry, path.read_text().splitlines(), recorded_by="bench", batch_size=7).ok
    assert _dump(small) == _dump(whole)


def test_reuse_remakes_rows_from_an_earlier_day_a_new_event_lands_on(tmp_path, history, monkeypatch):
    """A new event on a day that already had events, far back in the stream: every row from that day's is made
    again (its entry now shows the new event), rows before it are kept."""
    from events.projections import by_date
    from events.projections.incremental import StreamProjector
    from events.projections.status import projection_of

    monkeypatch.setattr(by_date, "CHUNK", 16)  # rows small enough that these 60-event streams have several
    path, registry = history
    store = _store(tmp_path / "early.db", registry)
    assert load_lines(store, registry, path.read_text().splitlines(), recorded_by="bench").ok
    slug = store.authorities_with_events()[0]
    events = store.read_stream(slug)
    before = projection_of(slug, events, TODAY)
    days = [d for d, _ in before.status_by_date]
    early = sorted({e.effective_on for e in events if e.date_precision == "day" and e.effective_on > days[1]})[2]
    body = {"kind": "diagnostic", "effective_on": early, "payload": {"provider": "LGA", "title": "Peer review"},
            "source": {"title": "A peer review"}}
    append_event(store, registry, slug, body, recorded_by="test")
    events = store.read_stream(slug)
    whole = projection_of(slug, events, TODAY)
    again = StreamProjector(slug, TODAY).since(events, len(events) - 1)
    assert _brought_up_to_date(before, again) == whole.status_by_date and again.status == whole.status
    assert whole.status_by_date != before.status_by_date
    assert len(days) > 2 and whole.status_by_date[0] == before.status_by_date[0]


def test_amendments_are_found_by_their_index_not_by_reading_the_stream(tmp_path, history):
    path, registry = history
    store = _store(tmp_path / "t.db", registry)
    assert load_lines(store, registry, path.read_text().splitlines(), recorded_by="bench").ok
    amended = store.db.execute("SELECT authority, json_extract(payload, '$.target_event_id') FROM events "
                               "WHERE kind = 'correction' LIMIT 1").fetchone()
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    found = store.read_amendments(*amended)
    store.db.conn.set_trace_callback(None)
    assert found and all(e.payload["target_event_id"] == amended[1] for e in found)
    plan = store.db.execute("EXPLAIN QUERY PLAN " + statements[-1]).fetchall()
    assert any("events_amending" in row[-1] for row in plan), plan
