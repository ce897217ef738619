"""Verifying the stored history: recompute both hash chains and check every stream's versions.

One pass in position order, a batch at a time; memory grows only with the
number of streams (their heads), never with the number of events.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from events.chain import GENESIS, Link, chain_hash
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
        broken = _check(position, event, stored_link, global_head, streams)
        if broken is not None:
            return Verification(False, checked, len(streams), broken)
        stream = streams[event.authority]
        stream.head, stream.version = chain_hash(stream.head, event), event.version
        global_head = chain_hash(global_head, event)
        checked, last = checked + 1, {"position": position, "event_id": event.event_id, "global_hash": global_head}
    return Verification(True, checked, len(streams), None, last)


def _check(position: int, event: StoredEvent | None, stored: Link | None, global_head: str,
           streams: dict[str, _Stream]) -> BrokenLink | None:
    """The break at this position, if any (both chains checked, global first)."""
    if event is None:
        return BrokenLink(position, stored.event_id, None, "global", "the event is missing (its hash remains)")
    if stored is None:
        return BrokenLink(position, event.event_id, event.authority, "global", "the event has no hash")
    if stored.event_id != event.event_id:
        return BrokenLink(position, event.event_id, event.authority, "global",
                          f"the hash at this position was written for event {stored.event_id}")
    stream = streams.setdefault(event.authority, _Stream())

    def broken(chain: str, reason: str) -> BrokenLink:
        return BrokenLink(position, event.event_id, event.authority, chain, reason)

    if stored.global_prev != global_head:
        return broken("global", "the previous hash does not match the event before it")
    if stored.global_hash != chain_hash(global_head, event):
        return broken("global", "the event's content does not match its hash")
    if event.version != stream.version + 1:
        return broken("stream", f"version {event.version} follows version {stream.version}")
    if stored.stream_prev != stream.head:
        return broken("stream", "the previous hash does not match the stream's event before it")
    if stored.stream_hash != chain_hash(stream.head, event):
        return broken("stream", "the event's content does not match its hash")
    return None
