"""Folding one authority's events, in valid-time order, into its state on a date.

`fold` is the single walk every projection shares: the grades in force, the
regime, every concern with its life, every judgement over time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

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
    handler = _HANDLERS.get(view.kind)
    if handler:
        handler(state, view)
    _open_concerns(state, view)


def _on_inspection(state: Fold, view: View) -> None:
    # A new graded inspection supersedes everything still open before it.
    for concern in state.concerns.values():
        if concern["state"] == "open":
            _close(concern, view, "superseded")
    state.inspection = view
    state.judgements.extend(judgement_rows(view))
    if is_inadequate(view):
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
        _close(concern, view, "resolved")


_HANDLERS = {
    "inspection": _on_inspection,
    "monitoring_visit": _on_monitoring_visit,
    "intervention": _on_intervention,
    "concern_update": _on_concern_update,
}


def _open_concerns(state: Fold, view: View) -> None:
    for index, item in concern_items(view):
        _add_concern(state, view, index, item)


def concern_items(view: View) -> list[tuple[int, dict]]:
    """The concerns an event opens, each with its number (the concern id is `<event_id>:<number>`)."""
    if view.kind == "monitoring_visit":
        return [(index, {"text": finding["text"]}) for index, finding in enumerate(view.payload["findings"], 1)
                if finding["direction"] == "new_concern"]
    list_name = CONCERN_SOURCES.get(view.kind)
    return list(enumerate(view.payload.get(list_name, []), 1)) if list_name else []


def _add_concern(state: Fold, view: View, index: int, item: dict) -> None:
    timescale = item.get("timescale")
    due = add_months(view.effective.first, TIMESCALE_MONTHS[timescale]) if timescale else None
    concern_id = f"{view.event_id}:{index}"
    state.concerns[concern_id] = {
        "concern_id": concern_id,
        "text": item["text"],
        "section": item.get("section"),
        "timescale": timescale,
        "opened_on": view.effective.iso,
        "due_on": due.isoformat() if due else None,
        "due_precision": view.effective.precision if due else None,
        "source": {"event_id": view.event_id, "kind": view.kind, "effective_on": view.effective.iso},
        "state": "open",
        "closed_on": None,
        "closed_by": None,
        "updates": [],
    }


def _close(concern: dict, view: View, how: str) -> None:
    concern["state"] = how
    concern["closed_on"] = view.effective.iso
    concern["closed_by"] = {"event_id": view.event_id, "kind": view.kind, "effective_on": view.effective.iso}


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


def is_inadequate(view: View) -> bool:
    """Whether an inspection puts an authority under monitoring.

    Inadequate overall; under ilacs-2026, which has no overall judgement, any
    inadequate judgement (our reading of the framework: see README).
    """
    overall = overall_of(view)
    if overall["judged"]:
        return overall["grade"] == 4
    return any(j["grade"] == 4 for j in view.payload["judgements"])


def judgement_rows(view: View) -> list[dict]:
    """One row per judgement, with the normalised area a chart line follows; plus the derived overall."""
    framework = FRAMEWORKS[view.payload["framework"]]
    base = {"event_id": view.event_id, "effective_on": view.effective.iso, "date_precision": view.effective.precision,
            "framework": framework.key, "type": view.payload.get("type")}
    rows = [{**base, "area": j["area"], "normalised_area": framework.areas.get(j["area"]), "label": j["label"],
             "grade": j["grade"], "derived": False} for j in view.payload["judgements"]]
    if any(r["normalised_area"] == "overall" for r in rows):
        return rows
    overall = overall_of(view)
    derived = {**base, "area": "overall", "normalised_area": "overall", "label": overall["label"],
               "grade": overall["grade"], "derived": True,
               "note": overall.get("basis") or overall.get("note")}
    return rows + [derived] if overall["judged"] is False or overall["grade"] else rows
