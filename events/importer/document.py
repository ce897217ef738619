"""Documents as text, page by page, with their hash: the only place that reads PDFs.

pypdfium2 (PDFium) gives the text layer: it is the fastest extractor we
measured and keeps reading order on Ofsted's layouts (see issue 3's note).
It runs in a child process (events.importer.pdf_child) under limits.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from events.errors import UnreadableDocument
from events.importer.pdf_child import ANSWER, REQUEST

MAX_PAGES = 400
_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
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


@dataclass(frozen=True)
class PdfLimits:
    """How much a PDF may cost to read: pages, seconds of wall time, MiB of address space."""

    max_pages: int = MAX_PAGES
    seconds: float = 15.0
    memory_mb: int = 768

    @classmethod
    def from_env(cls) -> "PdfLimits":
        """The defaults, or TIMELINE_PDF_SECONDS / TIMELINE_PDF_MEMORY_MB / TIMELINE_PDF_MAX_PAGES."""
        env = os.environ
        return cls(int(env.get("TIMELINE_PDF_MAX_PAGES", MAX_PAGES)), float(env.get("TIMELINE_PDF_SECONDS", 15)),
                   int(env.get("TIMELINE_PDF_MEMORY_MB", 768)))


class _PdfChild:
    """One long-lived reader process per process that reads PDFs, started on first use, replaced when killed.

    A lock makes threads take turns: a document's time limit starts once its turn comes.
    """

    def __init__(self):
        self._process: subprocess.Popen | None = None
        self._memory_mb = 0
        self._lock = threading.Lock()

    def read(self, data: bytes, limits: PdfLimits) -> dict | str:
        """The child's answer for one PDF, or "timeout" or "died"."""
        with self._lock:
            process = self._started(limits.memory_mb)
            deadline = time.monotonic() + limits.seconds
            try:
                process.stdin.write(REQUEST.pack(len(data), limits.max_pages) + data)
                process.stdin.flush()
                size = ANSWER.unpack(self._read(process, ANSWER.size, deadline))[0]
                return json.loads(self._read(process, size, deadline))
            except (BrokenPipeError, EOFError):
                self._stop()
                return "died"
            except TimeoutError:
                self._stop()
                return "timeout"

    def _started(self, memory_mb: int) -> subprocess.Popen:
        if self._process is not None and (self._process.poll() is not None or self._memory_mb != memory_mb):
            self._stop()
        if self._process is None:
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_PROJECT_ROOT, os.environ.get("PYTHONPATH")])))
            self._process = subprocess.Popen(
                [sys.executable, "-m", "events.importer.pdf_child", str(memory_mb)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0, env=env)
            self._memory_mb = memory_mb
        return self._process

    @staticmethod
    def _read(process: subprocess.Popen, size: int, deadline: float) -> bytes:
        chunks, fd = [], process.stdout.fileno()
        while size > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(size, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process.stdin.close()
            self._process.stdout.close()
            self._process = None


_CHILD = _PdfChild()


def read_pdf(data: bytes, name: str, limits: PdfLimits | None = None) -> Document:
    """Text of every page of a PDF; UnreadableDocument if it cannot be read within the limits.

    PDFium runs in a child process with capped memory, killed at the time
    limit: a truncated, encrypted, malformed or decompression-bomb PDF is
    refused with a reason and never hangs or exhausts the caller (a web worker).
    """
    limits = limits or PdfLimits.from_env()
    answer = _CHILD.read(data, limits)
    if answer == "timeout":
        raise UnreadableDocument(f"{name} took longer than {limits.seconds:g} s to read and was abandoned "
                                 "(a decompression bomb or a pathologically complex PDF).")
    if answer == "died":
        raise UnreadableDocument(f"{name} could not be read within {limits.memory_mb} MiB of memory "
                                 "(a decompression bomb or a damaged PDF).")
    if "error" in answer:
        raise UnreadableDocument(_refusal(name, answer, limits))
    return Document(name, hashlib.sha256(data).hexdigest(), tuple(answer["pages"]), "pdf")


def _refusal(name: str, answer: dict, limits: PdfLimits) -> str:
    if answer["error"] == "password":
        return f"{name} is encrypted with a password; send an unprotected copy."
    if answer["error"] == "pages":
        return f"{name} has {answer['detail']} pages; at most {limits.max_pages} are read."
    return f"{name} is not a readable PDF: it is truncated, damaged or not a PDF ({answer['detail'].rstrip('.')})."


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
