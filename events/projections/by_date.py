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
import threading
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import orjson
import zstandard

from events.projections.fold import Fold, step
from events.projections.status import imprecise_spans, open_concerns_of, status_document
from events.projections.views import META_KINDS, View, resolve
from events.store import StoredEvent

BEFORE_ANY = date.min
# Entries per stored row: 32 compress to about 110 bytes an entry (16: 145, 8: 210), and their rows
# (3.5 KB on average) fill a 4 KB page each, where two rows of 16 (2.3 KB) never fit in one: 133 bytes
# an event in all at 20K events, against 234 with 16 (m015). A read decompresses about 75 KB to decode
# the one entry it needs (`finish`: 30 µs against 28). Readers find the entry by the row's own day
# list, so rows of any size read alike; m015 regrouped older databases' rows to this size, so the
# rows an incremental projection replaces (`status_rows_from`) start where a stored row starts.
CHUNK = 32
# zstd at its default level, not zlib (m014): on these rows it compresses in a seventh of zlib level 6's
# time (40 µs a row against 270), decompresses in a fifth (11 µs against 55) and is 8% smaller.
ZSTD_LEVEL = 3
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # every zstd frame's first four bytes; a zlib stream's first is 0x78
_codecs = threading.local()  # zstandard's compressor and decompressor are not thread-safe: one of each a thread


def status_by_date(authority: str, views: list[View]) -> StatusRows:
    """Every stored row (first day, chunk): the entries for the empty stream and each day on which events take effect.

    Entries go CHUNK consecutive days to a row and are compressed together: each
    differs little from the one before, so a chunk costs little more than one entry.
    Only the rows new events can change are made again: see `status_rows_from`.
    """
    active, days = _active_days(views)
    return replace(_walk(authority, active, days, 0), cutoff=None)


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


def _line(entry: dict) -> bytes:
    # orjson: about a tenth of json.dumps' time for these ~2.5 KB entries (a stream of 100 events makes
    # about 100 of them on every projection), and the same JSON: compact, keys in order, non-ASCII as
    # UTF-8 rather than \u escapes (json.loads reads both alike). Whole and incremental remakes (_walk)
    # both serialise here, so the rows they make are byte for byte the same.
    return orjson.dumps(entry)


def _compress(days: list[str], lines: list[bytes]) -> bytes:
    # One JSON document a line (the days, then each entry), so a read decodes only the entry it needs.
    return _compressor().compress(b"\n".join([json.dumps(days, separators=(",", ":")).encode(), *lines]))


def _compressor() -> zstandard.ZstdCompressor:
    compressor = getattr(_codecs, "compressor", None)
    if compressor is None:
        compressor = _codecs.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    return compressor


def _decompress(stored: bytes) -> bytes:
    decompressor = getattr(_codecs, "decompressor", None)
    if decompressor is None:
        decompressor = _codecs.decompressor = zstandard.ZstdDecompressor()
    return decompressor.decompress(stored)


def stored_text(stored: bytes) -> bytes:
    """A stored row's text, whether compressed as today (zstd) or as before m014 (zlib)."""
    return _decompress(stored) if stored[:4] == ZSTD_MAGIC else zlib.decompress(stored)


def recompressed(stored: bytes) -> bytes:
    """A stored row, compressed as rows are today (m014)."""
    return _compressor().compress(stored_text(stored))


def regroup(stored: list[bytes]) -> list[tuple[str, bytes]]:
    """One stream's stored rows (in day order, any chunk size, either compression) as the rows `status_by_date`
    writes today."""
    days: list[str] = []
    lines: list[bytes] = []
    for blob in stored:
        parts = stored_text(blob).split(b"\n")
        days.extend(json.loads(parts[0]))
        lines.extend(parts[1:])
    return [(days[i], _compress(days[i:i + CHUNK], lines[i:i + CHUNK])) for i in range(0, len(days), CHUNK)]


def _entry(authority: str, state: Fold, memo: dict | None = None) -> dict:
    doc = status_document(authority, state, memo=memo)
    return {"doc": doc, "due": open_concerns_of(state, memo)[1], "imprecise": imprecise_spans(state, memo)}


def finish(stored: bytes, as_of: date) -> dict:
    """The status document on `as_of` from the stored chunk holding the last event date on or before it."""
    text = _decompress(stored)
    day = as_of.isoformat()
    # orjson reads what orjson (and json.dumps, before it) wrote here: a third of json.loads' time on an entry.
    entry = orjson.loads(_line_of(text, bisect_right(orjson.loads(text[:text.index(b"\n")]), day)))
    doc = entry["doc"]
    doc["as_of"] = day
    doc["overdue_concerns"] = bisect_left(entry["due"], day)
    for expected in doc["next_expected"]:
        expected["overdue"] = day > expected["window"]["latest"]
    doc["imprecise_dates"] = [i["item"] for i in entry["imprecise"] if i["first"] < day <= i["last"]]
    return doc


def _line_of(text: bytes, number: int) -> bytes:
    """Line `number` (0 is the first) of a row's text, found without splitting the rest (12 µs against 2)."""
    start = 0
    for _ in range(number):
        start = text.index(b"\n", start) + 1
    stop = text.find(b"\n", start)
    return text[start:stop] if stop >= 0 else text[start:]


@dataclass
class StatusRows:
    """A stream's status-by-date rows, made from some day on, and the fold over every active event.

    Stored rows from `cutoff` on are replaced by `rows` (None: `rows` are all of
    them). `state` is the fold as of the stream's last day (`days[-1]`; `days`
    holds every entry's day, BEFORE_ANY first).
    """

    cutoff: str | None
    rows: list[tuple[str, bytes]]
    state: Fold
    days: list[date]

    def state_on(self, today: date) -> Fold | None:
        """The fold as of `today` (what `fold(views, today)` gives), or None if events take effect after today."""
        if self.days[-1] > today:
            return None
        return replace(self.state, as_of=today)  # status_document reads a state, never changes it


def status_rows_from(authority: str, views: list[View], since: date,
                     stored_row: Callable[[str], bytes | None] | None = None) -> StatusRows:
    """The stored rows that can differ once entries from `since` on have changed.

    Entries before `since` depend only on events effective before it, so they
    stand; the chunk holding the first day on or after `since` and every later
    one are made again (the chunks before it are the same whichever way they were made).
    `stored_row(day)` gives the stored row starting on `day` (or None): the entries
    it holds for days before `since` are taken from it rather than made again.
    """
    active, days = _active_days(views)
    changed = bisect_left(days, since, lo=1)
    start = changed // CHUNK * CHUNK
    kept = _kept_lines(stored_row, days[start:changed]) if stored_row and start < changed else []
    return _walk(authority, active, days, start, kept)


def _kept_lines(stored_row: Callable[[str], bytes | None], days: list[date]) -> list[bytes]:
    """The stored entries for `days` (the first days of a row, none changed), if the stored row holds them."""
    names = [d.isoformat() for d in days]
    stored = stored_row(names[0])
    if stored is None:
        return []
    parts = stored_text(stored).split(b"\n", len(names) + 1)
    return parts[1:len(names) + 1] if json.loads(parts[0])[:len(names)] == names else []


def _active_days(views: list[View]) -> tuple[list[View], list[date]]:
    """The active views (in valid-time order) and the days entries are made for: BEFORE_ANY and each day one
    takes effect."""
    active = [v for v in views if v.active]
    days = [BEFORE_ANY]
    for view in active:
        if view.effective.first != days[-1]:
            days.append(view.effective.first)
    return active, days


def _walk(authority: str, active: list[View], days: list[date], start: int,
          kept: Sequence[bytes] = ()) -> StatusRows:
    """Fold every active event; the rows of the entries from day number `start` (a chunk's first) on, the first
    of them `kept` as stored."""
    state = Fold(as_of=BEFORE_ANY)
    memo: dict = {}  # what stays the same from one entry to the next (see status_document)
    lines, index = [], 0
    for number, day in enumerate(days):
        while number and index < len(active) and active[index].effective.first == day:
            step(state, active[index])
            index += 1
        if number - start >= len(kept):
            state.as_of = day
            lines.append(_line(_entry(authority, state, memo)))
        elif number >= start:  # the memo needs no entry made meanwhile: it checks what it holds against the state
            lines.append(kept[number - start])
    names = [d.isoformat() for d in days[start:]]
    rows = [(names[i], _compress(names[i:i + CHUNK], lines[i:i + CHUNK])) for i in range(0, len(lines), CHUNK)]
    return StatusRows(names[0] if names else date.max.isoformat(), rows, state, days)
