"""Documents as text, page by page, with their hash: the only place that reads PDFs.

pypdfium2 (PDFium) gives the text layer: it is the fastest extractor we
measured and keeps reading order on Ofsted's layouts (see issue 3's note).
It runs in a child process under limits (events.importer.pdf_reader).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from events.errors import UnreadableDocument
from events.importer.pdf_reader import PdfLimits, pdf_pages
_SPACES = re.compile(r"[ \t\u00a0]+")


@dataclass(frozen=True)
class Found:
    """A match in a document: its page (1-based), the text quoted and the regex match."""

    page: int | None
    quote: str
    match: re.Match


@dataclass(frozen=True)
class Document:
    """A document's text per page (one page for plain text), its name and SHA-256."""

    name: str
    sha256: str
    pages: tuple[str, ...]
    kind: str  # "pdf" or "text"

    @property
    def text(self) -> str:
        """All pages joined, for format recognition."""
        return "\n".join(self.pages)

    def page_number(self, index: int) -> int | None:
        """The page number to cite for a 0-based page index (None for plain text)."""
        return index + 1 if self.kind == "pdf" else None

    def search(self, pattern: str | re.Pattern, flags: int = 0, pages: range | None = None) -> Found | None:
        """The first match of a pattern, searching page by page (so a quote can cite its page)."""
        compiled = re.compile(pattern, flags) if isinstance(pattern, str) else pattern
        for index in pages or range(len(self.pages)):
            if index >= len(self.pages):
                break
            match = compiled.search(self.pages[index])
            if match:
                return Found(self.page_number(index), squash(match.group(0)), match)
        return None

    def search_all(self, pattern: str | re.Pattern, flags: int = 0) -> list[Found]:
        """Every match of a pattern, in page order."""
        compiled = re.compile(pattern, flags) if isinstance(pattern, str) else pattern
        return [Found(self.page_number(i), squash(m.group(0)), m)
                for i, page in enumerate(self.pages) for m in compiled.finditer(page)]


def squash(text: str) -> str:
    """Whitespace folded to single spaces, for quotes and comparisons."""
    return _SPACES.sub(" ", re.sub(r"\s*\n\s*", " ", text)).strip()


def read_pdf(data: bytes, name: str, limits: PdfLimits | None = None) -> Document:
    """Text of every page of a PDF, read under limits; UnreadableDocument if it cannot be read."""
    return Document(name, hashlib.sha256(data).hexdigest(), pdf_pages(data, name, limits), "pdf")


def read_text(data: bytes, name: str) -> Document:
    """A plain-text (or Markdown) document, as one page; form feeds split pages.

    Line ends become LF whatever the file used, so that every parser's
    line-anchored patterns hold for Windows-saved papers too."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableDocument(f"{name} is neither a PDF nor UTF-8 text.") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    pages = tuple(text.split("\f")) if "\f" in text else (text,)
    return Document(name, hashlib.sha256(data).hexdigest(), pages, "pdf" if len(pages) > 1 else "text")


def read_bytes(data: bytes, name: str) -> Document:
    """A PDF or text document, told apart by its first bytes."""
    return read_pdf(data, name) if data[:5] == b"%PDF-" else read_text(data, name)


def read_path(path: str | Path) -> Document:
    """A document from a file."""
    path = Path(path)
    return read_bytes(path.read_bytes(), path.name)
