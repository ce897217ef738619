"""Dates as reports print them: "17 December 2010", "8 to 19 November 2010",
"25 June 2014 – 16 July 2014", "21 March to 1 April 2022", "2 to 6 December 2019"."""
from __future__ import annotations

import re
from datetime import date

MONTHS = {name: number for number, name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], 1)}
MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
DAY_MONTH_YEAR = rf"\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH}\s+\d{{4}}"
_DASH = r"\s*(?:to|–|—|-|until)\s*"
RANGE = re.compile(
    rf"(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+(?P<m1>{MONTH}))?(?:\s+(?P<y1>\d{{4}}))?{_DASH}"
    rf"(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m2>{MONTH})\s+(?P<y2>\d{{4}})",
    re.IGNORECASE,
)
SINGLE = re.compile(rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m>{MONTH}),?\s+(?P<y>\d{{4}})", re.IGNORECASE)
MONTH_YEAR = re.compile(rf"(?P<m>{MONTH})\s+(?P<y>\d{{4}})", re.IGNORECASE)


def to_date(day: str, month: str, year: str) -> date:
    """A date from printed parts; ValueError if impossible."""
    return date(int(year), MONTHS[month.lower()], int(day))


def parse_single(text: str) -> date | None:
    """The first full date printed in the text."""
    match = SINGLE.search(text)
    return to_date(match["d"], match["m"], match["y"]) if match else None


def parse_range(text: str) -> tuple[date, date] | None:
    """The first printed date range: (start, end); the start borrows month and year from the end."""
    match = RANGE.search(text)
    if not match:
        return None
    end = to_date(match["d2"], match["m2"], match["y2"])
    start = to_date(match["d1"], match["m1"] or match["m2"], match["y1"] or match["y2"])
    if start > end and not match["y1"]:  # "28 December to 8 January 2016" crosses a year
        start = start.replace(year=start.year - 1)
    return start, end
