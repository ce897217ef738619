"""An event in a sentence or two, for people: feed entry titles and summaries."""
from __future__ import annotations

from events.frameworks import FRAMEWORKS
from events.store import StoredEvent

KIND_NAMES = {
    "inspection": "Inspection",
    "monitoring_visit": "Monitoring visit",
    "focused_visit": "Focused visit",
    "ungraded_inspection": "Ungraded inspection",
    "diagnostic": "Diagnostic",
    "committee_response": "Committee response",
    "intervention": "Intervention",
    "concern_update": "Concern update",
    "correction": "Correction",
    "retraction": "Retraction",
}
DIRECTIONS = {"progress": "progress", "no_progress": "no progress", "new_concern": "new concern"}


def headline(event: StoredEvent, authority_name: str) -> str:
    """'Manchester: Inspection (sif-2013), 2014-09-01: Inadequate'-style title."""
    p = event.payload
    what = KIND_NAMES.get(event.kind, event.kind)
    if event.kind == "inspection":
        what += f" ({p.get('framework')})"
        overall = _overall_label(p)
        return f"{authority_name}: {what}, {event.effective_on}" + (f": {overall}" if overall else "")
    if event.kind == "monitoring_visit":
        what += f" {p.get('ordinal')}"
    elif event.kind == "intervention":
        what += f": {p.get('measure', '').replace('_', ' ')} {p.get('action', '')}".rstrip()
    elif event.kind in ("focused_visit", "diagnostic", "ungraded_inspection", "committee_response"):
        detail = p.get("topic") or p.get("title")
        what += f": {detail}" if detail else ""
    return f"{authority_name}: {what}, {event.effective_on}"


def summary(event: StoredEvent) -> str:
    """What the event says, in plain text, ending with its source."""
    p = event.payload
    parts: list[str] = []
    if event.kind == "inspection":
        framework = FRAMEWORKS.get(p.get("framework"))
        parts.append(f"{framework.title if framework else p.get('framework')}: published {event.effective_on}.")
        parts.append("Judgements: " + "; ".join(f"{j['area'].replace('_', ' ')}: {j['label']}"
                                                 for j in p.get("judgements", [])) + ".")
        count = len(p.get("recommendations", [])) + len(p.get("areas_for_improvement", []))
        if count:
            parts.append(f"{count} recommendation{'s' if count > 1 else ''} or area{'s' if count > 1 else ''} for improvement.")
    elif event.kind in ("monitoring_visit", "focused_visit"):
        parts.extend(f"{DIRECTIONS.get(f['direction'], f['direction']).capitalize()}: {f['text']}"
                     for f in p.get("findings", [])[:5])
    elif event.kind in ("correction", "retraction"):
        parts.append(f"{KIND_NAMES[event.kind]} of event {p.get('target_event_id')}: {p.get('reason')}")
    elif event.kind == "intervention":
        parts.append(p.get("summary", ""))
    elif event.kind == "concern_update":
        parts.append(f"Concern {p.get('concern_id')}: {p.get('state')}. {p.get('evidence', '')}")
    elif event.kind in ("diagnostic", "ungraded_inspection", "committee_response"):
        parts.append(p.get("outcome") or p.get("title") or "")
    source = event.source.get("title")
    if source:
        parts.append(f"Source: {source}" + (f", page {event.source['page']}" if event.source.get("page") else "") + ".")
    return " ".join(part for part in parts if part)


def _overall_label(payload: dict) -> str | None:
    framework = FRAMEWORKS.get(payload.get("framework"))
    if framework is None or not framework.judges_overall:
        return None
    by_area = {j["area"]: j for j in payload.get("judgements", [])}
    parts = [by_area[a] for a in framework.overall_areas if a in by_area]
    return max(parts, key=lambda j: j["grade"])["label"] if parts else None
