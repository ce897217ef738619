"""Group commit: work queued together commits in one transaction, each piece in its own savepoint.

A real SQLite file in WAL with synchronous=FULL, real threads. The store's own
appends through the writer are covered by the contract tests' `sqlite-grouped`
backend (tests/test_store_contract.py); these pin down the writer itself.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time

import pytest

from events import group_commit
from events.group_commit import GroupCommitter
from events.sqlite_store import connect


@pytest.fixture
def path(tmp_path) -> str:
    path = str(tmp_path / "g.db")
    db = connect(path)
    db.execute("CREATE TABLE t (x INTEGER UNIQUE)")
    db.conn.close()
    return path


def _committer(path: str, statements: list | None = None, idle=lambda quiet, locked: 0,
               wal_path: str | None = None) -> tuple[GroupCommitter, dict]:
    holder = {}

    def open_connection():
        holder["conn"] = connect(path).conn
        if statements is not None:
            holder["conn"].set_trace_callback(statements.append)  # every statement the writer runs
        return holder["conn"]

    return GroupCommitter(open_connection, path + "-writer.lock", idle=idle, wal_path=wal_path), holder


def _count(path: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM t").fetchone()[0]
    finally:
        conn.close()


def test_work_queued_together_commits_together_and_a_failing_piece_leaves_the_others(path):
    statements: list[str] = []
    committer, holder = _committer(path, statements)
    gate, started = threading.Event(), threading.Event()

    def blocker():
        started.set()
        gate.wait(10)  # hold the writer while the others queue behind it
        return "first"

    def insert(x):
        def work():
            holder["conn"].execute("INSERT INTO t (x) VALUES (?)", (x,))
            return holder["conn"].execute("SELECT count(*) FROM t").fetchone()[0]
        return work

    results: dict = {}

    def run(name, work):
        try:
            results[name] = committer.submit(work)
        except Exception as exc:  # noqa: BLE001
            results[name] = exc

    first = threading.Thread(target=run, args=("first", blocker))
    first.start()
    started.wait(10)
    queued = [threading.Thread(target=run, args=(f"x{x}-{n}", insert(x))) for n, x in enumerate((1, 2, 2, 3))]
    for thread in queued:
        thread.start()
    while committer._queue.qsize() < 4:  # all four are waiting behind the blocker
        threading.Event().wait(0.01)
    assert _count(path) == 0
    gate.set()
    for thread in [first, *queued]:
        thread.join(10)
    failures = [v for v in results.values() if isinstance(v, Exception)]
    assert len(failures) == 1 and isinstance(failures[0], sqlite3.IntegrityError)  # the second x=2 only
    assert sorted(v for v in results.values() if isinstance(v, int)) == [1, 2, 3]  # each saw the ones before it
    assert _count(path) == 3
    assert statements.count("COMMIT") == 2  # the blocker's group, then the other four in one


def test_a_group_whose_transaction_fails_answers_every_piece_with_the_error_and_stores_nothing(path):
    statements: list[str] = []
    committer, holder = _committer(path, statements)

    def fine():
        holder["conn"].execute("INSERT INTO t (x) VALUES (1)")
        return "stored?"

    assert committer.submit(fine) == "stored?"
    other = sqlite3.connect(path, timeout=0.1)
    other.execute("PRAGMA busy_timeout = 100")
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds SQLite's write lock throughout
    try:
        holder["conn"].execute("PRAGMA busy_timeout = 100")  # the service waits 10 s; cut short here
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            committer.submit(lambda: holder["conn"].execute("INSERT INTO t (x) VALUES (2)"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert _count(path) == 1
    assert statements.count("COMMIT") == 1
    assert committer.usable  # the writer outlives a failed group
    holder["conn"].execute("PRAGMA busy_timeout = 10000")
    assert committer.submit(lambda: holder["conn"].execute("INSERT INTO t (x) VALUES (3)").rowcount) == 1
    assert _count(path) == 2


def test_idle_work_runs_once_appends_pause_until_it_is_done_and_a_failure_does_not_stop_the_writer(path):
    rounds: list[int] = []
    left = {"n": 3}

    def idle(quiet, locked):
        if not quiet:
            return 0  # after each commit: only what cannot wait, here nothing
        rounds.append(_count(path))
        if left["n"] == 2:
            left["n"] -= 1
            raise RuntimeError("a projection failed")  # logged; the next commit brings idle work back
        left["n"] = max(left["n"] - 1, 0)
        return 1 if left["n"] else 0

    committer, holder = _committer(path, idle=idle)
    assert rounds == []  # nothing committed: nothing to do
    committer.submit(lambda: holder["conn"].execute("INSERT INTO t (x) VALUES (1)"))
    deadline, waited = time.monotonic() + 10, threading.Event()
    while len(rounds) < 2 and time.monotonic() < deadline:
        waited.wait(0.01)
    waited.wait(0.1)
    assert rounds == [1, 1]  # after the commit: one round, more to do, then a failure ends the rounds
    committer.submit(lambda: holder["conn"].execute("INSERT INTO t (x) VALUES (2)"))
    while len(rounds) < 3 and time.monotonic() < deadline:
        waited.wait(0.01)
    waited.wait(0.1)
    assert rounds == [1, 1, 2] and committer.usable  # the next commit: one more round, which finished the work


def test_a_wake_up_brings_idle_work_on_though_nothing_was_committed_and_more_wake_ups_do_not_put_it_off(path):
    rounds: list[float] = []
    committer, _ = _committer(path, idle=lambda quiet, locked: rounds.append(quiet) or 0)
    waited = threading.Event()
    waited.wait(0.1)
    assert rounds == []  # nothing committed, nobody woke it: no idle work
    for _ in range(40):  # wake-ups every 5 ms, for longer than the pause idle work waits for
        committer.wake()
        waited.wait(0.005)
    assert rounds and all(rounds)  # ran while the wake-ups went on, as appends paused (`quiet`)
    assert _count(path) == 0 and committer.usable


def test_idle_work_runs_without_the_writers_lock_and_takes_it_to_write(path):
    seen: list[tuple[bool, bool]] = []
    other = os.open(path + "-writer.lock", os.O_RDWR | os.O_CREAT)  # another process's writer, as it were

    def free() -> bool:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other, fcntl.LOCK_UN)
        return True

    def idle(quiet, locked):
        if quiet:
            outside = free()
            with locked():
                seen.append((outside, free()))
        return 0

    committer, holder = _committer(path, idle=idle)
    committer.submit(lambda: holder["conn"].execute("INSERT INTO t (x) VALUES (1)"))
    deadline, waited = time.monotonic() + 10, threading.Event()
    while not seen and time.monotonic() < deadline:
        waited.wait(0.01)
    os.close(other)
    assert seen[:1] == [(True, False)]  # free while making, held while writing


def test_a_piece_alone_in_its_group_commits_without_a_savepoint_and_a_failure_leaves_nothing(path):
    statements: list[str] = []
    committer, holder = _committer(path, statements)

    def writes_then_fails():
        holder["conn"].execute("INSERT INTO t (x) VALUES (1)")
        raise ValueError("refused part way")

    with pytest.raises(ValueError, match="refused part way"):
        committer.submit(writes_then_fails)
    assert _count(path) == 0 and not holder["conn"].in_transaction
    assert committer.submit(lambda: holder["conn"].execute("INSERT INTO t (x) VALUES (2)").rowcount) == 1
    assert _count(path) == 1
    assert statements == ["BEGIN IMMEDIATE", "INSERT INTO t (x) VALUES (1)", "ROLLBACK",
                          "BEGIN IMMEDIATE", "INSERT INTO t (x) VALUES (2)", "COMMIT"]


def test_given_the_wal_a_group_is_answered_only_once_the_wal_is_synced_after_the_lock_is_let_go(path, monkeypatch):
    syncing, release, synced = threading.Event(), threading.Event(), []
    real_sync = os.fdatasync

    def fdatasync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        syncing.set()
        release.wait(10)
        real_sync(fd)

    monkeypatch.setattr(group_commit.os, "fdatasync", fdatasync)
    committer, holder = _committer(path, wal_path=path + "-wal")
    answers = []
    writer = threading.Thread(target=lambda: answers.append(
        committer.submit(lambda: holder["conn"].execute("INSERT INTO t (x) VALUES (1)").rowcount)))
    writer.start()
    assert syncing.wait(10)
    other = os.open(path + "-writer.lock", os.O_RDWR)
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the other writers' lock is free during the sync
        fcntl.flock(other, fcntl.LOCK_UN)
    finally:
        os.close(other)
    assert _count(path) == 1 and answers == []  # committed, not yet answered
    release.set()
    writer.join(10)
    assert answers == [1] and synced == [os.path.realpath(path + "-wal")]
    # SQLite's own sync at COMMIT is off for this connection only: the sync above stands in for it.
    assert committer.submit(lambda: holder["conn"].execute("PRAGMA synchronous").fetchone()[0]) == 1
    assert connect(path).execute("PRAGMA synchronous").fetchone()[0] == 2  # a connection of the store's own


def test_the_next_group_commits_during_a_sync_and_is_answered_only_by_a_sync_begun_after_it(path, monkeypatch):
    gates = [threading.Event(), threading.Event()]
    calls: list[int] = []  # rows committed when each sync began
    real_sync = os.fdatasync

    def fdatasync(fd):
        calls.append(_count(path))
        gates[len(calls) - 1].wait(10)
        real_sync(fd)

    monkeypatch.setattr(group_commit.os, "fdatasync", fdatasync)
    committer, holder = _committer(path, wal_path=path + "-wal")
    answers: dict[int, int] = {}

    def append(x):
        answers[x] = committer.submit(lambda: holder["conn"].execute("INSERT INTO t (x) VALUES (?)", (x,)).rowcount)

    first = threading.Thread(target=append, args=(1,))
    first.start()
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    second = threading.Thread(target=append, args=(2,))
    second.start()
    while _count(path) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _count(path) == 2 and calls == [1] and answers == {}  # committed while the first sync runs
    gates[0].set()
    first.join(10)
    time.sleep(0.1)
    assert answers == {1: 1}  # the first sync began before the second commit: it answers only the first
    gates[1].set()
    second.join(10)
    assert answers == {1: 1, 2: 1} and calls == [1, 2]


def test_a_failed_wal_sync_answers_every_piece_of_its_group_with_the_error(path, monkeypatch):
    def fdatasync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(group_commit.os, "fdatasync", fdatasync)
    committer, holder = _committer(path, wal_path=path + "-wal")
    with pytest.raises(OSError, match="Input/output error"):
        committer.submit(lambda: holder["conn"].execute("INSERT INTO t (x) VALUES (1)"))
    monkeypatch.undo()
    assert committer.submit(lambda: holder["conn"].execute("INSERT INTO t (x) VALUES (2)").rowcount) == 1


def test_without_the_wal_path_commits_keep_sqlites_own_sync(path, monkeypatch):
    synced = []
    monkeypatch.setattr(group_commit.os, "fdatasync", synced.append)
    committer, holder = _committer(path)
    assert committer.submit(lambda: holder["conn"].execute("PRAGMA synchronous").fetchone()[0]) == 2
    assert synced == []
