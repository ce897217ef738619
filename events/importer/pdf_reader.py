"""Reading a PDF's text in a child process under limits: the parent side of events.importer.pdf_child.

A truncated, encrypted, malformed or decompression-bomb PDF is refused with a
reason (UnreadableDocument) and never hangs or exhausts the caller (a web
worker): PDFium runs in a long-lived child with capped memory, killed at the
time limit and replaced for the next document.
"""
from __future__ import annotations

import json
import os
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


def pdf_pages(data: bytes, name: str, limits: PdfLimits | None = None) -> tuple[str, ...]:
    """The text of each page of a PDF; UnreadableDocument, saying why, if it cannot be read within the limits."""
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
    return tuple(answer["pages"])


def _refusal(name: str, answer: dict, limits: PdfLimits) -> str:
    if answer["error"] == "password":
        return f"{name} is encrypted with a password; send an unprotected copy."
    if answer["error"] == "pages":
        return f"{name} has {answer['detail']} pages; at most {limits.max_pages} are read."
    return f"{name} is not a readable PDF: it is truncated, damaged or not a PDF ({answer['detail'].rstrip('.')})."
