"""The child process that reads a PDF's text: `python -m events.importer.pdf_child MAX_PAGES MEMORY_MB`.

The PDF arrives on stdin; the answer is JSON on stdout: {"pages": [...]} or
{"error": code, "detail": text}. Limits on memory and CPU are set here,
before PDFium is loaded, so a hostile document can exhaust only this process.
The parent (events.importer.document) also kills it at its time limit.
"""
from __future__ import annotations

import json
import resource
import sys


def limit_resources(memory_mb: int, cpu_seconds: int) -> None:
    """Cap this process's address space and CPU time."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))


def extract(data: bytes, max_pages: int) -> dict:
    """Each page's text, or an error code: password, format, pages."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        return {"error": "password" if "password" in str(exc).lower() else "format", "detail": str(exc)}
    try:
        if len(pdf) > max_pages:
            return {"error": "pages", "detail": str(len(pdf))}
        pages = []
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n"))
            textpage.close()
            page.close()
        return {"pages": pages}
    finally:
        pdf.close()


def main() -> None:
    """Read stdin, answer on stdout."""
    max_pages, memory_mb, cpu_seconds = (int(arg) for arg in sys.argv[1:4])
    limit_resources(memory_mb, cpu_seconds)
    data = sys.stdin.buffer.read()
    sys.stdout.write(json.dumps(extract(data, max_pages)))


if __name__ == "__main__":
    main()
