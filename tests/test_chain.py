"""Tamper evidence: hash chains written with every append; `verify` names the first event edited behind our back."""
from __future__ import annotations

import sqlite3

import pytest
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
