"""Verifying the stored history: recompute both hash chains and check every stream's versions.

One pass in position order, a batch at a time; memory grows only with the
number of streams (their heads), never with the number of events.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from events.chain import GENESIS, Link, candidate_from_compact, canonical, canonical_from_row, digest
from events.store import StoredEvent


@dataclass(frozen=True)
class BrokenLink:
    """The first place the stored history disagrees with its chains."""

    position: int
    event_id: str
    authority: str | None
    chain: str  # "global" or "stream"
    reason: str

    def describe(self) -> str:
        """The break in words."""
        where = f" of {self.authority}" if self.authority else ""
        return f"event {self.event_id} at position {self.position}{where}: {self.chain} chain broken: {self.reason}"


@dataclass(frozen=True)
class Verification:
    """What a verification found: ok, how much was checked, the first break and the chain's head.

    A verification of part of the chain (from a position, or up to a limit) says which positions it covered:
    `complete` is true when it reached the end of the store; `next_from` is where to go on from, otherwise.
    """

    ok: bool
    events_checked: int
    streams_checked: int
    first_broken: BrokenLink | None
    head: dict | None = field(default=None)
    from_position: int = 1
    through_position: int | None = None
    complete: bool = True
    next_from: int | None = None

    def to_dict(self) -> dict:
        """As plain JSON-able data."""
        return asdict(self)


@dataclass
class _Stream:
    head: str = GENESIS
    version: int = 0


@dataclass(frozen=True)
class ChainStart:
    """Where a verification starts: the global head before its first position, and a way to find each stream's
    head and version before it (the stored link of the stream's last earlier event). From position 1 both
    chains start at GENESIS; from later, what lies before is taken as stored (verified by an earlier run)."""

    position: int = 1
    global_head: str = GENESIS
    stream_before: Callable[[str], tuple[str, int]] = field(default=lambda authority: (GENESIS, 0))


def _parts(event, position: int, global_head: str, stored: Link,
           raw_row: Callable[[int], tuple] | None) -> tuple[str, str, int, bytes]:
    """(event_id, authority, version, canonical form) of a StoredEvent, a raw row, or (with `raw_row`) a compact
    row: its quick candidate when that reproduces the stored global hash, else the exact form of the raw row."""
    if not isinstance(event, tuple):
        return event.event_id, event.authority, event.version, canonical(event)
    if raw_row is None:
        return event[0], event[1], event[2], canonical_from_row(event)
    body = candidate_from_compact(event)
    if body is None or digest(global_head, body) != stored.global_hash:
        body = canonical_from_row(raw_row(position))
    return event[0], event[1], event[2], body


def verify(rows: Iterable[tuple[int, StoredEvent | tuple | None, Link | None]], start: ChainStart | None = None,
           limit: int | None = None, raw_row: Callable[[int], tuple] | None = None) -> Verification:
    """Walk (position, event, link) in position order; stop at the first broken link, or after `limit` positions.

    An event is a StoredEvent, the store's raw row (`SQLiteStore.iter_chain_rows`) or, fastest, its compact row
    (`iter_chain_rows(compact=True)`, with `raw_row` to read the stored row where the quick candidate fails).
    """
    start = start or ChainStart()
    streams: dict[str, _Stream] = {}
    global_head, checked, last, seen = start.global_head, 0, None, 0
    for position, event, stored_link in rows:
        if limit is not None and seen >= limit:
            return Verification(True, checked, len(streams), None, last, start.position, last and last["position"],
                                False, position)
        seen += 1
        broken = _check_presence(position, event, stored_link)
        if broken is None:
            event_id, authority, version, body = _parts(event, position, global_head, stored_link, raw_row)
            stream = streams.get(authority)
            if stream is None:
                stream = streams[authority] = _Stream(*start.stream_before(authority))
            expected = Link(position, event_id, stream.head, digest(stream.head, body),
                            global_head, digest(global_head, body))
            broken = _check_link(position, event_id, authority, version, stream, stored_link, expected)
        if broken is not None:
            return Verification(False, checked, len(streams), broken, None, start.position,
                                last and last["position"], False, None)
        stream.head, stream.version, global_head = expected.stream_hash, version, expected.global_hash
        checked, last = checked + 1, {"position": position, "event_id": event_id, "global_hash": global_head}
    return Verification(True, checked, len(streams), None, last, start.position, last and last["position"])


def verify_store(store, from_position: int = 1, limit: int | None = None) -> Verification:
    """Verify a SQLiteStore's chains from a position (the chains before it taken as stored), at most `limit`
    positions: compact rows hashed as quick candidates, the exact canonical form wherever one does not match."""
    return verify(store.iter_chain_rows(after=from_position - 1, compact=True), store.chain_start(from_position),
                  limit, store.event_row)


def _check_presence(position: int, event, stored: Link | None) -> BrokenLink | None:
    """A break if the event or its link is missing, or the link was written for another event."""
    if event is None:
        return BrokenLink(position, stored.event_id, None, "global", "the event is missing (its hash remains)")
    event_id, authority = (event[0], event[1]) if isinstance(event, tuple) else (event.event_id, event.authority)
    if stored is None:
        return BrokenLink(position, event_id, authority, "global", "the event has no hash")
    if stored.event_id != event_id:
        return BrokenLink(position, event_id, authority, "global",
                          f"the hash at this position was written for event {stored.event_id}")
    return None


def _check_link(position: int, event_id: str, authority: str, version: int, stream: _Stream, stored: Link,
                expected: Link) -> BrokenLink | None:
    """The first difference between the stored link and the one recomputed (global chain first), or a version gap."""

    def broken(chain: str, reason: str) -> BrokenLink:
        return BrokenLink(position, event_id, authority, chain, reason)

    if stored.global_prev is not None and stored.global_prev != expected.global_prev:
        return broken("global", "the previous hash does not match the event before it")
    if stored.global_hash != expected.global_hash:
        # A link after a position with neither event nor link (global_prev None) was chained onto something
        # no longer there: its previous event is what is missing, not its own content.
        if stored.global_prev is None:
            return broken("global", "the previous hash does not match the event before it")
        return broken("global", "the event's content does not match its hash")
    if version != stream.version + 1:
        return broken("stream", f"version {version} follows version {stream.version}")
    if stored.stream_prev is not None and stored.stream_prev != expected.stream_prev:
        return broken("stream", "the previous hash does not match the stream's event before it")
    if stored.stream_hash != expected.stream_hash:
        return broken("stream", "the event's content does not match its hash")
    return None
