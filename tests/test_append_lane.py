"""The append lane: plain appends answered in front of Flask, as Flask answers them, leaving the same rows.

Two apps, each on its own database seeded alike with clocks that read alike, get
the same requests in the same order: one through the lanes, one through Flask
alone. Their answers must match to the byte, and so must what they leave in
the database. Each request also says where it must have been answered: in the
lane, by Flask untouched, or by Flask with the outcome of the lane's append.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
from werkzeug.test import Client, EnvironBuilder

from events.loading import bundled_lines, load_lines
from events.sqlite_store import SQLiteStore
from migrations.migrations import upgrade
from service.api.requests import MAX_JSON_DEPTH
from service.app import MAX_BODY_BYTES, create_app
from service.append_lane import APPEND_BEGUN, AppendBegun, AppendLane
from service.auth import hash_token
from service.status_lane import StatusLane
from tests.conftest import TODAY, StepClock, flask_alone, lane_of, monitoring_visit

NOW = 1_800_000_030.0
EVENTS = "/api/authorities/manchester/events"
TOKENS = {"cst_lane-any": (None, ("append",)), "cst_lane-leeds": (["leeds"], ("append",)),
          "cst_lane-admin": (None, ("admin",))}
# What the lane leaves in the database, table by table, for the other app's to be compared with.
TABLES = ("events", "event_hashes", "streams", "idempotency_keys", "rate_limit_windows", "projection_due",
          "deliveries", "tokens")
LANE, FLASK, BEGUN = "lane", "flask", "begun"  # where a request was answered


class Entrance:
    """Flask's WSGI app, noting each request that reaches it: `None`, or the append the lane began."""

    def __init__(self, wsgi):
        self.wsgi = wsgi
        self.seen: list = []

    def __call__(self, environ, start_response):
        self.seen.append(environ.get(APPEND_BEGUN))
        return self.wsgi(environ, start_response)


def _app(tmp_path, name: str, registry, **config):
    path = str(tmp_path / f"{name}.db")
    upgrade(path)
    store = SQLiteStore(path, clock=StepClock(datetime(2026, 1, 1, tzinfo=timezone.utc)))
    assert load_lines(store, registry, bundled_lines(), recorded_by="seed").ok
    for value, (authorities, scopes) in TOKENS.items():
        store.create_token(value.removeprefix("cst_"), hash_token(value), authorities, scopes)
    app = create_app({"TIMELINE_DATABASE": path, "TESTING": True, "TODAY": lambda: TODAY,
                      "TIMELINE_RATE_LIMIT_WRITES": "40/minute", **config})
    app.extensions["timeline"].store = store
    store.projector_for = app.extensions["timeline"].store_projector
    app.extensions["rate_limits"].clock = lambda: NOW
    lane_of(app, StatusLane).inner = Entrance(lane_of(app, StatusLane).inner)
    return app


@pytest.fixture
def make_pair(tmp_path, registry):
    """Make (through the lanes, through Flask alone): two apps on two databases seeded alike, with `config`."""
    made = []

    def make(**config):
        made.extend((_app(tmp_path, "laned", registry, **config), _app(tmp_path, "flask", registry, **config)))
        return made[-2:]

    yield make
    for app in made:
        app.extensions["timeline"].store.close()


@pytest.fixture
def pair(make_pair):
    """The two apps with the fixture's configuration (a write limit of 40 a minute)."""
    return make_pair()


def _post(laned, flask_only, answered_by: str, body=None, *, auth: str = "cst_lane-any", url: str = EVENTS,
          headers: dict | None = None, data: bytes | None = None, content_type: str = "application/json"):
    """The same append to both apps; the lane's answer, after checking it is Flask's to the byte and was
    answered where `answered_by` says."""
    headers = {"Authorization": f"Bearer {auth}", **(headers or {})} if auth else dict(headers or {})
    data = data if data is not None else _json(body)
    entrance = lane_of(laned, StatusLane).inner
    seen = len(entrance.seen)
    lane_answer = Client(laned).post(url, data=data, headers=headers, content_type=content_type)
    flask_answer = Client(flask_alone(flask_only)).post(url, data=data, headers=headers, content_type=content_type)
    assert lane_answer.status == flask_answer.status, lane_answer.get_data(as_text=True)
    assert list(lane_answer.headers) == list(flask_answer.headers)
    assert lane_answer.get_data() == flask_answer.get_data()
    reached = entrance.seen[seen:]
    where = LANE if not reached else BEGUN if isinstance(reached[0], AppendBegun) else FLASK
    assert (where, len(reached)) == (answered_by, 0 if answered_by == LANE else 1)
    return lane_answer


def _json(body) -> bytes:
    return json.dumps(body).encode()


def _rows(app) -> dict[str, list]:
    db = app.extensions["timeline"].store.db
    return {table: sorted(db.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in TABLES}


def _visit(number: int, **overrides) -> dict:
    return monitoring_visit(event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"lane-{number}")), **overrides)


def test_the_lane_answers_appends_that_pass_every_check_as_flask_does(pair):
    laned, flask_only = pair
    first = _post(laned, flask_only, LANE, _visit(1))
    assert first.status_code == 201 and first.headers["Location"] == f"/api/events/{_visit(1)['event_id']}"
    assert first.headers["RateLimit-Remaining"] == "39"
    assert "Idempotent-Replayed" not in first.headers
    version = first.get_json()["version"]
    keyed = {"Idempotency-Key": "visit-2"}
    assert _post(laned, flask_only, LANE, _visit(2, expected_version=version), headers=keyed).status_code == 201
    retried = _post(laned, flask_only, LANE, _visit(2, expected_version=version), headers=keyed)
    assert retried.headers["Idempotent-Replayed"] == "true" and retried.get_json()["version"] == version + 1
    assert _post(laned, flask_only, LANE, _visit(1)).headers["Idempotent-Replayed"] == "true"  # the same event again
    charset = _post(laned, flask_only, LANE, _visit(3), content_type="application/json; charset=utf-8")
    assert charset.get_json()["version"] == version + 2
    assert _rows(laned) == _rows(flask_only)
    assert laned.extensions["timeline"].store.stream_version("manchester") == version + 2


NOT_TAKEN = {
    "no token": dict(auth=""),
    "an unknown token": dict(auth="cst_nobody"),
    "a token for another authority": dict(auth="cst_lane-leeds"),
    "a token without the append scope": dict(auth="cst_lane-admin"),
    "another scheme": dict(auth="", headers={"Authorization": "Basic dGVzdGVyOnRlc3Q="}),
    "not JSON": dict(content_type="text/plain"),
    "malformed JSON": dict(data=b'{"kind": "monitoring_visit",'),
    "not UTF-8": dict(data=b'{"kind": "\xff"}'),
    "too deep": dict(data=b'{"payload": ' + b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1) + b"}"),
    "too large": dict(data=b" " * (MAX_BODY_BYTES + 1)),
    "not an event": dict(body={"kind": "monitoring_visit"}),
    "a list": dict(body=[1]),
    "an unknown authority": dict(url="/api/authorities/nowhere/events"),
    "a query": dict(url=EVENTS + "?dry_run=1"),
    "an empty Idempotency-Key": dict(headers={"Idempotency-Key": ""}),
    "an Idempotency-Key too long": dict(headers={"Idempotency-Key": "k" * 201}),
}


@pytest.mark.parametrize("case", NOT_TAKEN)
def test_what_the_lane_does_not_take_goes_to_flask_untouched(pair, case):
    laned, flask_only = pair
    kwargs = dict(NOT_TAKEN[case])
    kwargs.setdefault("body", _visit(10))
    answer = _post(laned, flask_only, FLASK, **kwargs)
    assert answer.mimetype == ("application/json" if case == "a query" else "application/problem+json")
    assert _rows(laned) == _rows(flask_only)  # a refusal is counted once, as Flask counts it


REFUSED_BY_THE_STORE = {
    "a stale expected_version": (lambda v: _visit(20, expected_version=v - 1), {}, 409),
    "a key reused for another request": (lambda v: _visit(21), {"Idempotency-Key": "visit-1"}, 422),
    "an event_id reused for other content": (lambda v: _visit(1, effective_on="2026-10-16"), {}, 422),
    "a concern that does not exist": (
        lambda v: {"kind": "concern_update", "effective_on": "2026-10-20", "source": {"title": "Board minutes"},
                   "payload": {"concern_id": "no-such-concern", "state": "resolved", "evidence": "done"}}, {}, 422),
}


@pytest.mark.parametrize("case", REFUSED_BY_THE_STORE)
def test_an_append_refused_once_tried_is_answered_by_flask_and_not_tried_again(pair, case):
    laned, flask_only = pair
    version = _post(laned, flask_only, LANE, _visit(1), headers={"Idempotency-Key": "visit-1"}).get_json()["version"]
    make, headers, status = REFUSED_BY_THE_STORE[case]
    refused = _post(laned, flask_only, BEGUN, make(version), headers=headers)
    assert (refused.status_code, refused.mimetype) == (status, "application/problem+json")
    rows = _rows(laned)
    assert rows == _rows(flask_only)
    assert rows["rate_limit_windows"][0][2] == 2  # the refused append counted once, not once in each path
    assert laned.extensions["timeline"].store.stream_version("manchester") == version


def test_over_the_write_limit_the_lane_leaves_flask_to_refuse(make_pair):
    laned, flask_only = make_pair(TIMELINE_RATE_LIMIT_WRITES="2/minute")
    assert [_post(laned, flask_only, LANE, _visit(n)).headers["RateLimit-Remaining"] for n in (1, 2)] == ["1", "0"]
    refused = _post(laned, flask_only, BEGUN, _visit(3))
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "30"
    assert _rows(laned) == _rows(flask_only)
    assert laned.extensions["timeline"].store.stream_version("manchester") == \
        flask_only.extensions["timeline"].store.stream_version("manchester")


def test_with_the_write_limit_off_the_lane_sends_no_limit_headers(make_pair):
    laned, flask_only = make_pair(TIMELINE_RATE_LIMIT_WRITES="off")
    answer = _post(laned, flask_only, LANE, _visit(1))
    assert answer.status_code == 201 and "RateLimit-Limit" not in answer.headers


def test_an_answer_the_lane_cannot_make_is_made_by_flask_from_the_stored_event(pair, monkeypatch):
    laned, flask_only = pair

    def failing(body):
        raise RuntimeError("no answer")

    monkeypatch.setattr("service.append_lane.json_bytes", failing)
    answer = _post(laned, flask_only, BEGUN, _visit(1))
    assert answer.status_code == 201 and "Idempotent-Replayed" not in answer.headers  # appended once, not replayed
    assert _rows(laned) == _rows(flask_only)


def test_a_hook_added_after_start_up_sets_the_lane_aside(pair):
    laned, flask_only = pair
    seen = []
    laned.before_request(lambda: seen.append(1))
    flask_only.before_request(lambda: None)
    assert _post(laned, flask_only, FLASK, _visit(1)).status_code == 201
    assert seen == [1]


@pytest.mark.parametrize("length", ["\u00b2", "-1", "1e3", ""])
def test_a_content_length_that_is_not_a_count_of_bytes_goes_to_flask_unread(pair, length):
    laned, _ = pair
    environ = EnvironBuilder(path=EVENTS, method="POST", data=_json(_visit(1)), content_type="application/json",
                             headers={"Authorization": "Bearer cst_lane-any"}).get_environ()
    environ["CONTENT_LENGTH"] = length
    body = environ["wsgi.input"]
    assert lane_of(laned, AppendLane).answer(environ) is None  # not an error: werkzeug reads the header its own way
    assert environ["wsgi.input"] is body and body.tell() == 0


def test_a_request_without_a_good_token_is_not_read_by_the_lane(pair):
    laned, _ = pair
    environ = EnvironBuilder(path=EVENTS, method="POST", data=_json(_visit(1)), content_type="application/json",
                             headers={"Authorization": "Bearer cst_nobody"}).get_environ()
    body = environ["wsgi.input"]
    assert lane_of(laned, AppendLane).answer(environ) is None
    assert environ["wsgi.input"] is body and body.tell() == 0
