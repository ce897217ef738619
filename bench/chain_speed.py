#!/usr/bin/env python3
"""How long the hash chains cost on a large store: migration m005's back-fill, and one full verification.

    .venv/bin/python bench/chain_speed.py [--events 100000] [--authorities 150]

Builds a database at the schema before m005 holding N events (the bundled
Manchester events repeated across authorities, each with its own id and
version), applies m005 (which links them all) and then verifies, timing both; then times
one GET /api/verify window (its default limit) over the same store.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from events.loading import bundled_lines  # noqa: E402
from events.sqlite_store import SQLiteStore, connect  # noqa: E402
from events.verify import verify_store  # noqa: E402
from migrations.migrations import migrations  # noqa: E402
from service.api.verify import DEFAULT_LIMIT  # noqa: E402


def old_database(path: str, events: int, authorities: int) -> None:
    """A database migrated up to (not including) m005, filled with `events` synthetic events."""
    db = connect(path)
    migrations.apply(db, stop_before="m005_event_hashes")
    templates = [json.loads(line) for line in bundled_lines()]
    versions = [0] * authorities
    rows = []
    for n in range(events):
        body, slot = templates[n % len(templates)], n % authorities
        versions[slot] += 1
        rows.append((str(uuid.uuid4()), f"authority-{slot}", versions[slot], body["kind"], 1, body["effective_on"],
                     "day", body["occurred"]["start"], body["occurred"]["end"], f"2026-01-01T00:00:{n:09d}Z",
                     "bench", json.dumps(body["payload"], sort_keys=True), json.dumps(body["source"], sort_keys=True),
                     "bench"))
    with db.atomic():
        db.conn.executemany(
            "INSERT INTO events (event_id, authority, version, kind, schema_version, effective_on, date_precision, "
            "occurred_start, occurred_end, recorded_at, recorded_by, payload, source, request_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.conn.close()


def measure(events: int, authorities: int) -> dict:
    """Seconds to back-fill and to verify `events` events; whether the verification came out intact."""
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "chain.db")
        old_database(path, events, authorities)
        db = connect(path)
        start = time.perf_counter()
        migrations.apply(db)
        backfill = time.perf_counter() - start
        db.conn.close()
        store = SQLiteStore(path)
        start = time.perf_counter()
        found = verify_store(store)  # as `timeline verify`, GET /api/verify and the nightly job do
        checking = time.perf_counter() - start
        start = time.perf_counter()
        window = verify_store(store, 1, DEFAULT_LIMIT)
        one_request = time.perf_counter() - start
        store.close()
    return {"events": events, "authorities": authorities, "backfill_s": round(backfill, 2),
            "verify_s": round(checking, 2), "verify_events_per_s": round(found.events_checked / checking),
            "intact": found.ok, "events_checked": found.events_checked,
            "api_window_events": window.events_checked, "api_window_s": round(one_request, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--authorities", type=int, default=150)
    args = parser.parse_args()
    for name, value in measure(args.events, args.authorities).items():
        print(f"{name:>20}: {value}")


if __name__ == "__main__":
    main()
