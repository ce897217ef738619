"""Appending an event: validation, checks against the stream, then one atomic store write.

The API, the CLI loader and the seed all append through `append_event`, so every
path applies the same rules.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from events.errors import InvalidEvent, UnknownAuthority
from events.projections.fold import concern_items
from events.projections.views import META_KINDS, View, apply_correction, resolve
from events.registry import Registry
from events.schemas import CURRENT_VERSION, validate_new_event
from events.stored_json import encode
from events.store import AppendResult, EventStore, NewEvent, RateHit


def request_hash(body: object) -> str:
    """A stable hash of a request body, so a retry can be told from a different request."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class CheckedRequest:
    """An append request validated (`check_request`): the event, the version it expects, the request's hash, and
    the event's payload and source as stored (`events.stored_json.encode`)."""

    event: dict
    expected_version: int | None
    request_hash: str
    texts: tuple[str, str]


def check_request(body: object) -> CheckedRequest:
    """Validate an append request as sent (InvalidEvent if it is not one). Needs no store, so a load can check
    its lines in other processes while it appends (and make the text its payload and source are stored as
    there: 6% of a load's appending process)."""
    event = validate_new_event(body)
    expected = event.pop("expected_version", None)
    return CheckedRequest(event, expected, request_hash(body), (encode(event["payload"]), encode(event["source"])))


def check_authority(registry: Registry, authority: str) -> None:
    """UnknownAuthority unless the registry has the authority."""
    if registry.get(authority) is None:
        raise UnknownAuthority(f"There is no authority {authority!r}; GET /api/authorities lists them.")


def append_event(store: EventStore, registry: Registry, authority: str, body: object, *,
                 idempotency_key: str | None = None, recorded_by: str, count_hit: RateHit | None = None,
                 checked: CheckedRequest | None = None) -> AppendResult:
    """Validate `body` (an append request as sent) and append it to the authority's stream.

    `checked` is the body already validated by `check_request` (then `body` is not read). `count_hit` is
    passed to the store: the request counted in its rate-limit window in the append's transaction.
    """
    check_authority(registry, authority)
    checked = checked or check_request(body)
    event = checked.event
    # A retry of a stored event is answered from the store (replay or refusal): its references were
    # checked when it was first appended, and a later retraction must not turn the retry into a 422.
    if (event["kind"] in META_KINDS or event["kind"] in ("concern_update", "committee_response")) \
            and store.get_event(event["event_id"]) is None:
        _check_references(store, authority, event)
    return store.append(
        authority,
        NewEvent(**event),
        expected_version=checked.expected_version,
        idempotency_key=idempotency_key,
        request_hash=checked.request_hash,
        recorded_by=recorded_by,
        count_hit=count_hit,
        texts=checked.texts,
    )


def _check_references(store: EventStore, authority: str, event: dict) -> None:
    """Events that point at other events must point at real ones in the same stream."""
    payload, errors = event["payload"], []
    if event["kind"] in META_KINDS:
        errors = _check_target(store, authority, event)
    elif event["kind"] == "committee_response":
        for index, ref in enumerate(payload["responds_to"]):
            target = store.get_event(ref)
            if target is None or target.authority != authority:
                errors.append({"field": f"payload.responds_to.{index}", "reason": f"no event {ref} in {authority}'s stream"})
    else:
        if not concern_exists(store, authority, payload["concern_id"]):
            errors.append({"field": "payload.concern_id", "reason": f"{authority} has no concern {payload['concern_id']!r}"})
    if errors:
        raise InvalidEvent("The event refers to events or concerns it cannot apply to.", errors)


def _check_target(store: EventStore, authority: str, event: dict) -> list[dict]:
    target_id = event["payload"]["target_event_id"]
    target = store.get_event(target_id)
    field = "payload.target_event_id"
    if target is None or target.authority != authority:
        return [{"field": field, "reason": f"no event {target_id} in {authority}'s stream"}]
    if target.kind in META_KINDS:
        return [{"field": field, "reason": "corrections and retractions cannot themselves be corrected or retracted"}]
    view = current_view(store, authority, target_id)
    if view.retraction:
        return [{"field": field, "reason": "that event has been retracted"}]
    if event["kind"] == "correction":
        return _check_corrected(view, event["payload"]["changes"])
    return []


def current_view(store: EventStore, authority: str, event_id: str) -> View | None:
    """One event of the stream as now understood (its corrections and retraction applied), or None.

    Only the event and the corrections and retractions naming it are read: the
    same view `resolve` gives over the whole stream, at a cost that does not grow with it.
    """
    target = store.get_event(event_id)
    if target is None or target.authority != authority:
        return None
    return next(v for v in resolve([target, *store.read_amendments(authority, event_id)]) if v.event_id == event_id)


def concern_exists(store: EventStore, authority: str, concern_id: str) -> bool:
    """Whether the stream, as now known, has this concern (open or closed) on any date."""
    event_id, _, number = concern_id.rpartition(":")
    view = current_view(store, authority, event_id) if event_id else None
    return view is not None and view.active and any(str(n) == number for n, _ in concern_items(view))


def _check_corrected(view, changes: dict) -> list[dict]:
    """The corrected event must itself pass every rule a new event of its kind must pass."""
    try:
        corrected = apply_correction(view, changes, {"event_id": "", "recorded_at": "", "reason": ""})
    except ValueError as exc:
        return [{"field": "payload.changes.effective_on", "reason": str(exc)}]
    body = {"kind": view.kind, "schema_version": CURRENT_VERSION[view.kind], "effective_on": corrected.effective.iso,
            "date_precision": corrected.effective.precision, "occurred": corrected.occurred,
            "payload": corrected.payload, "source": corrected.source}
    try:
        validate_new_event(body)
    except InvalidEvent as exc:
        return [dict(e, field=f"payload.changes.{e['field']}") for e in exc.errors]
    return []
