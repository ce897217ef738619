#!/usr/bin/env python3
"""How long the HTML pages take to render, over the bundled data and over every authority with a history.

    .venv/bin/python bench/pages.py [--repeat 20]

Two databases in a temporary folder: the bundled data (Manchester's 17 events,
152 authorities with none), then the same history copied to all 153 authorities
(Manchester's events without the committee responses, which refer to Manchester's
own events). Each page is requested through the Flask test client `--repeat`
times; prints the median and slowest time and the size of the HTML.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from events.loading import bundled_lines, load_lines  # noqa: E402
from events.registry import Registry  # noqa: E402
from events.sqlite_store import SQLiteStore  # noqa: E402
from migrations.migrations import upgrade  # noqa: E402
from service.app import create_app  # noqa: E402

PAGES = ("/", "/?as_of=2015-01-01", "/authorities/manchester", "/authorities/manchester?as_of=2015-01-01",
         "/authorities/hartlepool", "/events/e1f51ae0-2841-5c6e-8b00-7e7ba7087eba",
         "/authorities/manchester/monitoring-visits/new")


def everywhere(registry: Registry) -> list[str]:
    """Manchester's history (less committee responses) as NDJSON lines for every active authority."""
    lines = [json.loads(line) for line in bundled_lines() if line.strip()]
    lines = [line for line in lines if line["kind"] != "committee_response"]
    out = []
    for authority in registry.active():
        for line in lines:
            event_id = line["event_id"] if authority.slug == "manchester" else str(uuid.uuid4())
            out.append(json.dumps(dict(line, authority=authority.slug, event_id=event_id)))
    return out


def measure(db: str, repeat: int) -> None:
    """Print median and slowest render time of each page."""
    client = create_app({"TIMELINE_DATABASE": db}).test_client()
    for url in PAGES:
        times, size = [], 0
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            size = len(response.data)
        print(f"  {url:55} median {statistics.median(times):7.1f} ms  max {max(times):7.1f} ms  {size / 1024:6.0f} KiB")


def main() -> int:
    """Build both databases and time every page on each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    registry = Registry.load()
    with tempfile.TemporaryDirectory() as folder:
        for name, lines in (("bundled data (17 events)", list(bundled_lines())), ("every authority with a history", None)):
            db = str(Path(folder) / f"{uuid.uuid4().hex}.db")
            upgrade(db)
            store = SQLiteStore(db)
            report = load_lines(store, registry, lines if lines is not None else everywhere(registry), recorded_by="bench")
            assert report.ok, report.refused[:3]
            print(f"{name}: {report.appended} events")
            measure(db, args.repeat)
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
