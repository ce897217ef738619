"""Importing documents: draft each, optionally append it, and say what happened to each."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from events.appending import append_event
from events.errors import DomainError
from events.importer.document import read_path
from events.importer.draft import Draft, Published
from events.importer.drafting import Context, PublicationIndex, draft_document
from events.importer.linking import link_responses
from events.projections.views import resolve
from events.registry import Registry
from events.store import EventStore

DOCUMENT_SUFFIXES = (".pdf", ".txt", ".md")
SIDECAR_INDEX = "index.csv"


@dataclass
class Outcome:
    """What became of one document: drafted, appended, already present or refused (with why)."""

    path: Path
    status: str
    draft: Draft | None = None
    reason: str = ""
    errors: list | None = None


def documents_in(path: Path) -> list[Path]:
    """The document files at a path: the file itself, or every document below a folder, sorted."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES)


def sidecar_index(path: Path) -> PublicationIndex | None:
    """An index.csv beside the document or in the folder above it (as the shared reports keep one)."""
    for folder in (path.parent, path.parent.parent):
        candidate = folder / SIDECAR_INDEX
        if candidate.is_file():
            return PublicationIndex.load(candidate)
    return None


def published_for(path: Path, published: date | None, index: PublicationIndex | None) -> Published | None:
    """The outside publication date for a document: the option, else the index's row, else none."""
    if published is not None:
        return Published(published, "the --published option")
    index = index or sidecar_index(path)
    return index.published(path) if index else None


def import_path(path: Path, registry: Registry, *, published: Callable[[Path], Published | None],
                store: EventStore | None = None, append: bool = False, recorded_by: str = "import") -> Outcome:
    """Draft one document, linked to events already in the store if one is given; with `append`,
    append it (after the same validation as the API) unless it is already present."""
    try:
        draft = draft_document(read_path(path), Context(registry, published(path)))
    except DomainError as exc:
        return Outcome(path, "refused", reason=exc.detail)
    if store is not None and draft.authority is not None:
        link_responses(draft, store.read_stream(draft.authority))
    if store is None or not append:
        return Outcome(path, "drafted", draft, _missing_summary(draft))
    if draft.authority is None:
        return Outcome(path, "refused", draft, "no authority: " + _missing_summary(draft))
    present = already_present(store, draft)
    if present:
        return Outcome(path, "already present", draft, present)
    try:
        result = append_event(store, registry, draft.authority, draft.request(), recorded_by=recorded_by)
    except DomainError as exc:
        return Outcome(path, "refused", draft, f"{exc.detail} {_missing_summary(draft)}".strip(), exc.errors)
    return Outcome(path, "already present" if result.replayed else "appended", draft, _missing_summary(draft))


def already_present(store: EventStore, draft: Draft) -> str:
    """Why the draft's event is already in its authority's stream, or "" if it is not.

    The document's hash names the event (its event_id), so the same file is
    found whatever publication date was given this time. An event of the same
    kind with the same printed dates, from another copy of the report (the
    bundled history, a text version, a hand-typed entry), is the same event too:
    appending it would double-count an inspection. Retracted events do not count.
    """
    request = draft.request()
    existing = store.get_event(request["event_id"])
    if existing is not None:
        return f"this document is event {existing.event_id} (recorded {existing.recorded_at})"
    occurred = request.get("occurred")
    if not occurred:
        return ""
    for view in resolve(store.read_stream(draft.authority)):
        if view.retraction is None and view.event.kind == request.get("kind") and view.occurred == occurred:
            return (f"event {view.event.event_id} is the same {view.event.kind} with the same dates "
                    f"({_dates(occurred)}), from {view.source.get('file') or view.source.get('title')}")
    return ""


def _dates(occurred: dict) -> str:
    return occurred["start"] if occurred.get("start") == occurred.get("end") else f"{occurred['start']} to {occurred['end']}"


def _missing_summary(draft: Draft) -> str:
    return ("missing: " + ", ".join(draft.missing)) if draft.missing else ""
