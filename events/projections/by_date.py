"""Status answers stored by date, so `status?as_of=` need not replay the stream.

Between two dates on which events take effect, the fold's status document
changes only in the parts that are read against `as_of` itself: the date, which
open concerns are overdue, whether each expected window has passed, and which
imprecise dates span it. So for each such date we store the document with
those parts kept as their inputs (due dates, windows, date spans), and finish
it for the requested day (`finish`) with the same rules `status_document` uses.
The answer is the fold's, for current knowledge; `known_at` questions still fold.
"""
from __future__ import annotations

import json
import zlib
from bisect import bisect_left
from datetime import date

from events.projections.fold import Fold, step
from events.projections.status import imprecise_note, status_document
from events.projections.views import View

BEFORE_ANY = date.min


def status_by_date(authority: str, views: list[View]) -> list[tuple[str, bytes]]:
    """(first day, stored entry) for the empty stream and each day on which events take effect."""
    state = Fold(as_of=BEFORE_ANY)
    out = [(BEFORE_ANY.isoformat(), _entry(authority, state))]
    active = [v for v in views if v.active]
    index = 0
    while index < len(active):
        day = active[index].effective.first
        while index < len(active) and active[index].effective.first == day:
            step(state, active[index])
            index += 1
        state.as_of = day
        out.append((day.isoformat(), _entry(authority, state)))
    return out


def _entry(authority: str, state: Fold) -> bytes:
    doc = status_document(authority, state)
    due = sorted(c["due_on"] for c in state.concerns.values() if c["state"] == "open" and c["due_on"] is not None)
    imprecise = [{"first": v.effective.first.isoformat(), "last": v.effective.last.isoformat(),
                  "item": imprecise_note(v)} for v in state.included if v.effective.imprecise]
    return zlib.compress(json.dumps({"doc": doc, "due": due, "imprecise": imprecise},
                                    separators=(",", ":")).encode(), 1)


def finish(stored: bytes, as_of: date) -> dict:
    """The status document on `as_of` from the entry stored for the last event date on or before it."""
    entry = json.loads(zlib.decompress(stored))
    doc, day = entry["doc"], as_of.isoformat()
    doc["as_of"] = day
    doc["overdue_concerns"] = bisect_left(entry["due"], day)
    for expected in doc["next_expected"]:
        expected["overdue"] = day > expected["window"]["latest"]
    doc["imprecise_dates"] = [i["item"] for i in entry["imprecise"] if i["first"] < day <= i["last"]]
    return doc
