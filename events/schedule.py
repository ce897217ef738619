"""When the next event is expected: the date rules of the inspection cycle.

The windows are Ofsted's published practice, stated loosely on purpose ("about"):
a first monitoring visit within about 16 weeks of an inadequate report, then
about quarterly; a graded inspection about three years after the last, and for
an inadequate authority a re-inspection once monitoring shows progress,
typically one to three years on.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from events.dates import add_months, add_weeks, parse_partial

FIRST_MONITORING_WEEKS = 16
MONITORING_INTERVAL_WEEKS = (10, 16)  # "about quarterly"
INSPECTION_CYCLE_MONTHS = (30, 42)  # "about three years"
REINSPECTION_MONTHS = (12, 36)  # after inadequate


def _window(kind: str, earliest: date, latest: date, reason: str, based_on: str, as_of: date) -> dict:
    return {
        "kind": kind,
        "window": {"earliest": earliest.isoformat(), "latest": latest.isoformat()},
        "overdue": as_of > latest,
        "reason": reason,
        "based_on": based_on,
    }


def next_monitoring_visit(monitoring: dict, last_visit: dict | None, as_of: date) -> dict:
    """The next monitoring visit's window, from the inadequate report or the last visit."""
    if last_visit is None:
        since = parse_partial(monitoring["since"]).first
        return _window("monitoring_visit", since, add_weeks(since, FIRST_MONITORING_WEEKS),
                       f"first monitoring visit within about {FIRST_MONITORING_WEEKS} weeks of the inadequate report",
                       monitoring["event_id"], as_of)
    visited = parse_partial(last_visit["visited"]).last
    low, high = MONITORING_INTERVAL_WEEKS
    return _window("monitoring_visit", add_weeks(visited, low), add_weeks(visited, high),
                   "monitoring visits about quarterly while an authority is judged inadequate",
                   last_visit["event_id"], as_of)


def next_inspection(inspection: dict, inadequate: bool, as_of: date) -> dict:
    """The next graded inspection's window after the one in force."""
    earliest, latest, reason = _inspection_window(inspection["effective_on"], inadequate)
    return {
        "kind": "inspection",
        "window": {"earliest": earliest, "latest": latest},
        "overdue": as_of.isoformat() > latest,  # ISO days sort as the days do
        "reason": reason,
        "based_on": inspection["event_id"],
    }


# Every status entry while an inspection is in force asks for its window again: the answer depends only
# on the inspection's date and whether it was inadequate, so a bounded cache keeps the month arithmetic.
@lru_cache(maxsize=4096)
def _inspection_window(effective_on: str, inadequate: bool) -> tuple[str, str, str]:
    """(earliest, latest, reason) of the next graded inspection after one effective on `effective_on`, the
    days in ISO form."""
    published = parse_partial(effective_on).first
    if inadequate:
        low, high = REINSPECTION_MONTHS
        reason = "re-inspection of an inadequate authority once monitoring shows progress, typically one to three years on"
    else:
        low, high = INSPECTION_CYCLE_MONTHS
        reason = "next graded inspection about three years after the last"
    return add_months(published, low).isoformat(), add_months(published, high).isoformat(), reason
