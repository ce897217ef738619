"""The hash chains that make tampering with stored events evident.

Every event is linked twice: into its authority's stream and into the global
sequence. A link's hash is SHA-256 over the previous link's hash followed by the
event's canonical form, so changing, removing or reordering any stored event
breaks every later link of both chains. The store writes a link in the same
transaction as its event; `events.verify` walks them again.

This is tamper *evidence*, not prevention: someone able to write the file and
knowing this scheme could recompute every later hash. Keeping a copy of the
head (`GET /api/verify` reports it) somewhere else closes that gap.
"""
from __future__ import annotations

import hashlib
import json
from json.encoder import encode_basestring_ascii
from dataclasses import dataclass

from events.store import StoredEvent

GENESIS = "0" * 64
# The canonical encoding: sorted keys, no whitespace, ASCII. One encoder, made once (json.dumps makes one a call).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True)
class Link:
    """The hashes of one event: its place in its stream's chain and in the global chain.

    The store keeps only each link's own hashes; read back, the previous ones are those of the links before it
    (global_prev None when the position before has no link; stream_prev None when the position has no event, or
    for a stream's first link in a walk that starts after position 1).
    """

    position: int
    event_id: str
    stream_prev: str | None
    stream_hash: str
    global_prev: str | None
    global_hash: str


def canonical(event: StoredEvent) -> bytes:
    """Every stored field of the event as JSON with sorted keys and no whitespace (ASCII, so byte-stable)."""
    fields = {
        "event_id": event.event_id, "authority": event.authority, "version": event.version,
        "position": event.position, "kind": event.kind, "schema_version": event.schema_version,
        "effective_on": event.effective_on, "date_precision": event.date_precision,
        # Only the two columns the store keeps: what is hashed is what can be read back.
        "occurred": {"start": event.occurred["start"], "end": event.occurred["end"]},
        "recorded_at": event.recorded_at, "recorded_by": event.recorded_by,
        "payload": event.payload, "source": event.source,
    }
    return _ENCODER.encode(fields).encode("ascii")


def digest(prev: str, body: bytes) -> str:
    """sha256 hex of the previous link's hash followed by an event's canonical form."""
    hashed = hashlib.sha256(prev.encode("ascii"))
    hashed.update(body)
    return hashed.hexdigest()


def chain_hash(prev: str, event: StoredEvent) -> str:
    """The hash of the link after `prev` that holds `event`."""
    return digest(prev, canonical(event))


def link(event: StoredEvent, stream_prev: str, global_prev: str, body: bytes | None = None) -> Link:
    """The link for a newly stored event, given the heads of its stream's chain and of the global chain
    (`body`: the event's canonical form, if the caller has already made it)."""
    body = canonical(event) if body is None else body
    return Link(event.position, event.event_id, stream_prev, digest(stream_prev, body),
                global_prev, digest(global_prev, body))


def canonical_from_row(row: tuple) -> bytes:
    """`canonical` of a stored event row (the store's column order), byte for byte, without making the event.

    Verification's fast path: payload and source are decoded once and the whole form encoded once, with no
    event object in between. A payload or source that is no longer JSON is hashed as `canonical` hashes it:
    as the text it now is.
    """
    (event_id, authority, version, position, kind, schema_version, effective_on, precision,
     start, end, recorded_at, recorded_by, payload, source) = row
    return _ENCODER.encode({
        "event_id": event_id, "authority": authority, "version": version, "position": position, "kind": kind,
        "schema_version": schema_version, "effective_on": effective_on, "date_precision": precision,
        "occurred": {"start": start, "end": end}, "recorded_at": recorded_at, "recorded_by": recorded_by,
        "payload": _json_or_text(payload), "source": _json_or_text(source),
    }).encode("ascii")


def _json_or_text(text):
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text



def _scalar(value: object) -> str | None:
    """A column's value as json.dumps writes it (str, int or null); None for anything else."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def candidate_from_compact(row: tuple) -> bytes | None:
    """A quick guess at the canonical form of a row whose payload and source are SQLite's json() of the stored
    text (minified, in C); None if no guess can be made (text not JSON, not ASCII, a column of another type).

    Only a candidate, because json() keeps keys in their stored order and strings as escaped in the stored
    text, which the canonical form fixes. Verification accepts it only when it reproduces the stored hash, and
    otherwise hashes `canonical_from_row`, which decides. A match is proof: the candidate encodes exactly the
    row's values (scalars escaped as json.dumps escapes them; payload and source each one complete JSON value
    of the stored value), so bytes equal to the hashed canonical form mean values equal to the hashed ones.
    """
    (event_id, authority, version, position, kind, schema_version, effective_on, precision,
     start, end, recorded_at, recorded_by, payload, source) = row
    scalars = [_scalar(v) for v in (authority, precision, effective_on, event_id, kind, end, start, position,
                                    recorded_at, recorded_by, schema_version, version)]
    if not isinstance(payload, str) or not isinstance(source, str) or None in scalars:
        return None
    (authority, precision, effective_on, event_id, kind, end, start, position, recorded_at, recorded_by,
     schema_version, version) = scalars
    text = (f'{{"authority":{authority},"date_precision":{precision},"effective_on":{effective_on},'
            f'"event_id":{event_id},"kind":{kind},"occurred":{{"end":{end},"start":{start}}},'
            f'"payload":{payload},"position":{position},"recorded_at":{recorded_at},'
            f'"recorded_by":{recorded_by},"schema_version":{schema_version},"source":{source},'
            f'"version":{version}}}')
    return text.encode("ascii") if text.isascii() else None
