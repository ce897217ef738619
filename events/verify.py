"""Verifying the stored history: recompute both hash chains and check every stream's versions.

One pass in position order, a batch at a time; memory grows only with the
number of streams (their heads), never with the number of events.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from events.chain import GENESIS, Link, canonical, digest
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
    """What a verification found: ok, how much was checked, the first break and the chain's head."""

    ok: bool
    events_checked: int
    streams_checked: int
    first_broken: BrokenLink | None
    head: dict | None = field(default=None)

    def to_dict(self) -> dict:
        """As plain JSON-able data."""
        return asdict(self)


@dataclass
class _Stream:
    head: str = GENESIS
    version: int = 0


def verify(rows: Iterable[tuple[int, StoredEvent | None, Link | None]]) -> Verification:
    """Walk (position, event, link) in position order; stop at the first broken link."""
    streams: dict[str, _Stream] = {}
    global_head, checked, last = GENESIS, 0, None
    for position, event, stored_link in rows:
        broken = _check_presence(position, event, stored_link)
        if broken is None:
            stream = streams.setdefault(event.authority, _Stream())
            body = canonical(event)
            expected = Link(position, event.event_id, stream.head, digest(stream.head, body),
                            global_head, digest(global_head, body))
            broken = _check_link(event, stream, stored_link, expected)
        if broken is not None:
            return Verification(False, checked, len(streams), broken)
        stream.head, stream.version, global_head = expected.stream_hash, event.version, expected.global_hash
        checked, last = checked + 1, {"position": position, "event_id": event.event_id, "global_hash": global_head}
    return Verification(True, checked, len(streams), None, last)


def _check_presence(position: int, event: StoredEvent | None, stored: Link | None) -> BrokenLink | None:
    """A break if the event or its link is missing, or the link was written for another event."""
    if event is None:
        return BrokenLink(position, stored.event_id, None, "global", "the event is missing (its hash remains)")
    if stored is None:
        return BrokenLink(position, event.event_id, event.authority, "global", "the event has no hash")
    if stored.event_id != event.event_id:
        return BrokenLink(position, event.event_id, event.authority, "global",
                          f"the hash at this position was written for event {stored.event_id}")
    return None


def _check_link(event: StoredEvent, stream: _Stream, stored: Link, expected: Link) -> BrokenLink | None:
    """The first difference between the stored link and the one recomputed (global chain first), or a version gap."""

    def broken(chain: str, reason: str) -> BrokenLink:
        return BrokenLink(event.position, event.event_id, event.authority, chain, reason)

    if stored.global_prev != expected.global_prev:
        return broken("global", "the previous hash does not match the event before it")
    if stored.global_hash != expected.global_hash:
        return broken("global", "the event's content does not match its hash")
    if event.version != stream.version + 1:
        return broken("stream", f"version {event.version} follows version {stream.version}")
    if stored.stream_prev != expected.stream_prev:
        return broken("stream", "the previous hash does not match the stream's event before it")
    if stored.stream_hash != expected.stream_hash:
        return broken("stream", "the event's content does not match its hash")
    return None
