"""Streaming the global feed as NDJSON and CSV: rows per second and peak memory, for N events.

    .venv/bin/python bench/streaming.py [N]          (default 200000)

Builds a temporary database of N synthetic monitoring visits spread over every
active authority (through `timeline load --restore`'s path, which is the quick
way to write many events), then reads /api/events?format=ndjson and ?format=csv
through the app without holding the body, printing time and rows/s, then
again under tracemalloc for the peak Python memory while streaming. Peak memory should stay flat as N
grows: the feed is read from the store in batches.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from events.exporting import restore_lines  # noqa: E402
from events.registry import Registry  # noqa: E402
from events.sqlite_store import SQLiteStore  # noqa: E402
from migrations.migrations import upgrade  # noqa: E402
from service.app import create_app  # noqa: E402


def synthetic_lines(n: int, registry: Registry):
    """N valid export lines: monitoring visits round-robin over the active authorities."""
    slugs = [a.slug for a in registry.active()]
    versions = dict.fromkeys(slugs, 0)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for position in range(1, n + 1):
        slug = slugs[position % len(slugs)]
        versions[slug] += 1
        day = date(2000, 1, 1) + timedelta(days=versions[slug] % 9000)
        yield json.dumps({
            "event_id": f"00000000-0000-4000-8000-{position:012d}", "authority": slug, "version": versions[slug],
            "position": position, "kind": "monitoring_visit", "schema_version": 1, "effective_on": day.isoformat(),
            "date_precision": "day", "occurred": {"start": day.isoformat(), "end": day.isoformat()},
            "recorded_at": (start + timedelta(milliseconds=position)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "recorded_by": "bench", "payload": {"ordinal": 1, "areas_covered": ["help and protection"],
                                                "findings": [{"text": "Progress.", "direction": "progress"}],
                                                "inspectors": []},
            "source": {"title": "Synthetic letter"}, "request_hash": f"{position:064x}"})


def stream(client, query: str, trace: bool) -> tuple[int, int, float, int]:
    """Read one streamed answer chunk by chunk: (lines, bytes, seconds, peak bytes allocated while streaming)."""
    if trace:
        tracemalloc.start()
    began = time.perf_counter()
    response = client.get(f"/api/events?{query}", buffered=False)
    lines = size = 0
    for chunk in response.response:
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
        size += len(chunk)
    seconds = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    response.close()
    return lines, size, seconds, peak


def main() -> None:
    """Build the database, stream it twice, print the figures."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    registry = Registry.load()
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "bench.db")
        upgrade(path)
        began = time.perf_counter()
        restore_lines(SQLiteStore(path), registry, synthetic_lines(n, registry), today=date.today)
        print(f"restored {n} events in {time.perf_counter() - began:.1f} s")
        client = create_app({"TIMELINE_DATABASE": path}).test_client()
        for fmt in ("ndjson", "csv"):
            lines, size, seconds, _ = stream(client, f"format={fmt}", trace=False)
            _, _, _, peak = stream(client, f"format={fmt}", trace=True)  # tracing slows Python: timed separately
            print(f"{fmt:6}: {lines} lines, {size / 1e6:.1f} MB in {seconds:.1f} s "
                  f"({lines / seconds:,.0f} lines/s), peak memory while streaming {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
