"""HTTP load for the benchmark: N keep-alive connections on loopback for a bounded time, each opened anew
every half second.

Run as its own process by bench/run.py, so the client does not share the
server's interpreter. Reads a plan (JSON) on stdin, prints one JSON result:
requests/s, latency p50/p99 in ms, and the count of each status.

Plans:
- {"paths": ["/api/...", ...]}: GETs, each connection walking the list from its own offset;
- {"append": {"token": T, "streams": {slug: version, ...}}}: POSTs of new events, each
  with an Idempotency-Key and the stream's expected_version (each connection owns
  its own streams, so a 409 means a real bug, not a race between our own clients);
- {"alternate": [plan, plan], "slice": S}: two plans (each with its own "port")
  taking turns of S seconds, each turn on connections opened for it, until each
  has had "duration" seconds; one result for each. This machine's speed changes
  over seconds: two servers measured in turns this short meet the same machine.
"""
from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import Stream, ungraded  # noqa: E402


def get_request(host: str, path: str) -> bytes:
    """A keep-alive GET."""
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode()


def post_request(host: str, path: str, body: bytes, headers: dict) -> bytes:
    """A keep-alive POST of a JSON body."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the server will close the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body, headers.get("connection", "").lower() == "close"


class Appender:
    """Makes each connection's next append: a new event for one of its own streams."""

    def __init__(self, host: str, token: str, streams: dict[str, int], seed: int):
        self.host, self.token = host, token
        self.versions = dict(streams)
        # Seeded by where the streams stand too: a rerun on a database earlier runs appended to makes new
        # events (the same event ids again would be refused as reused, 422, not measured as appends).
        self.rng = random.Random(f"{seed}:{sum(streams.values())}")
        self.cursors = {slug: Stream(slug, self.rng, date(2026, 1, 1), 1.0)
                        for slug in streams}
        self.pending: str | None = None

    def next(self) -> bytes:
        """The next POST, with a fresh Idempotency-Key and the version this connection last saw."""
        slug = self.rng.choice(sorted(self.versions))
        line = ungraded(self.cursors[slug], date(2026, 6, 1))
        line.pop("authority")
        line["expected_version"] = self.versions[slug]
        self.pending = slug
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": f"bench-{line['event_id']}"}
        return post_request(self.host, f"/api/authorities/{slug}/events", json.dumps(line).encode(), headers)

    def done(self, status: int) -> None:
        """Advance the stream's version when the append was stored."""
        if status == 201 and self.pending:
            self.versions[self.pending] += 1


# Each connection is closed and opened again this often (and at each turn), so which gunicorn worker holds it is
# drawn again: the workers accept as they wake, and of 16 connections opened at once one worker took all 16 in
# one run of eight, the other idling (bare Flask 1,151-1,329 req/s in such runs, 2,730-3,161 otherwise).
FRESH_SECONDS = 0.5


async def connection(host: str, port: int, deadline: list[float], make, after, latencies: list, statuses: dict,
                     turn: asyncio.Event | None = None) -> None:
    """One keep-alive connection sending requests back to back until deadline[0] (which may be set later), and
    only while `turn` is set, if given; opened anew every FRESH_SECONDS and at each turn."""
    writer = None
    opened = 0.0
    while True:
        if turn is not None and not turn.is_set():
            if writer is not None:
                writer.close()
                writer = None
            await turn.wait()
        now = time.perf_counter()
        if now >= deadline[0]:
            break
        if writer is None or now - opened >= FRESH_SECONDS:
            if writer is not None:
                writer.close()
            reader, writer = await asyncio.open_connection(host, port)
            opened = time.perf_counter()
        request = make()
        started = time.perf_counter()
        writer.write(request)
        try:
            status, _, close = await read_response(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            statuses["error"] = statuses.get("error", 0) + 1
            close = True
        else:
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            after(status)
        if close:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


def clients(plan: dict, host: str) -> list[tuple]:
    """Each connection's (make, after): its next request, and what to do with the answer's status."""
    n = plan.get("connections", 16)
    if "append" in plan:
        n = min(n, len(plan["append"]["streams"]))  # a connection per stream at most: no races between ourselves
    out = []
    for k in range(n):
        if "paths" in plan:
            paths = plan["paths"]
            requests = [get_request(host, p) for p in paths[k::n] or paths]
            counter = iter(range(10 ** 12))
            out.append((lambda rs=requests, c=counter: rs[next(c) % len(rs)], lambda status: None))
        else:
            spec = plan["append"]
            mine = {slug: v for i, (slug, v) in enumerate(sorted(spec["streams"].items())) if i % n == k}
            appender = Appender(host, spec["token"], mine, seed=k)
            out.append((appender.next, appender.done))
    return out


def summary(latencies: list[float], statuses: dict, seconds: float) -> dict:
    """Requests/s over `seconds`, latency p50/p99 in ms, and the count of each status."""
    latencies.sort()
    pick = (lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2) if latencies else None)
    return {"requests": len(latencies), "seconds": round(seconds, 2), "rps": round(len(latencies) / seconds, 1),
            "p50_ms": pick(0.50), "p99_ms": pick(0.99), "statuses": {str(k): v for k, v in statuses.items()}}


async def run(plan: dict) -> dict | list[dict]:
    """Drive the plan and summarise."""
    if "alternate" in plan:
        return await alternate(plan)
    host, port = plan.get("host", "127.0.0.1"), plan["port"]
    latencies: list[float] = []
    statuses: dict = {}
    deadline = [time.perf_counter() + plan.get("duration", 10)]
    tasks = [connection(host, port, deadline, make, after, latencies, statuses) for make, after in clients(plan, host)]
    started = time.perf_counter()
    await asyncio.gather(*tasks)
    return summary(latencies, statuses, time.perf_counter() - started)


async def alternate(plan: dict) -> list[dict]:
    """Two plans in turns of plan["slice"] seconds, until each has had plan["duration"]; a result for each."""
    host, duration, slice_ = plan.get("host", "127.0.0.1"), plan.get("duration", 10), plan.get("slice", 0.5)
    sides = [dict(side, connections=plan.get("connections", 16)) for side in plan["alternate"]]
    turns = [asyncio.Event() for _ in sides]
    latencies: list[list[float]] = [[] for _ in sides]
    statuses: list[dict] = [{} for _ in sides]
    active = [0.0 for _ in sides]
    deadline = [float("inf")]  # set once each side has had its time
    tasks = [asyncio.ensure_future(connection(host, side["port"], deadline, make, after, latencies[i], statuses[i],
                                              turns[i]))
             for i, side in enumerate(sides) for make, after in clients(side, host)]
    which = 0
    while min(active) < duration:
        if active[which] < duration:
            turns[which].set()
            started = time.perf_counter()
            await asyncio.sleep(min(slice_, duration - active[which]))
            turns[which].clear()
            active[which] += time.perf_counter() - started
        which = (which + 1) % len(sides)
    deadline[0] = time.perf_counter()
    for turn in turns:
        turn.set()
    await asyncio.gather(*tasks)
    return [summary(latencies[i], statuses[i], active[i]) for i in range(len(sides))]


def main() -> None:
    """Read the plan on stdin, print the result."""
    print(json.dumps(asyncio.run(run(json.load(sys.stdin)))))


if __name__ == "__main__":
    main()
