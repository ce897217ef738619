"""The hand-read query strings of the hot reads give exactly what their schemas give: values and errors."""
from __future__ import annotations

from datetime import date

import pytest
from werkzeug.exceptions import HTTPException

from service.api.authorities import CONCERNS_QUERY, STATUS_QUERY, TIMELINE_QUERY
from service.api.blueprint import Blueprint

CASES = {
    STATUS_QUERY: ["", "as_of=2015-01-01", "as_of=2016-02-29", "as_of=2015-02-30", "as_of=2015-1-5", "as_of=",
                   "as_of=2015-01-01&as_of=2016-01-01", "asof=2015-01-01", "as_of=2015-01-01&known_at=2020-01-01",
                   "known_at=2020-01-01T00:00:00Z", "as_of=20150101", "as_of=2015-01-01T00:00:00"],
    TIMELINE_QUERY: ["", "limit=5", "limit=1000", "limit=1001", "limit=0", "limit=05", "limit=x", "from=2014-01-01",
                     "to=2014-01-01&from=2015-01-01", "include_predecessors=false", "include_predecessors=True",
                     "include_predecessors=0", "cursor=abc", "cursor=", "format=csv", "format=xml", "kind=inspection",
                     "kind=inspection&kind=monitoring_visit", "kind=nonsense", "limit=5&limit=6", "unknown=1"],
    CONCERNS_QUERY: ["", "state=all", "state=overdue", "state=nope", "as_of=2015-01-01&state=closed", "format=ndjson",
                     "format=", "as_of=2015-13-01", "known_at=2015-01-01", "STATE=open"],
}


def _outcome(app, reader, query: str, by_hand: bool):
    with app.test_request_context(f"/?{query}"):
        try:
            if by_hand:
                return "ok", reader()
            return "ok", Blueprint.ARGUMENTS_PARSER.parse(reader.schema, location="query")
        except HTTPException as exc:
            return exc.code, getattr(exc, "data", {}).get("messages")


@pytest.mark.parametrize("reader, query", [(r, q) for r, queries in CASES.items() for q in queries])
def test_hand_read_query_equals_the_schema(app, reader, query):
    assert _outcome(app, reader, query, by_hand=True) == _outcome(app, reader, query, by_hand=False)


def test_plain_forms_are_read_without_the_schema(app, monkeypatch):
    """The point of the fast path: a plain status query never reaches webargs."""
    def refuse(*args, **kwargs):
        raise AssertionError("parsed through the schema")

    monkeypatch.setattr(Blueprint.ARGUMENTS_PARSER, "parse", refuse)
    with app.test_request_context("/?as_of=2015-01-01"):
        assert STATUS_QUERY() == {"as_of": date(2015, 1, 1)}
    with app.test_request_context("/?state=all&format=csv&as_of=2015-01-01"):
        assert CONCERNS_QUERY()["state"] == "all"
