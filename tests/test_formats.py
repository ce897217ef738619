"""Every list endpoint as JSON, CSV and NDJSON; content negotiation; the documented column order."""
from __future__ import annotations

import csv
import io
import json

import pytest

from events import tables

# (path, table, how many items the JSON answer lists, and where)
LISTS = {
    "authorities": ("/api/authorities", tables.AUTHORITIES, lambda body: body),
    "national": ("/api/status?as_of=2015-01-01", tables.NATIONAL_STATUS, lambda body: body["authorities"]),
    "timeline": ("/api/authorities/manchester/timeline?limit=1000", tables.TIMELINE, lambda body: body["events"]),
    "concerns": ("/api/authorities/manchester/concerns?as_of=2015-01-01&state=all", tables.CONCERNS,
                 lambda body: body["concerns"]),
    "judgements": ("/api/authorities/manchester/judgements", tables.JUDGEMENTS, lambda body: body["judgements"]),
    "feed": ("/api/events?limit=1000", tables.FEED, lambda body: body["events"]),
}
OPENAPI_PATHS = {"authorities": "/api/authorities", "national": "/api/status",
                 "timeline": "/api/authorities/{slug}/timeline", "concerns": "/api/authorities/{slug}/concerns",
                 "judgements": "/api/authorities/{slug}/judgements", "feed": "/api/events"}


def with_format(path: str, fmt: str) -> str:
    return path + ("&" if "?" in path else "?") + f"format={fmt}"


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("name", LISTS)
def test_csv_has_the_documented_header_and_one_row_per_item(client, name):
    path, table, items_of = LISTS[name]
    expected = items_of(client.get(path).get_json())
    assert expected, "the seeded data should give a non-empty list"
    response = client.get(with_format(path, "csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"].endswith("charset=utf-8; header=present")
    rows = read_csv(response)
    assert rows[0] == table.header
    assert len(rows) == len(expected) + 1
    assert all(len(row) == len(table.header) for row in rows)


@pytest.mark.parametrize("name", LISTS)
def test_ndjson_is_one_item_per_line(client, name):
    path, _, items_of = LISTS[name]
    expected = items_of(client.get(path).get_json())
    response = client.get(with_format(path, "ndjson"))
    assert response.mimetype == "application/x-ndjson"
    lines = response.get_data(as_text=True).splitlines()
    parsed = [json.loads(line) for line in lines]
    assert len(parsed) == len(expected)
    for got, want in zip(parsed, expected):
        assert {k: v for k, v in got.items() if k != "authority"} == {k: v for k, v in want.items() if k != "authority"}


@pytest.mark.parametrize("name", LISTS)
def test_openapi_documents_the_columns_in_order(client, name):
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"][OPENAPI_PATHS[name]]["get"]
    content = operation["responses"]["200"]["content"]
    assert {"application/json", "text/csv", "application/x-ndjson"} <= set(content)
    text = content["text/csv"]["schema"]["description"]
    positions = [text.index(f"`{column}`") for column in LISTS[name][1].header]
    assert positions == sorted(positions)
    assert "format" in {p["name"] for p in operation["parameters"]}
    assert "ETag" in operation["responses"]["200"]["headers"]


def test_csv_flattens_nested_fields_into_named_columns(client):
    rows = read_csv(client.get("/api/status?as_of=2015-01-01&format=csv"))
    manchester = dict(zip(rows[0], next(r for r in rows if r[0] == "manchester")))
    assert manchester["overall_grade"] == "4"
    assert manchester["overall_label"] == "Inadequate"
    assert manchester["regime"] == "monitoring"
    assert manchester["name"] == "Manchester"
    timeline = read_csv(client.get("/api/authorities/manchester/timeline?format=csv"))
    first = dict(zip(timeline[0], timeline[1]))
    source = client.get("/api/authorities/manchester/timeline").get_json()["events"][0]["source"]
    assert (first["source_title"], first["source_file"], first["source_page"]) == (
        source["title"], source.get("file", ""), str(source.get("page", "")))
    assert json.loads(first["payload"])  # the kind-specific payload stays whole, as JSON


@pytest.mark.parametrize(("accept", "mimetype"), [
    ("text/csv", "text/csv"),
    ("application/x-ndjson", "application/x-ndjson"),
    ("application/ndjson", "application/x-ndjson"),
    ("application/json", "application/json"),
    ("*/*", "application/json"),
    ("text/csv;q=0.5, application/x-ndjson", "application/x-ndjson"),
])
def test_accept_header_chooses_the_format(client, accept, mimetype):
    response = client.get("/api/authorities/manchester/judgements", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert "Accept" in response.headers["Vary"]


def test_format_parameter_wins_over_accept(client):
    response = client.get("/api/authorities/manchester/judgements?format=csv", headers={"Accept": "application/json"})
    assert response.mimetype == "text/csv"


def test_unsatisfiable_accept_is_406_problem(client):
    response = client.get("/api/authorities/manchester/concerns", headers={"Accept": "application/xml"})
    assert response.status_code == 406
    assert response.mimetype == "application/problem+json"
    assert "text/csv" in response.get_json()["detail"]


def test_unknown_format_is_400_naming_the_field(client):
    response = client.get("/api/authorities?format=xlsx")
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "format"


def test_feed_streams_everything_after_a_position_without_a_limit(client, seeded_store):
    total = seeded_store.last_position()
    response = client.get("/api/events?format=ndjson&after=5")
    assert response.is_streamed
    positions = [json.loads(line)["position"] for line in response.get_data(as_text=True).splitlines()]
    assert positions == list(range(6, total + 1))
    assert "Link" not in response.headers


def test_feed_iterates_the_store_in_batches(seeded_store):
    """The stream reads batch by batch (here 4 at a time) and stops at the bound it was given."""
    events = list(seeded_store.iter_all(batch=4, after=2, upto=11))
    assert [e.position for e in events] == list(range(3, 12))


def test_paged_csv_feed_links_to_the_next_page_in_csv(client):
    response = client.get("/api/events?format=csv&limit=5")
    assert len(read_csv(response)) == 6
    assert response.headers["Link"] == '</api/events?after=5&limit=5&format=csv>; rel="next"'


def test_timeline_csv_sends_everything_unless_limited_and_links_pages(client):
    everything = read_csv(client.get("/api/authorities/manchester/timeline?format=csv"))
    assert len(everything) - 1 == 17
    first = client.get("/api/authorities/manchester/timeline?format=csv&limit=10")
    assert len(read_csv(first)) == 11
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"') and "format=csv" in link
    second = client.get(link[1:link.index(">")])
    rows = read_csv(second)
    assert rows[0] == tables.TIMELINE.header
    assert rows[1:] == everything[11:]
