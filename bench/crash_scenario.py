"""A crash scenario against real gunicorn: concurrent writers, SIGKILLed workers, then the invariants.

Used by tests/test_crash.py (briefly) and bench/reliability.py (for longer).
Standard library only for HTTP, so what is tested is the service, not a client's
retry logic.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from events.projections.status import projection_of
from events.sqlite_store import SQLiteStore
from events.verify import Verification, verify
from migrations.migrations import upgrade
from service.auth import new_token

ROOT = Path(__file__).resolve().parents[1]
UNTRIPPABLE = "1000000000/minute"  # rate limits still counted on every request, never reached
AUTHORITIES = ("salford", "bolton", "wigan", "stockport")
MARKER = "crash-scenario "


def free_port() -> int:
    """A TCP port nobody is listening on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 15) -> tuple[int, bytes, dict]:
    """One HTTP request on a new connection: (status, body, headers); OSError/HTTPException if the connection fails."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


class Server:
    """gunicorn (`python -m gunicorn -c gunicorn.conf.py wsgi:app`) on a file database, in its own session."""

    def __init__(self, db_path: str, workers: int = 3, log_path: str | None = None):
        self.db_path, self.workers, self.port = str(db_path), workers, free_port()
        self.log = open(log_path or os.devnull, "ab")
        self.process: subprocess.Popen | None = None

    def start(self, wait: float = 60) -> "Server":
        """Migrate, start gunicorn and wait until a worker answers."""
        upgrade(self.db_path)
        # Limits counted as in production but too high to trip: this measures durability, not throttling.
        env = dict(os.environ, TIMELINE_DATABASE=self.db_path, TIMELINE_BIND=f"127.0.0.1:{self.port}",
                   WEB_CONCURRENCY=str(self.workers), TIMELINE_RATE_LIMIT_WRITES=UNTRIPPABLE,
                   TIMELINE_RATE_LIMIT_READS=UNTRIPPABLE)
        self.process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                                        cwd=ROOT, env=env, stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                if request(self.port, "GET", "/api/authorities/salford", timeout=2)[0] == 200:
                    return self
            except (OSError, http.client.HTTPException):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {wait} s")

    def worker_pids(self) -> list[int]:
        """The master's live children (its workers), read from /proc."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                state, ppid = stat.rsplit(")", 1)[1].split()[:2]
                if int(ppid) == self.process.pid and state != "Z":
                    pids.append(int(entry.name))
        return pids

    def stop(self) -> None:
        """Stop gunicorn and everything it started."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def append_body(key: str) -> bytes:
    """A valid monitoring-visit append whose finding carries the key, so a stored event can be traced to its request."""
    return json.dumps({
        "kind": "monitoring_visit", "effective_on": "2026-10-15",
        "occurred": {"start": "2026-09-30", "end": "2026-10-01"},
        "payload": {"ordinal": 1, "areas_covered": ["help and protection"],
                    "findings": [{"text": MARKER + key, "direction": "progress"}], "inspectors": ["A Inspector HMI"]},
        "source": {"title": "Monitoring visit letter", "url": "https://example.org/letter.pdf"},
    }).encode()


@dataclass
class Tally:
    """What the writers saw, shared between their threads."""

    attempted: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)  # idempotency key -> event_id in the 2xx
    refused: list[tuple[str, int, str]] = field(default_factory=list)  # 4xx: key, status, body
    server_errors: list[tuple[str, int, str]] = field(default_factory=list)  # 5xx
    connection_errors: int = 0
    replayed: int = 0  # 2xx marked Idempotent-Replayed: an earlier try had been stored, its answer lost
    lock: threading.Lock = field(default_factory=threading.Lock)


class Writer(threading.Thread):
    """Appends with unique keys until told to stop; retries each key (same body) until a 2xx or 4xx."""

    def __init__(self, server: Server, token: str, name: str, tally: Tally, stop: threading.Event, give_up: float):
        super().__init__(name=name, daemon=True)
        self.server, self.token, self.tally, self.stop_event, self.give_up = server, token, tally, stop, give_up
        self.random = random.Random(name)

    def run(self) -> None:
        """Append to random authorities, one key at a time, until stopped."""
        n = 0
        while not self.stop_event.is_set():
            n += 1
            self.append_until_answered(f"{self.name}-{n}", self.random.choice(AUTHORITIES))

    def append_until_answered(self, key: str, authority: str) -> None:
        """Send one append, and the same again after a dropped connection or 5xx, until a 2xx or 4xx."""
        body = append_body(key)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json", "Idempotency-Key": key}
        with self.tally.lock:
            self.tally.attempted += 1
        deadline = time.monotonic() + self.give_up
        while time.monotonic() < deadline:
            try:
                status, answer, answer_headers = request(self.server.port, "POST", f"/api/authorities/{authority}/events",
                                                         body, headers)
            except (OSError, http.client.HTTPException):
                with self.tally.lock:
                    self.tally.connection_errors += 1
                time.sleep(0.05)
                continue
            with self.tally.lock:
                if 200 <= status < 300:
                    self.tally.acknowledged[key] = json.loads(answer)["event_id"]
                    self.tally.replayed += answer_headers.get("Idempotent-Replayed") == "true"
                    return
                (self.tally.server_errors if status >= 500 else self.tally.refused).append(
                    (key, status, answer.decode(errors="replace")[:300]))
            if status < 500:
                return
            time.sleep(0.05)


class Killer(threading.Thread):
    """SIGKILLs a random worker at random moments (0.1 to `gap` s apart) until told to stop."""

    def __init__(self, server: Server, stop: threading.Event, seed: int = 1, gap: float = 1.0):
        super().__init__(name="killer", daemon=True)
        self.server, self.stop_event, self.random, self.gap = server, stop, random.Random(seed), gap
        self.kills = 0

    def run(self) -> None:
        """Kill, pause, kill again until stopped."""
        while not self.stop_event.wait(self.random.uniform(0.1, self.gap)):
            pids = self.server.worker_pids()
            if pids:
                try:
                    os.kill(self.random.choice(pids), signal.SIGKILL)
                    self.kills += 1
                except ProcessLookupError:
                    pass


@dataclass
class Outcome:
    """The scenario's figures and the invariants checked on the database afterwards."""

    attempted: int
    acknowledged: int
    stored: int
    duplicates: int
    lost: int
    unacknowledged_stored: int
    event_id_mismatches: int
    kills: int
    refused: list
    server_errors: list
    connection_errors: int
    replayed: int
    version_gaps: list
    verification: Verification
    projections_differing: list


def run_scenario(server: Server, seconds: float, writers: int = 6, kill_gap: float = 1.0, seed: int = 1) -> Outcome:
    """Write and kill for `seconds`, let every writer finish its last key, then check the database."""
    token = new_token(SQLiteStore(server.db_path), f"crash-{seed}-{time.time_ns()}")
    tally, stop_writing, stop_killing = Tally(), threading.Event(), threading.Event()
    threads = [Writer(server, token, f"w{seed}.{i}", tally, stop_writing, give_up=60) for i in range(writers)]
    killer = Killer(server, stop_killing, seed, kill_gap)
    for thread in threads + [killer]:
        thread.start()
    time.sleep(seconds)
    stop_killing.set()
    killer.join()
    stop_writing.set()
    for thread in threads:
        thread.join()
    return check(server.db_path, tally, killer.kills)


def check(db_path: str, tally: Tally, kills: int) -> Outcome:
    """Compare what was acknowledged with what is stored, and check versions, chains and projections."""
    store = SQLiteStore(db_path)
    try:
        stored: dict[str, list[str]] = {}
        for event in store.iter_all():
            text = event.payload.get("findings", [{}])[0].get("text", "")
            if text.startswith(MARKER):
                stored.setdefault(text[len(MARKER):], []).append(event.event_id)
        acked = tally.acknowledged
        return Outcome(
            attempted=tally.attempted, acknowledged=len(acked), stored=sum(map(len, stored.values())),
            duplicates=sum(len(ids) - 1 for ids in stored.values()),
            lost=sum(1 for key in acked if key not in stored),
            unacknowledged_stored=sum(1 for key in stored if key not in acked),
            event_id_mismatches=sum(1 for key, eid in acked.items() if key in stored and stored[key] != [eid]),
            kills=kills, refused=tally.refused, server_errors=tally.server_errors,
            connection_errors=tally.connection_errors, replayed=tally.replayed, version_gaps=version_gaps(store),
            verification=verify(store.iter_chain()), projections_differing=projections_differing(store),
        )
    finally:
        store.close()


def version_gaps(store: SQLiteStore) -> list[str]:
    """Authorities whose versions are not exactly 1..n, or whose stream head disagrees with n."""
    rows = store.db.execute("SELECT e.authority, count(*), min(e.version), max(e.version), s.version "
                            "FROM events e JOIN streams s USING (authority) GROUP BY e.authority").fetchall()
    return [slug for slug, n, low, high, head in rows if (low, high, head) != (1, n, n)]


def projections_differing(store: SQLiteStore) -> list[str]:
    """Authorities whose stored projection rows change when rebuilt from their events, once the projections a
    killed server left due are made (as its restart, or the clock, makes them)."""
    store.project_due()
    differing = []
    for slug in store.authorities_with_events():
        before = projection_rows(store, slug)
        store.save_projection(slug, projection_of(slug, store.read_stream(slug), date.today()))
        if projection_rows(store, slug) != before:
            differing.append(slug)
    return differing


def projection_rows(store: SQLiteStore, slug: str) -> list:
    """Every stored projection row of one authority, in a fixed order."""
    tables = ("authority_status", "concerns", "judgements")
    return [sorted(map(tuple, store.db.execute(f"SELECT * FROM {table} WHERE authority = ?", [slug]).fetchall()),
                   key=repr) for table in tables]
