"""m009 turns an existing status_by_date (m007's WITHOUT ROWID table, 8 entries a row) into today's in place;
m014 recompresses its zlib rows with zstd."""
from __future__ import annotations

import zlib
from datetime import date

from bench import generate
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


def test_m009_converts_an_existing_database_without_changing_an_answer(tmp_path, monkeypatch):
    out = tmp_path / "history.ndjson"
    registry = Registry.load(generate.write(out, 3, 70, seed=11))
    path = tmp_path / "old.db"
    schema_before(path, M009, registry)
    store = SQLiteStore(path)
    monkeypatch.setattr(by_date, "CHUNK", 8)  # rows as the code before m009 wrote them
    assert load_lines(store, registry, out.read_text().splitlines(), recorded_by="old").ok
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
    out = tmp_path / "history.ndjson"
    registry = Registry.load(generate.write(out, 3, 70, seed=12))
    path = tmp_path / "old.db"
    schema_before(path, M014, registry)
    store = SQLiteStore(path)
    assert load_lines(store, registry, out.read_text().splitlines(), recorded_by="old").ok
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
    assert rows.keys() == texts.keys() and len(rows) > 10
    assert all(entry[:4] == by_date.ZSTD_MAGIC for entry in rows.values())
    assert {row_id: by_date.stored_text(entry) for row_id, entry in rows.items()} == texts
    for slug in store.authorities_with_events():
        stored = store.db.execute("SELECT valid_from, entry FROM status_by_date WHERE authority = ? "
                                  "ORDER BY valid_from", [slug]).fetchall()
        assert stored == projection_of(slug, store.read_stream(slug), date(2026, 11, 29)).status_by_date
        assert _assert_same_as_fold(store, slug) > 100
