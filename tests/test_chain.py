"""Tamper evidence: hash chains written with every append; `verify` names the first event edited behind our back."""
from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner
from sqlite_utils import Database

from conftest import monitoring_visit
from events.chain import GENESIS, canonical, chain_hash
from events.sqlite_store import connect, link_existing_events
from events.verify import verify
from migrations.migrations import migrations
from service.cli import cli


def tamper(db_path: str, *statements: str) -> None:
    """Edit the file as an intruder would: a plain connection, the immutability triggers dropped first."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    for name in names:
        conn.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        conn.execute(statement)
    conn.close()


def event_at(store, position: int):
    return store.read_all(position - 1, 1)[0]


def run_verify(db_path: str):
    return CliRunner().invoke(cli, ["verify"], env={"TIMELINE_DATABASE": db_path})


def assert_names(db_path: str, client, event, chain: str, reason: str, checked: int | None = None) -> None:
    """verify (domain, CLI and endpoint) reports exactly this event as the first broken link."""
    result = run_verify(db_path)
    assert result.exit_code == 1, result.output
    assert event.event_id in result.output and f"position {event.position}" in result.output
    doc = client.get("/api/verify").get_json()
    assert doc["ok"] is False and doc["head"] is None
    broken = doc["first_broken"]
    assert (broken["position"], broken["event_id"], broken["chain"]) == (event.position, event.event_id, chain)
    assert reason in broken["reason"]
    assert doc["events_checked"] == (event.position - 1 if checked is None else checked)


def test_intact_history_verifies_everywhere(seeded_store, db_path, client):
    found = verify(seeded_store.iter_chain(batch=4))  # batches smaller than the store: the walk crosses them
    assert (found.ok, found.events_checked, found.streams_checked, found.first_broken) == (True, 17, 1, None)
    result = run_verify(db_path)
    assert result.exit_code == 0 and "intact: 17 events, 1 streams" in result.output
    doc = client.get("/api/verify").get_json()
    assert doc["ok"] is True and doc["head"] == found.head and doc["head"]["position"] == 17


def test_each_link_hashes_the_previous_link_and_the_canonical_form(seeded_store):
    rows = list(seeded_store.iter_chain())
    first, second = rows[0][1:], rows[1][1:]
    assert first[1].global_prev == first[1].stream_prev == GENESIS
    assert second[1].global_prev == first[1].global_hash
    assert second[1].global_hash == chain_hash(first[1].global_hash, second[0])
    text = canonical(second[0]).decode()
    assert " " not in text.split('"payload"')[0] and text.index('"authority"') < text.index('"event_id"')


def test_appends_through_the_api_extend_both_chains(client, auth, seeded_store):
    for key, slug in (("k1", "manchester"), ("k2", "salford"), ("k3", "salford")):
        response = client.post(f"/api/authorities/{slug}/events", json=monitoring_visit(),
                               headers={**auth, "Idempotency-Key": key})
        assert response.status_code == 201, response.get_json()
    rows = list(seeded_store.iter_chain())
    salford = [link for _, event, link in rows if event.authority == "salford"]
    assert salford[0].stream_prev == GENESIS and salford[1].stream_prev == salford[0].stream_hash
    assert salford[0].global_prev == rows[17][2].global_hash  # after manchester's 18th
    found = client.get("/api/verify").get_json()
    assert (found["ok"], found["events_checked"], found["streams_checked"]) == (True, 20, 2)


def test_one_payload_byte_changed_names_that_event(seeded_store, db_path, client):
    victim = event_at(seeded_store, 9)
    tamper(db_path, "UPDATE events SET payload = replace(payload, 'a', 'b') WHERE position = 9")
    assert event_at(seeded_store, 9).payload != victim.payload  # the edit really happened
    assert_names(db_path, client, victim, "global", "content does not match its hash")


def test_recorded_at_changed_names_that_event(seeded_store, db_path, client):
    victim = event_at(seeded_store, 12)
    tamper(db_path, "UPDATE events SET recorded_at = '2020-01-01T00:00:00.000000Z' WHERE position = 12")
    assert_names(db_path, client, victim, "global", "content does not match its hash")


def test_deleted_event_is_named_from_the_hash_it_leaves_behind(seeded_store, db_path, client):
    victim = event_at(seeded_store, 6)
    tamper(db_path, "DELETE FROM events WHERE position = 6")
    found = client.get("/api/verify").get_json()["first_broken"]
    assert (found["position"], found["event_id"], found["authority"]) == (6, victim.event_id, None)
    assert "missing" in found["reason"]
    small_batches = verify(seeded_store.iter_chain(batch=2)).first_broken  # the gap straddles a batch boundary
    assert (small_batches.position, small_batches.event_id) == (6, victim.event_id)
    result = run_verify(db_path)
    assert result.exit_code == 1 and victim.event_id in result.output


def test_event_and_its_hash_deleted_breaks_the_next_link(seeded_store, db_path, client):
    successor = event_at(seeded_store, 7)
    tamper(db_path, "DELETE FROM events WHERE position = 6", "DELETE FROM event_hashes WHERE position = 6")
    assert_names(db_path, client, successor, "global", "previous hash does not match", checked=5)


def test_reordered_events_name_the_first_moved(seeded_store, db_path, client):
    third, fourth = event_at(seeded_store, 3), event_at(seeded_store, 4)
    tamper(db_path, "UPDATE events SET position = -4 WHERE position = 4",
           "UPDATE events SET position = 4 WHERE position = 3", "UPDATE events SET position = 3 WHERE position = -4")
    assert event_at(seeded_store, 3).event_id == fourth.event_id
    found = client.get("/api/verify").get_json()["first_broken"]
    assert (found["position"], found["event_id"]) == (3, fourth.event_id)
    assert third.event_id in found["reason"]


def test_a_rewritten_stream_hash_breaks_the_stream_chain(seeded_store, db_path, client):
    victim = event_at(seeded_store, 10)
    tamper(db_path, f"UPDATE event_hashes SET stream_hash = '{'f' * 64}' WHERE position = 10")
    assert_names(db_path, client, victim, "stream", "content does not match its hash")


def test_an_event_slipped_in_without_a_hash_is_named(seeded_store, db_path, client):
    conn = sqlite3.connect(db_path)  # inserting needs no trigger dropped: only the chain notices
    conn.execute("INSERT INTO events (event_id, authority, version, kind, schema_version, effective_on, "
                 "date_precision, occurred_start, occurred_end, recorded_at, recorded_by, payload, source, "
                 "request_hash) SELECT 'forged', authority, 18, kind, schema_version, effective_on, date_precision, "
                 "occurred_start, occurred_end, recorded_at, recorded_by, payload, source, request_hash "
                 "FROM events WHERE position = 17")
    conn.commit()
    conn.close()
    found = client.get("/api/verify").get_json()
    assert found["first_broken"]["event_id"] == "forged" and found["first_broken"]["reason"] == "the event has no hash"
    assert run_verify(db_path).exit_code == 1


def test_a_recomputed_chain_still_shows_a_gap_in_versions(seeded_store, db_path, client):
    """An intruder who deletes an event and re-hashes everything is caught by the versions (and a kept head)."""
    head = client.get("/api/verify").get_json()["head"]
    successor = event_at(seeded_store, 8)
    tamper(db_path, "DELETE FROM events WHERE position = 7", "DELETE FROM event_hashes")
    conn = sqlite3.connect(db_path)
    link_existing_events(Database(conn))
    conn.commit()
    conn.close()
    found = client.get("/api/verify").get_json()
    assert found["first_broken"]["event_id"] == successor.event_id
    broken = found["first_broken"]
    assert (broken["reason"], broken["chain"]) == ("version 8 follows version 6", "stream")
    tamper(db_path, "DELETE FROM events WHERE position > 6", "DELETE FROM event_hashes WHERE position > 6")
    truncated = client.get("/api/verify").get_json()
    assert truncated["ok"] is True and truncated["head"] != head  # only a head kept elsewhere shows the truncation


@pytest.mark.parametrize("statement", [
    "UPDATE event_hashes SET global_hash = 'x' WHERE position = 1",
    "DELETE FROM event_hashes WHERE position = 1",
    "INSERT OR REPLACE INTO event_hashes SELECT * FROM event_hashes WHERE position = 1",
])
def test_hashes_are_as_immutable_as_events(seeded_store, statement):
    with pytest.raises(sqlite3.IntegrityError, match="event hashes are immutable"):
        seeded_store.db.execute(statement)


def test_migration_links_existing_events_as_appends_do(seeded_store, db_path, tmp_path):
    """A database from before m005: the migration back-fills the same links the store writes at append time."""
    old = str(tmp_path / "old.db")
    db = connect(old)
    migrations.apply(db, stop_before="m005_event_hashes")
    db.execute("ATTACH DATABASE ? AS seeded", [db_path])
    with db.atomic():
        db.execute("INSERT INTO events SELECT * FROM seeded.events")
    appended = db.execute("SELECT * FROM seeded.event_hashes ORDER BY position").fetchall()
    db.execute("DETACH DATABASE seeded")
    migrations.apply(db)
    assert db.execute("SELECT * FROM event_hashes ORDER BY position").fetchall() == appended
    db.conn.close()
    assert len(appended) == 17


def test_a_payload_that_is_no_longer_json_is_named_not_a_crash(seeded_store, db_path, client):
    victim = event_at(seeded_store, 4)
    tamper(db_path, "PRAGMA ignore_check_constraints = ON",
           "UPDATE events SET payload = substr(payload, 2) WHERE position = 4")
    assert_names(db_path, client, victim, "global", "content does not match its hash")


def test_chain_speed_bench_backfills_and_verifies_a_synthetic_store():
    from bench.chain_speed import measure
    figures = measure(events=300, authorities=7)
    assert figures["intact"] is True and figures["events_checked"] == 300


def test_the_fast_canonical_form_from_a_row_is_byte_for_byte_the_events(seeded_store, db_path):
    """Verification hashes rows without making events: it must hash exactly what `canonical` hashes."""
    from events.chain import canonical_from_row
    from events.sqlite_store import _row_as_stored

    rows = [row for _, row, _ in seeded_store.iter_chain_rows()]
    assert len(rows) == 17 and all(canonical_from_row(r) == canonical(_row_as_stored(r)) for r in rows)
    edge = list(rows[0])
    for payload in ('{"b": [1.5, -0.0, 1e+16, null, true], "a": {"\\u00e9t\\u00e9": "caf\\u00e9 \\ud83d\\ude00"}}',
                    '{"z": 1,   "a":"x"}', "not json any more", '"just a string"'):
        edge[12] = payload
        assert canonical_from_row(tuple(edge)) == canonical(_row_as_stored(tuple(edge))), payload


def test_verifying_rows_and_events_agree(seeded_store):
    fast, slow = verify(seeded_store.iter_chain_rows(batch=3)), verify(seeded_store.iter_chain(batch=3))
    assert fast == slow and fast.ok and fast.head["position"] == 17 and fast.complete and fast.next_from is None


def test_the_endpoint_checks_a_bounded_window_and_says_where_to_go_on(seeded_store, db_path, client):
    first = client.get("/api/verify?limit=5")
    doc = first.get_json()
    assert (doc["ok"], doc["events_checked"], doc["from_position"], doc["through_position"]) == (True, 5, 1, 5)
    assert doc["complete"] is False and doc["next_from"] == 6 and doc["head"]["position"] == 5
    assert first.headers["Link"] == '</api/verify?from=6&limit=5>; rel="next"'
    rest = client.get("/api/verify?from=6&limit=100").get_json()
    whole = client.get("/api/verify").get_json()
    assert rest["ok"] and rest["complete"] and rest["events_checked"] == 12 and rest["head"] == whole["head"]
    assert whole["last_full_run"] is None  # the clock has not verified the whole chain yet
    victim = event_at(seeded_store, 9)
    tamper(db_path, "UPDATE events SET payload = replace(payload, 'a', 'b') WHERE position = 9")
    assert client.get("/api/verify?limit=5").get_json()["ok"] is True  # positions 1-5 are intact
    window = client.get("/api/verify?from=6&limit=5").get_json()
    assert window["ok"] is False and window["first_broken"]["event_id"] == victim.event_id
    assert window["events_checked"] == 3 and window["next_from"] is None and window["complete"] is False
    # From a later position the links before it are taken as stored: the nightly whole-chain run covers them.
    assert client.get("/api/verify?from=10").get_json()["ok"] is True
    result = CliRunner().invoke(cli, ["verify", "--from", "6", "--limit", "2"], env={"TIMELINE_DATABASE": db_path})
    assert result.exit_code == 0 and "go on with --from 8" in result.output, result.output
    assert run_verify(db_path).exit_code == 1


@pytest.mark.parametrize("query", ["from=0", "limit=0", "limit=250001", "from=x", "colour=red", "from=" + "9" * 40])
def test_bad_verify_windows_are_problems(client, query):
    response = client.get(f"/api/verify?{query}")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_the_nightly_verify_job_walks_the_whole_chain_and_the_endpoint_reports_it(seeded_store, db_path, client,
                                                                                   tmp_path):
    from datetime import datetime, timezone

    from service.clock import Clock, ClockConfig

    clock = Clock(seeded_store, ClockConfig(backup_dir=tmp_path / "backups"), holder="a",
                  now=lambda: datetime(2026, 11, 23, 3, 30, tzinfo=timezone.utc))
    assert clock.heartbeat()
    assert clock.run("verify")["events_checked"] == 17
    last = client.get("/api/verify?from=18").get_json()["last_full_run"]
    assert last["ok"] is True and last["detail"]["head"]["position"] == 17 and last["started_at"].startswith("2026-11-23")
    victim = event_at(seeded_store, 4)
    tamper(db_path, "UPDATE events SET recorded_by = 'someone else' WHERE position = 4")
    clock.run("verify")
    last = client.get("/api/verify?from=18").get_json()["last_full_run"]
    assert last["ok"] is False and victim.event_id in last["detail"]["error"]
    health = client.get("/api/health").get_json()
    assert health["status"] == "degraded" and health["jobs"]["verify"]["ok"] is False


def test_equal_json_written_differently_is_not_a_change_but_a_changed_value_is(seeded_store, db_path, client):
    """The quick candidate (SQLite's json() of the stored text) only speeds up: where it misses, the exact
    canonical form decides. Keys reordered or re-spaced: same values, still intact."""
    # Stored compact (`,"`) or spaced (`, "`): either way the text gains spaces and keeps its values.
    tamper(db_path, "UPDATE events SET payload = replace(replace(replace(payload, ', \"', ',\"'), ',\"', ',  \"'), "
                    "'{\"', '{ \"') WHERE position = 5")
    assert "  " in seeded_store.event_row(5)[12]  # the stored text really changed
    assert client.get("/api/verify").get_json()["ok"] is True and run_verify(db_path).exit_code == 0
    victim = event_at(seeded_store, 11)
    tamper(db_path, "UPDATE events SET source = json_set(source, '$.page', 999) WHERE position = 11")
    assert_names(db_path, client, victim, "global", "content does not match its hash")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(payload=st.dictionaries(st.text(), _JSON, max_size=6), source=st.dictionaries(st.text(), _JSON, max_size=4),
       title=st.text(), version=st.integers(1, 10**6))
def test_the_link_of_a_new_event_hashes_exactly_its_canonical_form(payload, source, title, version):
    """The store hashes the canonical form built around the payload and source text it writes (not encoded
    again): it must be byte for byte `canonical`, whatever the payload holds (escapes, non-ASCII, floats)."""
    from events.chain import candidate_from_compact, canonical
    from events.stored_json import encode
    from events.store import StoredEvent

    event = StoredEvent(event_id="e\u00e9" + title, authority="manchester", version=version, position=version + 7,
                        kind="monitoring_visit", schema_version=2, effective_on="2026-10-15", date_precision="day",
                        occurred={"start": "2026-09-30", "end": None}, recorded_at="2026-12-02T07:00:00.000000Z",
                        recorded_by=title, payload=payload, source=source)
    row = (event.event_id, event.authority, event.version, event.position, event.kind, event.schema_version,
           event.effective_on, event.date_precision, event.occurred["start"], event.occurred["end"],
           event.recorded_at, event.recorded_by, encode(payload), encode(source))
    assert candidate_from_compact(row) == canonical(event)
