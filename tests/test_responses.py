"""The app's response class sends werkzeug's headers without copying them, except where werkzeug fixes some up."""
from __future__ import annotations

import gc
from collections import Counter

import pytest
from flask import after_this_request
from werkzeug.wrappers import Response as WerkzeugResponse

from service.responses import TimelineFlask, TimelineResponse, add_valid, checked


@pytest.fixture
def tiny():
    app = TimelineFlask(__name__)

    @app.get("/moved")
    def moved():
        return TimelineResponse("here", 201, {"Location": "/café/x y"})

    @app.get("/empty")
    def empty():
        return TimelineResponse("ignored", 204)

    @app.get("/unchanged")
    def unchanged():
        return TimelineResponse("body", 304, {"ETag": '"a"', "Content-Type": "text/plain"})

    @app.get("/list")
    def listed():
        response = TimelineResponse([b"ab", b"cde"])
        response.headers.remove("Content-Length")
        return response

    @app.get("/stream")
    def stream():
        return TimelineResponse((part for part in (b"ab", b"cde")))

    @app.get("/later")
    def later():
        @after_this_request
        def mark(response):
            response.headers["X-Later"] = "yes"
            return response
        return TimelineResponse("ok")

    return app


def test_a_status_answer_sends_each_header_once_with_its_length(client):
    response = client.get("/api/authorities/manchester/status?as_of=2015-01-01")
    assert response.status_code == 200
    names = Counter(name.lower() for name, _ in response.headers)
    assert set(names.values()) == {1}, names
    assert {"etag", "cache-control", "vary", "content-security-policy", "x-frame-options",
            "ratelimit-remaining", "content-type", "content-length"} <= set(names)
    assert int(response.headers["Content-Length"]) == len(response.data)


def test_headers_werkzeug_fixes_up_are_still_fixed_up(tiny):
    client = tiny.test_client()
    moved = client.get("/moved")
    assert moved.status_code == 201 and moved.headers["Location"] == "/caf%C3%A9/x%20y"
    assert "Content-Length" not in client.get("/empty").headers
    unchanged = client.get("/unchanged")
    assert unchanged.status_code == 304 and "Content-Type" not in unchanged.headers
    assert unchanged.headers["ETag"] == '"a"'


def test_a_body_without_its_length_gets_one_unless_it_is_streamed(tiny):
    client = tiny.test_client()
    listed = client.get("/list")
    assert listed.data == b"abcde" and listed.headers["Content-Length"] == "5"
    streamed = client.get("/stream")
    assert streamed.data == b"abcde" and "Content-Length" not in streamed.headers


def test_functions_made_for_one_request_are_not_remembered(tiny):
    client = tiny.test_client()
    for _ in range(3):
        assert client.get("/later").headers["X-Later"] == "yes"
    gc.collect()
    remembered = set(tiny._plain)
    assert tiny.view_functions["later"] in remembered
    assert not any(getattr(func, "__name__", "") == "mark" for func in remembered)


def test_pairs_are_checked_once_and_other_responses_check_them_again():
    with pytest.raises(ValueError):
        checked([("X-Bad", "one\r\nSet-Cookie: two")])
    assert checked([("X-Good", 5)]) == (("X-Good", "5"),)
    foreign = WerkzeugResponse("x")  # made by werkzeug (an HTTP error's own response, say), not by the app
    with pytest.raises(ValueError):
        add_valid(foreign, [("X-Bad", "one\nSet-Cookie: two")])
    ours = TimelineResponse("x")
    add_valid(ours, checked([("X-Good", "yes")]))
    assert ours.headers["X-Good"] == "yes"
