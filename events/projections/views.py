"""Events as known at a transaction time, with corrections and retractions applied.

Bitemporal reading starts here: `resolve` keeps only the events recorded by
`known_at`, applies the corrections and retractions recorded by then (in
recording order), lifts old payloads through the upcasters, and returns the
result in valid-time order (effective date, then version).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from operator import attrgetter

from events.dates import PartialDate, parse_partial
from events.frozen import filled
from events.store import StoredEvent
from events.upcasting import upcast

META_KINDS = frozenset({"correction", "retraction"})
_position = attrgetter("position")  # recording order
_valid_time = attrgetter("effective.first", "event.version")  # View.sort_key's tuple, made without a Python call
ENVELOPE = tuple(f.name for f in fields(StoredEvent))  # in asdict's order, so answers keep their key order


@dataclass(frozen=True)
class View:
    """One event as currently understood: corrected fields, upcast payload."""

    event: StoredEvent
    effective: PartialDate
    occurred: dict
    payload: dict
    source: dict
    corrections: tuple[dict, ...] = ()
    retraction: dict | None = None

    @property
    def event_id(self) -> str:
        """The event's id."""
        return self.event.event_id

    @property
    def kind(self) -> str:
        """The event's kind."""
        return self.event.kind

    @property
    def active(self) -> bool:
        """Counts towards state: neither retracted nor itself a correction or retraction."""
        return self.retraction is None and self.event.kind not in META_KINDS

    def sort_key(self) -> tuple:
        """Valid-time order: effective date's first day, then stream version."""
        return (self.effective.first, self.event.version)

    def to_dict(self) -> dict:
        """The envelope as now understood, with its correction history.

        The dict shares its nested values with the view (no `dataclasses.asdict`
        deep copy, which cost most of a timeline request): callers serialise it,
        they do not change it.
        """
        event = self.event
        out = {name: getattr(event, name) for name in ENVELOPE}
        out.update(effective_on=self.effective.iso, date_precision=self.effective.precision,
                   occurred=self.occurred, payload=self.payload, source=self.source)
        if self.corrections:
            out["corrections"] = list(self.corrections)
            out["as_recorded"] = {k: getattr(event, k) for k in
                                  ("effective_on", "date_precision", "occurred", "payload", "source")}
        if self.retraction:
            out["retracted"] = self.retraction
        return out


def view_of(event: StoredEvent) -> View:
    """An event read as itself, upcast, with no corrections."""
    return filled(
        View,
        event=event,
        effective=parse_partial(event.effective_on, event.date_precision),
        occurred=event.occurred,
        payload=upcast(event.kind, event.schema_version, event.payload),
        source=event.source,
        corrections=(),
        retraction=None,
    )


def resolve(events: list[StoredEvent], known_at: str | None = None) -> list[View]:
    """The stream as known at `known_at` (a recorded_at stamp; None: everything), in valid-time order."""
    known = sorted(events if known_at is None else [e for e in events if e.recorded_at <= known_at],
                   key=_position)
    views = {e.event_id: view_of(e) for e in known}
    for event in known:
        if event.kind not in META_KINDS:
            continue
        target_id = event.payload.get("target_event_id")
        target = views.get(target_id) if target_id else None
        if target is None:
            continue
        note = {"event_id": event.event_id, "recorded_at": event.recorded_at, "reason": event.payload["reason"]}
        if event.kind == "retraction":
            views[target_id] = replace(target, retraction=note)
        else:
            views[target_id] = apply_correction(target, event.payload["changes"], note)
    return sorted(views.values(), key=_valid_time)


def apply_correction(view: View, changes: dict, note: dict) -> View:
    """A view with a correction's fields replaced (payload keys replaced one by one)."""
    effective = view.effective
    if "effective_on" in changes or "date_precision" in changes:
        effective = parse_partial(changes.get("effective_on", view.effective.iso), changes.get("date_precision"))
    payload = {**view.payload, **changes.get("payload", {})}
    return replace(
        view,
        effective=effective,
        occurred=changes.get("occurred", view.occurred),
        payload=payload,
        source=changes.get("source", view.source),
        corrections=view.corrections + (dict(note, fields=sorted(changes)),),
    )
