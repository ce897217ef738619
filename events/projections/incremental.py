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

from dataclasses import replace
from datetime import date

from events.projections.by_date import Tail, first_changed_day, status_rows_from
from events.projections.fold import Fold, fold
from events.projections.status import projection_of, stored_projection
from events.projections.views import META_KINDS, resolve, view_of
from events.store import Projection, StoredEvent


class StreamProjector:
    """The projector of one authority's stream as of `today`.

    Called with the stream's events it makes the whole projection (a `Projector`).
    `since(events, version)` makes only what the events after `version` can have
    changed, given that the stored projection was made from the events up to it;
    `extend(tail, event)` does the same for one event from what `since` or
    `extend` left in `self.tail` for the stream before it, without reading the
    stream at all, when the event is dated on or after the stream's last day.
    """

    def __init__(self, authority: str, today: date):
        self.authority = authority
        self.today = today
        self.tail: Tail | None = None  # what the last `since` or `extend` left, for the next append to extend

    def __call__(self, events: list[StoredEvent]) -> Projection:
        """The whole projection, as `projection_of` makes it."""
        return projection_of(self.authority, events, self.today)

    def since(self, events: list[StoredEvent], version: int) -> Projection:
        """The projection with only the status-by-date rows that events after `version` can have changed."""
        views = resolve(events)
        changed = first_changed_day(events, views, version)
        self.tail = status_rows_from(self.authority, views, date.max if changed is None else changed)
        state = self._today(self.tail) or fold(views, self.today)
        return stored_projection(self.authority, events, state, self.tail.rows, self.tail.cutoff)

    def extend(self, tail: Tail, event: StoredEvent) -> Projection | None:
        """The projection after `event`, from the stream's tail before it; None when that cannot be done.

        Only an event that is not a correction or retraction, dated no earlier
        than the tail's `first_extendable_day`, with no event dated after today, is taken.
        """
        if event.kind in META_KINDS:
            return None
        view = view_of(event)
        if view.effective.first < tail.first_extendable_day:
            return None
        extended = tail.extended(self.authority, view)
        state = self._today(extended)
        if state is None:
            return None
        self.tail = extended
        return stored_projection(self.authority, [event], state, extended.rows, extended.cutoff)

    def _today(self, tail: Tail) -> Fold | None:
        """The state today from a tail's final state, or None if events are dated after today."""
        if tail.days[-1] > self.today:
            return None
        return replace(tail.state, as_of=self.today)  # status_document reads a state, never changes it
