"""Recognise a document's format and draft its event.

Each format module offers NAME, LOOKS_FOR (what it recognises, for refusals),
`recognise(document) -> bool` and `parse(document, context) -> Draft`.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from events.importer import committee_report, ilacs, lac2012, monitoring_letter, sif, slac2009
from events.importer.document import Document
from events.importer.draft import Draft, Published, UnrecognisedDocument
from events.registry import Registry

FORMATS = (ilacs, sif, lac2012, slac2009, monitoring_letter, committee_report)


@dataclass(frozen=True)
class Context:
    """What a parser may use beyond the document: the registry and an outside publication date."""

    registry: Registry
    published: Published | None = None


def draft_document(document: Document, context: Context) -> Draft:
    """The draft event for a document; UnrecognisedDocument saying what was looked for."""
    for module in FORMATS:
        if module.recognise(document):
            return module.parse(document, context)
    looked_for = "; ".join(f"{m.NAME}: {m.LOOKS_FOR}" for m in FORMATS)
    raise UnrecognisedDocument(f"{document.name} is not a format the importer reads. It looked for: {looked_for}.")


class PublicationIndex:
    """Publication dates from a sidecar CSV (the shared index.csv's columns: file, publication_date dd/mm/yy)."""

    def __init__(self, rows: dict[str, str], path: str):
        self.rows = rows
        self.path = path

    @classmethod
    def load(cls, path: str | Path) -> "PublicationIndex":
        """Read the index; rows keyed by their `file` column (authority/name.pdf)."""
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = {r["file"]: r["publication_date"] for r in csv.DictReader(handle) if r.get("publication_date")}
        return cls(rows, str(path))

    def published(self, file: Path) -> Published | None:
        """The publication date listed for a file (matched as parent/name), if any."""
        key = f"{file.parent.name}/{file.name}"
        text = self.rows.get(key)
        if not text:
            return None
        try:
            on = datetime.strptime(text, "%d/%m/%y").date()
        except ValueError:
            return None
        return Published(on, f"{Path(self.path).name} row {key}")
