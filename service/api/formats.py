"""List answers as JSON, CSV or NDJSON: content negotiation and streamed rendering.

`?format=` wins over `Accept`; an `Accept` that nothing here satisfies is 406.
CSV and NDJSON are written from generators, row by row, so a long list is never
held in memory as text; the generators use only what they were given (no
request or app context), since they run while the response is being sent. Conditional requests (ETag, 304) are in `caching`.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator

from flask import Response, request
from werkzeug.exceptions import NotAcceptable

from events.tables import Table
from service.api.blueprint import json_response
from service.api.caching import CACHE_DOCS, not_modified, stamp

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv",
    "ndjson": "application/x-ndjson",
}
# Other names clients use for the same formats.
ALIASES = {"application/ndjson": "ndjson", "application/jsonl": "ndjson", "application/csv": "csv"}
FORMAT_NAMES = tuple(MEDIA_TYPES)
# Rows are sent in chunks of about this size: one write per row would cost a system call (and an HTTP chunk) each.
CHUNK_CHARS = 64 * 1024


def negotiate(requested: str | None) -> str:
    """The format to answer in: `?format=` if given, else the best match for Accept (JSON by default)."""
    if requested:
        return requested
    accept = request.accept_mimetypes
    if not accept:
        return "json"
    offers = list(MEDIA_TYPES.values()) + list(ALIASES)
    best = accept.best_match(offers)
    if best is None:
        raise NotAcceptable(
            f"This list is available as {', '.join(MEDIA_TYPES.values())} (or ?format={'|'.join(FORMAT_NAMES)}); "
            f"the Accept header {request.headers.get('Accept')!r} allows none of them.")
    return ALIASES.get(best) or next(name for name, media in MEDIA_TYPES.items() if media == best)


def answer(fmt: str, etag: str, *, json_body: Callable[[], object], table: Table,
           items: Callable[[], Iterable[dict]], headers: dict | None = None) -> Response:
    """304 if the client's ETag still stands; else the list in `fmt`, with its ETag and caching headers."""
    return not_modified(etag) or stamp(list_response(fmt, json_body=json_body, table=table, items=items,
                                                     headers=headers), etag)


def list_response(fmt: str, *, json_body: Callable[[], object], table: Table, items: Callable[[], Iterable[dict]],
                  headers: dict | None = None) -> Response:
    """The answer in `fmt`: the JSON document, or the list's items streamed as CSV rows or NDJSON lines."""
    if fmt == "json":
        response = json_response(json_body())
    elif fmt == "csv":
        response = Response(csv_lines(table, items()),
                            content_type="text/csv; charset=utf-8; header=present")
        response.headers["Content-Disposition"] = f'inline; filename="{table.name}.csv"'
    else:
        response = Response(ndjson_lines(items()), content_type="application/x-ndjson")
    response.headers.update(headers or {})
    return response


def csv_lines(table: Table, items: Iterable[dict]) -> Iterator[str]:
    """The header row, then one CSV row per item (RFC 4180: CRLF line ends, quoted as needed), in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.header)
    for row in table.rows(items):
        writer.writerow(row)
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def ndjson_lines(items: Iterable[dict]) -> Iterator[str]:
    """One compact JSON object per line, in chunks (plain json: this runs after the request's context is gone)."""
    lines: list[str] = []
    size = 0
    for item in items:
        line = json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
        lines.append(line)
        size += len(line)
        if size >= CHUNK_CHARS:
            yield "".join(lines)
            lines, size = [], 0
    if lines:
        yield "".join(lines)


def format_docs(table: Table, item_schema: str, json_schema: str, many: bool = False) -> dict:
    """OpenAPI `responses` for a list: JSON, CSV (with its columns in order) and NDJSON, plus 304 and 406."""
    ref = {"$ref": f"#/components/schemas/{json_schema}"}
    csv_text = (f"CSV with a header row; columns in this order (stable; new columns are only ever added at the end):\n\n"
                f"{table.describe()}")
    return {
        "200": {
            "description": "The list. `?format=json|csv|ndjson` or the Accept header chooses the format.\n\n" + csv_text,
            "headers": CACHE_DOCS,
            "content": {
                "application/json": {"schema": {"type": "array", "items": ref} if many else ref},
                "text/csv": {"schema": {"type": "string", "description": csv_text},
                             "example": ",".join(table.header) + "\r\n"},
                "application/x-ndjson": {"schema": {"type": "string", "description":
                                                    f"one JSON object per line, each a {item_schema}"}},
            },
        },
        "304": {"description": "Not Modified: the ETag given in If-None-Match still stands", "headers": CACHE_DOCS},
        "406": {"description": "Not Acceptable: the Accept header allows none of JSON, CSV or NDJSON",
                "content": {"application/problem+json": {"schema": "Problem"}}},
    }
