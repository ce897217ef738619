"""The run command, for real: `timeline serve` migrates, seeds and serves under gunicorn."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import monitoring_visit

TIMELINE = str(Path(sys.executable).parent / "timeline")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def served(tmp_path):
    env = dict(os.environ, TIMELINE_DATABASE=str(tmp_path / "served.db"))
    port = free_port()
    process = subprocess.Popen([TIMELINE, "serve", "--bind", f"127.0.0.1:{port}"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            fetch(f"{base}/api/authorities/manchester")
            break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                pytest.fail(process.stdout.read().decode())
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("the service did not start within 60 s")
    yield base, env
    os.killpg(process.pid, signal.SIGTERM)
    output = process.communicate(timeout=30)[0].decode()
    assert "Booting worker" in output  # it really was gunicorn's workers serving


def test_serve_answers_status_from_bundled_data_and_takes_a_monitoring_visit(served):
    base, env = served
    code, doc = fetch(f"{base}/api/authorities/manchester/status?as_of=2015-01-01")
    assert code == 200
    assert (doc["overall"]["grade"], doc["overall"]["framework"], doc["regime"]["summary"]) == (4, "sif-2013", "monitoring")
    token = subprocess.run([TIMELINE, "tokens", "create", "letters"], env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    code, stored = fetch(f"{base}/api/authorities/manchester/events", monitoring_visit(expected_version=17),
                         {"Authorization": f"Bearer {token}", "Idempotency-Key": "run-test-1"})
    assert code == 201 and stored["version"] == 18
    _, after = fetch(f"{base}/api/authorities/manchester/status?as_of=2026-10-16")
    assert after["last_event"]["event_id"] == stored["event_id"]
    _, before = fetch(f"{base}/api/authorities/manchester/status?as_of=2026-10-14")
    assert before["last_event"]["event_id"] != stored["event_id"]


def test_cli_seed_is_idempotent_and_rebuild_reports(tmp_path):
    env = dict(os.environ, TIMELINE_DATABASE=str(tmp_path / "cli.db"))
    run = lambda *args: subprocess.run([TIMELINE, *args], env=env, capture_output=True, text=True, check=True).stdout  # noqa: E731
    assert "applied m001_events" in run("db", "upgrade")
    assert "up to date" in run("db", "upgrade")
    assert "17 appended, 0 already present" in run("seed")
    assert "0 appended, 17 already present" in run("seed")
    assert "rebuilt 1 authorities from 17 events" in run("rebuild")
    run("tokens", "create", "a")
    run("tokens", "revoke", "a")
    assert "revoked" in run("tokens", "list")


def test_cli_load_appends_ndjson_once_and_reports_refusals(tmp_path):
    env = dict(os.environ, TIMELINE_DATABASE=str(tmp_path / "load.db"))
    subprocess.run([TIMELINE, "db", "upgrade"], env=env, check=True, capture_output=True)
    good = dict(monitoring_visit(), authority="kent", event_id="0b6f3a56-7f0e-4c55-9d2c-3d9a0c1e2f40",
                recorded_at="1999-01-01T00:00:00Z", position=99)  # server fields in a line are ignored, never used
    bad = dict(monitoring_visit(effective_on="2026-09-01"), authority="kent")
    path = tmp_path / "events.ndjson"
    path.write_text(json.dumps(good) + "\n")
    load = lambda *args, **kw: subprocess.run([TIMELINE, "load", *args], env=env, capture_output=True, text=True, **kw)  # noqa: E731
    assert "1 appended" in load(str(path)).stdout
    assert "0 appended, 1 already present" in load("-", input=path.read_text()).stdout
    path.write_text(json.dumps(bad) + "\n")
    refused = load(str(path))
    assert refused.returncode == 1 and "line 1" in refused.stderr and "effective_on" in refused.stderr
    feed = subprocess.run([sys.executable, "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("
                           "'select count(*), min(recorded_at) from events').fetchone())", env["TIMELINE_DATABASE"]],
                          capture_output=True, text=True).stdout
    assert feed.startswith("(1, '20") and "1999" not in feed  # one event, stamped by the server's clock
