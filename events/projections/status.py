"""Documents the API serves: status, concerns and judgement history of one authority.

Each takes the stream's stored events and answers for a valid date (`as_of`)
and a transaction time (`known_at`): pure functions, no storage.
"""
from __future__ import annotations

from bisect import bisect_left
from datetime import date
from itertools import islice

from events import schedule
from events.frameworks import FRAMEWORKS
from events.projections.fold import Fold, fold, is_inadequate, is_overdue, overall_of
from events.projections.views import View, resolve
from events.schemas import REGIME_MEASURES as REGIME_IN_FORCE
from events.store import Projection, StoredEvent

CONCERN_STATES = ("open", "overdue", "closed", "all")


def state_of(events: list[StoredEvent], as_of: date, known_at: str | None = None) -> Fold:
    """Fold one stream as known at `known_at` up to `as_of`."""
    return fold(resolve(events, known_at), as_of)


def status_document(authority: str, state: Fold, known_at: str | None = None, *, memo: dict | None = None) -> dict:
    """The status of DESIGN §5 on `state.as_of`.

    `memo`, a dict kept by a caller making many documents of one growing fold (projections.by_date),
    lets the parts that depend only on the inspection in force be made once per inspection, and
    the open concerns, expected windows and imprecise dates be carried from one document to the
    next; the documents made with it share those parts, so they must be read, not changed.
    """
    day = state.as_of.isoformat()
    overall, judgements, inspection, inadequate = _inspection_parts(state.inspection, memo)
    open_concerns, due = open_concerns_of(state, memo)
    overdue = bisect_left(due, day)  # is_overdue's rule: the open concerns due before the day
    return {
        "authority": authority,
        "as_of": day,
        "known_at": known_at,
        "overall": overall,
        "judgements": judgements,
        "inspection": inspection,
        "regime": _regime(state),
        "open_concerns": len(open_concerns),
        "overdue_concerns": overdue,
        "last_event": _event_summary(state.included[-1]) if state.included else None,
        "next_expected": _next_expected(state, inadequate, memo),
        "imprecise_dates": _imprecise(state, memo),
        "events_considered": len(state.included),
    }


def open_concerns_of(state: Fold, memo: dict | None = None) -> tuple[list[dict], list[str]]:
    """The concerns open on `state.as_of`, in the order they were opened, and their due days (those that have
    one) in order. Callers only read the lists.

    With a `memo` kept across documents made from one growing fold (projections.by_date),
    only the concerns open last time and those opened since are looked at, not every
    concern the stream ever had: a fold only adds concerns (each id once, never removed)
    and a closed concern never opens again. Every step includes its event, so while
    `state.included` has not grown, nothing has changed and the last answer stands.
    """
    concerns = state.concerns
    if memo is None:
        return _with_due([c for c in concerns.values() if c["state"] == "open"])
    steps = len(state.included)
    seen, answer, of, stepped = memo.get("open", (0, ([], []), None, -1))
    if of is concerns and stepped == steps and seen == len(concerns):
        return answer
    if of is not concerns or seen > len(concerns):  # another fold's concerns (a copy): start again
        seen, answer = 0, ([], [])
    found = [c for c in answer[0] if c["state"] == "open"]
    if seen < len(concerns):
        found += [c for c in islice(concerns.values(), seen, None) if c["state"] == "open"]
    if len(found) != len(answer[0]) or seen != len(concerns):  # else none closed, none opened: the same answer
        answer = _with_due(found)
    memo["open"] = (len(concerns), answer, concerns, steps)  # the dict is kept, so `is` cannot be fooled
    return answer


def _with_due(open_concerns: list[dict]) -> tuple[list[dict], list[str]]:
    return open_concerns, sorted(c["due_on"] for c in open_concerns if c["due_on"] is not None)


def _inspection_parts(view: View | None, memo: dict | None) -> tuple:
    """(overall, judgements in force, inspection summary, inadequate?) of the inspection in force."""
    if view is None:
        return None, [], None, False
    if memo is not None:
        hit = memo.get(id(view))
        if hit is not None and hit[0] is view:  # the view itself is kept, so its id cannot be reused
            return hit[1]
    overall = overall_of(view)
    parts = (overall, _judgements_in_force(view), _inspection_summary(view), is_inadequate(view, overall))
    if memo is not None:
        memo[id(view)] = (view, parts)
    return parts


def _judgements_in_force(view: View | None) -> list[dict]:
    if view is None:
        return []
    framework = FRAMEWORKS[view.payload["framework"]]
    return [{"area": j["area"], "normalised_area": framework.areas.get(j["area"]), "label": j["label"],
             "grade": j["grade"]} for j in view.payload["judgements"]]


def _inspection_summary(view: View | None) -> dict | None:
    if view is None:
        return None
    framework = FRAMEWORKS[view.payload["framework"]]
    return {"event_id": view.event_id, "framework": framework.key, "framework_title": framework.title,
            "type": view.payload.get("type"), "effective_on": view.effective.iso,
            "date_precision": view.effective.precision, "occurred": view.occurred,
            "lead_inspector": view.payload.get("lead_inspector"), "lscb": view.payload.get("lscb"),
            "source": view.source}


def _regime(state: Fold) -> dict:
    if not state.interventions and not state.monitoring:  # most days of most streams: the answer needs no lists
        return {"summary": "none", "monitoring": state.monitoring, "interventions": [], "other_support": []}
    interventions = [i for i in state.interventions.values() if i["measure"] in REGIME_IN_FORCE]
    names = (["monitoring"] if state.monitoring else []) + (["intervention"] if interventions else [])
    return {
        "summary": " and ".join(names) or "none",
        "monitoring": state.monitoring and {**state.monitoring, "last_visit": state.last_monitoring_visit},
        "interventions": interventions,
        "other_support": [i for i in state.interventions.values() if i["measure"] not in REGIME_IN_FORCE],
    }


def _event_summary(view: View) -> dict:
    event, effective = view.event, view.effective  # made for every status entry: each attribute read once
    return {"event_id": event.event_id, "kind": event.kind, "effective_on": effective.iso,
            "date_precision": effective.precision, "title": view.source.get("title")}


def _next_expected(state: Fold, inadequate: bool, memo: dict | None = None) -> list[dict]:
    """The expected windows; with a memo, the last answer again while its inputs and overdue flags stand.

    The windows depend only on the monitoring, last visit and inspection in force (each
    replaced, never changed, by a step) and whether that inspection was inadequate; only
    each window's `overdue` depends on `as_of`.
    """
    if memo is None:
        return _expected_windows(state, inadequate)
    hit = memo.get("expected")
    if hit is None or not _same_inputs(hit[0], state, inadequate):
        expected = _expected_windows(state, inadequate)
        # The inputs are kept with the answer, so `is` cannot be fooled by a reused id.
        memo["expected"] = ((state.monitoring, state.last_monitoring_visit, state.inspection, inadequate), expected)
        return expected
    day = state.as_of.isoformat()  # ISO days sort as the days do
    expected = hit[1]
    for window in expected:
        if window["overdue"] != (day > window["window"]["latest"]):
            expected = [dict(e, overdue=day > e["window"]["latest"]) for e in expected]
            memo["expected"] = (hit[0], expected)
            break
    return expected


def _same_inputs(inputs: tuple, state: Fold, inadequate: bool) -> bool:
    monitoring, last_visit, inspection, was_inadequate = inputs
    return (monitoring is state.monitoring and last_visit is state.last_monitoring_visit
            and inspection is state.inspection and was_inadequate is inadequate)


def _expected_windows(state: Fold, inadequate: bool) -> list[dict]:
    expected = []
    if state.monitoring:
        expected.append(schedule.next_monitoring_visit(state.monitoring, state.last_monitoring_visit, state.as_of))
    if state.inspection:
        expected.append(schedule.next_inspection(
            {"effective_on": state.inspection.effective.iso, "event_id": state.inspection.event_id},
            inadequate, state.as_of))
    # At most two windows: sorted by the latest day, as sorted() would (stable), without its call.
    if len(expected) == 2 and expected[1]["window"]["latest"] < expected[0]["window"]["latest"]:
        expected.reverse()
    return expected


def _imprecise(state: Fold, memo: dict | None = None) -> list[dict]:
    """Events whose imprecise date spans `as_of`: the answer might differ within that span."""
    views = imprecise_views(state, memo)
    if not views:  # most entries: no imprecise date at all
        return []
    as_of = state.as_of
    return [_note_of(v, memo) for v in views
            if v.effective.first < as_of <= v.effective.last]  # contains(as_of) but not its first day


def _note_of(view: View, memo: dict | None) -> dict:
    """imprecise_note(view); with a memo, made once per view (documents made with it share the note)."""
    if memo is None:
        return imprecise_note(view)
    notes = memo.setdefault("notes", {})
    hit = notes.get(id(view))
    if hit is None or hit[0] is not view:  # the view is kept with its note, so its id cannot be reused
        hit = notes[id(view)] = (view, imprecise_note(view))
    return hit[1]


def imprecise_spans(state: Fold, memo: dict | None = None) -> list[dict]:
    """Each imprecise event included, as a status entry keeps it: its first and last days and its note.

    With a memo, the same list while imprecise_views gives the same list (entries share it).
    """
    views = imprecise_views(state, memo)
    if memo is None:
        return [_span_of(v, None) for v in views]
    hit = memo.get("spans")
    if hit is None or hit[0] is not views:  # the views list is kept, so `is` cannot be fooled by a reused id
        hit = memo["spans"] = (views, [_span_of(v, memo) for v in views])
    return hit[1]


def _span_of(view: View, memo: dict | None) -> dict:
    return {"first": view.effective.first.isoformat(), "last": view.effective.last.isoformat(),
            "item": _note_of(view, memo)}


def imprecise_views(state: Fold, memo: dict | None = None) -> list[View]:
    """The included events whose dates are imprecise, in order.

    With a `memo` kept across documents made from one growing fold (projections.by_date),
    only the events included since the last call are looked at.
    """
    included = state.included
    if memo is None:
        return [v for v in included if v.effective.imprecise]
    seen, found, of = memo.get("imprecise", (0, [], None))
    if of is included and seen == len(included):  # nothing included since: the same list (callers only read it)
        return found
    if of is not included or seen > len(included):
        seen, found = 0, []
    new = [v for v in included[seen:] if v.effective.imprecise]
    if new:  # a new list, not an extended one: a caller may still hold the last answer
        found = found + new
    memo["imprecise"] = (len(included), found, included)
    return found


def imprecise_note(view: View) -> dict:
    """How a status lists an event whose imprecise date spans its `as_of`."""
    return {"event_id": view.event_id, "kind": view.kind, "effective_on": view.effective.iso,
            "date_precision": view.effective.precision,
            "note": f"as_of falls within this {view.effective.precision}; the event is counted from its first day"}


def concern_list(state: Fold, which: str = "all") -> list[dict]:
    """Concerns on `state.as_of`, filtered to open, overdue, closed or all; each with its state that day."""
    out = []
    for concern in state.concerns.values():
        overdue = is_overdue(concern, state.as_of)
        row = dict(concern, overdue=overdue)
        if which == "all" or (which == "open" and concern["state"] == "open") or (which == "overdue" and overdue) \
                or (which == "closed" and concern["state"] != "open"):
            out.append(row)
    return out


def judgement_history(state: Fold, area: str | None = None) -> list[dict]:
    """Every judgement up to `state.as_of`, optionally one area (raw or normalised)."""
    return [j for j in state.judgements if area is None or area in (j["area"], j["normalised_area"])]


def projection_of(authority: str, events: list[StoredEvent], today: date) -> Projection:
    """What is stored for an authority: its state today, from everything known (made whole; after appends,
    projections.incremental makes only what they can change)."""
    # Imported here: by_date builds on this module's documents.
    from events.projections.by_date import status_by_date

    views = resolve(events)
    rows = status_by_date(authority, views)
    return stored_projection(authority, events, rows.state_on(today) or fold(views, today), rows.rows)


def stored_projection(authority: str, events: list[StoredEvent], state: Fold,
                      status_rows: list[tuple[str, bytes]], status_rows_from: str | None = None) -> Projection:
    """The stored projection from the stream's state today and its status-by-date rows (all, or those from a day)."""
    doc = status_document(authority, state)
    overall = doc["overall"] or {}
    return Projection(
        status={
            "stream_version": max((e.version for e in events), default=0),
            "last_position": max((e.position for e in events), default=0),
            "last_effective_on": state.included[-1].effective.iso if state.included else None,
            "overall_grade": overall.get("grade"),
            "overall_label": overall.get("label"),
            "framework": overall.get("framework"),
            "inspection_effective_on": overall.get("effective_on"),
            "regime": doc["regime"]["summary"],
            "status": doc,
        },
        concerns=[_concern_row(c) for c in state.concerns.values()],
        judgements=[{k: j[k] for k in ("event_id", "effective_on", "framework", "area", "normalised_area", "label", "grade")}
                    for j in state.judgements],
        status_by_date=status_rows,
        status_by_date_from=status_rows_from,
    )


def _concern_row(concern: dict) -> dict:
    return {"concern_id": concern["concern_id"], "event_id": concern["source"]["event_id"],
            "kind": concern["source"]["kind"], "text": concern["text"], "section": concern["section"],
            "timescale": concern["timescale"], "opened_on": concern["opened_on"], "due_on": concern["due_on"],
            "state": concern["state"], "closed_on": concern["closed_on"],
            "closed_by_event_id": (concern["closed_by"] or {}).get("event_id")}

