"""The SQLite backend of `EventStore`: the only module that writes SQL for the store.

One connection per thread (gunicorn threads each get their own), WAL journal,
`synchronous=FULL` so an acknowledged append survives power loss (the web
service's group-commit writer syncs the WAL itself, after its commit and
before any answer: events.group_commit), and a busy timeout so concurrent
writers queue instead of failing.
"""
from __future__ import annotations

import json
import random
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from dataclasses import dataclass, replace
from operator import itemgetter
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from events import outbox
from events.chain import GENESIS, Link, candidate_from_compact, link
from events.verify import ChainStart
from events.dates import format_timestamp, utc_now
from events.errors import DomainError, EventIdReused, IdempotencyMismatch, VersionConflict
from events.frozen import filled
from events.group_commit import GroupCommitter, rollback_if_open, savepoint
from events.projections.incremental import StreamProjector
from events.stored_json import decode, encode
from events.store import (AppendResult, NewEvent, Projection, Projector, RateHit, RateLimited, StoredEvent,
                          Token)

T = TypeVar("T")
_EVENT_COLUMNS = (
    "event_id, authority, version, position, kind, schema_version, effective_on, date_precision, "
    "occurred_start, occurred_end, recorded_at, recorded_by, payload, source"
)
# What is stored of a link (m010): each hash as its 32 bytes; the previous hashes are the links before it.
_LINK_COLUMNS = "position, event_id, stream_hash, global_hash"
_LEGACY_LINK_COLUMNS = "position, event_id, stream_prev, stream_hash, global_prev, global_hash"  # m005 to m009
_TOKEN_COLUMNS = "name, created_at, revoked_at, authorities, scope, token_hash"
BUSY_TIMEOUT_MS = 10_000
# Due projections made per transaction (see SQLiteStore.project_due): each takes a few milliseconds at 100 events,
# and appends wait for the write lock meanwhile.
PROJECT_PER_TRANSACTION = 4
# Due projections the group-commit writer makes when appends pause, before it looks for appends again.
IDLE_STREAMS = 4
# Streams left due while appends keep coming: beyond this, each commit is followed by projections enough to
# come back to it, so under unbroken writes reads that fold a due stream's events stay few, and a read of every
# stored status row (GET /api/authorities, which makes what is due first) has at most this many to make.
MAX_DUE_UNDER_LOAD = 2000


def connect(path: str | Path) -> Database:
    """Open the database with the pragmas every connection needs."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return Database(conn)


def _row_to_event(row: tuple, decode: Callable[[str], object] = json.loads) -> StoredEvent:
    (event_id, authority, version, position, kind, schema_version, effective_on, precision,
     start, end, recorded_at, recorded_by, payload, source) = row
    return filled(
        StoredEvent, event_id=event_id, authority=authority, version=version, position=position, kind=kind,
        schema_version=schema_version, effective_on=effective_on, date_precision=precision,
        occurred={"start": start, "end": end}, recorded_at=recorded_at, recorded_by=recorded_by,
        payload=decode(payload), source=decode(source),
    )


def _row_as_stored(row: tuple) -> StoredEvent:
    """The event as its row holds it, even when payload or source is no longer JSON (then kept as text)."""
    return _row_to_event(row, decode=_json_or_text)


def _json_or_text(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _insert_links(db: Database, links: list[Link], legacy: bool = False) -> None:
    """Store links: hashes as bytes, or (`legacy`, for m005's table before m010 converts it) all four as hex."""
    if legacy:
        db.conn.executemany(f"INSERT INTO event_hashes ({_LEGACY_LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                            [(l.position, l.event_id, l.stream_prev, l.stream_hash, l.global_prev, l.global_hash)
                             for l in links])
        return
    db.conn.executemany(f"INSERT INTO event_hashes ({_LINK_COLUMNS}) VALUES (?, ?, ?, ?)",
                        [(l.position, event_id_bytes(l.event_id), bytes.fromhex(l.stream_hash),
                          bytes.fromhex(l.global_hash)) for l in links])


def event_id_bytes(event_id: str) -> bytes | str:
    """An event id as event_hashes keeps it (m010): a UUID in its canonical text as its 16 bytes, else as given."""
    try:
        as_uuid = uuid.UUID(event_id)
    except (TypeError, ValueError, AttributeError):
        return event_id
    return as_uuid.bytes if str(as_uuid) == event_id else event_id


def event_id_text(value: object) -> str:
    """A stored link's event id as text: 16 bytes as the UUID they are, anything else as its text."""
    if isinstance(value, bytes) and len(value) == 16:
        h = value.hex()  # str(uuid.UUID(bytes=value)), in a quarter of the time: verification reads one a link
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(value)


def _legacy_links(db: Database) -> bool:
    """True if event_hashes is still m005's table (four hex hashes a link): m010 not applied yet."""
    return any(row[1] == "stream_prev" for row in db.execute("PRAGMA table_info(event_hashes)"))


def hash_hex(value: object) -> str:
    """A stored hash as hex; a value that is not bytes (written behind the store's back) as its text, so it
    can never equal a computed hash by accident."""
    return value.hex() if isinstance(value, bytes) else str(value)


def link_existing_events(db: Database, batch: int = 5000) -> int:
    """Chain every stored event, in position order, into an empty `event_hashes` (migration m005); return the count."""
    legacy = _legacy_links(db)  # called by m005, before m010 reshapes the table
    stream_heads: dict[str, str] = {}
    global_head, after, count = GENESIS, 0, 0
    while rows := db.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
                             (after, batch)).fetchall():
        links = []
        for event in map(_row_to_event, rows):
            links.append(link(event, stream_heads.get(event.authority, GENESIS), global_head))
            stream_heads[event.authority], global_head = links[-1].stream_hash, links[-1].global_hash
        _insert_links(db, links, legacy)
        after, count = rows[-1][3], count + len(rows)
    return count


def _insert_rows(conn: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    """Insert dicts sharing the first one's keys (plain executemany: sqlite-utils' insert_all inspects the
    table on every call, which cost more than the rows themselves on each append)."""
    if not rows:
        return
    columns = list(rows[0])
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                     [[row[c] for c in columns] for row in rows])


def _replace_rows(conn: sqlite3.Connection, table: str, key: tuple[str, ...], authority: str, rows: list[dict],
                  derived: tuple[str, ...] = ()) -> None:
    """Make an authority's rows of a projection table `rows`, writing only those that differ from what is stored.

    New events change a few of a stream's concerns and judgements; rewriting all of
    them (and their indexes) cost more than the rest of the projection. `derived`
    columns are generated by the table from the others: compared, never written.
    """
    if not rows:
        conn.execute(f"DELETE FROM {table} WHERE authority = ?", (authority,))
        return
    columns = tuple(rows[0])
    stored = set(conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE authority = ?", (authority,)))
    wanted = frozenset(map(itemgetter(*columns), rows)) if len(columns) > 1 else frozenset(
        (row[columns[0]],) for row in rows)
    at = [columns.index(k) for k in key]
    gone = stored - wanted
    if gone:
        conn.executemany(f"DELETE FROM {table} WHERE authority = ? AND {' AND '.join(f'{k} = ?' for k in key)}",
                         [(authority, *(row[i] for i in at)) for row in gone])
    # In key order: the table is stored in its key's order (WITHOUT ROWID), and rows added in that order fill
    # its pages, where rows in a set's order split pages and left 12-15% of them empty.
    added = sorted(wanted - stored, key=lambda row: [row[i] for i in at])
    written = [i for i, column in enumerate(columns) if column not in derived]
    _insert_rows(conn, table, [dict(((columns[i], row[i]) for i in written), authority=authority) for row in added])


def _row_to_token(row: tuple) -> Token:
    name, created_at, revoked_at, authorities, scope, token_hash = row
    return Token(name, created_at, revoked_at, tuple(json.loads(authorities)) if authorities is not None else None,
                 tuple(scope.split()), token_hash)


class _LinkHeads:
    """Stored links made whole again during a walk: m010 stores only each link's own hashes, so the previous ones
    are the links before it. The global one is the link at the position before (None after a position with no
    link: then only the link's own hash can be checked); the stream one is its stream's link before it in the
    walk (None for the first, in a walk that starts after position 1)."""

    def __init__(self, store: "SQLiteStore", after: int):
        self._start = after + 1
        self._streams: dict[str, str] = {}
        if after <= 0:
            self._position, self._global = 0, GENESIS
        else:
            found = store._query("SELECT global_hash FROM event_hashes WHERE position = ?", (after,))
            self._position, self._global = (after, hash_hex(found[0][0])) if found else (None, None)

    def link(self, row: tuple | None, authority: str | None) -> Link | None:
        """The Link of a stored row (_LINK_COLUMNS) whose position holds an event of `authority` (None: no event)."""
        if row is None:
            return None
        position, event_id, stream_hash, global_hash = row
        event_id, stream_hash, global_hash = event_id_text(event_id), hash_hex(stream_hash), hash_hex(global_hash)
        global_prev = self._global if self._position == position - 1 else None
        stream_prev = None
        if authority is not None:
            # A stream's first link in a walk from later than position 1: its previous link lies before the walk
            # (left None, unread: verification takes that head as stored, see ChainStart).
            stream_prev = self._streams.get(authority, GENESIS if self._start == 1 else None)
            self._streams[authority] = stream_hash
        self._position, self._global = position, global_hash
        return Link(position, event_id, stream_prev, stream_hash, global_prev, global_hash)


# What an append reads before it writes (see _AppendState), as one statement.
_APPEND_STATE = (
    "SELECT (SELECT version FROM streams WHERE authority = :authority), "
    "(SELECT recorded_at FROM events ORDER BY position DESC LIMIT 1), "
    "(SELECT global_hash FROM event_hashes ORDER BY position DESC LIMIT 1), "
    "(SELECT h.stream_hash FROM streams s JOIN events e ON e.authority = s.authority AND e.version = s.version "
    "JOIN event_hashes h ON h.position = e.position WHERE s.authority = :authority), "
    "(SELECT request_hash FROM idempotency_keys WHERE key = :key), "
    "(SELECT event_id FROM idempotency_keys WHERE key = :key), "
    "(SELECT authority FROM idempotency_keys WHERE key = :key), "
    "(SELECT request_hash FROM events WHERE event_id = :event_id), "
    "(SELECT authority FROM events WHERE event_id = :event_id)"
)


class BatchBroken(RuntimeError):
    """An append in a batch failed other than by being refused, perhaps part-way through its writes: the batch
    is rolled back whole, whatever its caller made of that error."""


@dataclass(frozen=True)
class _AppendState:
    """The stream, the chain heads, and the key's and event id's earlier use, as an append's transaction found
    them (None where there is nothing: no stream, no event, no link, key unused)."""

    version: int | None
    last_recorded_at: str | None
    global_head: object
    stream_head: object
    key_request_hash: str | None
    key_event_id: str | None
    key_authority: str | None
    event_request_hash: str | None
    event_authority: str | None


class SQLiteStore:
    """`EventStore` on one SQLite file."""

    def __init__(self, path: str | Path, clock: Callable[[], datetime] = utc_now, *, group_commit: bool = False):
        self.path = str(path)
        self.clock = clock
        self.group_commit = group_commit  # the web service's many request threads share one writer per process
        self._committer: GroupCommitter | None = None
        self._committer_lock = threading.Lock()
        # How a stream's projection is made (see project_due); the service sets its own idea of today here.
        self.projector_for: Callable[[str], Projector] = lambda authority: StreamProjector(authority, date.today())
        self._local = threading.local()
        self._legacy_links: bool | None = None  # event_hashes as m005 made it (before m010), once looked up
        self._concern_derived: tuple[str, ...] | None = None  # concerns' generated columns (m016), once looked up
        self._wide: frozenset[str] | None = None  # m013's wide_integer_events, once read

    @property
    def db(self) -> Database:
        """This thread's connection, opened on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.path)
        return db

    def close(self) -> None:
        """Close this thread's connection."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None

    def _query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        return self.db.execute(sql, params).fetchall()

    def _events(self, rows: list[tuple]) -> list[StoredEvent]:
        """Event rows as events: their JSON read by orjson, but for the events m013 listed (events.stored_json)."""
        wide = self._wide_integer_events()
        return [_row_to_event(r, json.loads if wide is None or r[0] in wide else decode) for r in rows]

    def _wide_integer_events(self) -> frozenset[str] | None:
        """m013's list, read once; None before m013 has run (then every event is read with json.loads).

        Read once because it cannot grow: validation refuses the integers that would put an event on it.
        """
        if self._wide is None:
            try:
                self._wide = frozenset(r[0] for r in self._query("SELECT event_id FROM wide_integer_events"))
            except sqlite3.OperationalError:  # no such table yet
                return None
        return self._wide

    # -- events ---------------------------------------------------------

    def append(self, authority: str, event: NewEvent, *, expected_version: int | None, idempotency_key: str | None,
               request_hash: str, recorded_by: str, count_hit: RateHit | None = None,
               texts: tuple[str, str] | None = None) -> AppendResult:
        """Append one event in one transaction; its stream's projection follows (see `project_due`).

        With `count_hit`, the request is first counted in its rate-limit window in
        the same transaction (so an append costs one commit, not two); the count
        stands whatever the append's outcome, and if the window is then over its
        limit nothing else is written and `RateLimited` is raised. An error raised
        after counting carries the window's count as `rate_hits`.
        """
        # Stored text of payload and source (`texts`, if the caller made them), made before the work that runs
        # under the writers' lock.
        texts = texts or (encode(event.payload), encode(event.source))

        def work() -> tuple[int | None, AppendResult | None, Exception | None]:
            hits = self._count_hit_here(count_hit[0], count_hit[1]) if count_hit else None
            if hits is not None and hits > count_hit[2]:
                return hits, None, RateLimited(hits)
            try:
                if locked:  # nothing is written before the checks pass: a refused append leaves only the count
                    return hits, self._append_here(authority, event, expected_version, idempotency_key,
                                                   request_hash, recorded_by, locked=True, texts=texts), None
                with savepoint(self.db.conn, "append_event"):  # taken back if refused: the batch and count stand
                    return hits, self._append_here(authority, event, expected_version, idempotency_key,
                                                   request_hash, recorded_by, texts=texts), None
            except DomainError as exc:
                return hits, None, exc

        # Whether work runs in a transaction known to hold the write lock already (BEGIN IMMEDIATE).
        locked = True
        if self._grouped():
            hits, result, error = self._committer.submit(work)
        elif self.db.conn.in_transaction and getattr(self._local, "batch_locked", False):
            hits, result, error = self._in_locked_batch(work)
        elif self.db.conn.in_transaction:  # a caller's: work's own savepoint is the append's
            locked = False
            hits, result, error = work()
        else:
            with self._writing():
                hits, result, error = work()
        if error is not None:
            error.rate_hits = hits
            raise error
        return replace(result, rate_hits=hits)

    def _in_locked_batch(self, work: Callable[[], tuple]) -> tuple:
        """Run an append's work in a batch holding the write lock. A refusal writes nothing; any other error may
        come after some of its writes, which no savepoint takes back, so the batch is marked not to commit."""
        try:
            return work()
        except BaseException:
            self._local.batch_broken = True
            raise

    def _grouped(self) -> bool:
        """Whether this append goes through the process's group-commit writer (see events.group_commit)."""
        if not self.group_commit or getattr(self._local, "in_batch", False) or self.db.conn.in_transaction:
            return False  # batches and callers' own transactions commit as they always have
        return not self._writer().on_writer_thread()

    def _writer(self) -> GroupCommitter:
        """The process's group-commit writer, started on first use."""
        with self._committer_lock:
            if self._committer is None or not self._committer.usable:
                self._committer = GroupCommitter(lambda: self.db.conn, f"{self.path}-writer.lock",
                                                 idle=self._project_idle, wal_path=f"{self.path}-wal")
            return self._committer

    def _append_here(self, authority: str, event: NewEvent, expected_version: int | None,
                     idempotency_key: str | None, request_hash: str, recorded_by: str,
                     locked: bool = False, texts: tuple[str, str] | None = None) -> AppendResult:
        """The append's writes, inside a transaction the caller holds.

        `locked`: the transaction already holds the write lock (BEGIN IMMEDIATE), so the
        checks read before anything is written and a refused append writes nothing.
        Otherwise a write comes first, so the transaction takes the write lock before it
        reads anything (a concurrent writer waits here rather than failing later), and
        the caller's savepoint takes that write back if the append is refused. `texts`: the payload and source
        as stored (`encode`), if already made.
        """
        conn = self.db.conn
        if not locked:
            conn.execute("INSERT INTO streams (authority, version, last_position) VALUES (?, 0, 0) "
                         "ON CONFLICT (authority) DO NOTHING", (authority,))
        state = self._append_state(authority, idempotency_key, event.event_id)
        replay = self._replay(authority, event.event_id, idempotency_key, request_hash, state)
        if replay is not None:
            return AppendResult(replay, replayed=True)
        current = state.version or 0
        if expected_version is not None and expected_version != current:
            raise VersionConflict(authority, expected_version, current)
        stored = self._insert(authority, current + 1, event, recorded_by, request_hash, state, texts=texts)
        if idempotency_key:
            conn.execute("INSERT INTO idempotency_keys (key, authority, request_hash, event_id, created_at) "
                         "VALUES (?, ?, ?, ?, ?)", (idempotency_key, authority, request_hash, event.event_id,
                                                     stored.recorded_at))
        self._set_stream_head(stored)
        conn.execute("INSERT OR IGNORE INTO projection_due (authority) VALUES (?)", (authority,))
        outbox.enqueue_event(self.db, stored)  # webhook deliveries commit (or roll back) with the event
        return AppendResult(stored, replayed=False)

    def _append_state(self, authority: str, key: str | None, event_id: str) -> _AppendState:
        """Every read an append needs, in one statement: the writer thread waits for the GIL again after each."""
        return _AppendState(*self.db.conn.execute(_APPEND_STATE, {"authority": authority, "key": key,
                                                                   "event_id": event_id}).fetchone())

    def _set_stream_head(self, stored: StoredEvent) -> None:
        """The stream's version and last position, as the event just inserted leaves them (its row made if new)."""
        self.db.conn.execute("INSERT INTO streams (authority, version, last_position) VALUES (?, ?, ?) "
                             "ON CONFLICT (authority) DO UPDATE SET version = excluded.version, "
                             "last_position = excluded.last_position", (stored.authority, stored.version, stored.position))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many appends in one transaction.

        Each append still runs whole (same checks, same insert path), and a refused one
        writes nothing and leaves the others; one failing otherwise rolls the whole batch
        back (`BatchBroken`). Nothing is visible to readers until the batch commits.
        Projections follow, as after any append (`project_due`).
        """
        if getattr(self._local, "in_batch", False):
            raise RuntimeError("batches do not nest")
        # A batch of its own is begun IMMEDIATE: it holds the write lock before its first append reads, so each
        # append checks before it writes, as the group-commit writer's do, and needs no savepoint or early write
        # (three of a load's nine statements an event). One in a caller's transaction keeps both.
        self._local.batch_locked = not self.db.conn.in_transaction
        self._local.in_batch, self._local.batch_broken = True, False  # appends commit with it, not grouped
        try:
            with self._writing():
                yield
                if self._local.batch_broken:
                    raise BatchBroken("an append failed part-way through its writes: nothing in the batch is stored")
        finally:
            self._local.in_batch = self._local.batch_locked = False

    def _replay(self, authority: str, event_id: str, key: str | None, request_hash: str,
                state: _AppendState) -> StoredEvent | None:
        """The original event if this request was already appended; mismatch if the key was reused."""
        if key and state.key_request_hash is not None:
            if (state.key_request_hash, state.key_authority) != (request_hash, authority):
                raise IdempotencyMismatch(
                    "This Idempotency-Key was already used for a different request; use a new key for a new event.",
                    [{"field": "Idempotency-Key", "reason": "already used with a different request body"}])
            return self.get_event(state.key_event_id)
        if state.event_request_hash is not None:
            if (state.event_request_hash, state.event_authority) != (request_hash, authority):
                raise EventIdReused(
                    "An event with this event_id already exists with different content; events are never edited.",
                    [{"field": "event_id", "reason": "already used by a different event"}])
            return self.get_event(event_id)
        return None

    def _insert(self, authority: str, version: int, event: NewEvent, recorded_by: str, request_hash: str,
                state: _AppendState, recorded_at: str | None = None,
                texts: tuple[str, str] | None = None) -> StoredEvent:
        """Insert one event and its chain link (every write of an event goes through here), onto the heads the
        append read (`state`); `recorded_at` only when restoring; `texts`, payload and source as `encode`
        makes them, saves making them again."""
        # Transaction time never runs backwards, even if the wall clock does.
        last = state.last_recorded_at
        if recorded_at is None:
            recorded_at = max(format_timestamp(self.clock()), last or "")
        elif last and recorded_at < last:
            raise ValueError(f"recorded_at {recorded_at} is before the last event's {last}")
        payload, source = texts or (encode(event.payload), encode(event.source))
        cursor = self.db.execute(
            "INSERT INTO events (event_id, authority, version, kind, schema_version, effective_on, date_precision, "
            "occurred_start, occurred_end, recorded_at, recorded_by, payload, source, request_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event.event_id, authority, version, event.kind, event.schema_version, event.effective_on,
             event.date_precision, event.occurred["start"], event.occurred["end"], recorded_at, recorded_by,
             payload, source, request_hash),
        )
        stored = StoredEvent(
            event_id=event.event_id, authority=authority, version=version, position=cursor.lastrowid,
            kind=event.kind, schema_version=event.schema_version, effective_on=event.effective_on,
            date_precision=event.date_precision, occurred=dict(event.occurred), recorded_at=recorded_at,
            recorded_by=recorded_by, payload=event.payload, source=event.source,
        )
        # The canonical form around the payload and source text just written (which `encode` makes as the
        # canonical encoder does), rather than encoding them again: 5% of a load. `canonical` when it can't.
        body = candidate_from_compact((stored.event_id, authority, version, stored.position, stored.kind,
                                       stored.schema_version, stored.effective_on, stored.date_precision,
                                       stored.occurred["start"], stored.occurred["end"], recorded_at, recorded_by,
                                       payload, source))
        self._write_link(stored, state, body)
        return stored

    def _write_link(self, event: StoredEvent, state: _AppendState, body: bytes | None) -> None:
        """Chain the event just inserted onto the stream's and the global head `state` found (same transaction);
        `body`, its canonical form if made."""
        new_link = link(event, GENESIS if state.stream_head is None else hash_hex(state.stream_head),
                        GENESIS if state.global_head is None else hash_hex(state.global_head), body)
        self._in_table_shape("_legacy_links", lambda: _legacy_links(self.db),
                             lambda legacy: _insert_links(self.db, [new_link], legacy))

    def restore(self, records: Iterable[dict], project: Callable[[str], Projector]) -> int:
        """Write exported records (`export_records`) into an empty store, keeping their recorded_at,
        recorded_by and positions, then each stream's projection: all or nothing.

        ValueError (naming the record's position) if the store is not empty, or a record's version, position or
        recorded_at does not follow on from the one before: a restore reproduces history, it cannot reorder it.
        """
        db = self.db
        count = 0
        with db.atomic():
            if self._query("SELECT count(*) FROM events")[0][0]:
                raise ValueError("the database already holds events: restore only into an empty database")
            for record in records:
                self._restore_one(record)
                count += 1
            for authority in self.authorities_with_events():
                self._write_projection(authority, project(authority)(self.read_stream(authority)))
        return count

    def _restore_one(self, record: dict) -> None:
        authority = record["authority"]
        state = self._append_state(authority, None, record["event_id"])
        current = state.version or 0
        if record["version"] != current + 1:
            raise ValueError(f"version {record['version']} of {authority} does not follow version {current}")
        event = NewEvent(**{k: record[k] for k in ("event_id", "kind", "schema_version", "effective_on",
                                                   "date_precision", "occurred", "payload", "source")})
        stored = self._insert(authority, record["version"], event, record["recorded_by"], record["request_hash"], state,
                              recorded_at=record["recorded_at"])
        if stored.position != record["position"]:
            raise ValueError(f"position {record['position']} would be stored as {stored.position}: "
                             "positions must run on from 1 without gaps")
        self._set_stream_head(stored)

    def export_records(self, batch: int = 5000) -> Iterator[dict]:
        """Every event in position order as its full stored record (envelope and request_hash), in batches."""
        after = 0
        while rows := self._query(f"SELECT {_EVENT_COLUMNS}, request_hash FROM events WHERE position > ? "
                                  "ORDER BY position LIMIT ?", (after, batch)):
            for event, row in zip(self._events([row[:-1] for row in rows]), rows):
                yield dict({f: getattr(event, f) for f in StoredEvent.__dataclass_fields__}, request_hash=row[-1])
            after = rows[-1][3]

    def read_stream(self, authority: str) -> list[StoredEvent]:
        """All of one authority's events in version order."""
        rows = self._query(f"SELECT {_EVENT_COLUMNS} FROM events WHERE authority = ? ORDER BY version", (authority,))
        return self._events(rows)

    def read_amendments(self, authority: str, event_id: str) -> list[StoredEvent]:
        """The corrections and retractions in a stream that name one event, in version order."""
        # By index events_amending (m012), without reading the stream: `+authority` keeps the planner from
        # preferring the stream's index, which it guesses to be as selective.
        rows = self._query(f"SELECT {_EVENT_COLUMNS} FROM events WHERE json_extract(payload, '$.target_event_id') = ? "
                           "AND kind IN ('correction', 'retraction') AND +authority = ? ORDER BY version",
                           (event_id, authority))
        return self._events(rows)

    def stream_version(self, authority: str) -> int:
        """The authority's current version (0 for an empty stream)."""
        rows = self._query("SELECT version FROM streams WHERE authority = ?", (authority,))
        return rows[0][0] if rows else 0

    def get_event(self, event_id: str) -> StoredEvent | None:
        """One event by id."""
        rows = self._query(f"SELECT {_EVENT_COLUMNS} FROM events WHERE event_id = ?", (event_id,))
        return self._events(rows)[0] if rows else None

    def read_all(self, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Events in position order after a position."""
        sql = f"SELECT {_EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position"
        params: list = [after]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return self._events(self._query(sql, params))

    def iter_all(self, batch: int = 5000, after: int = 0, upto: int | None = None) -> Iterator[StoredEvent]:
        """Every event in position order (after `after`, up to `upto` if given), a batch at a time."""
        while chunk := self.read_all(after, batch):
            for event in chunk:
                if upto is not None and event.position > upto:
                    return
                yield event
            after = chunk[-1].position

    def read_recent(self, limit: int, authority: str | None = None) -> list[StoredEvent]:
        """The newest events (of one authority, or of all), newest first."""
        where, params = ("WHERE authority = ?", [authority]) if authority else ("", [])
        rows = self._query(f"SELECT {_EVENT_COLUMNS} FROM events {where} ORDER BY position DESC LIMIT ?", params + [limit])
        return self._events(rows)

    def stream_position(self, authority: str) -> int:
        """The position of the authority's latest event (0 for an empty stream)."""
        rows = self._query("SELECT last_position FROM streams WHERE authority = ?", (authority,))
        return rows[0][0] if rows else 0
    def iter_chain(self, batch: int = 5000) -> Iterator[tuple[int, StoredEvent | None, Link | None]]:
        """(position, event, link) for every position that has an event or a link, in order, a batch at a time.

        Either side may be None: an event never linked, or a link whose event is gone.
        """
        for position, row, stored_link in self.iter_chain_rows(batch=batch):
            yield position, _row_as_stored(row) if row is not None else None, stored_link

    def iter_chain_rows(self, after: int = 0, batch: int = 5000,
                        compact: bool = False) -> Iterator[tuple[int, tuple | None, Link | None]]:
        """As iter_chain from the position after `after`, but each event as its raw row (the columns of
        _EVENT_COLUMNS, payload and source as stored text): what verification hashes without making events.

        With `compact`, payload and source come as SQLite's json() gives them (the stored JSON minified, in C):
        for rows the store wrote, exactly their canonical text (see events.chain.candidate_from_compact).
        Reads positions a range at a time from both tables (two primary-key range scans, merged here), up to
        the highest position either held when the walk began.
        """
        top = self._query("SELECT max(coalesce((SELECT max(position) FROM events), 0), "
                          "coalesce((SELECT max(position) FROM event_hashes), 0))")[0][0]
        heads = _LinkHeads(self, after)
        while after < top:
            upto = min(after + batch, top)
            events = {row[3]: row for row in self._event_range(after, upto, compact)}
            rows = self._query(f"SELECT {_LINK_COLUMNS} FROM event_hashes WHERE position > ? AND position <= ? "
                               "ORDER BY position", (after, upto))
            links = {row[0]: row for row in rows}
            for position in sorted(events.keys() | links.keys()):
                event = events.get(position)
                yield position, event, heads.link(links.get(position), event[1] if event is not None else None)
            after = upto

    def _event_range(self, after: int, upto: int, compact: bool) -> list[tuple]:
        columns = _EVENT_COLUMNS.replace("payload, source", "json(payload), json(source)") if compact else _EVENT_COLUMNS
        try:
            return self._query(f"SELECT {columns} FROM events WHERE position > ? AND position <= ? ORDER BY position",
                               (after, upto))
        except sqlite3.OperationalError:  # json() refuses text that is no longer JSON: these rows go as stored
            if not compact:
                raise
            return [(*row[:12], None, None) for row in self._event_range(after, upto, False)]

    def event_row(self, position: int) -> tuple | None:
        """One event's raw row (the columns of _EVENT_COLUMNS), or None."""
        rows = self._query(f"SELECT {_EVENT_COLUMNS} FROM events WHERE position = ?", (position,))
        return rows[0] if rows else None

    def chain_start(self, position: int) -> ChainStart:
        """Where a verification from `position` starts: the stored global hash just before it, and each stream's
        stored head and version before it (looked up when the stream first appears)."""
        if position <= 1:
            return ChainStart()
        before = self._query("SELECT global_hash FROM event_hashes WHERE position < ? ORDER BY position DESC LIMIT 1",
                             (position,))

        def stream_before(authority: str) -> tuple[str, int]:
            found = self._stream_link_before(authority, position)
            return (hash_hex(found[0]), found[1]) if found else (GENESIS, 0)

        return ChainStart(position, hash_hex(before[0][0]) if before else GENESIS, stream_before)

    def _stream_link_before(self, authority: str, position: int) -> tuple | None:
        """(stored stream hash, version) of the stream's last linked event before a position, or None."""
        found = self._query("SELECT h.stream_hash, e.version FROM events e JOIN event_hashes h "
                            "ON h.position = e.position WHERE e.authority = ? AND e.position < ? "
                            "ORDER BY e.version DESC LIMIT 1", (authority, position))
        return found[0] if found else None

    def authorities_with_events(self) -> list[str]:
        """Slugs of every stream that has events."""
        return [r[0] for r in self._query("SELECT authority FROM streams WHERE version > 0 ORDER BY authority")]

    def last_position(self) -> int:
        """The highest position stored (0 when empty)."""
        return self._query("SELECT coalesce(max(position), 0) FROM events")[0][0]

    # -- projections ----------------------------------------------------

    def save_projection(self, authority: str, projection: Projection) -> None:
        """Replace one authority's stored projection."""
        with self.db.atomic():
            self._write_projection(authority, projection)

    def save_projections(self, projections: list[tuple[str, Projection]],
                         project: Callable[[str], Projector]) -> None:
        """Store many authorities' projections in one transaction.

        A projection made from fewer events than its stream now holds (an append
        came in meanwhile) is made again from the stream, inside the transaction.
        """
        with self._writing():  # the write lock before reading versions, so no append slips in between
            for authority, projection in projections:
                if projection.status["stream_version"] != self.stream_version(authority):
                    projection = project(authority)(self.read_stream(authority))
                self._write_projection(authority, projection)

    def due_authorities(self) -> list[str]:
        """Streams whose stored projection is behind their events (see `project_due`)."""
        return [r[0] for r in self._query("SELECT authority FROM projection_due ORDER BY authority")]

    def project_due(self, authorities: Iterable[str] | None = None, limit: int | None = None) -> int:
        """Bring stored projections up to date with their streams (all due, or those of `authorities`, at most
        `limit`); return how many were made. A transaction makes a few, so appends wait for a few streams at most.

        Appends leave their stream due (m011) rather than remake its projection in
        their own transaction. A stream whose stored projection was made from its
        first N events has only what the later ones can change made again
        (projections.incremental); one with none is made whole.
        """
        named = None if authorities is None else json.dumps(sorted(set(authorities)))
        made: set[str] = set()
        # Looked for before the write lock is taken: a read finds nothing due far more often than not.
        while (limit is None or len(made) < limit) and self._due(named, 1):
            count = PROJECT_PER_TRANSACTION if limit is None else min(PROJECT_PER_TRANSACTION, limit - len(made))
            with self._writing():
                due = self._due(named, count)
                for authority in due:
                    self._project_one(authority)
            again = made.intersection(due)
            made.update(due)
            if again:
                break  # appended to again since (or a projector that misstates its version): the next call's
        return len(made)

    def _due(self, named: str | None, count: int) -> list[str]:
        """Up to `count` due streams (of the JSON list `named`, if given)."""
        if named is None:
            return [r[0] for r in self._query("SELECT authority FROM projection_due LIMIT ?", (count,))]
        return [r[0] for r in self._query("SELECT authority FROM projection_due WHERE authority IN "
                                          "(SELECT value FROM json_each(?)) LIMIT ?", (named, count))]

    def _project_idle(self, quiet: bool, locked: Callable[[], AbstractContextManager]) -> int:
        """The group-commit writer's idle work: due projections when appends pause, else only a backlog's excess.

        They are made outside the writers' lock (`locked`), so the writers of every
        process make them at once, each from its own place in the due list, and
        written under it, where one whose stream has moved on meanwhile is made again.
        """
        if quiet:
            count = IDLE_STREAMS
        else:
            count = self._query("SELECT count(*) FROM projection_due")[0][0] - MAX_DUE_UNDER_LOAD
            if count <= 0:
                return 0
        # From a random place in the list (and round to its start): the writers of two processes rarely make the
        # same projection twice.
        due = [r[0] for r in self._query(
            "SELECT authority FROM projection_due WHERE authority >= coalesce((SELECT authority FROM projection_due "
            "ORDER BY authority LIMIT 1 OFFSET ? % max((SELECT count(*) FROM projection_due), 1)), '') "
            "ORDER BY authority LIMIT ?", (random.randrange(1 << 30), count))]
        if len(due) < count:
            due += [r[0] for r in self._query("SELECT authority FROM projection_due ORDER BY authority LIMIT ?",
                                              (count - len(due),)) if r[0] not in due]
        made = [(authority, self.projection_now(authority)) for authority in due]
        with locked(), self._writing():
            for authority, projection in made:
                if not self._query("SELECT 1 FROM projection_due WHERE authority = ?", (authority,)):
                    continue  # made meanwhile by another writer
                if projection.status["stream_version"] == self.stream_version(authority):
                    self._write_projection(authority, projection)
                else:  # appended to meanwhile
                    self._project_one(authority)
        return len(made)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A write transaction that holds the write lock before it reads (or a savepoint in the caller's)."""
        if self.db.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            rollback_if_open(self.db.conn)  # a failed COMMIT leaves the transaction open: nothing in it stands
            raise

    def _project_one(self, authority: str) -> None:
        """Make one due stream's projection, inside the caller's transaction, and take it off the due list."""
        self._write_projection(authority, self.projection_now(authority))

    def projection_now(self, authority: str) -> Projection:
        """The stream's projection as its events now stand: only what the events since the stored projection can
        change, when there is one (projections.incremental). Rows before the first day those events touch stand
        in any projection made since, so a projection made outside a transaction may be written by a later one
        as long as the stream has not moved on."""
        project = self.projector_for(authority)
        since = getattr(project, "since", None)
        stored = self._query("SELECT s.stream_version FROM authority_status s WHERE s.authority = ? AND EXISTS "
                             "(SELECT 1 FROM status_by_date d WHERE d.authority = s.authority)", (authority,))
        events = self.read_stream(authority)
        return since(events, stored[0][0], partial(self._status_row, authority)) \
            if since is not None and stored else project(events)

    def _status_row(self, authority: str, valid_from: str) -> bytes | None:
        """The stored status row of the stream starting on a day, if there is one. Read apart from the stored
        version: a row written meanwhile is from a longer stream, and a projection made from the stream as it
        was is then not written (see `_project_idle`), or is made in the transaction that writes it."""
        rows = self._query("SELECT entry FROM status_by_date WHERE authority = ? AND valid_from = ?",
                           (authority, valid_from))
        return rows[0][0] if rows else None

    def _write_projection(self, authority: str, projection: Projection) -> None:
        """Store a projection; a projection of the stream as it now stands takes the stream off the due list."""
        conn = self.db.conn
        conn.execute("DELETE FROM projection_due WHERE authority = ? AND ? = (SELECT version FROM streams "
                     "WHERE authority = ?)", (authority, projection.status["stream_version"], authority))
        conn.execute("DELETE FROM authority_status WHERE authority = ?", (authority,))
        status = json.dumps(projection.status["status"], separators=(",", ":"))
        _insert_rows(conn, "authority_status", [dict(projection.status, authority=authority, status=status)])
        self._replace_concerns(authority, projection.concerns)
        _replace_rows(conn, "judgements", ("event_id", "area"), authority, projection.judgements)
        if projection.status_by_date_from is None:
            conn.execute("DELETE FROM status_by_date WHERE authority = ?", (authority,))
        else:
            conn.execute("DELETE FROM status_by_date WHERE authority = ? AND valid_from >= ?",
                         (authority, projection.status_by_date_from))
        conn.executemany("INSERT INTO status_by_date (authority, valid_from, entry) VALUES (?, ?, ?)",
                         [(authority, day, entry) for day, entry in projection.status_by_date])

    def _replace_concerns(self, authority: str, rows: list[dict]) -> None:
        """The authority's concern rows, written in the table's shape: its event id generated (m016) or stored."""
        self._in_table_shape("_concern_derived", self._concern_generated,
                             lambda derived: _replace_rows(self.db.conn, "concerns", ("concern_id",), authority, rows,
                                                           derived))

    def _in_table_shape(self, attribute: str, look: Callable[[], T], write: Callable[[T], None]) -> None:
        """`write` given a table's shape, as `look` finds it once and this store keeps in `attribute`. If the write
        fails, the table may have been migrated since it was looked at (by another process: m010, m016), so it is
        looked at again, and written again if its shape has changed."""
        shape = getattr(self, attribute)
        if shape is None:
            shape = look()
            setattr(self, attribute, shape)
        try:
            write(shape)
        except sqlite3.DatabaseError:
            fresh = look()
            setattr(self, attribute, fresh)
            if fresh == shape:
                raise
            write(fresh)

    def _concern_generated(self) -> tuple[str, ...]:
        """The concerns table's generated columns: its event id once m016 has run, else none."""
        generated = (row[1] for row in self.db.execute("PRAGMA table_xinfo(concerns)") if row[6])
        return ("event_id",) if "event_id" in generated else ()

    def status_entry(self, authority: str, as_of: str) -> bytes | None:
        """The stored status chunk holding the entry in force on a day (see projections.by_date), or None."""
        return self.status_on(authority, as_of)[1]

    def status_on(self, authority: str, as_of: str) -> tuple[int, bytes | None]:
        """The stream's last position and its stored status chunk for a day, from one snapshot; (0, None) if no
        stream, and no chunk while the stream's projection is behind it (the caller folds the events instead)."""
        rows = self._query("SELECT last_position, CASE WHEN EXISTS (SELECT 1 FROM projection_due WHERE authority = "
                           "streams.authority) THEN 1 ELSE (SELECT entry FROM status_by_date WHERE authority = "
                           "streams.authority AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1) END "
                           "FROM streams WHERE authority = ?", (as_of, authority))
        if not rows:
            return 0, None
        if rows[0][1] == 1:  # due: left by appends of another process, or of this one before a restart
            if self.group_commit:
                self._writer().wake()  # this process's writer makes it once appends pause
            return rows[0][0], None
        return rows[0][0], rows[0][1]

    def read_projection(self, authority: str) -> dict | None:
        """One authority's stored status row, or None (brought up to date first, if it is behind)."""
        self.project_due([authority])
        rows = list(self.db.query("SELECT * FROM authority_status WHERE authority = ?", [authority]))
        return self._decode_status(rows[0]) if rows else None

    def read_projections(self) -> list[dict]:
        """Every stored status row (those behind their streams brought up to date first)."""
        self.project_due()
        return [self._decode_status(r) for r in self.db.query("SELECT * FROM authority_status ORDER BY authority")]

    @staticmethod
    def _decode_status(row: dict) -> dict:
        return dict(row, status=json.loads(row["status"]))

    def count_overdue(self, authority: str, as_of: str) -> int:
        """Stored concerns open with a due date before as_of (the stream's projection brought up to date first)."""
        self.project_due([authority])
        return self._query("SELECT count(*) FROM concerns WHERE authority = ? AND state = 'open' AND due_on < ?",
                           (authority, as_of))[0][0]

    # -- tokens ---------------------------------------------------------

    def create_token(self, name: str, token_hash: str, authorities: list[str] | None = None,
                     scopes: tuple[str, ...] = ("append",)) -> None:
        """Record a token by its hash with its scopes (space-separated in one column); ValueError if the name is taken."""
        try:
            with self.db.atomic():
                self.db.execute("INSERT INTO tokens (name, token_hash, authorities, created_at, scope) "
                                "VALUES (?, ?, ?, ?, ?)",
                                (name, token_hash, json.dumps(authorities) if authorities is not None else None,
                                 format_timestamp(self.clock()), " ".join(scopes)))
        except sqlite3.IntegrityError:
            raise ValueError(f"a token named {name!r} already exists") from None

    def find_token(self, token_hash: str) -> Token | None:
        """The unrevoked token with this hash."""
        rows = self._query(f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE token_hash = ? AND revoked_at IS NULL",
                           (token_hash,))
        return _row_to_token(rows[0]) if rows else None

    def list_tokens(self) -> list[Token]:
        """Every token, revoked ones included."""
        return [_row_to_token(r) for r in self._query(f"SELECT {_TOKEN_COLUMNS} FROM tokens ORDER BY name")]

    def revoke_token(self, name: str) -> bool:
        """Revoke by name; False if there is no such live token."""
        with self.db.atomic():
            cursor = self.db.execute("UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                                     (format_timestamp(self.clock()), name))
        return cursor.rowcount > 0

    # -- rate limits ----------------------------------------------------

    def count_hit(self, bucket: str, window_start: int) -> int:
        """Count one request in a bucket's fixed window and return the window's count so far.

        Shared by every worker process through the database. Not synced to disk
        (synchronous=OFF for this one transaction): a count lost to power loss
        costs nothing, and appends stay at one fsync each.
        """
        db = self.db
        db.execute("PRAGMA synchronous = OFF")
        try:
            with db.atomic():
                hits = self._count_hit_here(bucket, window_start)
        finally:
            db.execute("PRAGMA synchronous = FULL")
        return hits

    def _count_hit_here(self, bucket: str, window_start: int) -> int:
        """Count one request in a window, inside a transaction the caller holds; the window's count so far."""
        db = self.db
        hits = db.execute(
            "INSERT INTO rate_limit_windows (bucket, window_start, hits) VALUES (?, ?, 1) "
            "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = hits + 1 RETURNING hits",
            (bucket, window_start)).fetchone()[0]
        if hits == 1:  # a new window: the bucket's older ones are done with
            db.execute("DELETE FROM rate_limit_windows WHERE bucket = ? AND window_start < ?", (bucket, window_start))
        return hits
