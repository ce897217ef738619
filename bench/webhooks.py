#!/usr/bin/env python3
"""What webhooks cost: appends with and without the outbox, delivery throughput, a backup.

    .venv/bin/python bench/webhooks.py [--events 300] [--webhooks 10]

Appends the same monitoring visits to two fresh databases (seeded with the
bundled data), one with no webhook registered, one with N (half filtered to
the authority, half to other kinds: a match and a miss);
then sends every delivery to a local receiver (HTTP on 127.0.0.1, answering
204) and backs the database up. Prints what it measured in this run.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from events import backup, webhooks  # noqa: E402
from events.appending import append_event  # noqa: E402
from events.deliveries import DeliverySettings  # noqa: E402
from events.loading import bundled_lines, load_lines  # noqa: E402
from events.registry import Registry  # noqa: E402
from events.sqlite_store import SQLiteStore  # noqa: E402
from migrations.migrations import upgrade  # noqa: E402
from service.delivery import deliver_due  # noqa: E402


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _visit(n: int) -> dict:
    return {"kind": "monitoring_visit", "effective_on": "2026-10-15",
            "occurred": {"start": "2026-09-30", "end": "2026-10-01"},
            "payload": {"ordinal": n % 100 + 1, "areas_covered": ["help and protection"],
                        "findings": [{"text": f"Finding {n}.", "direction": "progress"}], "inspectors": ["A HMI"]},
            "source": {"title": f"Monitoring visit letter {n}", "url": f"https://example.org/{n}.pdf"}}


def _append_rate(store: SQLiteStore, registry: Registry, authority: str, count: int) -> float:
    began = time.perf_counter()
    for n in range(count):
        append_event(store, registry, authority, _visit(n), recorded_by="bench")
    return count / (time.perf_counter() - began)


def _fresh(folder: Path, name: str, registry: Registry) -> SQLiteStore:
    path = str(folder / name)
    upgrade(path)
    store = SQLiteStore(path)
    load_lines(store, registry, bundled_lines(), recorded_by="seed")
    return store


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--webhooks", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    registry = Registry.load()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"

    # Two fresh databases, the same appends: only the registered webhooks differ.
    plain = _fresh(folder, "plain.db", registry)
    without = _append_rate(plain, registry, "leeds", args.events)
    store = _fresh(folder, "hooks.db", registry)
    now = datetime.now(timezone.utc)
    for i in range(args.webhooks):
        filters = {"authorities": ["leeds"]} if i % 2 == 0 else {"kinds": ["inspection"]}
        webhooks.create(store.db, {"url": url, "secret": f"bench-secret-{i:08d}", **filters}, "bench", now)
    with_hooks = _append_rate(store, registry, "leeds", args.events)
    pending = store.db.execute("SELECT count(*) FROM deliveries WHERE state = 'pending'").fetchone()[0]

    began, sent = time.perf_counter(), 0
    while True:
        # The receiver is local (127.0.0.1): allowed explicitly, as TIMELINE_WEBHOOK_ALLOW_PRIVATE=1 would.
        counts = deliver_due(store.db, datetime.now(timezone.utc), DeliverySettings(timeout=5, allow_private=True),
                             limit=500)
        if not counts["delivered"]:
            break
        sent += counts["delivered"]
    delivery_rate = sent / (time.perf_counter() - began) if sent else 0.0

    began = time.perf_counter()
    made = backup.backup(store.path, folder / "backups", 2, datetime.now(timezone.utc))
    backup_seconds = time.perf_counter() - began
    server.shutdown()

    print(f"appends, no webhook:            {without:8.1f} events/s ({args.events} events, synchronous=FULL)")
    print(f"appends, {args.webhooks} webhooks:           {with_hooks:8.1f} events/s "
          f"({pending} deliveries written in the same transactions)")
    print(f"deliveries to a local receiver: {delivery_rate:8.1f} /s ({sent} sent, one sender, signed)")
    print(f"backup + verify:                {backup_seconds:8.3f} s ({made['events']} events, {made['bytes']} bytes)")


if __name__ == "__main__":
    main()
