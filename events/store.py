"""The store's interface: everything projections and the API may ask of storage.

A backend (SQLite today, PostgreSQL later) implements `EventStore`; nothing
outside the backend module writes SQL. The contract tests in
tests/test_store_contract.py run against any backend.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from events import stored_json


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: the full envelope of DESIGN §3."""

    event_id: str
    authority: str
    version: int
    position: int
    kind: str
    schema_version: int
    effective_on: str
    date_precision: str
    occurred: dict
    recorded_at: str
    recorded_by: str
    payload: dict
    source: dict

    def envelope(self) -> dict:
        """The envelope as JSON-able data for serialising at once: it shares payload, source and occurred with
        the event, so nothing may change it (`to_dict` gives a copy). An append's answer is made this way:
        copying the payload and source for it was 4% of an append's time holding the GIL."""
        return {"event_id": self.event_id, "authority": self.authority, "version": self.version,
                "position": self.position, "kind": self.kind, "schema_version": self.schema_version,
                "effective_on": self.effective_on, "date_precision": self.date_precision,
                "occurred": self.occurred, "recorded_at": self.recorded_at, "recorded_by": self.recorded_by,
                "payload": self.payload, "source": self.source}

    def to_dict(self) -> dict:
        """The envelope as plain JSON-able data, a copy the caller may change."""
        # What asdict gives, at a twentieth of its cost (1 µs against 19: it deep-copies field by field):
        # payload and source are JSON, so a JSON round trip copies them exactly (stored_json.copy).
        out = self.envelope()
        out.update(occurred=dict(self.occurred), payload=stored_json.copy(self.payload),
                   source=stored_json.copy(self.source))
        return out


@dataclass(frozen=True)
class NewEvent:
    """A validated event about to be appended; the store adds version, position and recorded_at."""

    event_id: str
    kind: str
    schema_version: int
    effective_on: str
    date_precision: str
    occurred: dict
    payload: dict
    source: dict


@dataclass(frozen=True)
class Projection:
    """What projections derive from one stream, to be stored beside it."""

    status: dict  # summary columns plus the full status document under "status"
    concerns: list[dict] = field(default_factory=list)
    judgements: list[dict] = field(default_factory=list)
    status_by_date: list[tuple[str, bytes]] = field(default_factory=list)  # (first day, entry): see projections.by_date
    # None: status_by_date is every row of the stream. A day: the rows from that day on; stored rows before it stand.
    status_by_date_from: str | None = None


@dataclass(frozen=True)
class AppendResult:
    """The stored event, and whether it was already there (an idempotent replay)."""

    event: StoredEvent
    replayed: bool
    rate_hits: int | None = None  # the request's rate-limit window count, when the append counted it (count_hit)


# (bucket, window start, most hits allowed): a request counted in its rate-limit window by the append itself.
RateHit = tuple[str, int, int]


class RateLimited(Exception):
    """The request's rate-limit window was already full: it was counted, and nothing else was written."""

    def __init__(self, hits: int):
        super().__init__(f"{hits} requests in the window")
        self.hits = hits


TOKEN_SCOPES = ("append", "admin")


@dataclass(frozen=True)
class Token:
    """An API token's record (never its value)."""

    name: str
    created_at: str
    revoked_at: str | None
    authorities: tuple[str, ...] | None = None  # None: may append anywhere
    scopes: tuple[str, ...] = ("append",)
    token_hash: str = field(default="", repr=False)  # for the constant-time check after lookup

    def may_append_to(self, authority: str) -> bool:
        """Whether this token may append to an authority's stream (its scopes aside)."""
        return self.authorities is None or authority in self.authorities

    def has_scope(self, scope: str) -> bool:
        """Whether the token was given this scope (`append` or `admin`); neither implies the other."""
        return scope in self.scopes


Projector = Callable[[list[StoredEvent]], Projection]


class EventStore(Protocol):
    """Storage of events, their projections and tokens."""

    def append(
        self,
        authority: str,
        event: NewEvent,
        *,
        expected_version: int | None,
        idempotency_key: str | None,
        request_hash: str,
        recorded_by: str,
        count_hit: RateHit | None = None,
        texts: tuple[str, str] | None = None,
    ) -> AppendResult:
        """Append atomically; raise VersionConflict or IdempotencyMismatch. The stream's projection follows
        (`project_due`); until it does, `status_on` gives no stored chunk for the stream.

        With `count_hit`, count the request in its rate-limit window in the same
        transaction first (the count stands whatever happens next); RateLimited if
        the window is then over its limit. Errors carry the count as `rate_hits`.
        `texts`: the payload and source as `events.stored_json.encode` writes them, if already made.
        """

    def batch(self) -> AbstractContextManager[None]:
        """Appends made inside commit together."""

    def project_due(self, authorities: Iterable[str] | None = None, limit: int | None = None) -> int:
        """Bring the stored projections of streams appended to since they were made up to date; how many were made."""

    def due_authorities(self) -> list[str]:
        """Streams whose stored projection is behind their events."""

    def read_stream(self, authority: str) -> list[StoredEvent]:
        """All of one authority's events in version order."""

    def read_amendments(self, authority: str, event_id: str) -> list[StoredEvent]:
        """The corrections and retractions in a stream that name one event, in version order."""

    def stream_version(self, authority: str) -> int:
        """The authority's current version (0 for an empty stream)."""

    def get_event(self, event_id: str) -> StoredEvent | None:
        """One event by id."""

    def read_all(self, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Events in position order after a position (the global feed)."""

    def iter_all(self, batch: int = 5000, after: int = 0, upto: int | None = None) -> Iterator[StoredEvent]:
        """Every event in position order (after `after`, up to `upto`), in batches, without holding them all."""

    def read_recent(self, limit: int, authority: str | None = None) -> list[StoredEvent]:
        """The newest events (of one authority, or of all), newest first."""

    def stream_position(self, authority: str) -> int:
        """The position of the authority's latest event (0 for an empty stream)."""

    def export_records(self, batch: int = 5000) -> Iterator[dict]:
        """Every event in position order as its full stored record (envelope and request_hash), in batches."""

    def restore(self, records: Iterable[dict], project: Callable[[str], Projector]) -> int:
        """Write exported records into an empty store keeping transaction times and positions; all or nothing."""

    def authorities_with_events(self) -> list[str]:
        """Slugs of every stream that has events."""

    def last_position(self) -> int:
        """The highest position stored (0 when empty)."""

    def save_projections(self, projections: list[tuple[str, Projection]],
                         project: Callable[[str], Projector]) -> None:
        """Store many projections in one transaction, remaking any whose stream has grown since."""

    def iter_chain(self, batch: int = 5000) -> Iterator[tuple]:
        """(position, event or None, hash link or None) for every position in order: what `events.verify` walks."""

    def save_projection(self, authority: str, projection: Projection) -> None:
        """Replace one authority's stored projection (used by rebuild)."""

    def projection_now(self, authority: str) -> Projection:
        """The stream's projection as its events now stand: only what the events since the stored projection can
        change, when there is one (made by `projector_for(authority)`)."""

    def status_entry(self, authority: str, as_of: str) -> bytes | None:
        """The stored status chunk holding the entry in force on a day (see projections.by_date), or None."""

    def status_on(self, authority: str, as_of: str) -> tuple[int, bytes | None]:
        """`stream_position` and `status_entry` read together, from one snapshot."""

    def read_projection(self, authority: str) -> dict | None:
        """One authority's stored status row, or None."""

    def read_projections(self) -> list[dict]:
        """Every stored status row."""

    def count_overdue(self, authority: str, as_of: str) -> int:
        """Stored concerns open with a due date before as_of."""

    def create_token(self, name: str, token_hash: str, authorities: list[str] | None = None,
                     scopes: tuple[str, ...] = ("append",)) -> None:
        """Record a token by its hash with its scopes; ValueError if the name is taken."""

    def find_token(self, token_hash: str) -> Token | None:
        """The unrevoked token with this hash."""

    def list_tokens(self) -> list[Token]:
        """Every token, revoked ones included."""

    def revoke_token(self, name: str) -> bool:
        """Revoke by name; False if there is no such live token."""

    def count_hit(self, bucket: str, window_start: int) -> int:
        """Count one request in a rate-limit bucket's window (shared by all processes); return the count."""

    def close(self) -> None:
        """Let go of what this thread holds open (its connection); the store opens it again if used."""
