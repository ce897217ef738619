"""m009 turns an existing status_by_date (m007's WITHOUT ROWID table, 8 entries a row) into today's in place;
m014 recompresses its zlib rows with zstd; m015 regroups rows of 16 entries to 32; m016 stops storing each
concern's event id a second time."""
from __future__ import annotations

import json
import uuid
import zlib
from datetime import date
from pathlib import Path

from bench import generate
from events import rebuild_check
from events.loading import load_lines
from events.projections import by_date
from events.projections.status import projection_of
from events.registry import Registry
from events.sqlite_store import SQLiteStore
from migrations.migrations import upgrade
from tests.conftest import schema_before, without_due_list
from tests.test_status_by_date import _assert_same_as_fold

M009 = "m009_write_status_by_date_rowid"
M014 = "m014_status_by_date_zstd"
M015 = "m015_status_by_date_32"
M016 = "m016_concern_event_id_derived"


def _loaded_before(tmp_path, migration: str, seed: int, authorities: int = 3) -> tuple[SQLiteStore, Registry, Path]:
    """A database as the schema stood before `migration`, holding a generated history (70 events a stream,
    at tmp_path / "history.ndjson") loaded by today's code: (store, registry, path)."""
    out = tmp_path / "history.ndjson"
    registry = Registry.load(generate.write(out, authorities, 70, seed=seed))
    path = tmp_path / "old.db"
    schema_before(path, migration, registry)
    store = SQLiteStore(path)
    assert load_lines(store, registry, out.read_text().splitlines(), recorded_by="old").ok
    return store, registry, path


def test_m009_converts_an_existing_database_without_changing_an_answer(tmp_path, monkeypatch):
    monkeypatch.setattr(by_date, "CHUNK", 8)  # rows as the code before m009 wrote them
    store, registry, path = _loaded_before(tmp_path, M009, seed=11)
    monkeypatch.undo()
    old_sql = store.db.execute("SELECT sql FROM sqlite_master WHERE name = 'status_by_date'").fetchone()[0]
    assert "WITHOUT ROWID" in old_sql
    old_rows = store.db.execute("SELECT count(*) FROM status_by_date").fetchone()[0]
    store.close()

    without_due_list(path)
    assert M009 in upgrade(str(path), registry)

    store = SQLiteStore(path)
    new_sql = store.db.execute("SELECT sql FROM sqlite_master WHERE name = 'status_by_date'").fetchone()[0]
    assert "WITHOUT ROWID" not in new_sql
    assert store.db.execute("SELECT count(*) FROM status_by_date").fetchone()[0] < old_rows
    for slug in store.authorities_with_events():
        stored = store.db.execute("SELECT valid_from, entry FROM status_by_date WHERE authority = ? "
                                  "ORDER BY valid_from", [slug]).fetchall()
        # What a projection made now writes (byte for byte here; ASCII text): no rebuild needed after the upgrade.
        assert stored == projection_of(slug, store.read_stream(slug), date(2026, 11, 29)).status_by_date
        assert _assert_same_as_fold(store, slug) > 100


def test_m014_recompresses_zlib_rows_keeping_their_text_and_every_answer(tmp_path):
    store, registry, path = _loaded_before(tmp_path, M014, seed=12)
    # The rows as the code before m014 wrote them: the same text, zlib level 6.
    texts = dict(store.db.execute("SELECT id, entry FROM status_by_date").fetchall())
    texts = {row_id: by_date.stored_text(entry) for row_id, entry in texts.items()}
    with store.db.atomic():
        store.db.conn.executemany("UPDATE status_by_date SET entry = ? WHERE id = ?",
                                  [(zlib.compress(text, 6), row_id) for row_id, text in texts.items()])
    store.close()

    assert M014 in upgrade(str(path), registry)

    store = SQLiteStore(path)
    rows = dict(store.db.execute("SELECT id, entry FROM status_by_date").fetchall())
    assert rows.keys() == texts.keys() and len(rows) > 5
    assert all(entry[:4] == by_date.ZSTD_MAGIC for entry in rows.values())
    assert {row_id: by_date.stored_text(entry) for row_id, entry in rows.items()} == texts
    for slug in store.authorities_with_events():
        stored = store.db.execute("SELECT valid_from, entry FROM status_by_date WHERE authority = ? "
                                  "ORDER BY valid_from", [slug]).fetchall()
        assert stored == projection_of(slug, store.read_stream(slug), date(2026, 11, 29)).status_by_date
        assert _assert_same_as_fold(store, slug) > 100


def _rows_by_date(store, slug: str) -> list[tuple]:
    return store.db.execute("SELECT valid_from, entry FROM status_by_date WHERE authority = ? ORDER BY valid_from",
                            [slug]).fetchall()


def test_m015_regroups_rows_of_16_to_32_without_changing_an_answer(tmp_path, monkeypatch):
    monkeypatch.setattr(by_date, "CHUNK", 16)  # rows as the code before m015 wrote them
    store, registry, path = _loaded_before(tmp_path, M015, seed=13)
    monkeypatch.undo()
    old_rows = store.db.execute("SELECT count(*) FROM status_by_date").fetchone()[0]
    store.close()

    assert M015 in upgrade(str(path), registry)

    store = SQLiteStore(path)
    assert store.db.execute("SELECT count(*) FROM status_by_date").fetchone()[0] < old_rows
    for slug in store.authorities_with_events():
        stored = _rows_by_date(store, slug)
        # What a projection made now writes, byte for byte: no rebuild needed after the upgrade.
        assert stored == projection_of(slug, store.read_stream(slug), date(2026, 11, 29)).status_by_date
        assert all(len(by_date.stored_text(entry).split(b"\n")) == 1 + by_date.CHUNK for _, entry in stored[:-1])
        assert _assert_same_as_fold(store, slug) > 100


def test_m015_leaves_rows_already_of_32_as_they_are(tmp_path):
    store, registry, path = _loaded_before(tmp_path, M015, seed=14, authorities=2)
    ids = store.db.execute("SELECT id, authority, valid_from FROM status_by_date ORDER BY id").fetchall()
    store.close()

    assert M015 in upgrade(str(path), registry)

    store = SQLiteStore(path)
    assert store.db.execute("SELECT id, authority, valid_from FROM status_by_date ORDER BY id").fetchall() == ids


def test_m016_derives_each_concerns_event_id_keeping_every_row(tmp_path):
    store, registry, path = _loaded_before(tmp_path, M016, seed=15)
    before = store.db.execute("SELECT * FROM concerns ORDER BY authority, concern_id").fetchall()
    assert len(before) > 50
    store.close()

    assert M016 in upgrade(str(path), registry)

    store = SQLiteStore(path)
    assert store.db.execute("SELECT * FROM concerns ORDER BY authority, concern_id").fetchall() == before
    generated = [r[1] for r in store.db.execute("PRAGMA table_xinfo(concerns)") if r[6]]
    assert generated == ["event_id"]
    assert store.db.execute("SELECT count(*) FROM open_concerns").fetchone()[0] > 0  # the views are back
    # A new event's projection writes its concerns in the new shape, and the nightly check finds them right.
    again = _another_inspection(tmp_path / "history.ndjson")
    assert load_lines(store, registry, [json.dumps(again)], recorded_by="new").appended == 1
    opened = store.db.execute("SELECT concern_id FROM concerns WHERE event_id = ? ORDER BY concern_id",
                              [again["event_id"]]).fetchall()
    assert opened == [(f"{again['event_id']}:{n}",) for n in range(1, len(again["payload"]["recommendations"]) + 1)]
    assert rebuild_check.check(store, date(2026, 11, 29))["mismatches"] == []


def _another_inspection(history) -> dict:
    """A copy of the history's first inspection with recommendations, as a new event."""
    for line in history.read_text().splitlines():
        event = json.loads(line)
        if event["kind"] == "inspection" and event["payload"].get("recommendations"):
            return dict(event, event_id=str(uuid.uuid4()))
    raise AssertionError("no inspection with recommendations in the history")


def test_a_store_in_use_when_m016_runs_elsewhere_writes_concerns_in_the_new_shape(tmp_path):
    store, registry, path = _loaded_before(tmp_path, M016, seed=16)  # its concerns written with the event id
    assert M016 in upgrade(str(path), registry)  # by another connection, as another process would
    again = _another_inspection(tmp_path / "history.ndjson")
    assert load_lines(store, registry, [json.dumps(again)], recorded_by="new").appended == 1
    store.project_due()
    assert store.db.execute("SELECT count(*) FROM concerns WHERE event_id = ?", [again["event_id"]]).fetchone()[0] \
        == len(again["payload"]["recommendations"])
