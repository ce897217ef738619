"""Every list the API answers, as a flat table: named columns in a fixed order.

CSV output (and anything else tabular) takes its header and rows from here, so
the column order is defined once and documented from the same definition.
Nested fields become flat columns (`overall_grade`, `source_url`); a value with
no fixed shape (an event's kind-specific `payload`) is one JSON column.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Column:
    """One column: its name, what it holds, and how to read it from an item of the JSON list."""

    name: str
    description: str
    get: Callable[[dict], object]


@dataclass(frozen=True)
class Table:
    """A list answer as a table: columns in their documented order."""

    name: str
    columns: tuple[Column, ...]

    @property
    def header(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]

    def row(self, item: dict) -> list[str]:
        """One item as cells: text, '' for none, true/false, JSON for structured values."""
        return [cell(c.get(item)) for c in self.columns]

    def rows(self, items: Iterable[dict]) -> Iterator[list[str]]:
        """Cells for each item, lazily."""
        return (self.row(item) for item in items)

    def describe(self) -> str:
        """The columns as a Markdown list, for the OpenAPI document."""
        return "\n".join(f"{n}. `{c.name}`: {c.description}" for n, c in enumerate(self.columns, 1))


def event_record(event) -> dict:
    """A stored event as a dict, for serialising at once: like `StoredEvent.to_dict` but without its deep copy
    (which costs most of the time of streaming the feed), so the nested values are shared and must not be changed."""
    return {f.name: getattr(event, f.name) for f in fields(event)}


def cell(value: object) -> str:
    """A value as CSV text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return str(value)


def _path(*keys: str) -> Callable[[dict], object]:
    """Read a nested value, None where any step is missing."""
    def get(item: dict) -> object:
        value: object = item
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value
    return get


def _col(name: str, description: str, *keys: str) -> Column:
    return Column(name, description, _path(*(keys or (name,))))


def _next_expected(field: str) -> Callable[[dict], object]:
    """The soonest-due expected event's field (next_expected is sorted by latest date)."""
    def get(item: dict) -> object:
        expected = item.get("next_expected") or []
        if not expected:
            return None
        first = expected[0]
        return first["window"][field] if field in ("earliest", "latest") else first.get(field)
    return get


EVENT_COLUMNS = (
    _col("position", "global recording order"),
    _col("event_id", "the event's UUID"),
    _col("authority", "slug of the authority whose stream holds the event"),
    _col("version", "place in that authority's stream"),
    _col("kind", "inspection, monitoring_visit, correction, …"),
    _col("schema_version", "version of the kind's payload schema"),
    _col("effective_on", "valid date (YYYY, YYYY-MM or YYYY-MM-DD)"),
    _col("date_precision", "day, month or year"),
    _col("occurred_start", "first day of what happened", "occurred", "start"),
    _col("occurred_end", "last day of what happened", "occurred", "end"),
    _col("recorded_at", "transaction time (UTC)"),
    _col("recorded_by", "token or loader that recorded it"),
    _col("source_title", "title of the source document", "source", "title"),
    _col("source_url", "where the source document is published", "source", "url"),
    _col("source_file", "the source document's file name", "source", "file"),
    _col("source_page", "page of the source cited", "source", "page"),
    _col("source_paragraph", "paragraph of the source cited", "source", "paragraph"),
    _col("source_quote", "quoted text from the source", "source", "quote"),
    _col("payload", "the kind-specific payload as JSON (its schema is in the Event kinds of this document)"),
)

TIMELINE = Table("timeline", EVENT_COLUMNS + (
    Column("corrected", "true if later corrections changed this event (the row shows it corrected)",
           lambda item: bool(item.get("corrections"))),
    Column("retracted", "true if a later retraction withdrew this event", lambda item: bool(item.get("retracted"))),
    _col("from_predecessor", "slug of the predecessor authority the event came from, if any"),
))

FEED = Table("events", EVENT_COLUMNS)

CONCERNS = Table("concerns", (
    _col("authority", "the authority's slug"),
    _col("concern_id", "<event_id>:<n>, the event that opened it and its place there"),
    _col("text", "the recommendation, area for improvement or action"),
    _col("section", "the heading it was listed under"),
    _col("timescale", "immediately, three_months or six_months"),
    _col("opened_on", "effective date of the event that opened it"),
    _col("due_on", "due date counted from publication"),
    _col("state", "open, resolved or superseded, on as_of"),
    _col("overdue", "open with due_on before as_of"),
    _col("closed_on", "when it was resolved or superseded"),
    _col("closed_by_event_id", "the event that closed it", "closed_by", "event_id"),
    _col("closed_by_kind", "that event's kind", "closed_by", "kind"),
    _col("source_event_id", "the event that opened it", "source", "event_id"),
    _col("source_kind", "that event's kind", "source", "kind"),
    Column("updates", "how many concern_update events touched it", lambda item: len(item.get("updates") or [])),
))

JUDGEMENTS = Table("judgements", (
    _col("authority", "the authority's slug"),
    _col("event_id", "the inspection"),
    _col("effective_on", "its publication date"),
    _col("date_precision", "day, month or year"),
    _col("framework", "inspection framework key"),
    _col("type", "inspection type within the framework"),
    _col("area", "the area as the framework names it"),
    _col("normalised_area", "the area a line across frameworks follows"),
    _col("label", "the judgement as printed"),
    _col("grade", "1 (outstanding) to 4 (inadequate)"),
    _col("derived", "true for an overall judgement derived from others"),
    _col("note", "how a derived judgement was reached"),
))

_STATUS_COLUMNS = (
    _col("overall_grade", "overall grade in force (1-4)", "overall", "grade"),
    _col("overall_label", "overall judgement as printed", "overall", "label"),
    _col("framework", "framework of the inspection in force", "overall", "framework"),
    _col("inspection_event_id", "the inspection in force", "overall", "event_id"),
    _col("inspection_effective_on", "its publication date", "overall", "effective_on"),
)

NATIONAL_STATUS = Table("national_status", (
    _col("authority", "the authority's slug"),
    _col("name", "the authority's name"),
    _col("region", "its region"),
    _col("as_of", "valid date of the answer"),
    _col("known_at", "transaction time of the answer (empty: now)"),
    *_STATUS_COLUMNS,
    _col("regime", "monitoring, intervention, both or none", "regime", "summary"),
    _col("open_concerns", "concerns open on as_of"),
    _col("overdue_concerns", "concerns open and past due on as_of"),
    _col("last_event_id", "latest event effective by as_of", "last_event", "event_id"),
    _col("last_event_kind", "its kind", "last_event", "kind"),
    _col("last_event_effective_on", "its effective date", "last_event", "effective_on"),
    Column("next_expected_kind", "the soonest-due expected event", _next_expected("kind")),
    Column("next_expected_earliest", "its window's first day", _next_expected("earliest")),
    Column("next_expected_latest", "its window's last day", _next_expected("latest")),
    Column("next_expected_overdue", "true if that window has passed", _next_expected("overdue")),
    _col("events_considered", "events effective by as_of"),
))

AUTHORITIES = Table("authorities", (
    _col("slug", "the authority's slug (its stream's name)"),
    _col("name", "the authority's name"),
    _col("ofsted_urn", "Ofsted's unique reference number"),
    _col("la_code", "DfE local authority code"),
    _col("ons_code", "ONS code"),
    _col("region", "region"),
    _col("active", "false for an abolished authority"),
    _col("predecessors", "slugs of authorities it replaced, space-separated"),
    _col("successors", "slugs of authorities that replaced it, space-separated"),
    _col("abolished_on", "date abolished"),
    _col("created_on", "date created"),
    _col("overall_grade", "overall grade in force today", "status", "overall", "grade"),
    _col("overall_label", "overall judgement as printed", "status", "overall", "label"),
    _col("framework", "framework of the inspection in force", "status", "overall", "framework"),
    _col("inspection_effective_on", "its publication date", "status", "overall", "effective_on"),
    _col("regime", "monitoring, intervention, both or none", "status", "regime"),
    _col("open_concerns", "concerns open today", "status", "open_concerns"),
    _col("overdue_concerns", "concerns open and past due today", "status", "overdue_concerns"),
    _col("last_event_id", "latest event", "status", "last_event", "event_id"),
    _col("last_event_kind", "its kind", "status", "last_event", "kind"),
    _col("last_event_effective_on", "its effective date", "status", "last_event", "effective_on"),
))
