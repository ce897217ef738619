"""HTML pages through the Flask test client: what they show, their accessible structure, the visit form."""
from __future__ import annotations

import re
from datetime import date

import pytest
from bs4 import BeautifulSoup

from conftest import monitoring_visit
from service.web import charts

SIF_2014 = "e1f51ae0-2841-5c6e-8b00-7e7ba7087eba"
FORM = "/authorities/manchester/monitoring-visits/new"


def soup(response) -> BeautifulSoup:
    assert response.mimetype == "text/html"
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def assert_accessible(page: BeautifulSoup) -> None:
    """One h1, a title, every input labelled, every table header scoped, every chart titled and described."""
    assert len(page.find_all("h1")) == 1 and page.title.get_text(strip=True)
    for control in page.select("input:not([type=hidden]), select, textarea"):
        assert page.find("label", attrs={"for": control["id"]}), control
    for th in page.select("th"):
        assert th.get("scope") in ("col", "row"), th
    for svg in page.find_all("svg"):
        title, desc = svg.find("title"), svg.find("desc")
        assert svg["role"] == "img" and title.get_text(strip=True) and desc.get_text(strip=True)
        assert svg["aria-labelledby"] == f"{title['id']} {desc['id']}"


def assert_csp_clean(page: BeautifulSoup) -> None:
    """Nothing the Content Security Policy (script-src 'self'; style-src 'self') would block."""
    assert not page.find_all("style") and not page.select("[style]")
    assert all(script.get("src", "").startswith("/static/") for script in page.find_all("script"))
    assert not any(attr.startswith("on") for tag in page.find_all(True) for attr in tag.attrs)


def test_home_lists_every_authority_with_the_national_picture_on_a_date(client):
    page = soup(client.get("/?as_of=2015-01-01"))
    assert_accessible(page)
    assert_csp_clean(page)
    rows = page.select("#authorities tbody tr")
    assert len(rows) == 153
    manchester = page.select_one("#authorities tr[data-name=Manchester]")
    cells = [c.get_text(" ", strip=True) for c in manchester.find_all(["th", "td"])]
    assert cells[:3] == ["Manchester", "North West", "4 Inadequate"]
    assert "monitoring" in cells and "1 September 2014" in cells
    assert "no events recorded" in page.select_one("#authorities tr[data-name=Hartlepool]").get_text()
    desc = page.select_one("svg.national-chart desc").get_text()
    assert "4 Inadequate: 1" in desc and "No graded inspection recorded: 152" in desc


def test_home_filters_and_sorts_on_the_server_without_javascript(client):
    page = soup(client.get("/?region=North+West&sort=grade_overall&dir=asc&as_of=2015-01-01"))
    names = [row["data-name"] for row in page.select("#authorities tbody tr")]
    regions = {row["data-region"] for row in page.select("#authorities tbody tr")}
    assert len(names) == 24 and regions == {"North West"}
    assert names[0] == "Manchester"  # the only graded authority sorts first by grade
    assert page.select_one("th[data-key=grade_overall]")["aria-sort"] == "ascending"
    assert "dir=desc" in page.select_one("th[data-key=grade_overall] a")["href"]
    only = soup(client.get("/?grade=4&as_of=2015-01-01")).select("#authorities tbody tr")
    assert [row["data-name"] for row in only] == ["Manchester"]


def test_authority_page_as_of_a_date_agrees_with_the_api(client):
    page = soup(client.get("/authorities/manchester?as_of=2015-01-01"))
    assert_accessible(page)
    assert_csp_clean(page)
    api = client.get("/api/authorities/manchester/status?as_of=2015-01-01").get_json()
    assert page.select_one("#status-overall").get_text(" ", strip=True).startswith(f"4 {api['overall']['label']}")
    assert "under monitoring since 1 September 2014" in page.select_one("#status-regime").get_text(" ", strip=True)
    assert page.select_one("#status-concerns").get_text(strip=True) == \
        f"{api['open_concerns']} open, {api['overdue_concerns']} overdue"
    assert len(page.select("#events > li")) == api["events_considered"] == 7
    assert page.select_one("#as_of")["value"] == "2015-01-01"
    links = {a.get_text(): a["href"] for a in page.select(".data-links a")}
    assert links["Status as JSON"] == "/api/authorities/manchester/status?as_of=2015-01-01"
    assert links["Timeline as CSV"] == "/api/authorities/manchester/timeline?format=csv&to=2015-01-01"
    assert page.select_one("#concerns-overdue").get_text() == f"Overdue ({api['overdue_concerns']})"


def test_authority_page_as_known_at_a_time_shows_only_what_was_recorded_by_then(client):
    # The seeded events were recorded from 2026-01-01 (the test clock): on 2025-12-31 nothing was known.
    before = soup(client.get("/authorities/manchester?as_of=2015-01-01&known_at=2025-12-31"))
    assert "No graded inspection recorded" in before.select_one("#status-overall").get_text()
    assert not before.select("#events > li") and before.select_one("#known_at")["value"] == "2025-12-31"
    links = {a.get_text(): a["href"] for a in before.select(".data-links a")}
    assert links["Status as JSON"] == "/api/authorities/manchester/status?as_of=2015-01-01&known_at=2025-12-31"
    api = client.get(links["Status as JSON"]).get_json()
    assert api["overall"] is None and api["events_considered"] == 0
    after = soup(client.get("/authorities/manchester?as_of=2015-01-01&known_at=2026-01-02"))
    assert len(after.select("#events > li")) == 7
    assert client.get("/authorities/manchester?known_at=soon").status_code == 400


def test_authority_charts_follow_areas_across_frameworks_and_mark_kinds_by_shape(client):
    page = soup(client.get("/authorities/manchester"))
    chart = page.select_one("svg.judgement-chart")
    series = {g["class"][1] for g in chart.select("g.series")}
    assert series == {"area-overall", "area-leadership", "area-help_and_protection", "area-children_in_care",
                      "area-care_leavers"}
    overall_points = [t.get_text() for t in chart.select("g.area-overall title")]
    assert any("Adequate" in t and "slac-2009" in t for t in overall_points)
    assert any("Inadequate" in t and "sif-2013" in t for t in overall_points)
    assert any("Outstanding" in t and "ilacs-2023" in t for t in overall_points)
    axis = page.select_one("svg.event-chart")
    shapes = {g["class"][1]: g.select_one(".marker")["class"][1] for g in axis.select("g.event")}
    assert shapes["kind-inspection"] != shapes["kind-monitoring_visit"] != shapes["kind-diagnostic"]
    assert len(axis.select("g.event")) == 17
    assert axis.select("g.event rect.period")  # month- and year-precision dates are drawn as periods


def test_authority_without_events_says_so(client):
    response = client.get("/authorities/hartlepool")
    assert response.status_code == 200
    page = soup(response)
    assert_accessible(page)
    text = page.get_text(" ", strip=True)
    assert "No graded inspection recorded" in text and "No events recorded" in text and not page.find("svg")


@pytest.mark.parametrize("url, status, words", [
    ("/authorities/atlantis", 404, "There is no authority 'atlantis'"),
    ("/events/not-an-event", 404, "There is no event not-an-event"),
    ("/authorities/manchester?as_of=2015-13-01", 400, "is not a date"),
    ("/?as_of=yesterday", 400, "is not a date"),
    ("/authorities/atlantis/monitoring-visits/new", 404, "There is no authority"),
])
def test_unknown_pages_and_bad_dates_are_html_errors(client, url, status, words):
    response = client.get(url)
    assert response.status_code == status
    assert words in soup(response).select_one("main").get_text()


@pytest.mark.parametrize("url", ["/nowhere", "/authorities/no-such-place", "/events/999999", "/static/nothing.css"])
@pytest.mark.parametrize("accept", [None, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "*/*"])
def test_pages_that_do_not_exist_answer_an_html_404_with_a_way_home(client, url, accept):
    response = client.get(url, headers={"Accept": accept} if accept else {})
    assert response.status_code == 404
    page = soup(response)
    assert_accessible(page)
    assert_csp_clean(page)
    main = page.select_one("main")
    assert main.find("h1").get_text(strip=True) in ("Page not found", "Unknown authority", "Unknown event")
    assert main.find("a", href="/") is not None


def test_a_page_asked_for_as_json_still_answers_problem_json(client):
    for url in ("/nowhere", "/authorities/no-such-place"):
        response = client.get(url, headers={"Accept": "application/json"})
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == 404


@pytest.mark.parametrize("url", ["/api/nowhere", "/api/authorities/no-such-place/status", "/api/events/999999"])
def test_everything_under_api_stays_problem_json_even_for_a_browser(client, url):
    response = client.get(url, headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_a_method_a_page_does_not_take_is_an_html_405_with_allow(client):
    for method, url in (("DELETE", "/"), ("POST", "/authorities/manchester"), ("PUT", "/events/" + SIF_2014)):
        response = client.open(url, method=method, headers={"Accept": "text/html"})
        assert response.status_code == 405 and "GET" in response.headers["Allow"]
        page = soup(response)
        assert_accessible(page)
        assert page.find("h1").get_text(strip=True) == "Method not allowed"
        assert method in page.select_one("main").get_text() and page.select_one("main a[href='/']")
    api = client.delete("/api/verify", headers={"Accept": "text/html"})
    assert api.status_code == 405 and api.mimetype == "application/problem+json"


def test_dates_on_pages_read_in_british_english(client):
    home = soup(client.get("/?as_of=2015-01-01"))
    assert "as they stood on 1 January 2015" in home.select_one(".lede").get_text(" ", strip=True)
    manchester = home.select_one("#authorities tr[data-name=Manchester]").get_text(" ", strip=True)
    assert "1 September 2014" in manchester and "2014-09-01" not in manchester
    assert "on 1 January 2015" in home.select_one("svg.national-chart title").get_text()
    story = soup(client.get("/authorities/manchester?as_of=2015-01-01"))
    main = story.select_one("main")
    text = main.get_text(" ", strip=True)
    assert "Status on 1 January 2015" in text and "published 1 September 2014" in text
    shown = [t.get_text(strip=True) for t in main.select("#events time")]
    assert shown and all(re.fullmatch(r"(\d{1,2} )?[A-Z][a-z]+ \d{4}|\d{4}", t) for t in shown), shown
    assert all(re.fullmatch(r"\d{4}(-\d{2}){0,2}", t["datetime"]) for t in main.select("time"))  # machines keep ISO
    assert "1 September 2014" in main.select_one("svg.judgement-chart desc").get_text()
    assert story.select_one("#as_of")["value"] == "2015-01-01"  # the date control's value is ISO, shown in the locale
    event = soup(client.get(f"/events/{SIF_2014}")).select_one("main dl.summary").get_text(" ", strip=True)
    assert "Takes effect 1 September 2014" in event
    assert re.search(r"Recorded \d{1,2} [A-Z][a-z]+ \d{4} at \d{2}:\d{2} UTC by", event)
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", event), "an ISO date left in the event's summary"


def test_event_page_shows_source_and_correction_history(client, auth):
    before = soup(client.get(f"/events/{SIF_2014}"))
    assert_accessible(before)
    assert before.select_one("dl.source a")["href"] == "https://files.ofsted.gov.uk/v1/file/50004281"
    assert "Not corrected" in before.get_text()
    correction = {"kind": "correction", "effective_on": "2026-11-20",
                  "payload": {"target_event_id": SIF_2014, "reason": "Lead inspector's name misspelt",
                              "changes": {"payload": {"lead_inspector": "Peter McEntee HMI"}}},
                  "source": {"title": "Ofsted erratum"}}
    assert client.post("/api/authorities/manchester/events", json=correction, headers=auth).status_code == 201
    after = soup(client.get(f"/events/{SIF_2014}"))
    history = after.select_one("#corrections").get_text(" ", strip=True)
    assert "Lead inspector's name misspelt" in history and "changed payload" in history
    assert "Peter McEntee HMI" in after.select_one("main").get_text()
    assert "Peter McEntee" in after.select_one("details").get_text()  # as first recorded


def form_data(token: str, **overrides) -> dict:
    data = {"event_id": "3f0b8a52-7d55-4d8e-9a59-6b1f4f6f2a01", "effective_on": "2026-10-15",
            "occurred.start": "2026-09-30", "occurred.end": "2026-10-01", "payload.ordinal": "5",
            "payload.areas_covered": "help and protection\nchildren in care", "payload.inspectors": "A Inspector HMI",
            "payload.findings.0.text": "Progress in the front door.", "payload.findings.0.direction": "progress",
            "payload.findings.1.text": "Supervision is not yet regular.", "payload.findings.1.direction": "new_concern",
            "source.title": "Monitoring visit letter", "source.url": "https://example.org/letter.pdf",
            "token": token}
    data.update(overrides)
    return data


def error_next_to(page: BeautifulSoup, field_id: str) -> str:
    """The error message inside the same field as an input, linked to it by aria-describedby."""
    control = page.find(id=field_id)
    assert control["aria-invalid"] == "true"
    errors = control.find_parent(class_="field").select(".field-error")
    assert errors and errors[0]["id"] in control["aria-describedby"].split()
    return " ".join(e.get_text(" ", strip=True) for e in errors)


def test_visit_form_is_labelled_and_asks_for_a_token_safely(client):
    page = soup(client.get(FORM))
    assert page.find(id="payload-ordinal")["value"] == ""  # Manchester is not under monitoring today
    assert_accessible(page)
    assert_csp_clean(page)
    token = page.find(id="token")
    assert (token["type"], token["autocomplete"]) == ("password", "off")
    assert re.fullmatch(r"[0-9a-f-]{36}", page.find("input", attrs={"name": "event_id"})["value"])


def test_visit_form_shows_validation_errors_next_to_fields_and_stores_nothing(client, token, seeded_store):
    response = client.post(FORM, data=form_data(token, **{"occurred.end": "2026-09-01", "source.url": "not a url"}))
    assert response.status_code == 422
    page = soup(response)
    assert "end is before start" in error_next_to(page, "occurred-end")
    assert "Not a valid URL" in error_next_to(page, "source-url")
    # The payload is checked once the envelope is valid, as the API does.
    page = soup(client.post(FORM, data=form_data(token, **{"payload.ordinal": "first", "payload.findings.1.direction": "sideways"})))
    assert "Not a valid integer" in error_next_to(page, "payload-ordinal")
    assert "Must be one of" in error_next_to(page, "payload-findings-1-direction")
    assert page.find(id="payload-areas_covered").get_text() == "help and protection\nchildren in care"  # kept
    assert page.find(id="token").get("value") is None  # the secret is never echoed back
    assert page.select_one(".error-summary a[href='#payload-ordinal']").get_text() == "Which visit this is"
    assert seeded_store.stream_version("manchester") == 17


def test_visit_form_refuses_a_bad_token_next_to_the_token_field(client, seeded_store):
    page = soup(client.post(FORM, data=form_data("cst_not-a-token")))
    assert "unknown or has been revoked" in error_next_to(page, "token")
    page = soup(client.post(FORM, data=form_data("", **{"payload.ordinal": "0"})))
    assert "Enter your token" in error_next_to(page, "token")
    assert "greater than or equal to 1" in error_next_to(page, "payload-ordinal")  # every mistake at once
    assert seeded_store.stream_version("manchester") == 17


def test_visit_form_appends_like_the_api_and_redirects_to_the_event(client, token, seeded_store):
    response = client.post(FORM, data=form_data(token))
    assert response.status_code == 303
    event_id = "3f0b8a52-7d55-4d8e-9a59-6b1f4f6f2a01"
    assert response.headers["Location"] == f"/events/{event_id}"
    stored = client.get(f"/api/events/{event_id}").get_json()
    expected = monitoring_visit(event_id=event_id)
    assert stored["recorded_by"] == "tester" and stored["occurred"] == expected["occurred"]
    assert stored["payload"]["findings"][1] == {"text": "Supervision is not yet regular.", "direction": "new_concern"}
    assert stored["payload"]["areas_covered"] == ["help and protection", "children in care"]
    again = client.post(FORM, data=form_data(token))  # a double submit stores nothing new
    assert again.headers["Location"] == f"/events/{event_id}" and seeded_store.stream_version("manchester") == 18
    page = soup(client.get("/authorities/manchester"))
    assert "Monitoring visit 5" in page.select_one("#events").get_text()
    assert page.select_one("#status-concerns").get_text() == "2 open, 0 overdue"  # the visit's new concern opened


def test_static_assets_are_served_locally(client):
    assert client.get("/static/site.css").status_code == 200
    assert b"sortBy" in client.get("/static/site.js").data


def test_visit_form_suggests_the_next_visit_while_under_monitoring(client, auth):
    inadequate = {"kind": "inspection", "effective_on": "2026-06-01", "occurred": {"start": "2026-04-01", "end": "2026-04-20"},
                  "payload": {"framework": "ilacs-2023", "judgements": [
                      {"area": "overall_effectiveness", "label": "Inadequate", "grade": 4}]},
                  "source": {"title": "Inspection report"}}
    assert client.post("/api/authorities/hartlepool/events", json=inadequate, headers=auth).status_code == 201
    form = "/authorities/hartlepool/monitoring-visits/new"
    assert soup(client.get(form)).find(id="payload-ordinal")["value"] == "1"
    visit = monitoring_visit(effective_on="2026-09-01", occurred={"start": "2026-08-01", "end": "2026-08-02"})
    assert client.post("/api/authorities/hartlepool/events", json=visit, headers=auth).status_code == 201
    assert soup(client.get(form)).find(id="payload-ordinal")["value"] == "2"


def test_judgement_chart_breaks_the_line_where_a_framework_makes_no_overall_judgement():
    rows = [{"effective_on": "2023-05-01", "date_precision": "day", "framework": "ilacs-2023", "normalised_area": "overall",
             "label": "Inadequate", "grade": 4},
            {"effective_on": "2026-06-01", "date_precision": "day", "framework": "ilacs-2026", "normalised_area": "overall",
             "label": "not judged", "grade": None},
            {"effective_on": "2026-06-01", "date_precision": "day", "framework": "ilacs-2026", "normalised_area": "leadership",
             "label": "Good", "grade": 2}]
    chart = BeautifulSoup(charts.judgement_history(rows, date(2026, 11, 23)), "html.parser")
    overall = chart.select_one("g.area-overall")
    assert overall.select_one("path")["d"].count("M") == 1 and len(overall.select(".marker")) == 1
    assert "not judged (ilacs-2026, 1 June 2026)" in chart.find("desc").get_text()
    assert [t.get_text() for t in chart.select("text.tick-label")][0] == "2023"
    assert charts.judgement_history([], date(2026, 11, 23)) is None
