"""Dates as sources give them: a day, a month ("June 2014") or a year ("in 2017").

A partial date is kept in its own ISO form ("2014-06", "2017") and never padded
into a day that the source did not print. For ordering and as-of questions it
stands for an interval: it sorts at its first day, counts as effective from its
first day, and an answer whose date falls inside the interval is flagged as
depending on an imprecise date.
"""
from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

PRECISIONS = ("day", "month", "year")
_FORMS = {
    "day": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "month": re.compile(r"^\d{4}-\d{2}$"),
    "year": re.compile(r"^\d{4}$"),
}


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to a day, a month or a year."""

    first: date
    last: date
    precision: str

    @functools.cached_property
    def iso(self) -> str:
        """The date in the form its precision allows: 2014-06-01, 2014-06 or 2014."""
        if self.precision == "day":
            return self.first.isoformat()
        return self.first.isoformat()[:7] if self.precision == "month" else str(self.first.year)

    def contains(self, day: date) -> bool:
        """Whether a day falls within this date's interval."""
        return self.first <= day <= self.last

    @property
    def imprecise(self) -> bool:
        """True for month or year precision."""
        return self.precision != "day"


def precision_of(text: str) -> str | None:
    """The precision a string's form implies, or None if it is no date form."""
    for precision, pattern in _FORMS.items():
        if pattern.match(text):
            return precision
    return None


def parse_partial(text: str, precision: str | None = None) -> PartialDate:
    """Parse "2014-06-01", "2014-06" or "2014"; with a precision, coarsen to it.

    Raises ValueError with a reason a person can act on.
    """
    if type(text) is str and (precision is None or type(precision) is str):
        # Every read replays events whose few thousand distinct dates repeat: parse each once (answers are frozen).
        return _parse_cached(text, precision)
    return _parse(text, precision)


@lru_cache(maxsize=65536)
def _parse_cached(text: str, precision: str | None) -> PartialDate:
    return _parse(text, precision)


def _parse(text: str, precision: str | None) -> PartialDate:
    if not isinstance(text, str):
        raise ValueError("must be a date string: YYYY-MM-DD, YYYY-MM or YYYY")
    form = precision_of(text)
    if form is None:
        raise ValueError("must be a date: YYYY-MM-DD, or YYYY-MM / YYYY for month or year precision")
    year = int(text[:4])
    month = int(text[5:7]) if form != "year" else 1
    day = int(text[8:10]) if form == "day" else 1
    try:
        first = date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"is not a real date ({exc})") from None
    target = precision or form
    if target not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
    if PRECISIONS.index(target) < PRECISIONS.index(form):
        raise ValueError(f"is given to the {form} but the precision says {target}")
    return _widen(first, target)


def _widen(day: date, precision: str) -> PartialDate:
    if precision == "day":
        return PartialDate(day, day, "day")
    if precision == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return PartialDate(date(day.year, day.month, 1), date(day.year, day.month, last), "month")
    return PartialDate(date(day.year, 1, 1), date(day.year, 12, 31), "year")


def parse_day(text: str) -> date:
    """Parse a full YYYY-MM-DD date, as query parameters need."""
    partial = parse_partial(text)
    if partial.imprecise:
        raise ValueError("must be a full date YYYY-MM-DD")
    return partial.first


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    """The number of days in a month (calendar.monthrange's second answer, without its weekday work)."""
    if month == 2 and calendar.isleap(year):
        return 29
    return _MONTH_DAYS[month - 1]


# Every status entry asks for the same few due dates and inspection windows again: the answers are
# immutable dates, so a bounded cache returns them for the price of a hash.
@lru_cache(maxsize=16384)
def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic, clamping to the month's last day (31 Aug + 6 months = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, days_in_month(year, month)))


def add_weeks(day: date, weeks: int) -> date:
    """A day plus whole weeks."""
    return day + timedelta(weeks=weeks)


def utc_now() -> datetime:
    """The current UTC time, timezone-aware."""
    return datetime.now(timezone.utc)


def format_timestamp(moment: datetime) -> str:
    """A transaction-time stamp: UTC, microseconds, trailing Z, sortable as text."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO timestamp or a bare date (meaning the end of that UTC day) for known_at."""
    if precision_of(text) == "day":
        return datetime.combine(parse_day(text), datetime.max.time(), timezone.utc)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO 8601 timestamp (2018-03-01T12:00:00Z) or a date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment
