"""Schema of the timeline database, as sqlite-utils 4 migrations.

Applied by `timeline db upgrade` and by the run command before gunicorn forks,
never at import or from create_app. Each migration runs in a transaction.
"""
import json
import os

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
def m004_webhooks(db: Database) -> None:
    """Webhooks, their outbox of deliveries and each attempt, alerts raised once, the clock's lease and job runs."""
    db.execute(
        """
        CREATE TABLE webhooks (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            secret TEXT NOT NULL,
            authorities TEXT CHECK (authorities IS NULL OR json_valid(authorities)),
            kinds TEXT CHECK (kinds IS NULL OR json_valid(kinds)),
            description TEXT,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            topic TEXT NOT NULL,
            authority TEXT NOT NULL,
            due_on TEXT NOT NULL,
            raised_at TEXT NOT NULL,
            detail TEXT NOT NULL CHECK (json_valid(detail))
        )
        """
    )
    db.execute("CREATE INDEX alerts_by_time ON alerts (raised_at)")
    # The outbox: written in the transaction that stores its event or alert, sent later by the clock.
    db.execute(
        """
        CREATE TABLE deliveries (
            id TEXT PRIMARY KEY,
            webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
            topic TEXT NOT NULL,
            event_id TEXT REFERENCES events (event_id),
            alert_id INTEGER REFERENCES alerts (id),
            body TEXT NOT NULL CHECK (json_valid(body)),
            state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_status INTEGER,
            last_error TEXT,
            created_at TEXT NOT NULL,
            delivered_at TEXT,
            CHECK ((event_id IS NULL) != (alert_id IS NULL))
        )
        """
    )
    db.execute("CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at)")
    db.execute("CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id)")
    db.execute(
        """
        CREATE TABLE delivery_attempts (
            id INTEGER PRIMARY KEY,
            delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
            attempt INTEGER NOT NULL,
            attempted_at TEXT NOT NULL,
            status_code INTEGER,
            error TEXT,
            duration_ms INTEGER NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, attempt)")
    db.execute(
        """
        CREATE TABLE clock_lease (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            acquired_at TEXT NOT NULL,
            heartbeat_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE job_runs (
            id INTEGER PRIMARY KEY,
            job TEXT NOT NULL,
            holder TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            ok INTEGER,
            detail TEXT CHECK (detail IS NULL OR json_valid(detail))
        )
        """
    )
    db.execute("CREATE INDEX job_runs_by_job ON job_runs (job, id)")


@migrations()
def m005_event_hashes(db: Database) -> None:
    """Hash chains over the events (per stream and global), append-only like the events, back-filled."""
    from events.sqlite_store import link_existing_events

    # A table of its own rather than columns on events: events' rows and triggers stay as they were,
    # and a link whose event has been deleted behind the service's back still names that event.
    db.execute(
        """
        CREATE TABLE event_hashes (
            position INTEGER PRIMARY KEY REFERENCES events (position),
            event_id TEXT NOT NULL UNIQUE,
            stream_prev TEXT NOT NULL,
            stream_hash TEXT NOT NULL,
            global_prev TEXT NOT NULL,
            global_hash TEXT NOT NULL
        )
        """
    )
    for action in ("UPDATE", "DELETE"):
        db.execute(
            f"""
            CREATE TRIGGER event_hashes_refuse_{action.lower()} BEFORE {action} ON event_hashes
            BEGIN SELECT RAISE(ABORT, 'event hashes are immutable'); END
            """
        )
    db.execute(
        """
        CREATE TRIGGER event_hashes_refuse_replace BEFORE INSERT ON event_hashes
        WHEN EXISTS (SELECT 1 FROM event_hashes WHERE position = NEW.position OR event_id = NEW.event_id)
        BEGIN SELECT RAISE(ABORT, 'event hashes are immutable'); END
        """
    )
    link_existing_events(db)


@migrations()
def m006_token_scopes(db: Database) -> None:
    """Token scopes (`append`, `admin`, space-separated; existing tokens may append) and write rate-limit windows.

    The windows live in the database because writes hit it anyway and gunicorn
    runs several worker processes: a counter in each process would multiply the limit.
    """
    db.execute("ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'append' "
               "CHECK (scope <> '' AND trim(replace(replace(scope, 'append', ''), 'admin', '')) = '')")
    db.execute(
        """
        CREATE TABLE rate_limit_windows (
            bucket TEXT NOT NULL,
            window_start INTEGER NOT NULL,
            hits INTEGER NOT NULL,
            PRIMARY KEY (bucket, window_start)
        )
        """
    )


@migrations()
def m007_status_by_date(db: Database) -> None:
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


# Projection tables as m008 leaves them: m003's, with foreign keys to the registry.
_PROJECTIONS_WITH_KEYS = {
    "authority_status": """
        CREATE TABLE authority_status (
            authority TEXT PRIMARY KEY REFERENCES authorities (slug),
            stream_version INTEGER NOT NULL,
            last_position INTEGER NOT NULL,
            last_effective_on TEXT,
            overall_grade INTEGER,
            overall_label TEXT,
            framework TEXT,
            inspection_effective_on TEXT,
            regime TEXT NOT NULL,
            status TEXT NOT NULL CHECK (json_valid(status))
        )""",
    "concerns": """
        CREATE TABLE concerns (
            concern_id TEXT PRIMARY KEY,
            authority TEXT NOT NULL REFERENCES authorities (slug),
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
        )""",
    "judgements": """
        CREATE TABLE judgements (
            event_id TEXT NOT NULL REFERENCES events (event_id),
            authority TEXT NOT NULL REFERENCES authorities (slug),
            effective_on TEXT NOT NULL,
            framework TEXT NOT NULL,
            area TEXT NOT NULL,
            normalised_area TEXT,
            label TEXT NOT NULL,
            grade INTEGER,
            PRIMARY KEY (event_id, area)
        )""",
}
_DATASETTE_VIEWS = {
    "current_status": """
        SELECT a.slug AS authority, a.name, a.region, s.overall_grade, s.overall_label, s.framework,
               s.inspection_effective_on, s.regime,
               (SELECT count(*) FROM concerns c WHERE c.authority = a.slug AND c.state = 'open') AS open_concerns,
               (SELECT count(*) FROM concerns c WHERE c.authority = a.slug AND c.state = 'open'
                AND c.due_on < date('now')) AS overdue_concerns,
               s.last_effective_on, s.stream_version AS events
        FROM authorities a LEFT JOIN authority_status s ON s.authority = a.slug
        WHERE a.active""",
    "open_concerns": """
        SELECT c.authority, a.name, a.region, c.concern_id, c.text, c.section, c.timescale, c.opened_on, c.due_on,
               c.due_on < date('now') AS overdue, c.kind AS opened_by_kind, c.event_id AS opened_by_event_id
        FROM concerns c JOIN authorities a ON a.slug = c.authority
        WHERE c.state = 'open'""",
    "judgement_history": """
        SELECT j.authority, a.name, a.region, j.effective_on, j.framework, j.area, j.normalised_area, j.label,
               j.grade, j.event_id
        FROM judgements j JOIN authorities a ON a.slug = j.authority""",
    "events_readable": """
        SELECT e.position, e.authority, a.name, e.kind, e.effective_on, e.date_precision,
               json_extract(e.source, '$.title') AS source_title, json_extract(e.source, '$.url') AS source_url,
               json_extract(e.payload, '$.framework') AS framework,
               json_extract(e.payload, '$.target_event_id') AS corrects_event_id,
               json_extract(e.payload, '$.reason') AS reason,
               e.recorded_at, e.recorded_by, e.version, e.event_id
        FROM events e LEFT JOIN authorities a ON a.slug = e.authority""",
}


@migrations()
def m008_datasette(db: Database) -> None:
    """The file as Datasette shows it: a registry table, projections keyed to it, readable views.

    `events` keeps no foreign key to `authorities`: SQLite cannot add one without
    copying the table, and events are never rewritten; `events_readable` joins instead.
    """
    db.execute(
        """
        CREATE TABLE authorities (
            slug TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            ofsted_urn TEXT,
            la_code TEXT,
            ons_code TEXT,
            region TEXT,
            active INTEGER NOT NULL,
            abolished_on TEXT,
            created_on TEXT,
            predecessors TEXT,
            successors TEXT
        )
        """
    )
    sync_authorities(db)
    for table, create in _PROJECTIONS_WITH_KEYS.items():
        # Derived data: copy it across (dropping rows no registry authority owns) rather than make a rebuild necessary.
        columns = ", ".join(db[table].columns_dict)
        db.execute(f"ALTER TABLE {table} RENAME TO {table}_m003")
        db.execute(create)
        db.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table}_m003 "
                   "WHERE authority IN (SELECT slug FROM authorities)")
        db.execute(f"DROP TABLE {table}_m003")
    db.execute("CREATE INDEX concerns_by_authority ON concerns (authority, state, due_on)")
    db.execute("CREATE INDEX judgements_by_authority ON judgements (authority, normalised_area, effective_on)")
    for name, select in _DATASETTE_VIEWS.items():
        db.execute(f"CREATE VIEW {name} AS {select}")


@migrations()
def m009_write_status_by_date_rowid(db: Database) -> None:
    """status_by_date as a rowid table, its rows regrouped to today's chunk size (16 entries then, was 8).

    A compressed row is 1-3 KB: in m007's WITHOUT ROWID table each spilled to an
    overflow page and left most of two pages empty (62% of the table's pages
    unused at 1K events). A rowid table keeps the rows packed; the unique index
    serves the one lookup (authority, latest valid_from on or before a day).
    Rows are regrouped from the stored entries, not recomputed, so answers are
    unchanged and no rebuild is needed. Space freed is reused; VACUUM returns it.
    """
    from events.projections.by_date import regroup

    db.execute("ALTER TABLE status_by_date RENAME TO status_by_date_m007")
    db.execute(
        """
        CREATE TABLE status_by_date (
            id INTEGER PRIMARY KEY,
            authority TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            entry BLOB NOT NULL,
            UNIQUE (authority, valid_from)
        )
        """
    )
    rows: list[tuple[str, str, bytes]] = []
    current, blobs = None, []
    for authority, blob in db.execute("SELECT authority, entry FROM status_by_date_m007 ORDER BY authority, valid_from"):
        if authority != current and blobs:
            rows.extend((current, day, entry) for day, entry in regroup(blobs))
            blobs = []
        current = authority
        blobs.append(blob)
        if len(rows) >= 5000:
            db.conn.executemany("INSERT INTO status_by_date (authority, valid_from, entry) VALUES (?, ?, ?)", rows)
            rows = []
    if blobs:
        rows.extend((current, day, entry) for day, entry in regroup(blobs))
    db.conn.executemany("INSERT INTO status_by_date (authority, valid_from, entry) VALUES (?, ?, ?)", rows)
    db.execute("DROP TABLE status_by_date_m007")



_EVENT_HASHES_M010 = """
    CREATE TABLE event_hashes (
        position INTEGER PRIMARY KEY REFERENCES events (position),
        event_id BLOB NOT NULL,
        stream_hash BLOB NOT NULL,
        global_hash BLOB NOT NULL
    )"""


@migrations()
def m010_size_event_hashes(db: Database) -> None:
    """Smaller files: links keep their own hashes as 32 bytes; concerns and judgements clustered by authority.

    m005 stored a link as a 36-character event id and four 64-character hex hashes, two
    of them copies of the links before it (in the global sequence and in its stream):
    316 of 2,551 bytes an event at 20K events, 50 more for a unique index on event_id
    that no query uses. Now a UUID event id is its 16 bytes (event_id_bytes) and each
    hash its 32. Verification reads the previous hashes from the links before
    (events.sqlite_store._LinkHeads), so they are checked as before; a database whose
    stored previous hashes disagree with those links (or with a link missing its event)
    is refused here, since dropping them would lose that evidence: verify it first.
    Values are kept exactly (text that is not a lowercase hex hash or a canonical UUID
    stays text, so it still fails verification where it did). No query filters events
    on effective_on, so `events_by_authority_effective` only cost space (35 bytes an event).
    """
    from events.sqlite_store import event_id_bytes

    db.execute("DROP INDEX IF EXISTS events_by_authority_effective")
    _projections_by_authority(db)
    _check_previous_hashes(db)
    db.execute("ALTER TABLE event_hashes RENAME TO event_hashes_m005")
    db.execute(_EVENT_HASHES_M010)
    after = 0
    while rows := db.execute("SELECT position, event_id, stream_hash, global_hash FROM event_hashes_m005 "
                             "WHERE position > ? ORDER BY position LIMIT 5000", (after,)).fetchall():
        db.conn.executemany("INSERT INTO event_hashes (position, event_id, stream_hash, global_hash) "
                            "VALUES (?, ?, ?, ?)",
                            [(p, event_id_bytes(e), _hash_bytes(s), _hash_bytes(g)) for p, e, s, g in rows])
        after = rows[-1][0]
    db.execute("DROP TABLE event_hashes_m005")
    _event_hashes_triggers(db)



@migrations()
def m011_projection_due(db: Database) -> None:
    """Streams whose stored projection is behind their events, brought up to date after the append commits.

    An append used to remake its stream's projection inside its own transaction: a
    full walk of the stream (3 to 5 ms at 100 events) on every append, under the
    write lock. Now an append writes its event and a row here; the writer brings the
    projection up to date once appends pause (events.sqlite_store.project_due), and
    until then a read of that stream answers from its events, so every answer is
    still the one the events give. Every projection stored before this migration was
    made with its append, so none is behind.
    """
    db.execute(PROJECTION_DUE)


PROJECTION_DUE = "CREATE TABLE projection_due (authority TEXT PRIMARY KEY) WITHOUT ROWID"



@migrations()
def m012_amendments_index(db: Database) -> None:
    """Corrections and retractions found by the event they name, not by scanning the stream.

    Every correction, retraction and concern update is checked against the
    current view of the event it names (events.appending.current_view), which
    reads that event's amendments: a scan of the whole stream, row by row and
    through `json_extract`, 12% of a load's appending process at 1M events, where
    a stream's rows lie scattered through the file. Partial: only the amending
    rows (about 6% of events) are in it.
    """
    db.execute("CREATE INDEX events_amending ON events (json_extract(payload, '$.target_event_id')) "
               "WHERE kind IN ('correction', 'retraction')")


@migrations()
def m013_wide_integer_events(db: Database) -> None:
    """The events whose payload or source holds an integer outside 64 bits, which orjson cannot read exactly.

    Stored events are read with orjson (events.stored_json), which turns such an
    integer into a float. Validation now refuses them (a source's page was the one
    unbounded integer), so only events stored before can hold one; they are listed
    here and read with `json.loads`. A scan of the text for 19 digits in a row finds
    every candidate (about 12 s at 1M events); each is then decoded to be sure.
    """
    from events.stored_json import LONG_DIGITS_GLOB, holds_wide_integer

    db.execute("CREATE TABLE wide_integer_events (event_id TEXT PRIMARY KEY) WITHOUT ROWID")
    candidates = db.execute("SELECT event_id, payload, source FROM events WHERE payload GLOB ? OR source GLOB ?",
                            (LONG_DIGITS_GLOB, LONG_DIGITS_GLOB)).fetchall()
    wide = [(event_id,) for event_id, *texts in candidates
            if any(holds_wide_integer(json.loads(text)) for text in texts)]
    db.conn.executemany("INSERT INTO wide_integer_events (event_id) VALUES (?)", wide)


@migrations()
def m014_status_by_date_zstd(db: Database) -> None:
    """status_by_date's rows compressed with zstd rather than zlib: the same text, decompressed in a fifth of the time.

    A status read decompresses one row (about 50 KB of text): 55 µs with zlib,
    11 µs with zstd, a tenth of the request. Each row's text is kept byte for byte,
    so answers are unchanged and no rebuild is needed. Rows already in zstd (made by
    m009, which regroups with today's code) are left as they are.
    """
    from events.projections.by_date import ZSTD_MAGIC, recompressed

    after = 0
    while batch := db.execute("SELECT id, entry FROM status_by_date WHERE id > ? ORDER BY id LIMIT 2000",
                              (after,)).fetchall():
        db.conn.executemany("UPDATE status_by_date SET entry = ? WHERE id = ?",
                            [(recompressed(entry), row_id) for row_id, entry in batch if entry[:4] != ZSTD_MAGIC])
        after = batch[-1][0]


@migrations()
def m015_status_by_date_32(db: Database) -> None:
    """status_by_date's rows regrouped from 16 entries to 32 (events.projections.by_date.CHUNK).

    A row of 16 entries is about 2.3 KB compressed, so each took a 4 KB page of its
    own (234 bytes an event at 20K events); rows of 32 are about 3.5 KB, compress
    better (110 bytes an entry against 145) and fill their pages (133 bytes an event).
    Rows are regrouped from the stored entries, not recomputed, so answers are
    unchanged and no rebuild is needed; a stream whose rows are already grouped so is
    not written. Space freed is reused; VACUUM returns it.
    """
    from events.projections.by_date import regroup

    authorities = [r[0] for r in db.execute("SELECT DISTINCT authority FROM status_by_date ORDER BY authority")]
    for authority in authorities:
        stored = db.execute("SELECT valid_from, entry FROM status_by_date WHERE authority = ? ORDER BY valid_from",
                            (authority,)).fetchall()
        rows = regroup([entry for _, entry in stored])
        if rows != stored:
            db.execute("DELETE FROM status_by_date WHERE authority = ?", (authority,))
            db.conn.executemany("INSERT INTO status_by_date (authority, valid_from, entry) VALUES (?, ?, ?)",
                                [(authority, day, entry) for day, entry in rows])


@migrations()
def m016_concern_event_id_derived(db: Database) -> None:
    """concerns.event_id generated from concern_id (`<event_id>:<n>`) rather than stored a second time.

    The opening event's id was stored twice in every concern row: 37 bytes a row, 45
    an event at 20K events. As a virtual generated column it is read and checked
    against events as before, and costs nothing to store. Rows are copied in key
    order, which fills the table's pages (rows added in any other order split them).
    """
    for name in _DATASETTE_VIEWS:  # views follow a renamed table: drop them and make them again after
        db.execute(f"DROP VIEW {name}")
    db.execute("ALTER TABLE concerns RENAME TO concerns_m010")
    db.execute(CONCERNS_M016)
    columns = "concern_id, authority, kind, text, section, timescale, opened_on, due_on, state, closed_on, " \
              "closed_by_event_id"
    db.execute(f"INSERT INTO concerns ({columns}) SELECT {columns} FROM concerns_m010 ORDER BY authority, concern_id")
    db.execute("DROP TABLE concerns_m010")
    for name, select in _DATASETTE_VIEWS.items():
        db.execute(f"CREATE VIEW {name} AS {select}")


# Projection tables as m010 leaves them: m008's, each stored in its primary key's order, the key led by the
# authority every query of them names, so neither needs a second index.
_PROJECTIONS_BY_AUTHORITY = {
    "concerns": """
        CREATE TABLE concerns (
            concern_id TEXT NOT NULL,
            authority TEXT NOT NULL REFERENCES authorities (slug),
            event_id TEXT NOT NULL REFERENCES events (event_id),
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            section TEXT,
            timescale TEXT,
            opened_on TEXT NOT NULL,
            due_on TEXT,
            state TEXT NOT NULL,
            closed_on TEXT,
            closed_by_event_id TEXT REFERENCES events (event_id),
            PRIMARY KEY (authority, concern_id)
        ) WITHOUT ROWID""",
    "judgements": """
        CREATE TABLE judgements (
            event_id TEXT NOT NULL REFERENCES events (event_id),
            authority TEXT NOT NULL REFERENCES authorities (slug),
            effective_on TEXT NOT NULL,
            framework TEXT NOT NULL,
            area TEXT NOT NULL,
            normalised_area TEXT,
            label TEXT NOT NULL,
            grade INTEGER,
            PRIMARY KEY (authority, event_id, area)
        ) WITHOUT ROWID""",
}


# m016's concerns: m010's, with the event id generated from concern_id rather than stored. It is concern_id
# up to its last colon: what is left when the trailing number and the colon before it are taken off (event
# ids may hold colons themselves; the number never does).
CONCERNS_M016 = _PROJECTIONS_BY_AUTHORITY["concerns"].replace(
    "event_id TEXT NOT NULL REFERENCES events (event_id)",
    "event_id TEXT GENERATED ALWAYS AS (substr(concern_id, 1, length(rtrim(concern_id, '0123456789')) - 1)) "
    "VIRTUAL REFERENCES events (event_id)")


def _projections_by_authority(db: Database) -> None:
    """concerns and judgements clustered by authority (m010): each drops a rowid, its primary key's index and its
    by-authority index (together 147 and 67 bytes an event at 20K). Rows are copied as they are: no rebuild."""
    for name in _DATASETTE_VIEWS:  # views follow a renamed table: drop them and make them again after
        db.execute(f"DROP VIEW {name}")
    for table, create in _PROJECTIONS_BY_AUTHORITY.items():
        db.execute(f"ALTER TABLE {table} RENAME TO {table}_m008")
        db.execute(create)
        db.execute(f"INSERT INTO {table} SELECT * FROM {table}_m008")
        db.execute(f"DROP TABLE {table}_m008")
    for name, select in _DATASETTE_VIEWS.items():
        db.execute(f"CREATE VIEW {name} AS {select}")


def _hash_bytes(value: object) -> object:
    """A stored hex hash as its 32 bytes; anything else (written behind the store's back) unchanged."""
    if isinstance(value, str) and len(value) == 64 and value == value.lower():
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    return value


def _check_previous_hashes(db: Database) -> None:
    """Refuse (RuntimeError) if m005's stored previous hashes say more than the links before them, or a link
    has no event: what m010 drops must be exactly what verification can read from the other links."""
    global_head, last, streams = "0" * 64, 0, {}
    for position, stream_prev, stream_hash, global_prev, global_hash, authority in db.execute(
            "SELECT h.position, h.stream_prev, h.stream_hash, h.global_prev, h.global_hash, e.authority "
            "FROM event_hashes h LEFT JOIN events e ON e.position = h.position ORDER BY h.position"):
        if authority is None or (position == last + 1 and global_prev != global_head) \
                or stream_prev != streams.get(authority, "0" * 64):
            raise RuntimeError(f"event_hashes at position {position} disagrees with the links before it: "
                               "run `timeline verify` with the previous release and restore from a backup")
        global_head, last, streams[authority] = global_hash, position, stream_hash


def _event_hashes_triggers(db: Database) -> None:
    """m005's triggers, on the table m010 makes: links are as immutable as events. Only the position can
    collide now (event_id is no longer unique here), so only it is looked up before an insert."""
    for action in ("UPDATE", "DELETE"):
        db.execute(
            f"""
            CREATE TRIGGER event_hashes_refuse_{action.lower()} BEFORE {action} ON event_hashes
            BEGIN SELECT RAISE(ABORT, 'event hashes are immutable'); END
            """
        )
    db.execute(
        """
        CREATE TRIGGER event_hashes_refuse_replace BEFORE INSERT ON event_hashes
        WHEN EXISTS (SELECT 1 FROM event_hashes WHERE position = NEW.position)
        BEGIN SELECT RAISE(ABORT, 'event hashes are immutable'); END
        """
    )

def sync_authorities(db: Database, registry=None) -> None:
    """Make the `authorities` table match the registry in use: the one given, else $TIMELINE_REGISTRY's, else the
    one the code ships with (projection rows are keyed to it, so every process on one file must use the same)."""
    from events.registry import Registry

    registry = registry or Registry.load(os.environ.get("TIMELINE_REGISTRY") or None)
    rows = [dict(a.to_dict(), active=int(a.active), predecessors=" ".join(a.predecessors) or None,
                 successors=" ".join(a.successors) or None) for a in registry.all()]
    db["authorities"].upsert_all(rows, pk="slug")


def upgrade(path: str, registry=None) -> list[str]:
    """Apply pending migrations to the database at `path` and sync its `authorities` table with the registry
    (`sync_authorities`); return the names applied."""
    from events.sqlite_store import connect

    db = connect(path)
    try:
        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
        if "authorities" in db.table_names():  # the registry may have grown since m008 filled the table
            # IMMEDIATE: the write lock before the first read, so a writer committing meanwhile (a service
            # making projections) is waited for rather than failing this transaction when it comes to write.
            db.execute("BEGIN IMMEDIATE")
            try:
                sync_authorities(db, registry)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
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
