"""Read-side questions the API asks, answered from one authority's stream.

Each status, concerns or judgements answer replays only that authority's
events (a short stream), so its cost does not grow with other authorities.
"""
from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date

from events.dates import parse_partial
from events.errors import UnknownAuthority, UnknownEvent
from events.projections.by_date import finish
from events.projections.status import concern_list, judgement_history, state_of, status_document
from events.projections.views import resolve
from events.registry import Authority, Registry
from events.store import EventStore


def authority_or_404(registry: Registry, slug: str) -> Authority:
    """The registry's authority, or UnknownAuthority with a message that helps."""
    authority = registry.get(slug)
    if authority is None:
        raise UnknownAuthority(f"There is no authority {slug!r}. GET /api/authorities lists every authority's slug.")
    return authority


def status(store: EventStore, authority: str, as_of: date, known_at: str | None, entry: bytes | None = None) -> dict:
    """DESIGN §5 status of one authority on a date, as known at a time (`entry`: its stored chunk, if already read)."""
    if known_at is None:
        # Current knowledge: the stored entry, written with every append, gives the fold's answer.
        if entry is None:
            entry = store.status_entry(authority, as_of.isoformat())
        if entry is not None:
            return finish(entry, as_of)
    return status_document(authority, state_of(store.read_stream(authority), as_of, known_at), known_at)


def concerns(store: EventStore, authority: str, as_of: date, known_at: str | None, which: str) -> list[dict]:
    """Concerns of one authority on a date, filtered by state."""
    return concern_list(state_of(store.read_stream(authority), as_of, known_at), which)


def judgements(store: EventStore, authority: str, as_of: date, known_at: str | None, area: str | None) -> list[dict]:
    """Judgement history of one authority up to a date."""
    return judgement_history(state_of(store.read_stream(authority), as_of, known_at), area)


def timeline(store: EventStore, registry: Registry, authority: str, *, known_at: str | None = None,
             start: date | None = None, end: date | None = None, kinds: list[str] | None = None,
             include_predecessors: bool = True) -> list[dict]:
    """Every event of an authority (and, marked, its predecessors) in effective-date order."""
    streams = [authority] + (registry.lineage(authority) if include_predecessors else [])
    views = []
    for slug in streams:
        views.extend((v, slug) for v in resolve(store.read_stream(slug), known_at))
    views.sort(key=lambda pair: (pair[0].effective.first, pair[0].event.position))
    out = []
    for view, slug in views:
        if kinds and view.kind not in kinds:
            continue
        if (start and view.effective.last < start) or (end and view.effective.first > end):
            continue
        item = view.to_dict()
        if slug != authority:
            item["from_predecessor"] = slug
        out.append(item)
    return out


def event(store: EventStore, event_id: str, known_at: str | None = None) -> dict:
    """One event as now understood (corrections applied), with its history."""
    stored = store.get_event(event_id)
    if stored is None or (known_at and stored.recorded_at > known_at):
        raise UnknownEvent(f"There is no event {event_id}.")
    view = next(v for v in resolve(store.read_stream(stored.authority), known_at) if v.event_id == event_id)
    return view.to_dict()


def national_status(store: EventStore, registry: Registry, as_of: date, known_at: str | None) -> dict:
    """Every active authority's status on one date, with how many stand at each overall grade."""
    found = list(national_statuses(store, registry, as_of, known_at))
    counts = Counter(str((s["overall"] or {}).get("grade") or "none") for s in found)
    return {"as_of": as_of.isoformat(), "counts_by_grade": dict(sorted(counts.items())), "authorities": found}


def national_statuses(store: EventStore, registry: Registry, as_of: date, known_at: str | None) -> Iterator[dict]:
    """Each active authority's status on one date with its name and region, one at a time."""
    for a in registry.active():
        yield dict(status(store, a.slug, as_of, known_at), name=a.name, region=a.region)


def authority_summaries(store: EventStore, registry: Registry, today: date, *, region: str | None = None,
                        grade: int | None = None, regime: str | None = None, include_inactive: bool = False) -> list[dict]:
    """Authorities with their current status from the stored projections, filtered."""
    rows = {r["authority"]: r for r in store.read_projections()}
    out = []
    for authority in registry.all() if include_inactive else registry.active():
        row = rows.get(authority.slug)
        summary = dict(authority.to_dict(), status=_current(row, store.count_overdue(authority.slug, today.isoformat())) if row else None)
        if _matches(summary, region, grade, regime):
            out.append(summary)
    return out


def _current(row: dict, overdue: int) -> dict:
    doc = row["status"]
    inspection = doc["inspection"] and {k: doc["inspection"][k] for k in ("event_id", "framework", "type", "effective_on")}
    return {"overall": doc["overall"], "regime": doc["regime"]["summary"], "inspection": inspection,
            "open_concerns": doc["open_concerns"], "overdue_concerns": overdue, "last_event": doc["last_event"]}


def _matches(summary: dict, region: str | None, grade: int | None, regime: str | None) -> bool:
    status_ = summary["status"] or {}
    overall = status_.get("overall") or {}
    return ((region is None or (summary["region"] or "").casefold() == region.casefold())
            and (grade is None or overall.get("grade") == grade)
            and (regime is None or regime in (status_.get("regime") or "none").split(" and ")))


def encode_cursor(position: tuple) -> str:
    """An opaque cursor for resuming a list after an item."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list:
    """The position an opaque cursor stands for; ValueError if it is not one of ours."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        first, event_position = position
        if not (isinstance(first, str) and isinstance(event_position, int)):
            raise ValueError
        parse_partial(first)
        return position
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ValueError("is not a cursor this service gave out") from None


def timeline_key(item: dict) -> list:
    """A timeline item's place in effective-date order, for cursors."""
    return [parse_partial(item["effective_on"], item["date_precision"]).first.isoformat(), item["position"]]


def page(items: list[dict], cursor: str | None, limit: int) -> tuple[list[dict], str | None]:
    """One page of timeline items after `cursor`, and the cursor for the next page (None at the end)."""
    if cursor:
        after = decode_cursor(cursor)
        items = [i for i in items if timeline_key(i) > after]
    chunk = items[:limit]
    more = len(items) > limit
    return chunk, encode_cursor(timeline_key(chunk[-1])) if more and chunk else None
