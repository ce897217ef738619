"""A draft event: the append request, where each field came from, and what is missing."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from events.errors import UnrecognisedDocument  # noqa: F401  (re-exported for format modules)
from events.importer.document import Document, Found
from events.registry import Authority, Registry

# Documents are identified by their hash: the same file always drafts the same event_id.
DOCUMENT_NAMESPACE = uuid.UUID("0e5b1f3c-3d4e-4f6a-9b8c-2a1d7e6f5c40")


@dataclass(frozen=True)
class Published:
    """A publication date given from outside the document, and where it came from."""

    on: date
    source: str  # e.g. "--published option" or "index.csv row dorset/2025-05-09.pdf"


@dataclass
class Draft:
    """An append request drafted from a document, with evidence for every field."""

    document: Document
    format: str
    authority: str | None = None
    event: dict = field(default_factory=dict)
    evidence: dict[str, dict] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def set(self, path: str, value, found: Found | None = None, note: str | None = None) -> None:
        """Set a field by dotted path ("payload.lead_inspector") and record where it came from."""
        target = self.event
        *parents, last = path.split(".")
        for name in parents:
            target = target.setdefault(name, {})
        target[last] = value
        self.evidence[path] = {"page": found.page if found else None, "quote": found.quote if found else None,
                               **({"note": note} if note else {})}

    def cite(self, path: str, found: Found | None, note: str | None = None) -> None:
        """Record evidence for a field set as part of a larger value (a judgement in a list)."""
        self.evidence[path] = {"page": found.page if found else None, "quote": found.quote if found else None,
                               **({"note": note} if note else {})}

    def lack(self, path: str, looked_for: str) -> None:
        """Report a field as not found, saying what was looked for."""
        self.missing[path] = looked_for

    @property
    def complete(self) -> bool:
        """True when nothing required was missing."""
        return not self.missing

    def request(self) -> dict:
        """The append request: event_id from the document's hash, source naming the document."""
        source = {"title": self.event.get("source", {}).get("title") or self.document.name,
                  "file": self.document.name, "sha256": self.document.sha256,
                  **{k: v for k, v in self.event.get("source", {}).items() if k != "title"}}
        return {"event_id": str(uuid.uuid5(DOCUMENT_NAMESPACE, self.document.sha256)),
                **{k: v for k, v in self.event.items() if k != "source"}, "source": source}

    def to_dict(self) -> dict:
        """The draft as JSON: the request, its authority, evidence per field, and what is missing."""
        return {"format": self.format, "authority": self.authority, "document": {
                    "name": self.document.name, "sha256": self.document.sha256, "pages": len(self.document.pages)},
                "event": self.request(), "evidence": self.evidence, "missing": self.missing}


def match_authority(draft: Draft, registry: Registry, name: str, found: Found | None) -> Authority | None:
    """Set the draft's authority from a printed name, or report it missing."""
    authority, how = registry.match_printed(name)
    if authority is None:
        draft.lack("authority", how)
        return None
    draft.authority = authority.slug
    draft.cite("authority", found, note=how)
    return authority
