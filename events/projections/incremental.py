"""A stream's stored projection brought up to date after appends, without remaking what they cannot change.

`projection_of` remakes everything: the status today, and a status entry for
every day on which events take effect, each serialised and compressed. After an
append only the entries from the first day the new events touch can differ
(an event counts from its effective date on; a correction or retraction from
the earlier of the day it moves its target from and to), so those rows, and
the status today, are all that are made again. The answer is identical to
`projection_of`'s: tests/test_incremental_projection.py checks it on random
streams with back-filled events, corrections and retractions.
"""
from __future__ import annotations

from datetime import date

from events.projections.by_date import status_rows_from
from events.projections.fold import fold
from events.projections.status import projection_of, stored_projection
from events.projections.views import META_KINDS, View, resolve
from events.store import Projection, StoredEvent


class StreamProjector:
    """The projector of one authority's stream as of `today`.

    Called with the stream's events it makes the whole projection (a `Projector`).
    `since(events, version)` makes only what the events after `version` can have
    changed, given that the stored projection was made from the events up to it.
    """

    def __init__(self, authority: str, today: date):
        self.authority = authority
        self.today = today

    def __call__(self, events: list[StoredEvent]) -> Projection:
        """The whole projection, as `projection_of` makes it."""
        return projection_of(self.authority, events, self.today)

    def since(self, events: list[StoredEvent], version: int) -> Projection:
        """The projection with only the status-by-date rows that events after `version` can have changed."""
        views = resolve(events)
        changed = first_changed_day(events, views, version)
        if changed is None:  # nothing new: every stored entry stands, but the status today is remade
            changed = date.max
        cutoff, rows, state = status_rows_from(self.authority, views, changed)
        if state.included and state.included[-1].effective.first > self.today:
            state = fold(views, self.today)  # events dated after today: today's state is an earlier one
        else:
            state.as_of = self.today
        return stored_projection(self.authority, events, state, rows, cutoff)


def first_changed_day(events: list[StoredEvent], views: list[View], version: int) -> date | None:
    """The first day whose status entry the events after `version` can change, or None if there are none.

    A new event changes entries from its effective date; a new correction or
    retraction from the earlier of its target's date before it and after it.
    """
    new = [e for e in events if e.version > version]
    if not new:
        return None
    now = {v.event_id: v.effective.first for v in views}
    touched = {e.event_id for e in new if e.kind not in META_KINDS}
    amended = {e.payload.get("target_event_id") for e in new if e.kind in META_KINDS}
    days = [now[i] for i in touched | amended if i in now]
    if amended:
        before = {v.event_id: v.effective.first for v in resolve([e for e in events if e.version <= version])}
        days += [before[i] for i in amended if i in before]
    return min(days, default=None)
