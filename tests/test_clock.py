"""The clock: its jobs called directly with a fixed clock, the lease, and real `timeline clock` processes."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import monitoring_visit
from webhook_receiver import Receiver

from events import backup, clock_state, webhooks
from events.appending import append_event
from events.loading import bundled_lines, load_lines
from events.sqlite_store import SQLiteStore
from service.clock import Clock, ClockConfig, backup_job

TIMELINE = str(Path(sys.executable).parent / "timeline")
SECRET = "whsec_clock_0123456789"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def config(tmp_path) -> ClockConfig:
    return ClockConfig(backup_dir=tmp_path / "backups", backup_keep=2)


def test_backups_are_verified_copies_pruned_to_the_newest_n(seeded_store, config):
    made = [backup_job(seeded_store, NOW + timedelta(days=d), config) for d in range(3)]
    kept = backup.backups_in(config.backup_dir)
    assert [p.name for p in kept] == ["timeline-20261124T020000.db", "timeline-20261125T020000.db"]
    assert made[2]["removed"] == ["timeline-20261123T020000.db"] and made[2]["events"] == 17
    copy = sqlite3.connect(kept[-1])
    assert copy.execute("SELECT count(*) FROM events").fetchone()[0] == seeded_store.last_position() == 17
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    copy.close()
    assert sorted(os.listdir(config.backup_dir)) == [p.name for p in kept]  # no partial or -wal files left


def test_a_backup_that_does_not_verify_is_refused(tmp_path):
    broken = tmp_path / "timeline-20260101T000000.db"
    broken.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises(backup.BackupFailed):
        backup.verify(broken, 0, 0)
    good = tmp_path / "good.db"
    sqlite3.connect(good).executescript("CREATE TABLE events (x); INSERT INTO events VALUES (1);").close()
    assert backup.verify(good, 1, 1) == 1
    with pytest.raises(backup.BackupFailed, match="holds 1 events"):
        backup.verify(good, 2, 3)


def test_the_rebuild_check_finds_a_tampered_projection_and_the_run_is_recorded(seeded_store, config):
    clock = Clock(seeded_store, config, holder="a", now=lambda: NOW)
    assert clock.heartbeat()
    assert clock.run("rebuild_check") == {"authorities": 1, "mismatches": []}
    # one concern row (concerns has no rowid since m010: it is stored in its primary key's order)
    seeded_store.db.execute("UPDATE concerns SET due_on = '2099-01-01' "
                            "WHERE concern_id = (SELECT min(concern_id) FROM concerns)")
    detail = clock.run("rebuild_check")
    assert detail["mismatches"] == [{"authority": "manchester", "tables": ["concerns"]}]
    last = clock_state.last_runs(seeded_store.db)["rebuild_check"]
    assert last["ok"] is False and last["holder"] == "a" and "differ" in last["detail"]["error"]


def test_only_the_lease_holder_runs_jobs_and_a_standby_takes_over_when_it_expires(seeded_store, config):
    moment = [NOW]
    a = Clock(seeded_store, config, holder="a", now=lambda: moment[0])
    b = Clock(seeded_store, config, holder="b", now=lambda: moment[0])
    assert a.heartbeat() and not b.heartbeat()
    assert b.run("sweep") is None and a.run("sweep")["today"] == "2026-11-23"
    assert [r["holder"] for r in clock_state.runs_of(seeded_store.db, "sweep")] == ["a"]
    moment[0] += timedelta(seconds=20)
    assert a.heartbeat() and not b.heartbeat()  # renewed before it expired
    moment[0] += timedelta(seconds=31)  # a has died: its lease runs out
    assert b.heartbeat() and not a.heartbeat()
    assert a.run("sweep") is None and b.run("sweep")["raised"] == {"concern.overdue": 0, "visit.expected_overdue": 0}


def test_config_from_the_environment_is_checked(tmp_path):
    config = ClockConfig.from_env({"TIMELINE_BACKUP_KEEP": "3", "TIMELINE_WEBHOOK_MAX_ATTEMPTS": "4"},
                                  str(tmp_path / "t.db"))
    assert config.backup_keep == 3 and config.delivery.max_attempts == 4
    assert config.backup_dir == tmp_path / "backups"
    for bad in ({"TIMELINE_SWEEP_AT": "25:00"}, {"TIMELINE_BACKUP_KEEP": "0"}, {"TIMELINE_CLOCK_LEASE": "5"},
                {"TIMELINE_WEBHOOK_TIMEOUT": "soon"}):
        with pytest.raises(ValueError):
            ClockConfig.from_env(bad, str(tmp_path / "t.db"))


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_real_clocks_deliver_once_and_a_standby_takes_over(db_path, registry, tmp_path):
    store = SQLiteStore(db_path)
    assert load_lines(store, registry, bundled_lines(), recorded_by="seed").ok
    env = dict(os.environ, TIMELINE_DATABASE=db_path, TIMELINE_DELIVER_INTERVAL="0.3",
               TIMELINE_HEARTBEAT_INTERVAL="0.5", TIMELINE_CLOCK_LEASE="2", TIMELINE_BACKUP_DIR=str(tmp_path / "b"))
    logs = [tmp_path / "clock-a.log", tmp_path / "clock-b.log"]
    read = lambda i: logs[i].read_text()  # noqa: E731
    start = lambda i: subprocess.Popen([TIMELINE, "clock"], env=env, stderr=logs[i].open("w"))  # noqa: E731
    with Receiver(SECRET) as receiver:
        webhooks.create(store.db, {"url": receiver.url, "secret": SECRET}, "t", datetime.now(timezone.utc))
        append_event(store, registry, "manchester", monitoring_visit(), recorded_by="t")
        clocks = [start(0)]
        try:
            assert _wait_for(lambda: receiver.received, 30), "the first clock delivered nothing"
            clocks.append(start(1))
            assert _wait_for(lambda: "on standby" in read(1), 30), read(1)
            time.sleep(1)  # both running: the second must stay on standby
            assert len(receiver.received) == 1 and receiver.received[0]["signed"]
            holders = {r[0] for r in store.db.execute("SELECT DISTINCT holder FROM job_runs").fetchall()}
            assert len(holders) == 1

            clocks[0].send_signal(signal.SIGTERM)  # the first gives its lease up; the second takes over
            assert clocks[0].wait(10) == 0
            append_event(store, registry, "manchester", monitoring_visit(effective_on="2026-11-01", payload=dict(
                monitoring_visit()["payload"], ordinal=2)), recorded_by="t")
            assert _wait_for(lambda: len(receiver.received) == 2, 30), "the standby did not take over"
            assert len(set(receiver.delivery_ids())) == 2
        finally:
            for process in clocks:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                process.wait(10)
    first, second = read(0), read(1)
    assert "holds the lease" in first and "job sweep done" in first and "stopped" in first
    assert "holds the lease" in second.split("on standby", 1)[1]
    assert "FAILED" not in first + second and "Traceback" not in first + second, (first, second)
    store.close()
