"""Hostile PDFs made in the test run: truncated, password-encrypted, too long, and a decompression bomb."""
from __future__ import annotations

import io
import zlib

from pypdf import PdfWriter


def truncated(real: bytes) -> bytes:
    """The first half of a real report."""
    return real[: len(real) // 2]


def encrypted(real: bytes, password: str = "secret") -> bytes:
    """A real report that opens only with a password."""
    writer = PdfWriter(clone_from=io.BytesIO(real))
    writer.encrypt(password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pages(count: int) -> bytes:
    """A valid PDF of `count` empty pages."""
    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(612, 792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def bomb(inflated_mib: int = 200) -> bytes:
    """A one-page PDF whose FlateDecode content stream inflates to `inflated_mib` MiB of text operators (~1000:1)."""
    line = b"BT /F1 12 Tf 72 712 Td (All work and no play) Tj ET\n"
    block = line * (2**20 // len(line))
    packer = zlib.compressobj(9)
    stream = b"".join(packer.compress(block) for _ in range(inflated_mib)) + packer.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
