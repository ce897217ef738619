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

import orjson

from events.projections.fold import Fold, step
from events.projections.status import imprecise_spans, open_concerns_of, status_document
from events.projections.views import META_KINDS, View, resolve
from events.store import StoredEvent

BEFORE_ANY = date.min
# Entries per stored row: 16 compress to about 160 bytes an entry (8: 220), and a read still
# inflates only ~40 KB to decode the one entry it needs. Readers find the entry by the row's own
# day list, so rows of any size (older databases' 8) read alike.
CHUNK = 16


def status_by_date(authority: str, views: list[View],
                   reuse: tuple[list[tuple[str, bytes]], date] | None = None) -> list[tuple[str, bytes]]:
    """Stored rows (first day, chunk): the entries for the empty stream and each day on which events take effect.

    Entries go CHUNK consecutive days to a row and are compressed together: each
    differs little from the one before, so a chunk costs little more than one entry.
    `reuse` is (rows stored before, a day before which no entry has changed): stored
    rows whose days all fall before that day are kept as they are, not made again.
    """
    active = [v for v in views if v.active]
    days = [BEFORE_ANY] + sorted({v.effective.first for v in active})
    kept = _reusable(reuse, days) if reuse else []
    start = len(kept) * CHUNK  # the first day whose entry is made here
    state = Fold(as_of=BEFORE_ANY)
    memo: dict = {}  # the inspection parts, made once per inspection in force (entries are only serialised)
    entries = [_entry(authority, state, memo)] if start == 0 else []
    index = 0
    for number, day in enumerate(days[1:], 1):
        while index < len(active) and active[index].effective.first == day:
            step(state, active[index])
            index += 1
        if number >= start:
            state.as_of = day
            entries.append(_entry(authority, state, memo))
    names = [d.isoformat() for d in days[start:]]
    return kept + [(names[i], _chunk(names[i:i + CHUNK], entries[i:i + CHUNK])) for i in range(0, len(names), CHUNK)]


def _reusable(reuse: tuple[list[tuple[str, bytes]], date], days: list[date]) -> list[tuple[str, bytes]]:
    """The stored rows, from the first, whose days all fall before the first changed day and still begin where
    the days now put a row's first day."""
    stored, changed = reuse
    kept = []
    for i, (first, _) in enumerate(stored[:-1]):
        following = stored[i + 1][0]
        # The row's last day is before the next row's first; every day before `changed` is as it was.
        if following > changed.isoformat() or (i + 1) * CHUNK >= len(days) \
                or days[i * CHUNK].isoformat() != first or days[(i + 1) * CHUNK].isoformat() != following:
            break
        kept.append(stored[i])
    return kept


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


def _chunk(days: list[str], entries: list[dict]) -> bytes:
    return _compress(days, [_line(e) for e in entries])


def _line(entry: dict) -> bytes:
    # orjson: about a tenth of json.dumps' time for these ~2.5 KB entries (a stream of 100 events makes
    # about 100 of them on every projection), and the same JSON: compact, keys in order, non-ASCII as
    # UTF-8 rather than \u escapes (json.loads reads both alike). Whole and incremental remakes (Tail)
    # both serialise here, so the rows they make are byte for byte the same.
    return orjson.dumps(entry)


def _compress(days: list[str], lines: list[bytes]) -> bytes:
    # One JSON document a line (the days, then each entry), so a read decodes only the entry it needs.
    return zlib.compress(b"\n".join([json.dumps(days, separators=(",", ":")).encode(), *lines]), 6)


def regroup(stored: list[bytes]) -> list[tuple[str, bytes]]:
    """One stream's stored rows (in day order, any chunk size) as the rows `status_by_date` writes today."""
    days: list[str] = []
    lines: list[bytes] = []
    for blob in stored:
        parts = zlib.decompress(blob).split(b"\n")
        days.extend(json.loads(parts[0]))
        lines.extend(parts[1:])
    return [(days[i], _compress(days[i:i + CHUNK], lines[i:i + CHUNK])) for i in range(0, len(days), CHUNK)]


def _entry(authority: str, state: Fold, memo: dict | None = None) -> dict:
    doc = status_document(authority, state, memo=memo)
    return {"doc": doc, "due": open_concerns_of(state, memo)[1], "imprecise": imprecise_spans(state, memo)}


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
    lines: list[bytes]
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
          start: int, reuse: list[bytes] = (), hot_day: date | None = None) -> Tail:
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
    memo: dict = {}  # the inspection parts, made once per inspection in force (see status_document)
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
            lines.append(reuse[made] if made < len(reuse) else _line(_entry(authority, state, memo)))
    names = [d.isoformat() for d in days[start:]]
    rows = [(names[i], _compress(names[i:i + CHUNK], lines[i:i + CHUNK])) for i in range(0, len(lines), CHUNK)]
    kept = lines[snapshot[0] - start:] if snapshot else lines
    return Tail(names[0], rows, state, active, days, snapshot, kept, hot)
