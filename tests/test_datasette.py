"""The SQLite file as Datasette shows it: a registry table, foreign keys, useful views (m008_datasette)."""
from __future__ import annotations

import asyncio
from datetime import date

from datasette.app import Datasette

from events.loading import bundled_lines, load_lines
from events.projections.status import projection_of
from events.sqlite_store import SQLiteStore, connect
from migrations.migrations import PROJECTION_DUE, migrations, upgrade
from tests.conftest import without_due_list

VIEWS = ("current_status", "open_concerns", "judgement_history", "events_readable")


def test_projection_tables_have_foreign_keys_to_the_registry_and_events(seeded_store, registry):
    db = seeded_store.db
    assert db["authorities"].count == len(registry.all())  # every authority, abolished ones too
    keys = {(t, fk.column, fk.other_table) for t in ("authority_status", "concerns", "judgements")
            for fk in db[t].foreign_keys}
    assert {("authority_status", "authority", "authorities"), ("concerns", "authority", "authorities"),
            ("concerns", "event_id", "events"), ("judgements", "authority", "authorities"),
            ("judgements", "event_id", "events")} <= keys
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert set(VIEWS) <= set(db.view_names())


def test_views_answer_with_names_and_regions(seeded_store, registry):
    db = seeded_store.db
    manchester = next(db.query("SELECT * FROM current_status WHERE authority = 'manchester'"))
    stored = seeded_store.read_projection("manchester")
    assert (manchester["name"], manchester["region"]) == ("Manchester", "North West")
    assert manchester["overall_grade"] == stored["overall_grade"] and manchester["events"] == 17
    assert db["current_status"].count == len(registry.active())
    concerns = list(db.query("SELECT * FROM open_concerns"))
    assert len(concerns) == db.execute("SELECT count(*) FROM concerns WHERE state = 'open'").fetchone()[0]
    assert all(c["name"] == "Manchester" for c in concerns)
    events = list(db.query("SELECT * FROM events_readable ORDER BY position"))
    assert len(events) == 17 and events[0]["name"] == "Manchester" and events[0]["source_title"]
    judgements = list(db.query("SELECT * FROM judgement_history WHERE normalised_area = 'overall'"))
    assert {j["label"] for j in judgements} >= {"Inadequate"}


def test_m008_keeps_the_projections_of_a_database_made_before_it(tmp_path, registry, clock):
    path = str(tmp_path / "old.db")
    db = connect(path)
    migrations.apply(db, stop_before="m008_datasette")
    db.execute(PROJECTION_DUE)  # today's store keeps its due list there (m011); dropped again before the upgrade
    db.conn.close()
    store = SQLiteStore(path, clock=clock)
    assert load_lines(store, registry, bundled_lines(), recorded_by="seed").ok
    before = store.read_projections(), store.db.execute("SELECT * FROM concerns ORDER BY concern_id").fetchall()
    store.close()
    without_due_list(path)
    assert "m008_datasette" in upgrade(path)
    store = SQLiteStore(path, clock=clock)
    assert (store.read_projections(), store.db.execute("SELECT * FROM concerns ORDER BY concern_id").fetchall()) == before
    # Rebuilding (as `timeline rebuild` does) rewrites the keyed tables without complaint.
    # (the seed projected as of the real today, so the rebuild does too)
    store.save_projection("manchester", projection_of("manchester", store.read_stream("manchester"), date.today()))
    assert store.read_projections() == before[0]


def test_datasette_serves_the_views_and_links_the_foreign_keys(seeded_store):
    async def browse():
        ds = Datasette([seeded_store.path], immutables=[])
        await ds.invoke_startup()
        name = next(iter(ds.databases.keys() - {"_internal", "_memory"}))
        views = {}
        for view in VIEWS:
            response = await ds.client.get(f"/{name}/{view}.json?_shape=array&_size=max")
            assert response.status_code == 200, view
            views[view] = response.json()
        concern = (await ds.client.get(f"/{name}/concerns.json?_shape=array&_labels=on&_size=1")).json()[0]
        return views, concern

    views, concern = asyncio.run(browse())
    assert len(views["events_readable"]) == 17
    assert any(row["authority"] == "manchester" and row["name"] == "Manchester" for row in views["current_status"])
    # Datasette follows the foreign key: the authority cell is labelled with the authority's name.
    assert concern["authority"] == {"value": "manchester", "label": "Manchester"}
