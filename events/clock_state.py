"""The clock's lease and heartbeat, and the record of each job run.

One clock process runs jobs at a time: the holder of the lease row. It renews
the lease with every heartbeat; another clock stays on standby and takes the
lease over only once it has expired (the holder died or hung). Jobs are
idempotent as well, so an overlap at takeover does no harm.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlite_utils import Database

from events.dates import format_timestamp

LEASE = "clock"
KEEP_RUNS = 200  # per job


def acquire(db: Database, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease for `ttl`; True if `holder` has it now (a heartbeat when renewed)."""
    stamp, expires = format_timestamp(now), format_timestamp(now + ttl)
    with db.atomic():
        db.execute(
            "INSERT INTO clock_lease (name, holder, acquired_at, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET "
            "acquired_at = CASE WHEN holder = excluded.holder THEN acquired_at ELSE excluded.acquired_at END, "
            "holder = excluded.holder, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at "
            "WHERE holder = excluded.holder OR expires_at < excluded.heartbeat_at",
            (LEASE, holder, stamp, stamp, expires))
        row = db.execute("SELECT holder FROM clock_lease WHERE name = ?", (LEASE,)).fetchone()
    return row[0] == holder


def holds(db: Database, holder: str, now: datetime) -> bool:
    """Whether `holder` has an unexpired lease at `now`."""
    row = db.execute("SELECT holder, expires_at FROM clock_lease WHERE name = ?", (LEASE,)).fetchone()
    return row is not None and row[0] == holder and row[1] >= format_timestamp(now)


def release(db: Database, holder: str, now: datetime) -> None:
    """Give the lease up at shutdown (it expires now), so a standby clock takes over at its next heartbeat."""
    with db.atomic():
        db.execute("UPDATE clock_lease SET expires_at = ? WHERE name = ? AND holder = ?",
                   (format_timestamp(now - timedelta(microseconds=1)), LEASE, holder))


def lease(db: Database) -> dict | None:
    """The lease row: holder, acquired_at, heartbeat_at, expires_at."""
    row = db.execute("SELECT holder, acquired_at, heartbeat_at, expires_at FROM clock_lease WHERE name = ?",
                     (LEASE,)).fetchone()
    return dict(zip(("holder", "acquired_at", "heartbeat_at", "expires_at"), row)) if row else None


def start_run(db: Database, job: str, holder: str, now: datetime) -> int:
    """Record that a job started; its run id."""
    with db.atomic():
        return db.execute("INSERT INTO job_runs (job, holder, started_at) VALUES (?, ?, ?)",
                          (job, holder, format_timestamp(now))).lastrowid


def finish_run(db: Database, run_id: int, now: datetime, ok: bool, detail: object) -> None:
    """Record how a job run ended, with what it did or why it failed."""
    with db.atomic():
        db.execute("UPDATE job_runs SET finished_at = ?, ok = ?, detail = ? WHERE id = ?",
                   (format_timestamp(now), int(ok), json.dumps(detail, sort_keys=True, default=str), run_id))
        # Frequent jobs (deliver every few seconds) would grow the table without end: keep each job's latest.
        db.execute("DELETE FROM job_runs WHERE job = (SELECT job FROM job_runs WHERE id = ?) AND id NOT IN "
                   "(SELECT id FROM job_runs WHERE job = (SELECT job FROM job_runs WHERE id = ?) "
                   "ORDER BY id DESC LIMIT ?)", (run_id, run_id, KEEP_RUNS))


def last_runs(db: Database) -> dict[str, dict]:
    """Each job's latest run: started, finished, ok (None while running), detail."""
    rows = db.execute(
        "SELECT job, holder, started_at, finished_at, ok, detail FROM job_runs "
        "WHERE id IN (SELECT max(id) FROM job_runs GROUP BY job) ORDER BY job").fetchall()
    return {r[0]: {"holder": r[1], "started_at": r[2], "finished_at": r[3], "ok": None if r[4] is None else bool(r[4]),
                   "detail": json.loads(r[5]) if r[5] else None} for r in rows}


def runs_of(db: Database, job: str, limit: int = 20) -> list[dict]:
    """A job's latest runs, newest first."""
    rows = db.execute("SELECT id, holder, started_at, finished_at, ok, detail FROM job_runs WHERE job = ? "
                      "ORDER BY id DESC LIMIT ?", (job, limit)).fetchall()
    return [{"id": r[0], "holder": r[1], "started_at": r[2], "finished_at": r[3],
             "ok": None if r[4] is None else bool(r[4]), "detail": json.loads(r[5]) if r[5] else None} for r in rows]
