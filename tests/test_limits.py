"""Request limits: body size, JSON depth, string and list lengths, and hostile PDFs refused within a time limit."""
from __future__ import annotations

import json
import time

import pytest

from conftest import SHARED, monitoring_visit
from events.errors import UnreadableDocument
from events.importer.document import read_path, read_pdf
from events.importer.pdf_reader import PdfLimits
from events.schemas import MAX_URL_LENGTH
from hostile_pdfs import blank_pages, bomb, encrypted, truncated
from service.api.requests import MAX_JSON_DEPTH

EVENTS = "/api/authorities/manchester/events"
REAL = SHARED / "reports" / "ofsted" / "dorset" / "2025-05-09.pdf"
SECONDS = 4.0  # the tests' PDF time limit; the default is 15 s


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def nested(depth: int) -> object:
    """A JSON value with `depth` levels of containers."""
    value: object = "deep"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


# -- body size and JSON depth ------------------------------------------------------

def test_a_body_over_the_limit_is_a_413_problem(client, auth):
    data = json.dumps(monitoring_visit(source={"title": "x" * (1024 * 1024)}))
    body = problem(client.post(EVENTS, data=data, content_type="application/json", headers=auth), 413)
    assert body["title"] == "Request Entity Too Large"


def test_an_upload_over_20_mib_is_a_413_problem(client):
    response = client.post("/api/drafts", data=b"%PDF-" + b"0" * (20 * 2**20), content_type="application/pdf")
    assert problem(response, 413)["detail"]


def test_json_nested_too_deep_is_refused_naming_where(client, auth, seeded_store):
    body = monitoring_visit()
    body["payload"]["findings"][0]["text"] = nested(MAX_JSON_DEPTH)
    refused = problem(client.post(EVENTS, json=body, headers=auth), 400)
    assert refused["errors"][0]["field"].startswith("payload.findings.0.text")
    assert f"more than {MAX_JSON_DEPTH} levels" in refused["errors"][0]["reason"]
    assert seeded_store.stream_version("manchester") == 17


def test_json_within_the_depth_is_judged_on_its_content(client, auth):
    body = monitoring_visit()
    body["payload"]["findings"][0]["text"] = nested(MAX_JSON_DEPTH - 4)  # 4 levels to reach it: at the limit
    refused = problem(client.post(EVENTS, json=body, headers=auth), 422)
    assert refused["errors"] == [{"field": "payload.findings.0.text", "reason": "Not a valid string."}]


def test_json_too_deep_for_the_parser_is_a_400_not_a_500(client, auth):
    data = "[" * 100_000 + "]" * 100_000
    refused = problem(client.post(EVENTS, data=data, content_type="application/json", headers=auth), 400)
    assert refused["errors"][0]["field"] == "body"


# -- string and list lengths -----------------------------------------------------

@pytest.mark.parametrize("change, field", [
    (lambda b: b["source"].update(url="https://example.org/" + "a" * MAX_URL_LENGTH), "source.url"),
    (lambda b: b["source"].update(title="t" * 501), "source.title"),
    (lambda b: b["payload"]["findings"][0].update(text="f" * 20001), "payload.findings.0.text"),
    (lambda b: b["payload"].update(inspectors=["I"] * 101), "payload.inspectors"),
    (lambda b: b["payload"].update(inspectors=["I" * 201]), "payload.inspectors.0"),
    (lambda b: b["payload"].update(findings=[{"text": "t", "direction": "progress"}] * 501), "payload.findings"),
])
def test_overlong_strings_and_lists_are_422_naming_the_field(client, auth, change, field):
    body = monitoring_visit()
    change(body)
    refused = problem(client.post(EVENTS, json=body, headers=auth), 422)
    assert [e["field"] for e in refused["errors"]] == [field]
    assert "onger than" in refused["errors"][0]["reason"] or "Length must be" in refused["errors"][0]["reason"]


def test_committee_lists_are_bounded(client, auth):
    body = monitoring_visit(kind="committee_response", effective_on="2026-10-15", occurred=None,
                            payload={"body": "Scrutiny", "title": "Response",
                                     "action_items": [{"text": "do", "addresses": ["x" * 201]}]})
    del body["occurred"]
    refused = problem(client.post(EVENTS, json=body, headers=auth), 422)
    assert [e["field"] for e in refused["errors"]] == ["payload.action_items.0.addresses.0"]


# -- hostile PDFs ------------------------------------------------------------------

@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setenv("TIMELINE_PDF_SECONDS", str(SECONDS))


def draft(client, data: bytes):
    started = time.monotonic()
    response = client.post("/api/drafts", data=data, content_type="application/pdf")
    return response, time.monotonic() - started


@pytest.mark.parametrize("make, reason", [
    (lambda real: truncated(real), "truncated, damaged or not a PDF"),
    (lambda real: b"%PDF-1.7\n" + b"\x00garbage" * 1000, "truncated, damaged or not a PDF"),
    (lambda real: encrypted(real), "encrypted with a password"),
    (lambda real: blank_pages(401), "has 401 pages; at most 400"),
])
def test_unreadable_pdfs_are_refused_with_the_reason(client, quick, make, reason):
    response, _ = draft(client, make(REAL.read_bytes()))
    body = problem(response, 422)
    assert body["type"].endswith("/unreadable-document")
    assert reason in body["detail"]


def test_a_decompression_bomb_is_refused_within_the_time_limit(client, quick):
    response, seconds = draft(client, bomb(200))
    body = problem(response, 422)
    assert "decompression bomb" in body["detail"]
    assert seconds < SECONDS + 3


def test_a_bomb_over_the_memory_limit_is_refused_quickly(tmp_path):
    path = tmp_path / "bomb.pdf"
    path.write_bytes(bomb(300))
    started = time.monotonic()
    with pytest.raises(UnreadableDocument, match="within 256 MiB of memory"):
        read_pdf(path.read_bytes(), path.name, PdfLimits(memory_mb=256, seconds=30))
    assert time.monotonic() - started < 20
    assert read_path(REAL).pages[0]  # the killed reader is replaced for the next document


def test_the_cli_importer_reads_through_the_same_guard(tmp_path, quick):
    path = tmp_path / "locked.pdf"
    path.write_bytes(encrypted(REAL.read_bytes()))
    with pytest.raises(UnreadableDocument, match="encrypted with a password"):
        read_path(path)
    assert read_path(REAL).pages[0]  # and a real report still reads


def test_a_pdf_with_a_blank_user_password_still_reads(client, quick):
    readable = encrypted(REAL.read_bytes(), password="")
    assert len(read_pdf(readable, "open.pdf").pages) == len(read_path(REAL).pages)
