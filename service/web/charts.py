"""Charts as inline SVG, drawn on the server from the domain's answers.

Each chart is an accessible image: `role="img"`, a <title> and a <desc> that
says in words what it shows, and a table on the page gives the same data.
Colour is never the only cue: grades are written out, lines differ in dash and
marker shape, event kinds differ in marker shape. Styling is by class (the page's
CSS), so the Content Security Policy needs no inline styles.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from itertools import count

from markupsafe import Markup

from events.dates import parse_partial
from events.frameworks import NORMALISED_AREAS
from service.web.british_dates import long_date

GRADE_LABELS = {1: "Outstanding", 2: "Good", 3: "Requires improvement / Adequate", 4: "Inadequate"}
AREA_TITLES = {"overall": "Overall", "leadership": "Leadership", "help_and_protection": "Help and protection",
               "children_in_care": "Children in care", "care_leavers": "Care leavers"}
AREA_MARKERS = {"overall": "circle", "leadership": "square", "help_and_protection": "diamond",
                "children_in_care": "triangle", "care_leavers": "triangle-down"}
KIND_TITLES = {"inspection": "Inspections", "ungraded_inspection": "Ungraded inspections",
               "monitoring_visit": "Monitoring visits", "focused_visit": "Focused visits", "diagnostic": "Diagnostics",
               "committee_response": "Committee responses", "intervention": "Interventions",
               "concern_update": "Concern updates"}
KIND_MARKERS = {"inspection": "circle", "ungraded_inspection": "ring", "monitoring_visit": "square",
                "focused_visit": "diamond", "diagnostic": "triangle", "committee_response": "triangle-down",
                "intervention": "cross", "concern_update": "plus"}
_ids = count(1)


@dataclass(frozen=True)
class TimeScale:
    """Maps dates onto x between `left` and `right`, over whole years."""

    start: date
    end: date
    left: float
    right: float

    @classmethod
    def spanning(cls, first: date, last: date, left: float, right: float) -> "TimeScale":
        """A scale from 1 January of `first`'s year to 1 January after `last`'s year."""
        return cls(date(first.year, 1, 1), date(last.year + 1, 1, 1), left, right)

    def x(self, day: date) -> float:
        """The x coordinate of a day."""
        span = (self.end - self.start).days or 1
        return round(self.left + (self.right - self.left) * (day - self.start).days / span, 1)

    def year_ticks(self) -> list[int]:
        """Years to label, at most about twelve."""
        years = list(range(self.start.year, self.end.year + 1))
        step = max(1, len(years) // 12 + (len(years) % 12 > 0))
        return years[::step]


def _svg(width: int, height: int, title: str, desc: str, css_class: str) -> ET.Element:
    uid = next(_ids)
    svg = ET.Element("svg", {"viewBox": f"0 0 {width} {height}", "class": f"chart {css_class}", "role": "img",
                             "aria-labelledby": f"chart-title-{uid} chart-desc-{uid}", "focusable": "false"})
    ET.SubElement(svg, "title", {"id": f"chart-title-{uid}"}).text = title
    ET.SubElement(svg, "desc", {"id": f"chart-desc-{uid}"}).text = desc
    return svg


def _markup(svg: ET.Element) -> Markup:
    return Markup(ET.tostring(svg, encoding="unicode"))  # ElementTree escapes all text and attributes


def marker(parent: ET.Element, shape: str, x: float, y: float, css_class: str, size: float = 6) -> ET.Element:
    """A marker of a given shape centred on (x, y); shapes tell kinds and areas apart without colour."""
    s = size
    if shape in ("circle", "ring"):
        attrs = {"cx": str(x), "cy": str(y), "r": str(s)}
        element = ET.SubElement(parent, "circle", attrs)
    elif shape == "square":
        element = ET.SubElement(parent, "rect", {"x": str(x - s), "y": str(y - s), "width": str(2 * s), "height": str(2 * s)})
    else:
        points = {
            "diamond": [(0, -s - 1), (s + 1, 0), (0, s + 1), (-s - 1, 0)],
            "triangle": [(0, -s - 1), (s + 1, s), (-s - 1, s)],
            "triangle-down": [(0, s + 1), (s + 1, -s), (-s - 1, -s)],
            "cross": [(-s, -s + 2), (-s + 2, -s), (0, -2), (s - 2, -s), (s, -s + 2), (2, 0), (s, s - 2), (s - 2, s),
                      (0, 2), (-s + 2, s), (-s, s - 2), (-2, 0)],
            "plus": [(-2, -s), (2, -s), (2, -2), (s, -2), (s, 2), (2, 2), (2, s), (-2, s), (-2, 2), (-s, 2), (-s, -2),
                     (-2, -2)],
        }[shape]
        element = ET.SubElement(parent, "polygon", {"points": " ".join(f"{x + dx:g},{y + dy:g}" for dx, dy in points)})
    element.set("class", f"marker marker-{shape} {css_class}")
    return element


def national_grades(counts_by_grade: dict[str, int], as_of: date) -> Markup:
    """Horizontal bars: how many authorities stand at each overall grade on `as_of`."""
    rows = [(str(g), f"{g} {GRADE_LABELS[g]}") for g in (1, 2, 3, 4)] + [("none", "No graded inspection recorded")]
    total = sum(counts_by_grade.values()) or 1
    width, row_h, label_w = 560, 28, 230
    words = "; ".join(f"{label}: {counts_by_grade.get(key, 0)}" for key, label in rows)
    svg = _svg(width, row_h * len(rows) + 8, f"Authorities by overall grade on {long_date(as_of)}",
               f"Of {total} authorities on {long_date(as_of)}: {words}.", "national-chart")
    for index, (key, label) in enumerate(rows):
        value = counts_by_grade.get(key, 0)
        y = 4 + index * row_h
        ET.SubElement(svg, "text", {"x": str(label_w - 8), "y": str(y + 18), "text-anchor": "end", "class": "axis-label"}).text = label
        bar = round((width - label_w - 50) * value / total, 1)
        ET.SubElement(svg, "rect", {"x": str(label_w), "y": str(y + 4), "width": str(max(bar, 1)), "height": str(row_h - 8),
                                    "class": f"bar grade-{key}"})
        ET.SubElement(svg, "text", {"x": str(label_w + bar + 6), "y": str(y + 18), "class": "bar-value"}).text = str(value)
    return _markup(svg)


def _when(row: dict) -> str:
    """A judgement's or event's date in words, to the precision the source gives."""
    return long_date(row["effective_on"], row.get("date_precision"))


def _lines_by_area(judgements: list[dict]) -> dict[str, list[dict]]:
    lines: dict[str, list[dict]] = {area: [] for area in NORMALISED_AREAS}
    for row in judgements:
        if row["normalised_area"] in lines:
            lines[row["normalised_area"]].append(row)
    return {area: rows for area, rows in lines.items() if rows}


def judgement_history(judgements: list[dict], as_of: date) -> Markup | None:
    """One stepped line per normalised area, grade 1 at the top, to `as_of`; None without judgements."""
    lines = _lines_by_area(judgements)
    if not lines:
        return None
    width, top, band, left = 760, 16, 44, 190
    first = min(parse_partial(r["effective_on"], r["date_precision"]).first for rows in lines.values() for r in rows)
    scale = TimeScale.spanning(first, as_of, left, width - 20)
    height = top + band * 4 + 60
    svg = _svg(width, height, "Judgements over time", _judgement_words(lines, as_of), "judgement-chart")
    _grade_axis(svg, scale, top, band)
    _time_axis(svg, scale, top + band * 4 + 4)
    for area, rows in lines.items():
        offset = (NORMALISED_AREAS.index(area) - 2) * 4  # lines at the same grade sit side by side, not on top
        _judgement_line(svg, scale, area, rows, as_of, lambda g, o=offset: top + band * (g - 1) + band / 2 + o)
    _legend(svg, [(AREA_MARKERS[a], f"area-{a}", AREA_TITLES[a]) for a in lines], 8, height - 22, width)
    return _markup(svg)


def _judgement_words(lines: dict[str, list[dict]], as_of: date) -> str:
    parts = []
    for area, rows in lines.items():
        steps = ", ".join(f"{r['label'] or 'not recorded'} ({r['framework']}, {_when(r)})" for r in rows)
        parts.append(f"{AREA_TITLES[area]}: {steps}")
    return f"Grades by area up to {long_date(as_of)}, grade 1 Outstanding at the top. " + "; ".join(parts) + "."


def _grade_axis(svg: ET.Element, scale: TimeScale, top: float, band: float) -> None:
    for grade in (1, 2, 3, 4):
        y = top + band * (grade - 1)
        ET.SubElement(svg, "rect", {"x": str(scale.left), "y": str(y), "width": str(scale.right - scale.left),
                                    "height": str(band), "class": f"band band-{grade}"})
        ET.SubElement(svg, "text", {"x": str(scale.left - 8), "y": str(y + band / 2 + 4), "text-anchor": "end",
                                    "class": "axis-label"}).text = f"{grade} {GRADE_LABELS[grade].split(' / ')[0]}"


def _time_axis(svg: ET.Element, scale: TimeScale, y: float) -> None:
    ET.SubElement(svg, "line", {"x1": str(scale.left), "x2": str(scale.right), "y1": str(y), "y2": str(y), "class": "axis"})
    for year in scale.year_ticks():
        x = scale.x(date(year, 1, 1))
        ET.SubElement(svg, "line", {"x1": str(x), "x2": str(x), "y1": str(y), "y2": str(y + 5), "class": "axis"})
        ET.SubElement(svg, "text", {"x": str(x), "y": str(y + 18), "text-anchor": "middle", "class": "tick-label"}).text = str(year)


def _judgement_line(svg, scale: TimeScale, area: str, rows: list[dict], as_of: date, y_of) -> None:
    group = ET.SubElement(svg, "g", {"class": f"series area-{area}"})
    points = [(scale.x(parse_partial(r["effective_on"], r["date_precision"]).first), r) for r in rows]
    path, previous = [], None
    for (x, row), following in zip(points, points[1:] + [(scale.x(as_of), None)]):
        if row["grade"] is None:  # "not judged" (ILACS 2026) breaks the line rather than inventing a grade
            previous = None
            continue
        y = y_of(row["grade"])
        path.append(f"{'L' if previous else 'M'}{x},{y} H{following[0]}")
        previous = row
    if path:
        ET.SubElement(group, "path", {"d": " ".join(path), "class": "line", "fill": "none"})
    for x, row in points:
        if row["grade"] is None:
            continue
        dot = marker(group, AREA_MARKERS[area], x, y_of(row["grade"]), "point", 5)
        ET.SubElement(dot, "title").text = (f"{AREA_TITLES[area]}: {row['label']} (grade {row['grade']}), "
                                            f"{row['framework']}, {_when(row)}")


def _legend(svg, items: list[tuple[str, str, str]], x: float, y: float, width: float) -> None:
    step = (width - x) / max(len(items), 1)
    for index, (shape, css_class, text) in enumerate(items):
        group = ET.SubElement(svg, "g", {"class": f"legend {css_class}"})
        left = x + index * step
        marker(group, shape, left + 6, y, "point", 5)
        ET.SubElement(group, "text", {"x": str(left + 16), "y": str(y + 4), "class": "legend-label"}).text = text


def event_axis(events: list[dict], as_of: date) -> Markup | None:
    """Every event on a time axis, one lane per kind, each kind its own marker shape; None without events."""
    placed = [e for e in events if e["kind"] in KIND_MARKERS]
    if not placed:
        return None
    kinds = [k for k in KIND_MARKERS if any(e["kind"] == k for e in placed)]
    width, lane, top, left = 760, 30, 8, 200
    spans = {e["event_id"]: parse_partial(e["effective_on"], e["date_precision"]) for e in placed}
    scale = TimeScale.spanning(min(s.first for s in spans.values()), as_of, left, width - 20)
    height = top + lane * len(kinds) + 30
    words = "; ".join(f"{KIND_TITLES[k]}: " + ", ".join(_when(e) for e in placed if e["kind"] == k) for k in kinds)
    svg = _svg(width, height, "Events on a time axis", f"Events by kind and date up to {long_date(as_of)}. {words}.",
               "event-chart")
    for index, kind in enumerate(kinds):
        y = top + lane * index + lane / 2
        ET.SubElement(svg, "line", {"x1": str(left), "x2": str(scale.right), "y1": str(y), "y2": str(y), "class": "lane"})
        ET.SubElement(svg, "text", {"x": str(left - 8), "y": str(y + 4), "text-anchor": "end",
                                    "class": "axis-label"}).text = KIND_TITLES[kind]
        for item in (e for e in placed if e["kind"] == kind):
            _event_marker(svg, scale, item, spans[item["event_id"]], y)
    _time_axis(svg, scale, top + lane * len(kinds) + 2)
    return _markup(svg)


def _event_marker(svg, scale: TimeScale, item: dict, span, y: float) -> None:
    group = ET.SubElement(svg, "g", {"class": f"event kind-{item['kind']}"})
    if span.imprecise:  # a month or a year: draw the whole period the source allows
        x1, x2 = scale.x(span.first), scale.x(span.last)
        ET.SubElement(group, "rect", {"x": str(x1), "y": str(y - 3), "width": str(max(x2 - x1, 2)), "height": "6",
                                      "class": "period"})
    dot = marker(group, KIND_MARKERS[item["kind"]], scale.x(span.first), y, "point", 6)
    title = (item.get("source") or {}).get("title") or item["kind"]
    ET.SubElement(dot, "title").text = f"{KIND_TITLES[item['kind']][:-1]}, {_when(item)}: {title}"
