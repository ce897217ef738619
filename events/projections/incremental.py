"""A stream's stored projection brought up to date after appends, without remaking what they cannot change.

`projection_of` remakes everything: the status today, and a status entry for
every day on which events take effect, each serialised and compressed. After an
append only the entries from the first day the new events touch can differ
(an event counts from its effective date on; a correction or retraction from
the earlier of the day it moves its target from and to), so those rows, and
the status today, are all that are made again; and the entries of the first
of those rows for days before that day are taken from the stored row. The answer is identical to
`projection_of`'s: tests/test_incremental_projection.py checks it on random
streams with back-filled events, corrections and retractions.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from events.projections.by_date import first_changed_day, status_rows_from
from events.projections.fold import fold
from events.projections.status import projection_of, stored_projection
from events.projections.views import resolve
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

    def since(self, events: list[StoredEvent], version: int,
              stored_row: Callable[[str], bytes | None] | None = None) -> Projection:
        """The projection with only the status-by-date rows that events after `version` can have changed.

        `stored_row(day)`: the stored status row starting on `day`, whose unchanged entries are kept.
        """
        views = resolve(events)
        changed = first_changed_day(events, views, version)
        rows = status_rows_from(self.authority, views, date.max if changed is None else changed, stored_row)
        state = rows.state_on(self.today) or fold(views, self.today)
        return stored_projection(self.authority, events, state, rows.rows, rows.cutoff)
