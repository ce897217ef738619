"""The whole store as NDJSON, and back: `timeline export` and `timeline load --restore`.

An export line is one stored event exactly as recorded (the envelope with its
version, position, recorded_at and recorded_by, and the hash of the request that
made it, so retries and re-seeding still recognise it), in position order.

Restoring is not loading: a load appends requests and the server sets
transaction time, so it can never forge history. A restore reproduces history,
transaction times included, so `known_at` answers are the same as before; it is
therefore only allowed into an empty database, and refuses a file whose
versions, positions or recording times do not run on from each other.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from events.errors import InvalidEvent
from events.projections.status import projection_of
from events.registry import Registry
from events.schemas import validate_new_event
from events.store import EventStore

RECORD_FIELDS = ("event_id", "authority", "version", "position", "kind", "schema_version", "effective_on",
                 "date_precision", "occurred", "recorded_at", "recorded_by", "payload", "source", "request_hash")


def export_lines(store: EventStore) -> Iterator[str]:
    """Every stored event in position order, one compact JSON line each (read in batches)."""
    for record in store.export_records():
        yield json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


@dataclass
class RestoreError(Exception):
    """A restore refused: which line, and why (nothing was written)."""

    line: int
    detail: str
    errors: list[dict]

    def __str__(self) -> str:
        fields = "; ".join(f"{e['field']}: {e['reason']}" for e in self.errors)
        return f"line {self.line}: {self.detail}" + (f" ({fields})" if fields else "")


def restore_lines(store: EventStore, registry: Registry, lines: Iterable[str], today: Callable[[], date]) -> int:
    """Restore an export into an empty store; return how many events; RestoreError (nothing written) if refused."""
    current = {"line": 0}

    def records() -> Iterator[dict]:
        for number, line in enumerate(lines, 1):
            current["line"] = number
            if line.strip():
                yield _record(line, registry, number)

    try:
        return store.restore(records(), lambda authority: lambda events: projection_of(authority, events, today()))
    except ValueError as exc:
        raise RestoreError(current["line"], str(exc), []) from None


def _record(line: str, registry: Registry, number: int) -> dict:
    """One export line, checked: every field present, a known authority, an event that is valid as recorded."""
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise RestoreError(number, "not JSON", [{"field": "line", "reason": str(exc)}]) from None
    if not isinstance(record, dict):
        raise RestoreError(number, "not an exported event", [{"field": "line", "reason": "must be a JSON object"}])
    missing = [{"field": name, "reason": "missing: is this a `timeline export` file?"}
               for name in RECORD_FIELDS if name not in record]
    if missing:
        raise RestoreError(number, "not an exported event", missing)
    if registry.get(str(record["authority"])) is None:
        raise RestoreError(number, "unknown authority", [{"field": "authority", "reason": f"no authority {record['authority']!r}"}])
    body = {k: record[k] for k in ("event_id", "kind", "schema_version", "effective_on", "date_precision",
                                   "occurred", "payload", "source")}
    try:
        validate_new_event(body)
    except InvalidEvent as exc:
        raise RestoreError(number, exc.detail, exc.errors) from None
    return record
