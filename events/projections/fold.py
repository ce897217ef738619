"""Folding one authority's events, in valid-time order, into its state on a date.

`fold` is the single walk every projection shares: the grades in force, the
regime, every concern with its life, every judgement over time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from events.dates import add_months
from events.frameworks import FRAMEWORKS
from events.projections.views import View

TIMESCALE_MONTHS = {"immediately": 0, "three_months": 3, "six_months": 6}
# Which payload list of which kind opens concerns (DESIGN §5).
CONCERN_SOURCES = {
    "inspection": "recommendations",
    "focused_visit": "priority_actions",
    "ungraded_inspection": "areas_for_improvement",
    "diagnostic": "areas_for_development",
}


@dataclass
class Fold:
    """The state reached after walking the events effective on or before `as_of`."""

    as_of: date
    included: list[View] = field(default_factory=list)
    inspection: View | None = None
    monitoring: dict | None = None
    last_monitoring_visit: dict | None = None
    interventions: dict[str, dict] = field(default_factory=dict)
    concerns: dict[str, dict] = field(default_factory=dict)
    judgements: list[dict] = field(default_factory=list)


def fold(views: list[View], as_of: date) -> Fold:
    """Walk the active events effective by `as_of` (views already in valid-time order)."""
    state = Fold(as_of=as_of)
    for view in views:
        if not view.active or view.effective.first > as_of:
            continue
        step(state, view)
    return state


def step(state: Fold, view: View) -> None:
    """Apply one active event to the state (the fold's single step)."""
    state.included.append(view)
    kind = view.kind
    handler = _HANDLERS.get(kind)
    if handler:
        handler(state, view)
    if kind in _OPENING_KINDS:  # the other kinds open no concerns: skip concern_items' empty answer
        _open_concerns(state, view)


def _on_inspection(state: Fold, view: View) -> None:
    # A new graded inspection supersedes everything still open before it.
    closed_by = None
    for concern in state.concerns.values():
        if concern["state"] == "open":
            if closed_by is None:
                closed_by = _closing(view)
            _close(concern, closed_by, "superseded")
    state.inspection = view
    overall = overall_of(view)  # once, for both the derived judgement row and the regime
    state.judgements.extend(_judgement_rows(view, overall))
    if is_inadequate(view, overall):
        if state.monitoring is None:
            state.monitoring = {"since": view.effective.iso, "event_id": view.event_id}
            state.last_monitoring_visit = None
    else:
        state.monitoring = None
        state.last_monitoring_visit = None


def _on_monitoring_visit(state: Fold, view: View) -> None:
    if state.monitoring is not None:
        state.last_monitoring_visit = {"event_id": view.event_id, "visited": view.occurred["end"],
                                       "ordinal": view.payload["ordinal"]}


def _on_intervention(state: Fold, view: View) -> None:
    measure = view.payload["measure"]
    if view.payload["action"] == "lifted":
        state.interventions.pop(measure, None)
    else:
        state.interventions[measure] = {"measure": measure, "since": view.effective.iso, "event_id": view.event_id,
                                        "action": view.payload["action"], "summary": view.payload["summary"]}


def _on_concern_update(state: Fold, view: View) -> None:
    concern = state.concerns.get(view.payload["concern_id"])
    if concern is None or concern["state"] != "open":
        return
    concern["updates"].append({"event_id": view.event_id, "effective_on": view.effective.iso,
                               "state": view.payload["state"], "evidence": view.payload["evidence"]})
    if view.payload["state"] == "resolved":
        _close(concern, _closing(view), "resolved")


_HANDLERS = {
    "inspection": _on_inspection,
    "monitoring_visit": _on_monitoring_visit,
    "intervention": _on_intervention,
    "concern_update": _on_concern_update,
}


_OPENING_KINDS = frozenset(CONCERN_SOURCES) | {"monitoring_visit"}  # the kinds concern_items reads


def _open_concerns(state: Fold, view: View) -> None:
    items = concern_items(view)
    if not items:
        return
    # What every concern of the event shares, read off the view once rather than per concern.
    effective = view.effective
    opened = (view.event_id, effective.iso, effective.first, effective.precision,
              {"event_id": view.event_id, "kind": view.kind, "effective_on": effective.iso})
    for index, item in items:
        _add_concern(state, opened, index, item)


def concern_items(view: View) -> list[tuple[int, dict]]:
    """The concerns an event opens, each with its number (the concern id is `<event_id>:<number>`)."""
    kind = view.kind
    if kind == "monitoring_visit":
        return [(index, {"text": finding["text"]}) for index, finding in enumerate(view.payload["findings"], 1)
                if finding["direction"] == "new_concern"]
    list_name = CONCERN_SOURCES.get(kind)
    return list(enumerate(view.payload.get(list_name, []), 1)) if list_name else []


def _add_concern(state: Fold, opened: tuple, index: int, item: dict) -> None:
    """Open one concern; `opened` is (event id, effective ISO date, its first day, its precision, source)."""
    event_id, opened_on, first, precision, source = opened
    timescale = item.get("timescale")
    due_on = _due_on(first, timescale) if timescale else None
    concern_id = f"{event_id}:{index}"
    state.concerns[concern_id] = {
        "concern_id": concern_id,
        "text": item["text"],
        "section": item.get("section"),
        "timescale": timescale,
        "opened_on": opened_on,
        "due_on": due_on,
        "due_precision": precision if due_on else None,
        # One dict for all the event's concerns: nothing changes a concern's source once it is open.
        "source": source,
        "state": "open",
        "closed_on": None,
        "closed_by": None,
        "updates": [],
    }


# Concerns of one date and timescale recur across streams and entries; the answer is a string.
@lru_cache(maxsize=8192)
def _due_on(first: date, timescale: str) -> str:
    """The ISO day a concern opened on `first` with `timescale` is due."""
    return add_months(first, TIMESCALE_MONTHS[timescale]).isoformat()


def _closing(view: View) -> dict:
    """What a concern closed by `view` records of it (`closed_by`)."""
    return {"event_id": view.event_id, "kind": view.kind, "effective_on": view.effective.iso}


def _close(concern: dict, closed_by: dict, how: str) -> None:
    concern["state"] = how
    concern["closed_on"] = closed_by["effective_on"]
    # Shared by the concerns one event closes, as `source` is: read, never changed.
    concern["closed_by"] = closed_by


def is_overdue(concern: dict, as_of: date) -> bool:
    """Open on `as_of` with a due date before it."""
    return concern["state"] == "open" and concern["due_on"] is not None and concern["due_on"] < as_of.isoformat()


def overall_of(view: View) -> dict:
    """The overall judgement of an inspection, as DESIGN §4 defines it for each framework."""
    framework = FRAMEWORKS[view.payload["framework"]]
    base = {"framework": framework.key, "effective_on": view.effective.iso,
            "date_precision": view.effective.precision, "event_id": view.event_id}
    if not framework.judges_overall:
        return {**base, "judged": False, "grade": None, "label": "not judged",
                "note": f"{framework.key} makes no overall effectiveness judgement"}
    by_area = {j["area"]: j for j in view.payload["judgements"]}
    parts = [by_area[a] for a in framework.overall_areas if a in by_area]
    if not parts:
        return {**base, "judged": True, "grade": None, "label": None, "note": "the report's overall judgement was not recorded"}
    worst = max(parts, key=lambda j: j["grade"])
    overall = {**base, "judged": True, "grade": worst["grade"], "label": worst["label"]}
    if len(framework.overall_areas) > 1:
        overall["basis"] = "worse of " + " and ".join(f"{j['area']} ({j['label']}, grade {j['grade']})" for j in parts)
        overall["components"] = parts
    return overall


def is_inadequate(view: View, overall: dict | None = None) -> bool:
    """Whether an inspection puts an authority under monitoring (`overall`: its overall_of, if already made).

    Inadequate overall; under ilacs-2026, which has no overall judgement, any
    inadequate judgement (our reading of the framework: see README).
    """
    if overall is None:
        overall = overall_of(view)
    if overall["judged"]:
        return overall["grade"] == 4
    return any(j["grade"] == 4 for j in view.payload["judgements"])


def judgement_rows(view: View) -> list[dict]:
    """One row per judgement, with the normalised area a chart line follows; plus the derived overall."""
    return _judgement_rows(view, None)


def _judgement_rows(view: View, overall: dict | None) -> list[dict]:
    """judgement_rows, given the inspection's overall judgement if it is already known."""
    framework = FRAMEWORKS[view.payload["framework"]]
    base = {"event_id": view.event_id, "effective_on": view.effective.iso, "date_precision": view.effective.precision,
            "framework": framework.key, "type": view.payload.get("type")}
    rows = [{**base, "area": j["area"], "normalised_area": framework.areas.get(j["area"]), "label": j["label"],
             "grade": j["grade"], "derived": False} for j in view.payload["judgements"]]
    if any(r["normalised_area"] == "overall" for r in rows):
        return rows
    if overall is None:
        overall = overall_of(view)
    derived = {**base, "area": "overall", "normalised_area": "overall", "label": overall["label"],
               "grade": overall["grade"], "derived": True,
               "note": overall.get("basis") or overall.get("note")}
    return rows + [derived] if overall["judged"] is False or overall["grade"] else rows
