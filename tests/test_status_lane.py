"""The status lane: plain status reads answered in front of Flask, byte for byte as Flask answers them."""
from __future__ import annotations

import pytest
from flask import signals
from werkzeug.test import Client, EnvironBuilder

from service.app import create_app
from service.lane import UnsupportedHooks
from service.status_lane import StatusLane
from tests.conftest import TODAY, flask_alone, lane_of

NOW = 1_800_000_030.0
# Manchester is the bundled history's one stream: today, before its first event, between events, on an event's day
# (the 2017 re-inspection), after today.
PLAIN = ["/api/authorities/manchester/status", "/api/authorities/manchester/status?as_of=2015-01-01",
         "/api/authorities/manchester/status?as_of=2000-01-01", "/api/authorities/manchester/status?as_of=2023-06-30",
         "/api/authorities/manchester/status?as_of=2017-12-21", "/api/authorities/manchester/status?as_of=2030-12-31"]
PASSED_ON = [
    ("HEAD", "/api/authorities/manchester/status", {}),
    ("GET", "/api/authorities/manchester/status", {"If-None-Match": "*"}),
    ("GET", "/api/authorities/manchester/status?known_at=2020-01-01T00:00:00Z", {}),
    ("GET", "/api/authorities/manchester/status?as_of=2015-02-30", {}),  # no such day: the schema's 400
    ("GET", "/api/authorities/manchester/status?as_of=2015-1-01", {}),
    ("GET", "/api/authorities/manchester/status?as_of=2015-01-01&as_of=2016-01-01", {}),
    ("GET", "/api/authorities/manchester/status?as_of=2015%2D01%2D01", {}),
    ("GET", "/api/authorities/manchester/status?asof=2015-01-01", {}),
    ("GET", "/api/authorities/manchester/status?format=json", {}),
    ("GET", "/api/authorities/nowhere/status", {}),
    ("GET", "/api/authorities/leeds/status", {}),  # no events: no stored projection, the view folds none
    ("GET", "/api/authorities/manchester/status/", {}),
]


def _app(seeded_store, db_path, **config):
    app = create_app({"TIMELINE_DATABASE": db_path, "TESTING": True, "TODAY": lambda: TODAY, **config})
    app.extensions["timeline"].store = seeded_store
    app.extensions["rate_limits"].clock = lambda: NOW
    return app


@pytest.fixture
def pair(seeded_store, db_path):
    """Two apps on one database, each counting its own reads: one through the lane, one through Flask alone."""
    return _app(seeded_store, db_path), _app(seeded_store, db_path)


def _environ(method: str, url: str, headers: dict | None = None) -> dict:
    path, _, query = url.partition("?")
    return EnvironBuilder(path=path, query_string=query, method=method, headers=headers).get_environ()


def _answered_in_lane(laned, url: str) -> None:
    """The lane answers this request itself (not passing it on); the read it counted is then forgotten, so that
    the app's count stays level with another app's."""
    assert lane_of(laned, StatusLane).answer(_environ("GET", url)) is not None
    laned.extensions["rate_limits"]._reads.clear()


def _same(laned, flask_only, method: str, url: str, headers: dict | None = None):
    """The same request to both; the lane's answer, after checking it is Flask's to the byte."""
    lane_answer = Client(laned).open(url, method=method, headers=headers)
    flask_answer = Client(flask_alone(flask_only)).open(url, method=method, headers=headers)
    assert lane_answer.status == flask_answer.status, url
    assert list(lane_answer.headers) == list(flask_answer.headers), url
    assert lane_answer.get_data() == flask_answer.get_data(), url
    return lane_answer


@pytest.mark.parametrize("url", PLAIN)
def test_lane_answers_plain_reads_as_flask_does(pair, url):
    laned, flask_only = pair
    _answered_in_lane(laned, url)
    for remaining in ("5999", "5998"):
        answer = _same(laned, flask_only, "GET", url)
        assert answer.status_code == 200
        assert answer.headers["RateLimit-Remaining"] == remaining
        assert answer.get_json()["authority"] == url.split("/")[3]


def test_lane_answer_for_today_is_todays(pair):
    laned, _ = pair
    body = Client(laned).get("/api/authorities/manchester/status").get_json()
    assert body["as_of"] == TODAY.isoformat()
    dated = Client(laned).get(f"/api/authorities/manchester/status?as_of={TODAY.isoformat()}")
    assert dated.get_json() == body
    assert dated.headers["ETag"] != Client(laned).get("/api/authorities/manchester/status").headers["ETag"]


@pytest.mark.parametrize("method,url,headers", PASSED_ON)
def test_lane_passes_on_what_is_not_plain(pair, method, url, headers):
    laned, flask_only = pair
    assert lane_of(laned, StatusLane).answer(_environ(method, url, headers)) is None
    _same(laned, flask_only, method, url, headers)


def test_lane_passes_on_a_stream_whose_projection_is_behind(pair, seeded_store):
    laned, flask_only = pair
    url = "/api/authorities/manchester/status?as_of=2015-01-01"
    before = _same(laned, flask_only, "GET", url).get_data()
    seeded_store.db.execute("INSERT INTO projection_due (authority) VALUES ('manchester')")
    assert lane_of(laned, StatusLane).answer(_environ("GET", url)) is None
    assert _same(laned, flask_only, "GET", url).get_data() == before  # the view folds the events: the same answer


def test_a_refused_read_is_counted_once_and_refused_by_flask(seeded_store, db_path):
    laned = _app(seeded_store, db_path, TIMELINE_RATE_LIMIT_READS="2/minute")
    flask_only = _app(seeded_store, db_path, TIMELINE_RATE_LIMIT_READS="2/minute")
    url = "/api/authorities/manchester/status?as_of=2015-01-01"
    codes = [_same(laned, flask_only, "GET", url).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = Client(laned).get(url)
    assert refused.mimetype == "application/problem+json"
    assert refused.headers["Retry-After"] == "30"
    assert [hits for _, hits in laned.extensions["rate_limits"]._reads.values()] == [4]  # four requests, four hits


def test_a_hook_added_after_start_up_sets_the_lane_aside(pair):
    laned, _ = pair
    seen = []
    laned.before_request(lambda: seen.append(1))
    url = "/api/authorities/manchester/status?as_of=2015-01-01"
    assert lane_of(laned, StatusLane).answer(_environ("GET", url)) is None
    assert Client(laned).get(url).status_code == 200
    assert seen == [1]


def test_a_signal_receiver_sets_the_lane_aside(pair):
    laned, _ = pair
    seen = []

    def started(sender, **extra):
        seen.append(sender)

    url = "/api/authorities/manchester/status?as_of=2015-01-01"
    with signals.request_started.connected_to(started, laned):
        assert Client(laned).get(url).status_code == 200
    assert seen == [laned]
    assert lane_of(laned, StatusLane).answer(_environ("GET", url)) is not None


def test_an_app_with_hooks_the_lane_does_not_know_will_not_take_it(pair):
    _, flask_only = pair
    flask_only.after_request(lambda response: response)
    with pytest.raises(UnsupportedHooks, match="status_lane"):
        StatusLane(flask_only, flask_alone(flask_only))


def test_a_failing_database_gets_flasks_problem_answer(pair, seeded_store):
    laned, _ = pair
    seeded_store.db.execute("DROP TABLE status_by_date")
    response = Client(laned).get("/api/authorities/manchester/status?as_of=2015-01-01")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("config", [{"TIMELINE_RATE_LIMIT_READS": "off"}, {"TIMELINE_HSTS_SECONDS": "31536000"}])
def test_lane_follows_the_configuration(seeded_store, db_path, config):
    laned, flask_only = _app(seeded_store, db_path, **config), _app(seeded_store, db_path, **config)
    url = "/api/authorities/manchester/status?as_of=2015-01-01"
    _answered_in_lane(laned, url)
    answer = _same(laned, flask_only, "GET", url)
    if "TIMELINE_HSTS_SECONDS" in config:
        assert answer.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    else:
        assert "RateLimit-Limit" not in answer.headers
