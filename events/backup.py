"""Online backups of the SQLite database, verified and pruned to a retention count.

SQLite's backup API copies a consistent snapshot while the service keeps
writing. A backup counts only once it has been opened, passed
`PRAGMA integrity_check` and holds as many events as the database held
around the copy; one that fails is deleted and the job reports the failure.
"""
from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

PREFIX = "timeline-"
SUFFIX = ".db"


class BackupFailed(Exception):
    """The copy could not be made or did not verify."""


def _count_events(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM events").fetchone()[0]


def backup(database: str | Path, folder: str | Path, keep: int, now: datetime) -> dict:
    """Copy `database` to folder/timeline-YYYYmmddTHHMMSS.db, verify it, keep the newest `keep`; what was done."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{PREFIX}{now.strftime('%Y%m%dT%H%M%S')}{SUFFIX}"
    partial = target.with_suffix(".partial")
    source = sqlite3.connect(f"file:{Path(database).resolve()}?mode=ro", uri=True)
    try:
        before = _count_events(source)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file, no -wal beside it
        finally:
            copy.close()
        after = _count_events(source)
    finally:
        source.close()
    try:
        events = verify(partial, before, after)
    except BackupFailed:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)  # only a verified copy ever bears a backup's name
    removed = prune(folder, keep)
    return {"path": str(target), "bytes": target.stat().st_size, "events": events, "removed": removed}


def verify(path: Path, at_least: int, at_most: int) -> int:
    """Open a copy, check its integrity and its event count (between the counts around the copy); the count."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = conn.execute("PRAGMA integrity_check").fetchall()
            events = _count_events(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupFailed(f"{path.name} cannot be read: {exc}") from None
    if check != [("ok",)]:
        raise BackupFailed(f"{path.name} failed integrity_check: {check[:3]}")
    if not at_least <= events <= at_most:
        raise BackupFailed(f"{path.name} holds {events} events, expected {at_least}..{at_most}")
    return events


def backups_in(folder: str | Path) -> list[Path]:
    """The backups in a folder, oldest first (their names sort by time)."""
    return sorted(Path(folder).glob(f"{PREFIX}*{SUFFIX}"))


def prune(folder: str | Path, keep: int) -> list[str]:
    """Delete all but the newest `keep` backups; the names deleted."""
    old = backups_in(folder)[:-keep]
    for path in old:
        path.unlink()
    return [p.name for p in old]
