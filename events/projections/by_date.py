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
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass
from datetime import date

from events.projections.fold import Fold, step
from events.projections.status import imprecise_note, status_document
from events.projections.views import View

BEFORE_ANY = date.min
CHUNK = 8  # entries per stored row


def status_by_date(authority: str, views: list[View]) -> list[tuple[str, bytes]]:
    """Stored rows (first day, chunk): the entries for the empty stream and each day on which events take effect.

    Entries go CHUNK consecutive days to a row and are compressed together: each
    differs little from the one before, so a chunk costs little more than one entry.
    """
    state = Fold(as_of=BEFORE_ANY)
    days, entries = [BEFORE_ANY.isoformat()], [_entry(authority, state)]
    active = [v for v in views if v.active]
    index = 0
    while index < len(active):
        day = active[index].effective.first
        while index < len(active) and active[index].effective.first == day:
            step(state, active[index])
            index += 1
        state.as_of = day
        days.append(day.isoformat())
        entries.append(_entry(authority, state))
    return [(days[i], _chunk(days[i:i + CHUNK], entries[i:i + CHUNK])) for i in range(0, len(days), CHUNK)]


def _chunk(days: list[str], entries: list[dict]) -> bytes:
    # One JSON document a line (the days, then each entry), so a read decodes only the entry it needs.
    lines = [json.dumps(days, separators=(",", ":"))] + [json.dumps(e, separators=(",", ":")) for e in entries]
    return zlib.compress("\n".join(lines).encode(), 6)


def _entry(authority: str, state: Fold) -> dict:
    doc = status_document(authority, state)
    due = sorted(c["due_on"] for c in state.concerns.values() if c["state"] == "open" and c["due_on"] is not None)
    imprecise = [{"first": v.effective.first.isoformat(), "last": v.effective.last.isoformat(),
                  "item": imprecise_note(v)} for v in state.included if v.effective.imprecise]
    return {"doc": doc, "due": due, "imprecise": imprecise}


def finish(stored: bytes, as_of: date) -> dict:
    """The status document on `as_of` from the stored chunk holding the last event date on or before it."""
    lines = zlib.decompress(stored).split(b"\n")
    day = as_of.isoformat()
    entry = json.loads(lines[bisect_right(json.loads(lines[0]), day)])
    doc = entry["doc"]
    doc["as_of"] = day
    doc["overdue_concerns"] = bisect_left(entry["due"], day)
    for expected in doc["next_expected"]:
        expected["overdue"] = day > expected["window"]["latest"]
    doc["imprecise_dates"] = [i["item"] for i in entry["imprecise"] if i["first"] < day <= i["last"]]
    return doc


@dataclass
class Tail:
    """A stream's status-by-date rows from some day on, and what a later append needs to extend them.

    `state` is the fold over every active event (as of the last day), `active`
    those events in valid-time order, `days` every entry's day ([BEFORE_ANY, ...]),
    and `snapshot` the fold just before the second-to-last chunk's first day
    (day number, state, how many active events it holds) with `lines`, the
    serialised entries from that day on: an append dated on or after that day is
    folded from there, without walking the whole stream, and the entries before
    its date are reused. `hot` is the fold just after the day the last append
    took effect (day, state, how many active events it holds): another event on
    that day is folded from there (several events of one day are often added together).
    """

    cutoff: str  # stored rows from this day on are replaced by `rows`
    rows: list[tuple[str, bytes]]
    state: Fold
    active: list[View]
    days: list[date]
    snapshot: tuple[int, Fold, int]
    lines: list[str]
    hot: tuple[date, Fold, int] | None = None

    @property
    def first_extendable_day(self) -> date:
        """The earliest effective day of an event `extended` can take."""
        return self.days[self.snapshot[0]]

    def extended(self, authority: str, view: View) -> "Tail":
        """The tail after one more active event, effective on or after `first_extendable_day` (the caller checks)."""
        number, state, index = self.snapshot
        day = view.effective.first
        active = list(self.active)
        insort(active, view, key=View.sort_key)
        days = list(self.days)
        if day not in days:
            insort(days, day)
        at = bisect_left(days, day)
        if self.hot is not None and self.hot[0] == day and _snapshot_at(days) == number:
            # From just after the day's earlier events; the snapshot and the entries before the chunk stand.
            start = at // CHUNK * CHUNK
            tail = _walk(authority, active, days, at, copy_fold(self.hot[1]), self.hot[2], start,
                         self.lines[start - number:at - number], hot_day=day)
            tail.snapshot, tail.lines = self.snapshot, self.lines[:start - number] + tail.lines
            return tail
        return _walk(authority, active, days, number, copy_fold(state), index, number, self.lines[:at - number],
                     hot_day=day)


def copy_fold(state: Fold) -> Fold:
    """A copy a step may change without changing `state` (steps replace or extend what they touch, but concerns
    are changed in place)."""
    return Fold(as_of=state.as_of, included=list(state.included), inspection=state.inspection,
                monitoring=state.monitoring, last_monitoring_visit=state.last_monitoring_visit,
                interventions=dict(state.interventions),
                concerns={k: dict(c, updates=list(c["updates"])) for k, c in state.concerns.items()},
                judgements=list(state.judgements))


def _line(entry: dict) -> str:
    return json.dumps(entry, separators=(",", ":"))


def _chunk_lines(days: list[str], lines: list[str]) -> bytes:
    """A chunk as `_chunk` makes it, from entries already serialised."""
    return zlib.compress("\n".join([json.dumps(days, separators=(",", ":")), *lines]).encode(), 6)


def status_rows_from(authority: str, views: list[View], since: date) -> Tail:
    """The stored rows that can differ once entries from `since` on have changed, the last two chunks always among them.

    Entries before `since` depend only on events effective before it, so they
    stand; the chunk holding the first day on or after `since` and every later
    one are made again. Stored rows from `cutoff` on are replaced by `rows`
    (the chunks before `cutoff` are the same whichever way they were made).
    """
    active = [v for v in views if v.active]
    days = [BEFORE_ANY]
    for view in active:
        if view.effective.first != days[-1]:
            days.append(view.effective.first)
    unchanged = bisect_left(days, since, lo=1)  # days before `since`, BEFORE_ANY included
    # From the second-to-last chunk at the latest: its entries are what the next append can reuse.
    start = min(unchanged // CHUNK, max((len(days) - 1) // CHUNK - 1, 0)) * CHUNK
    tail = _walk(authority, active, days, 0, Fold(as_of=BEFORE_ANY), 0, start)
    if start >= unchanged:
        tail.cutoff = since.isoformat()
    return tail


def _snapshot_at(days: list[date]) -> int:
    """The day number a tail's snapshot is taken before: the second-to-last chunk's first."""
    return max((len(days) - 1) // CHUNK * CHUNK - CHUNK, 0)


def _walk(authority: str, active: list[View], days: list[date], begin: int, state: Fold, index: int,
          start: int, reuse: list[str] = (), hot_day: date | None = None) -> Tail:
    """Fold from day number `begin` (`state` holding the first `index` active events, those before them) to the
    last day, with entries, chunked into rows, from day number `start` (a chunk's first, at most `begin`) on.

    `reuse` holds the entries already made for the first days from `start`
    (unchanged), at least up to `begin`. The tail's lines run from its snapshot
    if the walk passed it (else from `start`); with `hot_day`, it keeps the fold
    just after that day too.
    """
    snap_at = _snapshot_at(days)
    snapshot = hot = None
    lines = list(reuse[:max(begin - start, 0)])  # days from `start` before `begin`: not walked again
    for number in range(begin, len(days)):
        day = days[number]
        if number == snap_at:
            snapshot = (number, copy_fold(state), index)
        while number and index < len(active) and active[index].effective.first == day:
            step(state, active[index])
            index += 1
        if day == hot_day:
            hot = (day, copy_fold(state), index)
        if number >= start:
            state.as_of = day
            made = number - start
            lines.append(reuse[made] if made < len(reuse) else _line(_entry(authority, state)))
    names = [d.isoformat() for d in days[start:]]
    rows = [(names[i], _chunk_lines(names[i:i + CHUNK], lines[i:i + CHUNK])) for i in range(0, len(lines), CHUNK)]
    kept = lines[snapshot[0] - start:] if snapshot else lines
    return Tail(names[0], rows, state, active, days, snapshot, kept, hot)
