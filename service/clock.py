"""The clock process: one APScheduler 3 BlockingScheduler running the service's timed jobs.

Run as `timeline clock` (the Procfile's `clock:`), never inside gunicorn. Only
the holder of the lease row in the database runs jobs; any other clock started
against the same database logs that it is on standby and takes over when the
lease expires. Every job is idempotent as well (deliveries are claimed, alerts
have unique keys, backups are verified copies, the rebuild check only reads).

Jobs are plain functions of (store, now, config), so tests call them with a
fixed clock; `Clock.run` adds the lease check, the run record and the log line.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from events import alerts, backup, clock_state, rebuild_check
from events.verify import verify_store
from events.dates import utc_now
from events.deliveries import DeliverySettings
from events.sqlite_store import SQLiteStore
from service.delivery import deliver_due

log = logging.getLogger("timeline.clock")


@dataclass(frozen=True)
class ClockConfig:
    """Intervals, times of day (UTC, "HH:MM") and where backups go; see README "Configuration"."""

    backup_dir: Path
    backup_keep: int = 7
    deliver_every: float = 5.0
    project_every: float = 30.0
    heartbeat_every: float = 10.0
    lease_seconds: float = 30.0
    sweep_at: str = "06:00"
    backup_at: str = "02:00"
    rebuild_check_at: str = "03:00"
    verify_at: str = "03:30"
    delivery: DeliverySettings = field(default_factory=DeliverySettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str], database: str) -> ClockConfig:
        """Read TIMELINE_* settings; backups default to a `backups` folder beside the database."""
        config = cls(
            backup_dir=Path(env.get("TIMELINE_BACKUP_DIR") or Path(database).resolve().parent / "backups"),
            backup_keep=int(env.get("TIMELINE_BACKUP_KEEP", 7)),
            deliver_every=float(env.get("TIMELINE_DELIVER_INTERVAL", 5)),
            project_every=float(env.get("TIMELINE_PROJECT_INTERVAL", 30)),
            heartbeat_every=float(env.get("TIMELINE_HEARTBEAT_INTERVAL", 10)),
            lease_seconds=float(env.get("TIMELINE_CLOCK_LEASE", 30)),
            sweep_at=env.get("TIMELINE_SWEEP_AT", "06:00"),
            backup_at=env.get("TIMELINE_BACKUP_AT", "02:00"),
            rebuild_check_at=env.get("TIMELINE_REBUILD_CHECK_AT", "03:00"),
            verify_at=env.get("TIMELINE_VERIFY_AT", "03:30"),
            delivery=DeliverySettings.from_env(env),
        )
        if config.backup_keep < 1 or min(config.deliver_every, config.project_every, config.heartbeat_every) <= 0:
            raise ValueError("TIMELINE_BACKUP_KEEP must be >= 1 and intervals > 0")
        if config.lease_seconds <= config.heartbeat_every:
            raise ValueError("TIMELINE_CLOCK_LEASE must be longer than TIMELINE_HEARTBEAT_INTERVAL")
        for text in (config.sweep_at, config.backup_at, config.rebuild_check_at, config.verify_at):
            _hour_minute(text)
        return config


def _hour_minute(text: str) -> tuple[int, int]:
    try:
        moment = datetime.strptime(text, "%H:%M")
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day HH:MM") from None
    return moment.hour, moment.minute


class JobFailed(Exception):
    """A job that ran to the end but found something wrong; `detail` says what."""

    def __init__(self, message: str, detail: dict):
        super().__init__(message)
        self.detail = detail


# -- the jobs ----------------------------------------------------------------

def deliver_job(store: SQLiteStore, now: datetime, config: ClockConfig) -> dict:
    """POST every due webhook delivery once."""
    return deliver_due(store.db, now, config.delivery)


def project_job(store: SQLiteStore, now: datetime, config: ClockConfig) -> dict:
    """Bring due projections up to date: the web workers do it when appends pause; this catches what a load, a
    stopped worker or unbroken appends left."""
    return {"projected": store.project_due()}


def sweep_job(store: SQLiteStore, now: datetime, config: ClockConfig) -> dict:
    """Raise today's overdue-concern and missed-visit alerts (each once) with their deliveries."""
    return alerts.sweep(store, now.date(), now)


def backup_job(store: SQLiteStore, now: datetime, config: ClockConfig) -> dict:
    """Online backup, verified, keeping the newest `backup_keep`."""
    try:
        return backup.backup(store.path, config.backup_dir, config.backup_keep, now)
    except backup.BackupFailed as exc:
        raise JobFailed(str(exc), {"error": str(exc)}) from None


def rebuild_check_job(store: SQLiteStore, now: datetime, config: ClockConfig) -> dict:
    """Rebuild every projection from its events and compare with what is stored; fails on any mismatch."""
    result = rebuild_check.check(store, now.date())
    if result["mismatches"]:
        raise JobFailed(f"{len(result['mismatches'])} stored projections differ from their events", result)
    return result


def verify_job(store: SQLiteStore, now: datetime, config: ClockConfig) -> dict:
    """Verify both hash chains over the whole store; fails, naming the first broken link. GET /api/verify reports
    the last run, so a request need only check what was appended since."""
    found = verify_store(store)
    if not found.ok:
        raise JobFailed(f"hash chain broken: {found.first_broken.describe()}", found.to_dict())
    return found.to_dict()


JOBS: dict[str, Callable[[SQLiteStore, datetime, ClockConfig], dict]] = {
    "deliver": deliver_job, "project": project_job, "sweep": sweep_job, "backup": backup_job, "rebuild_check": rebuild_check_job,
    "verify": verify_job}


# -- running them ------------------------------------------------------------

class Clock:
    """One clock process's lease, heartbeat and job runs over a store."""

    def __init__(self, store: SQLiteStore, config: ClockConfig, holder: str | None = None,
                 now: Callable[[], datetime] = utc_now):
        self.store = store
        self.config = config
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.now = now
        self.active: bool | None = None  # unknown until the first heartbeat
        self.scheduler: BlockingScheduler | None = None

    def heartbeat(self) -> bool:
        """Take or renew the lease; log a change between active and standby. True while this clock is active."""
        held = clock_state.acquire(self.store.db, self.holder, self.now(), timedelta(seconds=self.config.lease_seconds))
        if held != self.active:
            self.active = held
            if held:
                log.info("clock %s holds the lease: running jobs", self.holder)
                if self.scheduler is not None and self.scheduler.running:
                    self.scheduler.modify_job("sweep", next_run_time=datetime.now(timezone.utc))  # catch up on takeover
            else:
                lease = clock_state.lease(self.store.db) or {}
                log.info("clock %s on standby: %s holds the lease until %s", self.holder, lease.get("holder"),
                         lease.get("expires_at"))
        return held

    def run(self, name: str) -> dict | None:
        """Run one job if this clock holds the lease: record it, log it; its detail, or None on standby."""
        db = self.store.db
        started = self.now()
        if not clock_state.holds(db, self.holder, started):
            log.debug("clock %s on standby: %s not run", self.holder, name)
            return None
        run_id = clock_state.start_run(db, name, self.holder, started)
        try:
            detail, ok = JOBS[name](self.store, started, self.config), True
        except JobFailed as exc:
            detail, ok = dict(exc.detail, error=str(exc)), False
        except Exception as exc:  # a job's failure is recorded and logged; the clock keeps going
            log.exception("job %s failed", name)
            detail, ok = {"error": f"{type(exc).__name__}: {exc}"}, False
        clock_state.finish_run(db, run_id, self.now(), ok, detail)
        if not ok or name not in ("deliver", "project") or any(
                detail.get(k) for k in ("delivered", "pending", "dead", "projected")):
            log.log(logging.INFO if ok else logging.ERROR, "job %s %s: %s", name, "done" if ok else "FAILED", detail)
        return detail

    def build_scheduler(self) -> BlockingScheduler:
        """The scheduler with the heartbeat and every job (deliver, project and sweep also once at start)."""
        scheduler = BlockingScheduler(timezone=timezone.utc, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
        cfg = self.config
        scheduler.add_job(self.heartbeat, IntervalTrigger(seconds=cfg.heartbeat_every), id="heartbeat")
        scheduler.add_job(self.run, IntervalTrigger(seconds=cfg.deliver_every), args=["deliver"], id="deliver",
                          next_run_time=datetime.now(timezone.utc))
        scheduler.add_job(self.run, IntervalTrigger(seconds=cfg.project_every), args=["project"], id="project",
                          next_run_time=datetime.now(timezone.utc))
        for name, at, first in (("sweep", cfg.sweep_at, True), ("backup", cfg.backup_at, False),
                                ("rebuild_check", cfg.rebuild_check_at, False), ("verify", cfg.verify_at, False)):
            hour, minute = _hour_minute(at)
            extra = {"next_run_time": datetime.now(timezone.utc)} if first else {}
            scheduler.add_job(self.run, CronTrigger(hour=hour, minute=minute, timezone=timezone.utc), args=[name],
                              id=name, **extra)
        self.scheduler = scheduler
        return scheduler

    def serve(self) -> None:
        """Run until SIGTERM or SIGINT; give the lease up on the way out so a standby takes over at once."""
        scheduler = self.build_scheduler()
        # Stop the loop from the handler: an exception raised there would land inside APScheduler's job
        # submission, which catches and logs everything and carries on.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: scheduler.shutdown(wait=False))
        self.heartbeat()
        log.info("clock %s starting: deliver every %ss, sweep at %s (and now), backup at %s, rebuild check at %s, "
                 "verify at %s UTC", self.holder, self.config.deliver_every, self.config.sweep_at,
                 self.config.backup_at, self.config.rebuild_check_at, self.config.verify_at)
        try:
            scheduler.start()
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)
            if self.active:
                clock_state.release(self.store.db, self.holder, self.now())
            log.info("clock %s stopped", self.holder)
