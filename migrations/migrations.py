"""Schema of the timeline database, as sqlite-utils 4 migrations.

Applied by `timeline db upgrade` and by the run command before gunicorn forks,
never at import or from create_app. Each migration runs in a transaction.
"""
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("timeline")


@migrations()
def m001_events(db: Database) -> None:
    """The append-only event store, stream heads and idempotency keys."""
    db.execute(
        """
        CREATE TABLE events (
            position INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL UNIQUE,
            authority TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            kind TEXT NOT NULL,
            schema_version INTEGER NOT NULL,
            effective_on TEXT NOT NULL,
            date_precision TEXT NOT NULL CHECK (date_precision IN ('day', 'month', 'year')),
            occurred_start TEXT NOT NULL,
            occurred_end TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            recorded_by TEXT NOT NULL,
            payload TEXT NOT NULL CHECK (json_valid(payload)),
            source TEXT NOT NULL CHECK (json_valid(source)),
            request_hash TEXT NOT NULL,
            UNIQUE (authority, version)
        )
        """
    )
    db.execute("CREATE INDEX events_by_authority_effective ON events (authority, effective_on, version)")
    # History cannot be rewritten, not even by a bug or a hand-typed statement.
    for action in ("UPDATE", "DELETE"):
        db.execute(
            f"""
            CREATE TRIGGER events_refuse_{action.lower()} BEFORE {action} ON events
            BEGIN SELECT RAISE(ABORT, 'events are immutable: append a correction or retraction instead'); END
            """
        )
    # INSERT OR REPLACE deletes the old row without firing delete triggers
    # (recursive_triggers is off by default), so refuse any insert that collides.
    db.execute(
        """
        CREATE TRIGGER events_refuse_replace BEFORE INSERT ON events
        WHEN EXISTS (SELECT 1 FROM events WHERE event_id = NEW.event_id OR position = NEW.position
                     OR (authority = NEW.authority AND version = NEW.version))
        BEGIN SELECT RAISE(ABORT, 'events are immutable: append a correction or retraction instead'); END
        """
    )
    db.execute(
        """
        CREATE TABLE streams (
            authority TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            last_position INTEGER NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE idempotency_keys (
            key TEXT PRIMARY KEY,
            authority TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            event_id TEXT NOT NULL REFERENCES events (event_id),
            created_at TEXT NOT NULL
        )
        """
    )


@migrations()
def m002_tokens(db: Database) -> None:
    """API tokens, stored only as SHA-256 hashes; `authorities` limits where one may append (NULL: anywhere)."""
    db.execute(
        """
        CREATE TABLE tokens (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            token_hash TEXT NOT NULL UNIQUE,
            authorities TEXT CHECK (authorities IS NULL OR json_valid(authorities)),
            created_at TEXT NOT NULL,
            revoked_at TEXT
        )
        """
    )


@migrations()
def m003_projections(db: Database) -> None:
    """Projections: derived from events, rebuilt by `timeline rebuild`, flat for Datasette."""
    db.execute(
        """
        CREATE TABLE authority_status (
            authority TEXT PRIMARY KEY,
            stream_version INTEGER NOT NULL,
            last_position INTEGER NOT NULL,
            last_effective_on TEXT,
            overall_grade INTEGER,
            overall_label TEXT,
            framework TEXT,
            inspection_effective_on TEXT,
            regime TEXT NOT NULL,
            status TEXT NOT NULL CHECK (json_valid(status))
        )
        """
    )
    db.execute(
        """
        CREATE TABLE concerns (
            concern_id TEXT PRIMARY KEY,
            authority TEXT NOT NULL,
            event_id TEXT NOT NULL REFERENCES events (event_id),
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            section TEXT,
            timescale TEXT,
            opened_on TEXT NOT NULL,
            due_on TEXT,
            state TEXT NOT NULL,
            closed_on TEXT,
            closed_by_event_id TEXT REFERENCES events (event_id)
        )
        """
    )
    db.execute("CREATE INDEX concerns_by_authority ON concerns (authority, state, due_on)")
    db.execute(
        """
        CREATE TABLE judgements (
            event_id TEXT NOT NULL REFERENCES events (event_id),
            authority TEXT NOT NULL,
            effective_on TEXT NOT NULL,
            framework TEXT NOT NULL,
            area TEXT NOT NULL,
            normalised_area TEXT,
            label TEXT NOT NULL,
            grade INTEGER,
            PRIMARY KEY (event_id, area)
        )
        """
    )
    db.execute("CREATE INDEX judgements_by_authority ON judgements (authority, normalised_area, effective_on)")


@migrations()
def m008_status_by_date(db: Database) -> None:
    """Status entries by the dates events take effect, so status?as_of= is one lookup (events.projections.by_date).

    Filled by appends and by `timeline rebuild`; until then answers fold the stream as before.
    """
    db.execute(
        """
        CREATE TABLE status_by_date (
            authority TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            entry BLOB NOT NULL,
            PRIMARY KEY (authority, valid_from)
        ) WITHOUT ROWID
        """
    )


def upgrade(path: str) -> list[str]:
    """Apply pending migrations to the database at `path`; return the names applied."""
    from events.sqlite_store import connect

    db = connect(path)
    try:
        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
        return pending
    finally:
        db.conn.close()



def pending(path: str) -> list[str]:
    """Names of the migrations not yet applied to the database at `path` (all, if there is no file); writes nothing."""
    from pathlib import Path

    db = Database(path) if Path(path).is_file() else Database(memory=True)
    try:
        return [m.name for m in migrations.pending(db)]
    finally:
        db.conn.close()
