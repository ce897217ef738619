"""m009 turns an existing status_by_date (m007's WITHOUT ROWID table, 8 entries a row) into today's in place."""
from __future__ import annotations

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
