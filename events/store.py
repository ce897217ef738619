"""The store's interface: everything projections and the API may ask of storage.

A backend (SQLite today, PostgreSQL later) implements `EventStore`; nothing
outside the backend module writes SQL. The contract tests in
tests/test_store_contract.py run against any backend.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Protocol


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

    def to_dict(self) -> dict:
        """The envelope as plain JSON-able data."""
        return asdict(self)


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


@dataclass(frozen=True)
class AppendResult:
    """The stored event, and whether it was already there (an idempotent replay)."""

    event: StoredEvent
    replayed: bool


@dataclass(frozen=True)
class Token:
    """An API token's record (never its value)."""

    name: str
    created_at: str
    revoked_at: str | None
    authorities: tuple[str, ...] | None = None  # None: may append anywhere

    def may_append_to(self, authority: str) -> bool:
        """Whether this token may append to an authority's stream."""
        return self.authorities is None or authority in self.authorities


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
        project: Projector,
    ) -> AppendResult:
        """Append atomically with its projection; raise VersionConflict or IdempotencyMismatch."""

    def read_stream(self, authority: str) -> list[StoredEvent]:
        """All of one authority's events in version order."""

    def stream_version(self, authority: str) -> int:
        """The authority's current version (0 for an empty stream)."""

    def get_event(self, event_id: str) -> StoredEvent | None:
        """One event by id."""

    def read_all(self, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Events in position order after a position (the global feed)."""

    def iter_all(self, batch: int = 5000) -> Iterator[StoredEvent]:
        """Every event in position order, in batches, without holding them all."""

    def authorities_with_events(self) -> list[str]:
        """Slugs of every stream that has events."""

    def last_position(self) -> int:
        """The highest position stored (0 when empty)."""

    def iter_chain(self, batch: int = 5000) -> Iterator[tuple]:
        """(position, event or None, hash link or None) for every position in order: what `events.verify` walks."""

    def save_projection(self, authority: str, projection: Projection) -> None:
        """Replace one authority's stored projection (used by rebuild)."""

    def read_projection(self, authority: str) -> dict | None:
        """One authority's stored status row, or None."""

    def read_projections(self) -> list[dict]:
        """Every stored status row."""

    def count_overdue(self, authority: str, as_of: str) -> int:
        """Stored concerns open with a due date before as_of."""

    def create_token(self, name: str, token_hash: str, authorities: list[str] | None = None) -> None:
        """Record a token by its hash; ValueError if the name is taken."""

    def find_token(self, token_hash: str) -> Token | None:
        """The unrevoked token with this hash."""

    def list_tokens(self) -> list[Token]:
        """Every token, revoked ones included."""

    def revoke_token(self, name: str) -> bool:
        """Revoke by name; False if there is no such live token."""
