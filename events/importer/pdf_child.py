"""The child process that reads PDFs' text: `python -m events.importer.pdf_child MEMORY_MB`.

It serves one document after another on its pipes, so a folder import pays for
starting Python once, not per file. Each request is a header (8-byte length,
4-byte page limit) and the PDF; each answer an 8-byte length and JSON:
{"pages": [...]} or {"error": code, "detail": text}. The memory cap is set
before PDFium loads, so a hostile document can exhaust only this process;
the parent (events.importer.document) kills it at its time limit.
"""
from __future__ import annotations

import json
import resource
import struct
import sys

REQUEST = struct.Struct(">QI")
ANSWER = struct.Struct(">Q")


def limit_memory(memory_mb: int) -> None:
    """Cap this process's address space."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))


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


def serve(stdin, stdout) -> None:
    """Answer requests until the parent closes the pipe."""
    while len(header := stdin.read(REQUEST.size)) == REQUEST.size:
        size, max_pages = REQUEST.unpack(header)
        answer = json.dumps(extract(stdin.read(size), max_pages)).encode()
        stdout.write(ANSWER.pack(len(answer)) + answer)
        stdout.flush()


def main() -> None:
    """Cap memory, load PDFium, serve."""
    limit_memory(int(sys.argv[1]))
    import pypdfium2  # noqa: F401  (loaded once, under the cap)

    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
