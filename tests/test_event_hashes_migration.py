"""m010 turns m005's event_hashes (four hex hashes a link) into today's (its own two, as bytes) in place."""
from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

from bench import generate
from events.loading import load_lines
from events.registry import Registry
from events.sqlite_store import SQLiteStore
from events.verify import verify_store
from migrations.migrations import upgrade
from tests.conftest import schema_before, without_due_list
from service.app import create_app

M010 = "m010_size_event_hashes"


def _old(tmp_path) -> tuple[str, Registry, str]:
    """A database made by the schema before m010, its events appended by the store (which writes m005's links
    while that table is there)."""
    out = tmp_path / "history.ndjson"
    registry_csv = str(generate.write(out, 3, 40, seed=5))
    registry = Registry.load(registry_csv)
    old = str(tmp_path / "old.db")
    schema_before(old, M010, registry)
    store = SQLiteStore(old)
    assert load_lines(store, registry, out.read_text().splitlines(), recorded_by="loader").ok
    store.close()
    return old, registry, registry_csv


def _answers(path: str, registry_csv: str) -> dict:
    app = create_app({"TIMELINE_DATABASE": path, "TESTING": True, "TIMELINE_REGISTRY": registry_csv})
    client = app.test_client()
    slugs = SQLiteStore(path).authorities_with_events()
    assert len(slugs) == 3
    return {"verify": client.get("/api/verify").get_json(),
            **{slug: client.get(f"/api/authorities/{slug}/status?as_of=2015-06-30").get_json() for slug in slugs},
            **{f"{slug} {what}": client.get(f"/api/authorities/{slug}/{what}").get_json()
               for slug in slugs for what in ("timeline", "concerns", "judgements")},
            "national": client.get("/api/status?as_of=2016-01-31").get_json()}


def test_m010_converts_existing_links_keeping_every_hash_and_answer(tmp_path):
    old, registry, registry_csv = _old(tmp_path)
    before = _answers(old, registry_csv)
    conn = sqlite3.connect(old)
    assert "stream_prev" in [c[1] for c in conn.execute("PRAGMA table_info(event_hashes)")]
    old_links = conn.execute("SELECT position, event_id, stream_hash, global_hash FROM event_hashes "
                             "ORDER BY position").fetchall()
    conn.close()
    assert len(old_links) == 120

    without_due_list(old)
    applied = upgrade(old, registry)
    assert applied[0] == M010 and all(name > M010 for name in applied[1:])

    conn = sqlite3.connect(old)
    assert [c[1] for c in conn.execute("PRAGMA table_info(event_hashes)")] == [
        "position", "event_id", "stream_hash", "global_hash"]
    stored = conn.execute("SELECT position, event_id, stream_hash, global_hash FROM event_hashes "
                          "ORDER BY position").fetchall()
    assert [(p, str(uuid.UUID(bytes=e)), s.hex(), g.hex()) for p, e, s, g in stored] == old_links
    with pytest.raises(sqlite3.IntegrityError, match="event hashes are immutable"):
        conn.execute("UPDATE event_hashes SET global_hash = x'00' WHERE position = 1")
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name IN ('events_by_authority_effective', "
                        "'concerns_by_authority', 'judgements_by_authority')").fetchone()[0] == 0
    for table in ("concerns", "judgements"):  # now clustered by authority
        assert "WITHOUT ROWID" in conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
    conn.close()
    found = verify_store(SQLiteStore(old))
    assert (found.ok, found.events_checked, found.head["global_hash"]) == (True, 120, old_links[-1][3])
    migrated = _answers(old, registry_csv)
    assert before["verify"]["events_checked"] == 120 and migrated["verify"]["ok"] is True and migrated == before
    assert all(migrated[f"{slug} timeline"]["events"] and migrated[f"{slug} concerns"]
               for slug in SQLiteStore(old).authorities_with_events())


def test_m010_refuses_links_whose_previous_hashes_it_would_drop(tmp_path):
    """A stored previous hash that disagrees with the link before it is evidence: m010 will not drop it."""
    old, registry, _ = _old(tmp_path)
    conn = sqlite3.connect(old)
    conn.execute("DROP TRIGGER event_hashes_refuse_update")
    conn.execute(f"UPDATE event_hashes SET global_prev = '{'e' * 64}' WHERE position = 30")
    conn.commit()
    conn.close()
    without_due_list(old)
    with pytest.raises(RuntimeError, match="position 30"):
        upgrade(old, registry)
    conn = sqlite3.connect(old)  # nothing changed: the migration's transaction rolled back
    assert "global_prev" in [c[1] for c in conn.execute("PRAGMA table_info(event_hashes)")]
    assert M010 not in [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")]
    conn.close()


def test_a_store_in_use_when_m010_runs_elsewhere_links_new_events_in_the_new_shape(tmp_path):
    """A store that looked at event_hashes before m010 ran in another process looks again when its insert fails."""
    old, registry, _ = _old(tmp_path)
    first = json.loads((tmp_path / "history.ndjson").read_text().splitlines()[0])
    store = SQLiteStore(old)
    assert load_lines(store, registry, [json.dumps(dict(first, event_id=str(uuid.uuid4())))],
                      recorded_by="before").appended == 1  # linked in m005's shape, which the store now keeps
    without_due_list(old)
    assert upgrade(old, registry)[0] == M010  # by another connection, as another process would
    assert load_lines(store, registry, [json.dumps(dict(first, event_id=str(uuid.uuid4())))],
                      recorded_by="after").appended == 1
    found = verify_store(SQLiteStore(old))
    assert (found.ok, found.events_checked) == (True, 122)
