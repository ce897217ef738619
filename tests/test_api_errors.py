"""Every error path of the JSON API, through the Flask test client.

Every error is RFC 9457 problem details (`application/problem+json` with type,
title, status, detail and instance) and, where fields are at fault, an `errors`
list of {field, reason} naming each bad field. Refused writes must leave the
store exactly as it was. The seeded Manchester stream is at version 17.
"""
from __future__ import annotations

import base64
import json
import logging
import re
import uuid
from datetime import datetime
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest

from conftest import monitoring_visit
from service.app import MAX_BODY_BYTES, create_app
from service.auth import new_token

EVENTS = "/api/authorities/manchester/events"
SEEDED_VERSION = 17
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


# -- helpers ----------------------------------------------------------------

def problem_of(response, status: int, fields: list[str] | None = None) -> dict:
    """Assert `response` is an RFC 9457 problem with this status; with `fields`, exactly those field errors."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_data(as_text=True))
    assert PROBLEM_KEYS <= body.keys(), body
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["instance"] == urlsplit(response.request.url).path
    if fields is not None:
        errors = body.get("errors")
        assert isinstance(errors, list) and errors, body
        for error in errors:
            assert set(error) == {"field", "reason"}, error
            assert isinstance(error["reason"], str) and error["reason"]
        assert sorted(e["field"] for e in errors) == sorted(fields), errors
    return body


def snapshot(client, store) -> tuple[int, list[str]]:
    """What is stored: Manchester's stream version and every event id in the global feed."""
    feed = client.get("/api/events?limit=1000")
    assert feed.status_code == 200
    return store.stream_version("manchester"), [e["event_id"] for e in feed.get_json()["events"]]


@pytest.fixture
def before(client, seeded_store):
    """The store as seeded, to compare against after a refused request."""
    state = snapshot(client, seeded_store)
    assert state[0] == SEEDED_VERSION and len(state[1]) == SEEDED_VERSION
    return state


def inspection(framework: str, judgements: list[dict], **payload) -> dict:
    """A graded inspection append request (fieldwork in January 2016, published in March)."""
    return {
        "kind": "inspection",
        "effective_on": "2016-03-01",
        "occurred": {"start": "2016-01-11", "end": "2016-02-01"},
        "payload": {"framework": framework, "judgements": judgements, **payload},
        "source": {"title": "Inspection report"},
    }


def seeded_event(client, kind: str) -> dict:
    """The first seeded Manchester event of a kind."""
    return next(e for e in client.get("/api/events?limit=1000").get_json()["events"] if e["kind"] == kind)


# -- success path (the issue's example) -------------------------------------

def test_issue_example_appends_then_replays_with_the_same_key(client, auth, seeded_store, before):
    body = monitoring_visit(expected_version=SEEDED_VERSION)
    headers = {**auth, "Idempotency-Key": "mv-2026-10-15"}

    first = client.post(EVENTS, json=body, headers=headers)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.mimetype == "application/json"
    assert "Idempotent-Replayed" not in first.headers
    event = first.get_json()
    uuid.UUID(event["event_id"])
    assert urlsplit(first.headers["Location"]).path == f"/api/events/{event['event_id']}"
    assert event["authority"] == "manchester"
    assert event["version"] == SEEDED_VERSION + 1
    assert isinstance(event["position"], int) and event["position"] > len(before[1])
    assert event["recorded_by"] == "tester"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", event["recorded_at"])
    datetime.fromisoformat(event["recorded_at"].replace("Z", "+00:00"))
    assert event["payload"] == body["payload"] and event["occurred"] == body["occurred"]
    assert seeded_store.stream_version("manchester") == SEEDED_VERSION + 1

    # The Location is where the event can be read.
    fetched = client.get(first.headers["Location"])
    assert fetched.status_code == 200
    assert fetched.get_json()["event_id"] == event["event_id"]

    retry = client.post(EVENTS, json=body, headers=headers)
    assert retry.status_code == 201
    assert retry.headers.get("Idempotent-Replayed") == "true"
    again = retry.get_json()
    assert again["event_id"] == event["event_id"]
    assert (again["version"], again["position"], again["recorded_at"]) == (
        event["version"], event["position"], event["recorded_at"])
    assert urlsplit(retry.headers["Location"]).path == f"/api/events/{event['event_id']}"
    assert seeded_store.stream_version("manchester") == SEEDED_VERSION + 1
    assert snapshot(client, seeded_store)[1] == before[1] + [event["event_id"]]


def test_idempotency_key_of_200_characters_is_accepted(client, auth, seeded_store):
    response = client.post(EVENTS, json=monitoring_visit(), headers={**auth, "Idempotency-Key": "k" * 200})
    assert response.status_code == 201
    assert seeded_store.stream_version("manchester") == SEEDED_VERSION + 1


# -- 400 ------------------------------------------------------------------

@pytest.mark.parametrize("data", ['{"kind": "monitoring_visit",', "{bad json}", ""])
def test_malformed_json_body_is_400(client, auth, seeded_store, before, data):
    response = client.post(EVENTS, data=data, content_type="application/json", headers=auth)
    body = problem_of(response, 400)
    assert "JSON" in body["detail"]
    assert snapshot(client, seeded_store) == before


@pytest.mark.parametrize("data", ["null", "[]", '"event"', "17"])
def test_json_that_is_not_an_object_is_422_naming_the_body(client, auth, seeded_store, before, data):
    response = client.post(EVENTS, data=data, content_type="application/json", headers=auth)
    problem_of(response, 422, ["body"])
    assert snapshot(client, seeded_store) == before


def test_domain_problem_types_are_documented_where_they_point(client, auth):
    body = client.post(EVENTS, json=monitoring_visit(expected_version=3), headers=auth).get_json()
    assert body["type"] == "http://localhost/api/problems/version-conflict"
    documented = client.get(urlsplit(body["type"]).path).get_json()
    assert (documented["status"], documented["title"]) == (409, body["title"])
    assert {p["type"].rsplit("/", 1)[1] for p in client.get("/api/problems").get_json()} >= {
        "invalid-event", "unknown-authority", "unknown-event", "version-conflict", "idempotency-key-reused",
        "event-id-reused"}


@pytest.mark.parametrize(("url", "field"), [
    ("/api/authorities/manchester/status?as_of=2015-13-45", "as_of"),
    ("/api/authorities/manchester/status?as_of=2015-01", "as_of"),
    ("/api/authorities/manchester/status?as_of=", "as_of"),
    ("/api/authorities/manchester/status?known_at=garbage", "known_at"),
    ("/api/authorities/manchester/status?known_at=2018-02-30", "known_at"),
    ("/api/authorities/manchester/timeline?limit=0", "limit"),
    ("/api/authorities/manchester/timeline?limit=1001", "limit"),
    ("/api/authorities/manchester/timeline?from=2015-02-30", "from"),
    ("/api/authorities/manchester/timeline?include_predecessors=maybe", "include_predecessors"),
    ("/api/authorities/manchester/timeline?kind=bogus", "kind.0"),
    ("/api/authorities/manchester/timeline?kind=inspection&kind=bogus", "kind.1"),
    ("/api/authorities/manchester/concerns?state=bogus", "state"),
    ("/api/authorities/manchester/concerns?as_of=yesterday", "as_of"),
    ("/api/authorities/manchester/judgements?as_of=2015-13-45", "as_of"),
    ("/api/events/00000000-0000-4000-8000-000000000000?known_at=garbage", "known_at"),
    ("/api/events?after=-1", "after"),
    ("/api/events?limit=0", "limit"),
    ("/api/authorities?grade=5", "grade"),
    ("/api/authorities?regime=bogus", "regime"),
    ("/api/status?as_of=2015-13-45", "as_of"),
])
def test_bad_query_parameter_is_400_naming_it(client, url, field):
    body = problem_of(client.get(url), 400, [field])
    assert body["title"] == "Bad Request"


def test_two_bad_query_parameters_are_both_named(client):
    problem_of(client.get("/api/authorities/manchester/concerns?as_of=2015-13-45&state=bogus"), 400,
               ["as_of", "state"])


@pytest.mark.parametrize("cursor", ["!!!notacursor", "abc", "bm90IGpzb24"])  # the last is base64 of "not json"
def test_invalid_cursor_is_400_naming_it(client, cursor):
    problem_of(client.get(f"/api/authorities/manchester/timeline?cursor={cursor}"), 400, ["cursor"])


def test_a_cursor_the_service_gave_out_works(client):
    first = client.get("/api/authorities/manchester/timeline?limit=5")
    cursor = first.get_json()["next_cursor"]
    assert cursor
    second = client.get(f"/api/authorities/manchester/timeline?limit=5&cursor={cursor}")
    assert second.status_code == 200
    ids = [e["event_id"] for e in first.get_json()["events"] + second.get_json()["events"]]
    assert len(ids) == len(set(ids)) == 10


@pytest.mark.parametrize("decoded", ["5", "null", '"x"', "[1]", '{"a": 1}', "[null, null]"])
def test_cursor_of_the_wrong_shape_is_400_not_500(client, decoded):
    cursor = base64.urlsafe_b64encode(decoded.encode()).decode().rstrip("=")
    problem_of(client.get(f"/api/authorities/manchester/timeline?cursor={cursor}"), 400, ["cursor"])


@pytest.mark.parametrize("url", ["/api/authorities/manchester/status?asof=2015-01-01",
                                 "/api/authorities/manchester/concerns?asof=2015-01-01",
                                 "/api/events?afterr=3"])
def test_unknown_query_parameter_is_400_naming_it(client, url):
    name = urlsplit(url).query.split("=")[0]
    problem_of(client.get(url), 400, [name])


@pytest.mark.parametrize("key", ["k" * 201, "k" * 5000, ""])
def test_idempotency_key_of_wrong_length_is_400(client, auth, seeded_store, before, key):
    response = client.post(EVENTS, json=monitoring_visit(), headers={**auth, "Idempotency-Key": key})
    body = problem_of(response, 400)
    assert "Idempotency-Key" in body["detail"]
    assert snapshot(client, seeded_store) == before


def test_idempotency_key_too_long_names_the_header(client, auth):
    response = client.post(EVENTS, json=monitoring_visit(), headers={**auth, "Idempotency-Key": "k" * 201})
    problem_of(response, 400, ["Idempotency-Key"])


# -- 401 / 403 -------------------------------------------------------------

def _assert_401(response) -> dict:
    body = problem_of(response, 401)
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
    return body


def test_no_authorization_header_is_401_with_challenge(client, seeded_store, before):
    body = _assert_401(client.post(EVENTS, json=monitoring_visit()))
    assert "Bearer" in body["detail"]
    assert snapshot(client, seeded_store) == before


@pytest.mark.parametrize("header", ["Basic dGVzdGVyOnNlY3JldA==", "Token abc", "Bearer", "Bearer    "])
def test_wrong_scheme_or_empty_token_is_401(client, token, seeded_store, before, header):
    _assert_401(client.post(EVENTS, json=monitoring_visit(), headers={"Authorization": header}))
    assert snapshot(client, seeded_store) == before


def test_token_value_under_another_scheme_is_401(client, token, seeded_store, before):
    _assert_401(client.post(EVENTS, json=monitoring_visit(), headers={"Authorization": f"Basic {token}"}))
    assert snapshot(client, seeded_store) == before


def test_unknown_token_is_401(client, token, seeded_store, before):
    forged = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    _assert_401(client.post(EVENTS, json=monitoring_visit(), headers={"Authorization": f"Bearer {forged}"}))
    _assert_401(client.post(EVENTS, json=monitoring_visit(), headers={"Authorization": "Bearer cst_unknown"}))
    assert snapshot(client, seeded_store) == before


def test_revoked_token_is_401(client, auth, seeded_store, before):
    # Before revocation the token gets past authentication (to validation: 422, nothing stored).
    problem_of(client.post(EVENTS, json=monitoring_visit(colour="red"), headers=auth), 422, ["colour"])
    assert seeded_store.revoke_token("tester")
    body = _assert_401(client.post(EVENTS, json=monitoring_visit(), headers=auth))
    assert "revoked" in body["detail"]
    assert snapshot(client, seeded_store) == before


def test_token_limited_to_another_authority_is_403(client, seeded_store, before):
    kent_only = new_token(seeded_store, "kent-only", ["kent"])
    headers = {"Authorization": f"Bearer {kent_only}"}
    body = problem_of(client.post(EVENTS, json=monitoring_visit(), headers=headers), 403)
    assert "kent-only" in body["detail"] and "manchester" in body["detail"]
    assert snapshot(client, seeded_store) == before
    # The same token may append where it is allowed to.
    allowed = client.post("/api/authorities/kent/events", json=monitoring_visit(), headers=headers)
    assert allowed.status_code == 201
    assert allowed.get_json()["recorded_by"] == "kent-only"
    assert seeded_store.stream_version("manchester") == SEEDED_VERSION


# -- 404 ------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/api/authorities/atlantis"),
    ("GET", "/api/authorities/atlantis/status"),
    ("GET", "/api/authorities/atlantis/status?as_of=2015-01-01"),
    ("GET", "/api/authorities/atlantis/timeline"),
    ("GET", "/api/authorities/atlantis/concerns"),
    ("GET", "/api/authorities/atlantis/judgements"),
    ("POST", "/api/authorities/atlantis/events"),
])
def test_unknown_authority_is_404_naming_the_slug(client, auth, seeded_store, before, method, path):
    response = client.open(path, method=method, json=monitoring_visit() if method == "POST" else None,
                           headers=auth)
    body = problem_of(response, 404)
    assert "atlantis" in body["detail"]
    assert snapshot(client, seeded_store) == before


def test_known_authority_paths_are_found(client):
    for suffix in ("", "/status", "/timeline", "/concerns", "/judgements"):
        assert client.get(f"/api/authorities/manchester{suffix}").status_code == 200, suffix


def test_unknown_event_id_is_404_naming_it(client):
    event_id = str(uuid.uuid4())
    body = problem_of(client.get(f"/api/events/{event_id}"), 404)
    assert event_id in body["detail"]


def test_event_not_yet_recorded_at_known_at_is_404(client):
    event = seeded_event(client, "inspection")
    assert client.get(f"/api/events/{event['event_id']}").status_code == 200
    problem_of(client.get(f"/api/events/{event['event_id']}?known_at=2000-01-01"), 404)


@pytest.mark.parametrize("path", ["/api/nowhere", "/api/events/not-a-uuid", "/api/authorities/manchester/nothing",
                                  "/nowhere"])
def test_unknown_path_is_404(client, path):
    # Outside /api/ a browser gets an HTML page (tests/test_pages.py); a client asking for JSON, a problem.
    problem_of(client.get(path, headers={"Accept": "application/json"}), 404)


# -- 405 ------------------------------------------------------------------

@pytest.mark.parametrize("method,path,allowed", [
    ("DELETE", EVENTS, "POST"),
    ("PUT", EVENTS, "POST"),
    ("GET", EVENTS, "POST"),
    ("PUT", "/api/authorities/manchester/status", "GET"),
    ("POST", "/api/authorities/manchester/status", "GET"),
    ("DELETE", "/api/authorities/manchester", "GET"),
    ("POST", "/api/events", "GET"),
])
def test_wrong_method_is_405_with_allow(client, auth, seeded_store, before, method, path, allowed):
    response = client.open(path, method=method, headers=auth)
    problem_of(response, 405)
    methods = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed in methods and method not in methods
    assert snapshot(client, seeded_store) == before


def test_events_cannot_be_deleted_or_replaced(client, auth, seeded_store, before):
    event_id = seeded_event(client, "inspection")["event_id"]
    for method in ("DELETE", "PUT", "PATCH"):
        response = client.open(f"/api/events/{event_id}", method=method, json={}, headers=auth)
        problem_of(response, 405)
        assert "GET" in response.headers["Allow"] and method not in response.headers["Allow"]
    assert snapshot(client, seeded_store) == before


# -- 409 ------------------------------------------------------------------

@pytest.mark.parametrize("expected", [3, 0, SEEDED_VERSION + 1, 99])
def test_stale_expected_version_is_409(client, auth, seeded_store, before, expected):
    response = client.post(EVENTS, json=monitoring_visit(expected_version=expected), headers=auth)
    body = problem_of(response, 409, ["expected_version"])
    assert str(expected) in body["detail"] and str(SEEDED_VERSION) in body["detail"]
    assert str(SEEDED_VERSION) in body["errors"][0]["reason"]
    assert seeded_store.stream_version("manchester") == SEEDED_VERSION
    assert snapshot(client, seeded_store) == before


def test_refused_append_does_not_use_up_its_idempotency_key(client, auth, seeded_store):
    headers = {**auth, "Idempotency-Key": "retry-me"}
    problem_of(client.post(EVENTS, json=monitoring_visit(expected_version=3), headers=headers), 409,
               ["expected_version"])
    response = client.post(EVENTS, json=monitoring_visit(expected_version=SEEDED_VERSION), headers=headers)
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert response.get_json()["version"] == SEEDED_VERSION + 1


# -- 413 / 415 ----------------------------------------------------------------

def test_body_over_one_mebibyte_is_413(client, auth, seeded_store, before):
    body = monitoring_visit()
    body["source"]["note"] = "x" * MAX_BODY_BYTES  # valid JSON, just too big
    data = json.dumps(body)
    assert len(data.encode()) > 1024 * 1024
    problem_of(client.post(EVENTS, data=data, content_type="application/json", headers=auth), 413)
    assert snapshot(client, seeded_store) == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_body_that_is_not_json_is_415(client, auth, seeded_store, before, content_type):
    if content_type == "text/plain":
        response = client.post(EVENTS, data=json.dumps(monitoring_visit()), content_type=content_type, headers=auth)
    else:
        response = client.post(EVENTS, data={"kind": "monitoring_visit", "effective_on": "2026-10-15"},
                               content_type=content_type, headers=auth)
    body = problem_of(response, 415)
    assert "application/json" in body["detail"]
    assert snapshot(client, seeded_store) == before


# -- 422 ------------------------------------------------------------------

def _mv_with_payload(**changes) -> dict:
    body = monitoring_visit()
    body["payload"].update(changes)
    return body


def _mv_with_direction(direction: str) -> dict:
    body = monitoring_visit()
    body["payload"]["findings"][0]["direction"] = direction
    return body


INVALID = {
    "unknown envelope field": (monitoring_visit(colour="red"), ["colour"]),
    "unknown payload field": (_mv_with_payload(colour="red"), ["payload.colour"]),
    "missing required envelope fields": ({}, ["kind", "effective_on", "payload", "source"]),
    "body not an object": ([monitoring_visit()], ["body"]),
    "end before start": (monitoring_visit(occurred={"start": "2026-10-01", "end": "2026-09-30"}), ["occurred.end"]),
    "effective_on before fieldwork end": (monitoring_visit(effective_on="2026-09-30"), ["effective_on"]),
    "effective_on not a date": (monitoring_visit(effective_on="15 October 2026"), ["effective_on"]),
    "effective_on not a real date": (monitoring_visit(effective_on="2026-02-30"), ["effective_on"]),
    "sif-2013 Adequate for grade 3": (
        inspection("sif-2013", [{"area": "overall_effectiveness", "label": "Adequate", "grade": 3}]),
        ["payload.judgements.0.label"]),
    "ilacs-2018 Good for grade 3": (
        inspection("ilacs-2018", [{"area": "overall_effectiveness", "label": "Good", "grade": 3}]),
        ["payload.judgements.0.label"]),
    "second judgement mislabelled": (
        inspection("sif-2013", [{"area": "overall_effectiveness", "label": "Good", "grade": 2},
                                {"area": "help_and_protection", "label": "Adequate", "grade": 3}]),
        ["payload.judgements.1.label"]),
    "area not in framework": (
        inspection("ilacs-2018", [{"area": "care_leavers", "label": "Good", "grade": 2}]),
        ["payload.judgements.0.area"]),
    "grade out of range": (
        inspection("ilacs-2018", [{"area": "overall_effectiveness", "label": "Terrible", "grade": 5}]),
        ["payload.judgements.0.grade"]),
    "unknown framework": (
        inspection("ilacs-2099", [{"area": "overall_effectiveness", "label": "Good", "grade": 2}]),
        ["payload.framework"]),
    "unknown kind": (monitoring_visit(kind="party"), ["kind"]),
    "bad direction": (_mv_with_direction("sideways"), ["payload.findings.0.direction"]),
    "negative expected_version": (monitoring_visit(expected_version=-1), ["expected_version"]),
    "unsupported schema_version": (monitoring_visit(schema_version=9), ["schema_version"]),
    "correction of a nonexistent event": (
        {"kind": "correction", "effective_on": "2026-10-20", "source": {"title": "Erratum"},
         "payload": {"target_event_id": "00000000-0000-4000-8000-000000000000",
                     "changes": {"effective_on": "2026-10-16"}, "reason": "typo"}},
        ["payload.target_event_id"]),
    "retraction of a nonexistent event": (
        {"kind": "retraction", "effective_on": "2026-10-20", "source": {"title": "Erratum"},
         "payload": {"target_event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "nothing")), "reason": "wrong"}},
        ["payload.target_event_id"]),
    "concern_update for an unknown concern": (
        {"kind": "concern_update", "effective_on": "2026-10-20", "source": {"title": "Board minutes"},
         "payload": {"concern_id": "no-such-concern", "state": "resolved", "evidence": "done"}},
        ["payload.concern_id"]),
    "committee response to a nonexistent event": (
        {"kind": "committee_response", "effective_on": "2026-10-20", "source": {"title": "Scrutiny report"},
         "payload": {"body": "Scrutiny", "title": "Response", "responds_to": [str(uuid.uuid4())]}},
        ["payload.responds_to.0"]),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_event_is_422_naming_each_field_and_nothing_is_stored(client, auth, seeded_store, before, case):
    body, fields = INVALID[case]
    body = json.loads(json.dumps(body))  # a fresh copy per run
    response = client.post(EVENTS, json=body, headers={**auth, "Idempotency-Key": f"invalid-{case}"})
    problem_of(response, 422, fields)
    assert seeded_store.stream_version("manchester") == SEEDED_VERSION
    assert snapshot(client, seeded_store) == before


@pytest.mark.parametrize("framework,label", [
    ("sif-2013", "Requires improvement to be good"),
    ("ilacs-2018", "Requires improvement"),
])
def test_a_correctly_labelled_grade_3_is_accepted(client, auth, framework, label):
    """The control for the label cases above: the same request, labelled as printed for its era."""
    body = inspection(framework, [{"area": "overall_effectiveness", "label": label, "grade": 3}])
    response = client.post(EVENTS, json=body, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["payload"]["judgements"][0]["label"] == label


def test_adequate_is_accepted_before_2013_frameworks(client, auth):
    body = inspection("cp-2012", [{"area": "overall_effectiveness", "label": "Adequate", "grade": 3}])
    body.update(effective_on="2012-09-01", occurred={"start": "2012-07-02", "end": "2012-07-13"})
    response = client.post(EVENTS, json=body, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_correction_of_another_authoritys_event_is_422(client, auth, seeded_store):
    kent = client.post("/api/authorities/kent/events", json=monitoring_visit(), headers=auth)
    assert kent.status_code == 201
    before = snapshot(client, seeded_store)
    body = {"kind": "correction", "effective_on": "2026-10-20", "source": {"title": "Erratum"},
            "payload": {"target_event_id": kent.get_json()["event_id"],
                        "changes": {"effective_on": "2026-10-16"}, "reason": "typo"}}
    problem_of(client.post(EVENTS, json=body, headers=auth), 422, ["payload.target_event_id"])
    assert snapshot(client, seeded_store) == before


def test_correction_that_makes_the_target_invalid_is_422(client, auth, seeded_store, before):
    target = seeded_event(client, "inspection")  # slac-2009, 2010
    body = {"kind": "correction", "effective_on": "2026-10-20", "source": {"title": "Erratum"},
            "payload": {"target_event_id": target["event_id"], "reason": "wrong area",
                        "changes": {"payload": {"judgements": [{"area": "care_leavers", "label": "Good",
                                                                "grade": 2}]}}}}
    problem_of(client.post(EVENTS, json=body, headers=auth), 422, ["payload.changes.payload.judgements.0.area"])
    assert snapshot(client, seeded_store) == before


@pytest.mark.parametrize("changes", [
    {"effective_on": "2001-01-01"},
    {"occurred": {"start": "2010-11-08", "end": "2011-01-31"}},
])
def test_correction_may_not_date_a_report_before_its_fieldwork(client, auth, seeded_store, before, changes):
    target = seeded_event(client, "inspection")  # fieldwork 8-19 November 2010, published 17 December 2010
    assert (target["occurred"]["end"], target["effective_on"]) == ("2010-11-19", "2010-12-17")
    body = {"kind": "correction", "effective_on": "2026-10-20", "source": {"title": "Erratum"},
            "payload": {"target_event_id": target["event_id"], "reason": "typo", "changes": changes}}
    problem_of(client.post(EVENTS, json=body, headers=auth), 422, ["payload.changes.effective_on"])
    assert snapshot(client, seeded_store) == before


def test_valid_correction_is_accepted(client, auth, seeded_store):
    """The control for the refused corrections: a correction that keeps the event valid is appended."""
    target = seeded_event(client, "inspection")
    body = {"kind": "correction", "effective_on": "2026-10-20", "source": {"title": "Erratum"},
            "payload": {"target_event_id": target["event_id"], "reason": "publication date misread",
                        "changes": {"effective_on": "2010-12-20"}}}
    response = client.post(EVENTS, json=body, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert client.get(f"/api/events/{target['event_id']}").get_json()["effective_on"] == "2010-12-20"


def test_same_idempotency_key_with_a_different_body_is_422(client, auth, seeded_store):
    headers = {**auth, "Idempotency-Key": "once"}
    assert client.post(EVENTS, json=monitoring_visit(), headers=headers).status_code == 201
    before = snapshot(client, seeded_store)
    assert before[0] == SEEDED_VERSION + 1
    response = client.post(EVENTS, json=monitoring_visit(effective_on="2026-10-16"), headers=headers)
    problem_of(response, 422, ["Idempotency-Key"])
    assert "Idempotent-Replayed" not in response.headers
    assert snapshot(client, seeded_store) == before


def test_same_idempotency_key_on_another_authority_is_422(client, auth, seeded_store):
    headers = {**auth, "Idempotency-Key": "once"}
    assert client.post(EVENTS, json=monitoring_visit(), headers=headers).status_code == 201
    response = client.post("/api/authorities/kent/events", json=monitoring_visit(), headers=headers)
    problem_of(response, 422, ["Idempotency-Key"])
    assert seeded_store.stream_version("kent") == 0


def test_same_event_id_with_different_content_is_422(client, auth, seeded_store):
    event_id = str(uuid.uuid4())
    assert client.post(EVENTS, json=monitoring_visit(event_id=event_id), headers=auth).status_code == 201
    before = snapshot(client, seeded_store)
    response = client.post(EVENTS, json=monitoring_visit(event_id=event_id, effective_on="2026-10-16"), headers=auth)
    problem_of(response, 422, ["event_id"])
    assert snapshot(client, seeded_store) == before
    assert client.get(f"/api/events/{event_id}").get_json()["effective_on"] == "2026-10-15"


def test_seeded_event_id_cannot_be_reused(client, auth, seeded_store, before):
    seeded_id = seeded_event(client, "inspection")["event_id"]
    problem_of(client.post(EVENTS, json=monitoring_visit(event_id=seeded_id), headers=auth), 422, ["event_id"])
    assert snapshot(client, seeded_store) == before


@pytest.mark.parametrize("field,value", [
    ("recorded_at", "2000-01-01T00:00:00.000000Z"),
    ("position", 1),
    ("version", 1),
    ("recorded_by", "someone-else"),
    ("authority", "kent"),
])
def test_server_fields_cannot_be_forged(client, auth, seeded_store, before, field, value):
    problem_of(client.post(EVENTS, json=monitoring_visit(**{field: value}), headers=auth), 422, [field])
    assert snapshot(client, seeded_store) == before


def test_all_forged_server_fields_are_named_at_once(client, auth, seeded_store, before):
    body = monitoring_visit(recorded_at="2000-01-01T00:00:00Z", position=1, version=1)
    problem_of(client.post(EVENTS, json=body, headers=auth), 422, ["recorded_at", "position", "version"])
    assert snapshot(client, seeded_store) == before


# -- problem details: RFC 9457 consistency ------------------------------------

def test_about_blank_problems_use_the_http_status_phrase_as_title(client, auth):
    responses = [
        client.get("/api/authorities/atlantis/status"),
        client.post(EVENTS, json=monitoring_visit(expected_version=3), headers=auth),
        client.post(EVENTS, json=monitoring_visit(colour="red"), headers=auth),
    ]
    for response in responses:
        body = response.get_json()
        assert body["status"] >= 400
        if body["type"] == "about:blank":
            assert body["title"] == HTTPStatus(body["status"]).phrase, body
        else:
            assert urlsplit(body["type"]).scheme in ("http", "https"), body


# -- 500 ------------------------------------------------------------------

def test_unusable_database_is_500_without_internals(tmp_path, caplog):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all \x00\xff\x13" * 512)
    app = create_app({"TIMELINE_DATABASE": str(garbage), "TESTING": False})
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        for path in ("/api/authorities/manchester/status", "/api/events", "/api/authorities"):
            response = client.get(path)
            body = problem_of(response, 500)
            text = response.get_data(as_text=True)
            for leak in ("Traceback", "sqlite", "SQLite", "SELECT", "FROM ", "DatabaseError",
                         "not a database", "File \"", ".py", str(garbage)):
                assert leak not in text, (leak, text)
            assert set(body) == PROBLEM_KEYS
    # ... but logged in full for the operator.
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and any("DatabaseError" in type(r.exc_info[1]).__name__ for r in logged)
    # A request that never touches the database still gets its proper answer.
    problem_of(client.get("/api/authorities/atlantis/status"), 404)
