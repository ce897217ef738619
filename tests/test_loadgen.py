"""The benchmark's load generator: two servers loaded in turns get their turns, and only in their turns."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from flask import Flask
from werkzeug.serving import make_server

from bench import loadgen


def _server(name: str, seen: list):
    app = Flask(name)

    @app.get("/")
    def hello():
        seen.append((name, time.perf_counter()))
        return {"server": name}

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def two_servers():
    seen: list = []
    servers = [_server("a", seen), _server("b", seen)]
    yield servers, seen
    for server in servers:
        server.shutdown()


def test_two_servers_take_turns_and_each_gets_its_time(two_servers):
    (a, b), seen = two_servers
    plan = {"alternate": [{"port": a.server_port, "paths": ["/"]}, {"port": b.server_port, "paths": ["/"]}],
            "slice": 0.1, "duration": 0.5, "connections": 2}
    results = asyncio.run(loadgen.run(plan))
    assert [r["statuses"] for r in results] == [{"200": r["requests"]} for r in results]
    # Each side has had its 0.5 s of turns. The last turn can run over while the loop waits for the servers'
    # threads (here in the same process) to let it run again; a side given a second share would have 1 s.
    assert all(r["requests"] > 0 and 0.45 <= r["seconds"] < 0.95 for r in results), results
    assert sum(r["requests"] for r in results) == len(seen)
    # In turns: the servers' requests come in runs, about one a turn (ten turns in all; a request still in
    # flight as a turn ends may land in the next), not interleaved request by request.
    switches = sum(1 for before, after in zip(seen, seen[1:]) if before[0] != after[0])
    assert len(seen) >= 100 and 5 <= switches <= 30, (len(seen), switches)
