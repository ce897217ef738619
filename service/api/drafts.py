"""Drafts: upload a report (PDF or text) and get back the event it describes, for review."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from events.dates import parse_day
from service.api.blueprint import Blueprint, json_response, services

if TYPE_CHECKING:
    from events.importer.draft import Published

blp = Blueprint("drafts", __name__, url_prefix="/api", description="Draft events from documents")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_TYPES = ("application/pdf", "text/plain", "text/markdown")


def _upload() -> tuple[bytes, str]:
    """The uploaded document: multipart field `file`, or the raw body as PDF or text."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise _bad("file", "attach the document as the multipart field 'file'")
        return upload.read(), upload.filename or "upload"
    if request.mimetype not in UPLOAD_TYPES:
        raise UnsupportedMediaType(f"Upload a PDF or text: multipart/form-data, or a body of {', '.join(UPLOAD_TYPES)}.")
    return request.get_data(), request.headers.get("X-Filename", "upload")


def _bad(field: str, reason: str) -> BadRequest:
    error = BadRequest(f"{field}: {reason}.")
    error.data = {"messages": {"form": {field: [reason]}}}
    return error


def _published() -> Published | None:
    from events.importer.draft import Published

    text = request.args.get("published") or request.form.get("published")
    if not text:
        return None
    try:
        return Published(parse_day(text), "the published parameter of the upload")
    except ValueError as exc:
        raise _bad("published", str(exc)) from None


@blp.route("/drafts", methods=["POST"])
@blp.doc(
    requestBody={"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"},
            "published": {"type": "string", "format": "date",
                          "description": "publication date, for reports that do not print it (ILACS)"}}}},
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        "text/plain": {"schema": {"type": "string"}}}},
    responses={"200": {"description": "the drafted event, evidence per field, and what is missing"},
               **{code: {"description": text, "content": {"application/problem+json": {"schema": "Problem"}}}
                  for code, text in (("400", "no file, or a bad published date"), ("413", "upload over 20 MiB"),
                                     ("415", "not a PDF or text"), ("422", "unreadable or unrecognised document"),
                                     ("429", "over the write rate limit"))}},
)
def post_draft():
    """Draft the event a document describes, with where each field came from; nothing is stored."""
    # The importer is imported on the first draft, not with the app: it is a fifth of every `timeline`
    # command's start-up (the CLI makes the app), and only this endpoint and `timeline import` use it.
    from events.importer.document import read_bytes
    from events.importer.drafting import Context, draft_document
    from events.importer.linking import link_responses

    request.max_content_length = MAX_UPLOAD_BYTES
    data, name = _upload()
    if not data:
        raise _bad("file", "the document is empty")
    svc = services()
    draft = draft_document(read_bytes(data, name), Context(svc.registry, _published()))
    if draft.authority is not None:
        link_responses(draft, svc.store.read_stream(draft.authority))
    return json_response(draft.to_dict())
