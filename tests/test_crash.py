"""Crashes and concurrency against real gunicorn workers on a file database."""
from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bench.crash_scenario import Server, append_body, run_scenario
from bench.fuzz_requests import run_fuzz
from events.sqlite_store import SQLiteStore
from service.auth import new_token


@pytest.fixture
def server(tmp_path):
    """gunicorn with 3 workers on a fresh, migrated file database."""
    running = Server(tmp_path / "served.db", workers=3, log_path=tmp_path / "gunicorn.log").start()
    yield running
    running.stop()


def test_sigkilled_workers_lose_and_duplicate_nothing(server):
    outcome = run_scenario(server, seconds=12, writers=6, kill_gap=0.8)
    assert outcome.kills >= 5 and outcome.connection_errors > 0  # workers really died under the writers
    assert outcome.acknowledged == outcome.attempted > 50
    assert outcome.lost == outcome.duplicates == outcome.unacknowledged_stored == outcome.event_id_mismatches == 0
    assert outcome.stored == outcome.acknowledged
    assert outcome.refused == [] and outcome.server_errors == []
    assert outcome.version_gaps == []
    assert outcome.verification.ok and outcome.verification.events_checked == outcome.stored
    assert outcome.projections_differing == []


def post_with_expected_version(server: Server, token: str, key: str, expected: int, barrier: threading.Barrier,
                               results: list) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.connect()  # connected before the barrier, so both requests leave together
    body = json.loads(append_body(key))
    barrier.wait()
    conn.request("POST", "/api/authorities/trafford/events", body=json.dumps(dict(body, expected_version=expected)),
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                          "Idempotency-Key": key})
    response = conn.getresponse()
    results.append((response.status, json.loads(response.read())))
    conn.close()


def test_two_writers_with_the_same_expected_version_one_wins_the_other_gets_409(server):
    token = new_token(SQLiteStore(server.db_path), "racers")
    for round_ in range(50):
        results, barrier = [], threading.Barrier(2)
        threads = [threading.Thread(target=post_with_expected_version,
                                    args=(server, token, f"race-{round_}-{side}", round_, barrier, results))
                   for side in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(status for status, _ in results)
        assert statuses == [201, 409], (round_, results)
        (winner,), (loser,) = ([doc for status, doc in results if status == code] for code in (201, 409))
        assert winner["version"] == round_ + 1 and loser["status"] == 409
    assert SQLiteStore(server.db_path).stream_version("trafford") == 50


def test_hostile_requests_never_get_a_5xx(server):
    token = new_token(SQLiteStore(server.db_path), "fuzzer")
    report = run_fuzz(server.port, token, cases=800, seed=7)
    assert report.cases == 800 and sum(report.statuses.values()) == 800
    assert report.server_errors == [] and report.connection_errors == []
    assert {400, 404, 405, 415, 422} <= set(report.statuses)  # the cases reach every layer of refusal
    assert report.statuses[413] + report.statuses["closed-early"] > 0


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/events?after=" + "9" * 40, None),  # beyond SQLite's integers
    ("POST", "/api/authorities/salford/events", b"[" * 100_000),  # the JSON parser's recursion
    ("POST", "/api/authorities/salford/events", b'{"a":' * 5000 + b"1" + b"}" * 5000),
])
def test_what_the_fuzz_pass_found_is_a_400_problem(client, auth, method, path, body):
    response = client.open(path, method=method, data=body, headers=auth, content_type="application/json")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_reliability_bench_prints_the_table_and_passes():
    script = Path(__file__).resolve().parents[1] / "bench" / "reliability.py"
    run = subprocess.run([sys.executable, str(script), "--seconds", "2", "--fuzz-cases", "50", "--writers", "2"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [line.split("|")[1:3] for line in run.stdout.splitlines()[2:] if line.startswith("| ")]
    figures = {name.strip(): value.strip() for name, value in rows}
    assert figures["lost"] == figures["duplicates"] == figures["5xx seen"] == "0"
    assert figures["fuzz cases run"] == "50" and int(figures["appends attempted"]) == int(figures["stored"]) > 0
    assert figures["hash chains"] == "intact"


def test_every_connection_syncs_each_commit_to_disk(store):
    """The README's durability promise: WAL with synchronous=FULL (2), so an acknowledged append survives power loss."""
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2
