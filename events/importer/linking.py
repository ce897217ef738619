"""Linking a drafted committee report to the events it responds to, from the authority's stream.

A document cannot know event ids, but a committee report that quotes an Ofsted
judgement table names its inspection as surely as a title would: the latest
inspection effective by the meeting whose judgements include every quoted one
(area and grade) is the one the report discusses. Anything less certain stays
missing, for a person to link.
"""
from __future__ import annotations

from events.importer.draft import Draft
from events.projections.views import resolve
from events.store import StoredEvent


def link_responses(draft: Draft, stream: list[StoredEvent]) -> None:
    """Fill payload.responds_to of a committee_response draft from its quoted judgements, when one inspection fits."""
    payload = draft.event.get("payload", {})
    quoted = {(j["area"], j["grade"]) for j in payload.get("quoted_judgements", [])}
    meeting = draft.event.get("effective_on")
    if draft.event.get("kind") != "committee_response" or not quoted or not meeting or payload.get("responds_to"):
        return
    candidates = [view for view in resolve(stream)
                  if view.retraction is None and view.event.kind == "inspection" and view.effective.first.isoformat() <= meeting
                  and quoted <= {(j["area"], j["grade"]) for j in view.payload.get("judgements", [])}]
    if not candidates:
        return
    inspection = candidates[-1]  # resolve() sorts by valid time: the latest before the meeting
    draft.set("payload.responds_to", [inspection.event.event_id],
              note=f"the quoted judgement table matches every judgement of inspection {inspection.event.event_id} "
                   f"({inspection.payload.get('framework')}, published {inspection.effective.iso}), the latest "
                   f"inspection before the meeting that does")
    draft.missing.pop("payload.responds_to", None)
