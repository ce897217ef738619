"""Group commit: one writer thread per process commits the appends queued meanwhile in one transaction.

A durable commit costs an fsync, and SQLite has one writer at a time: with a
transaction per append, the service's request threads queue for the write lock
(sleeping in SQLite's busy handler) and pay an fsync each. Here each request
thread hands its work to the process's writer thread and waits; the writer
takes everything queued, opens one `BEGIN IMMEDIATE` transaction, runs each
piece of work in its own savepoint, commits once, and only then answers each
request. So:

- every piece of work is still run whole, with its own checks against what the
  ones before it in the transaction wrote (versions, idempotency keys, chains);
- one that raises is rolled back to its savepoint, and the others commit;
- nothing is answered before the commit that makes it durable; if the commit
  (or the transaction) fails, every request in it gets the error, and nothing
  in it was stored.

Given the WAL's path, the writer commits without SQLite's fsync
(`synchronous=NORMAL`, for its own connection only), lets go of the writers'
lock and hands the group to a sync thread, which syncs the WAL once for every
group committed since its last sync began and only then answers them. A commit
is durable once the WAL frames it wrote are on disk, and a sync begun after the
commit puts them there, as SQLite's own fsync at COMMIT does (with FULL). So
the other processes' writers no longer wait on this one's fsync, and this
writer commits its next group while the last is being synced (under append
load the fsync took as long as the statements). WAL mode keeps transactions in
order, so a later commit cannot outlive an earlier one; a checkpoint syncs the
WAL first (with NORMAL as with FULL). If a sync fails, every request it was to
answer gets the error, as when COMMIT fails.

Once work has been committed (or `wake` called) and none has come for
`QUIET_SECONDS`, the writer runs `idle(True, locked)` (the store makes due
projections there), round after round until it says there is nothing left or
work arrives; after each commit it runs `idle(False, locked)`, which does only
what cannot wait (a backlog grown too long). Idle work runs without the
writers' lock, so every process's writer can do it at once; it takes the lock
(`locked()`) only to write.
"""
from __future__ import annotations

import fcntl
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import Future
from typing import ContextManager, TypeVar

T = TypeVar("T")
Outcome = tuple[Future, object, "BaseException | None"]  # a piece of work's future, and its value or error
MAX_GROUP = 64  # pieces of work per transaction: bounds how long one transaction holds the write lock
# How long the queue must stay empty before idle work runs: appends come first, and a pause this long
# means the clients answered by the last commit have not come back with more. Work put off meanwhile is
# done once for many appends (a stream appended to ten times is projected once).
QUIET_SECONDS = 0.05
log = logging.getLogger(__name__)


class GroupCommitter:
    """A writer thread running submitted work on its own connection, a group per transaction (and, given the
    WAL's path, a thread that syncs it before the groups are answered)."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], lock_path: str,
                 idle: Callable[[bool, Callable[[], ContextManager]], int] = lambda quiet, locked: 0,
                 wal_path: str | None = None):
        self._connect = connect  # called on the writer thread: the connection it returns is used there only
        self._lock_path = lock_path
        self._wal_path = wal_path  # commits synced here, out of the lock (see the module), when in WAL mode
        self._to_sync: queue.SimpleQueue[list[Outcome]] = queue.SimpleQueue()  # committed groups' outcomes, to sync and answer
        self._idle = idle  # run on the writer thread (quiet: appends paused); returns how much it did
        self._lock_fd: int | None = None
        self._queue: queue.SimpleQueue[tuple[Callable[[], object], Future] | None] = queue.SimpleQueue()  # None: wake
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    @property
    def usable(self) -> bool:
        """False in a forked child (the writer thread did not come with it) or once the thread has stopped."""
        return self._pid == os.getpid() and self._thread.is_alive()

    def on_writer_thread(self) -> bool:
        """Whether the caller is the writer thread itself (its work must run in place, not be queued)."""
        return threading.current_thread() is self._thread

    def wake(self) -> None:
        """Have the writer look for idle work at its next pause, though it has committed nothing since it last did."""
        self._queue.put(None)

    def submit(self, work: Callable[[], T]) -> T:
        """Run `work` in the next group's transaction; its result once committed, or its (or the commit's) error."""
        future: Future = Future()
        self._queue.put((work, future))
        return future.result()

    def _run(self) -> None:
        conn = self._connect()
        sync_wal = self._wal_path is not None and conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        if sync_wal:
            conn.execute("PRAGMA synchronous = NORMAL")
            threading.Thread(target=self._sync_and_answer, name="group-commit-sync", daemon=True).start()
        lock = self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        idle_due = False  # set by each commit (what was committed may have left idle work) and by `wake`
        quiet_from = 0.0  # when the last work (or the wake-up that found none due) came: idle work waits for a pause
        while True:
            try:
                first = self._queue.get(timeout=max(quiet_from + QUIET_SECONDS - time.monotonic(), 0)) \
                    if idle_due else self._queue.get()
            except queue.Empty:
                idle_due = self._run_idle(quiet=True)
                # Still in the pause: the next round follows at once unless work has come meanwhile.
                quiet_from = time.monotonic() - QUIET_SECONDS
                continue
            if first is None:  # a wake-up, not work: the pause it waits for is not put off by more wake-ups
                if not idle_due:
                    idle_due, quiet_from = True, time.monotonic()
                continue
            idle_due = True
            group = [first]
            try:
                # The writers of every process take turns through this lock, waiting in the kernel and woken as
                # soon as it is free, rather than polling SQLite's write lock with ever longer sleeps (its busy
                # handler), which let one process starve the other for seconds. What queues meanwhile joins the group.
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    while len(group) < MAX_GROUP:
                        try:
                            item = self._queue.get_nowait()
                        except queue.Empty:
                            break
                        if item is not None:
                            group.append(item)
                    outcomes = self._commit(conn, group)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
                    quiet_from = time.monotonic()
            except BaseException as exc:  # noqa: BLE001 - the writer must outlive any one group
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
            else:
                if sync_wal:
                    self._to_sync.put(outcomes)
                else:
                    _answer(outcomes)
                self._run_idle(quiet=False)

    def _sync_and_answer(self) -> None:
        """The sync thread: sync the WAL once for every group committed meanwhile, then answer them."""
        while True:
            groups = [self._to_sync.get()]
            while True:
                try:
                    groups.append(self._to_sync.get_nowait())
                except queue.Empty:
                    break
            try:
                self._sync_wal()
            except BaseException as exc:  # noqa: BLE001 - the syncer must outlive any one sync
                for outcomes in groups:
                    for future, _, error in outcomes:
                        future.set_exception(error or exc)  # a piece refused (rolled back) keeps its own error
                continue
            for outcomes in groups:
                _answer(outcomes)

    def _sync_wal(self) -> None:
        """Put what has been written to the WAL on disk (the commit's durability; see the module)."""
        fd = os.open(self._wal_path, os.O_RDONLY)  # opened each time: a file checkpointed away is not synced
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The writers' lock, for idle work's writes (the writer thread's own descriptor)."""
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _run_idle(self, quiet: bool) -> bool:
        """One round of idle work; whether there may be more."""
        try:
            return self._idle(quiet, self._locked) > 0
        except Exception:  # noqa: BLE001 - idle work is retried after the next commit; appends must go on
            log.exception("idle work failed")
            return False

    @staticmethod
    def _commit(conn: sqlite3.Connection, group: list[tuple[Callable[[], object], Future]]) -> list[Outcome]:
        """Run the group in one transaction; each piece's outcome, to be answered once the commit is durable."""
        conn.execute("BEGIN IMMEDIATE")
        if len(group) == 1:  # alone, the transaction is the piece's own: no savepoint to pay for (two statements)
            return [GroupCommitter._commit_alone(conn, *group[0])]
        outcomes: list[Outcome] = []
        try:
            for work, future in group:
                try:
                    with savepoint(conn, "grouped"):
                        value = work()
                except Exception as exc:  # noqa: BLE001 - this work's failure, answered to its caller
                    if not conn.in_transaction:
                        raise  # the error ended the whole transaction: nothing in it stands
                    outcomes.append((future, None, exc))
                else:
                    outcomes.append((future, value, None))
            conn.execute("COMMIT")
        except BaseException:
            rollback_if_open(conn)
            raise
        return outcomes

    @staticmethod
    def _commit_alone(conn: sqlite3.Connection, work: Callable[[], object], future: Future) -> Outcome:
        """Run one piece of work in the transaction just begun: committed if it returns, rolled back if it raises."""
        try:
            try:
                value = work()
            except Exception as exc:  # noqa: BLE001 - this work's failure, answered to its caller
                rollback_if_open(conn)
                return future, None, exc
            conn.execute("COMMIT")
        except BaseException:
            rollback_if_open(conn)
            raise
        return future, value, None


@contextmanager
def savepoint(conn: sqlite3.Connection, name: str) -> Iterator[None]:
    """A savepoint of the open transaction, released if the block succeeds and taken back if it raises.

    What sqlite-utils' `db.atomic()` does inside a transaction, under a name the caller fixes rather than a
    random one drawn each time (then every SAVEPOINT is a new statement to prepare). Names need not differ:
    a rollback or release goes to the innermost savepoint of its name. An error that ended the whole
    transaction (SQLite ends it on some) has taken the savepoint with it: then there is nothing to take back.
    """
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")


def rollback_if_open(conn: sqlite3.Connection) -> None:
    """End a failed transaction, if the failure has not ended it already (a failed COMMIT leaves it open)."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _answer(outcomes: list[Outcome]) -> None:
    """Give each piece of work its value or its error."""
    for future, value, error in outcomes:
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)
