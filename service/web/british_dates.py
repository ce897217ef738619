"""Dates as a British reader writes them: "1 September 2014", "September 2014", "2014".

The API keeps ISO 8601 (machines sort and parse it); pages show dates in words,
day before month, so nobody has to guess whether 01/09 is January or September.
`<time datetime="…">` elements on the pages keep the ISO form for machines.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from events.dates import precision_of

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def long_date(value, precision: str | None = None) -> str:
    """A date (or an ISO "YYYY-MM-DD" / "YYYY-MM" / "YYYY" string) in words, to its precision; else as given."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return long_timestamp(value)
    if isinstance(value, date):
        return f"{value.day} {MONTHS[value.month - 1]} {value.year}"
    text = str(value)
    form = precision_of(text)
    if form is None:
        return text
    try:
        day = date(int(text[:4]), int(text[5:7]) if form != "year" else 1, int(text[8:10]) if form == "day" else 1)
    except ValueError:
        return text  # not a real date: show what is stored rather than hide it
    shown = precision if precision in ("month", "year") else form
    if shown == "year":
        return str(day.year)
    if shown == "month":
        return f"{MONTHS[day.month - 1]} {day.year}"
    return long_date(day)


def long_timestamp(value) -> str:
    """A transaction time (datetime or ISO text) as "1 January 2026 at 09:30 UTC"; else as given."""
    if value is None or value == "":
        return ""
    moment = value
    if not isinstance(value, datetime):
        text = str(value)
        if not _ISO_MOMENT.match(text):
            return long_date(text)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return f"{long_date(moment.date())} at {moment:%H:%M} UTC"


def readable(value):
    """A payload value for people: full ISO dates and timestamps in words, anything else unchanged."""
    if isinstance(value, str):
        if _ISO_DAY.match(value):
            return long_date(value)
        if _ISO_MOMENT.match(value):
            return long_timestamp(value)
    return value
