"""Manchester's status across its history, against what the documents say."""
from __future__ import annotations

import pytest

INSPECTION_2010 = "b23a2510"
INSPECTION_2014 = "e1f51ae0"


def status(client, as_of):
    response = client.get(f"/api/authorities/manchester/status?as_of={as_of}")
    assert response.status_code == 200
    return response.get_json()


def test_before_2010_nothing_graded_but_2009_service_inspections_known(client):
    doc = status(client, "2009-06-01")
    assert doc["overall"] is None and doc["judgements"] == []
    assert doc["regime"]["summary"] == "none"
    # The private fostering inspection is dated only "in 2009": the answer says it depends on that.
    assert doc["last_event"]["kind"] == "ungraded_inspection"
    assert [d["date_precision"] for d in doc["imprecise_dates"]] == ["year"]


def test_late_2010_between_fieldwork_and_publication_the_2010_grades_are_not_yet_in_force(client):
    doc = status(client, "2010-12-01")  # fieldwork 8-19 Nov 2010, published 17 Dec 2010
    assert doc["overall"] is None
    assert doc["last_event"]["effective_on"] == "2009-12"
    assert status(client, "2010-12-17")["overall"]["effective_on"] == "2010-12-17"


def test_2012_two_overall_judgements_and_the_worse_of_them(client):
    doc = status(client, "2012-01-01")
    overall = doc["overall"]
    assert (overall["framework"], overall["grade"], overall["label"]) == ("slac-2009", 3, "Adequate")
    assert "worse of" in overall["basis"]
    assert {c["area"] for c in overall["components"]} == {"safeguarding_overall_effectiveness", "lac_overall_effectiveness"}
    grades = {j["area"]: (j["label"], j["grade"]) for j in doc["judgements"]}
    assert len(grades) == 33
    assert grades["safeguarding_partnerships"] == ("Outstanding", 1)
    assert grades["safeguarding_case_planning_review_and_recording"] == ("Inadequate", 4)
    assert grades["lac_staying_safe"] == ("Good", 2)
    # 25 areas for improvement, all due within three months of 17 Dec 2010, so all overdue by 2012.
    assert doc["open_concerns"] == 25 and doc["overdue_concerns"] == 25
    assert doc["regime"]["summary"] == "none"


def test_2015_inadequate_under_monitoring(client):
    doc = status(client, "2015-01-01")
    overall = doc["overall"]
    assert (overall["grade"], overall["label"], overall["framework"], overall["effective_on"]) == (
        4, "Inadequate", "sif-2013", "2014-09-01")
    assert doc["regime"]["summary"] == "monitoring"
    assert doc["regime"]["monitoring"]["since"] == "2014-09-01"
    grades = {j["area"]: j["grade"] for j in doc["judgements"]}
    assert grades == {"overall_effectiveness": 4, "help_and_protection": 4, "children_looked_after": 3,
                      "adoption_performance": 4, "care_leavers": 3, "leadership_management_and_governance": 4}
    assert doc["inspection"]["lscb"] == {"label": "Inadequate", "grade": 4}
    # The 2010 concerns were superseded by the 2014 inspection; its 34 recommendations are open.
    assert doc["open_concerns"] == 34
    first_visit = doc["next_expected"][0]
    assert first_visit["kind"] == "monitoring_visit" and first_visit["window"]["latest"] == "2014-12-22"
    assert first_visit["overdue"] is True  # the first visit came only in January 2016


def test_mid_2016_still_monitoring_after_first_visit_and_diagnostic(client):
    doc = status(client, "2016-07-20")
    assert doc["overall"]["grade"] == 4 and doc["regime"]["summary"] == "monitoring"
    assert doc["regime"]["monitoring"]["last_visit"]["ordinal"] == 1
    assert doc["last_event"]["kind"] == "committee_response"
    # 34 recommendations + 1 monitoring-visit concern + 11 diagnostic areas for development
    assert doc["open_concerns"] == 46


def test_2019_requires_improvement_and_monitoring_ended(client):
    doc = status(client, "2019-01-01")
    overall = doc["overall"]
    assert (overall["grade"], overall["label"], overall["effective_on"]) == (3, "Requires improvement to be good", "2017-12-21")
    assert doc["regime"]["summary"] == "none" and doc["regime"]["monitoring"] is None
    assert doc["inspection"]["type"] == "re-inspection"
    assert doc["open_concerns"] == 12


def test_2023_good_under_ilacs(client):
    doc = status(client, "2023-01-01")
    assert (doc["overall"]["grade"], doc["overall"]["framework"], doc["overall"]["effective_on"]) == (2, "ilacs-2018", "2022-05-19")
    assert {j["area"]: j["label"] for j in doc["judgements"]}["help_and_protection"] == "Requires improvement to be good"
    assert doc["last_event"]["kind"] == "committee_response"


def test_2026_outstanding_with_care_leavers_judged_separately(client):
    doc = status(client, "2026-01-01")
    assert (doc["overall"]["grade"], doc["overall"]["framework"]) == (1, "ilacs-2023")
    areas = {j["normalised_area"]: j["grade"] for j in doc["judgements"]}
    assert areas == {"overall": 1, "leadership": 1, "help_and_protection": 2, "children_in_care": 1, "care_leavers": 1}
    assert doc["next_expected"][0]["kind"] == "inspection"


def test_timeline_lists_every_event_in_date_order_with_sources(client):
    body = client.get("/api/authorities/manchester/timeline").get_json()
    events = body["events"]
    assert len(events) == 17 and body["next_cursor"] is None
    assert [e["effective_on"][:4] for e in events] == sorted(e["effective_on"][:4] for e in events)
    assert all(e["source"]["title"] for e in events)
    assert events[0]["effective_on"] == "2009" and events[0]["date_precision"] == "year"


def test_timeline_pages_with_cursor_and_link_header(client):
    first = client.get("/api/authorities/manchester/timeline?limit=10")
    assert 'rel="next"' in first.headers["Link"]
    second = client.get(first.headers["Link"].split(";")[0].strip("<>"))
    ids = [e["event_id"] for e in first.get_json()["events"] + second.get_json()["events"]]
    assert len(ids) == 17 == len(set(ids))


def test_timeline_filters_by_kind_and_dates(client):
    events = client.get("/api/authorities/manchester/timeline?kind=inspection&from=2014-01-01&to=2022-12-31").get_json()["events"]
    assert [e["effective_on"] for e in events] == ["2014-09-01", "2017-12-21", "2022-05-19"]


@pytest.mark.parametrize("as_of, expected", [("2011-06-01", {"three_months": 12, "immediately": 13}),
                                             ("2011-01-01", {"immediately": 13})])
def test_2010_recommendations_due_by_timescale_counted_from_publication(client, as_of, expected):
    concerns = client.get(f"/api/authorities/manchester/concerns?as_of={as_of}&state=overdue").get_json()["concerns"]
    by_timescale = {}
    for concern in concerns:
        assert concern["source"]["effective_on"] == "2010-12-17"
        by_timescale[concern["timescale"]] = by_timescale.get(concern["timescale"], 0) + 1
    assert by_timescale == expected
    assert {c["due_on"] for c in concerns if c["timescale"] == "immediately"} == {"2010-12-17"}
    assert {c["due_on"] for c in concerns if c["timescale"] == "three_months"} <= {"2011-03-17"}


def test_superseded_concerns_link_the_inspection_that_superseded_them(client):
    closed = client.get("/api/authorities/manchester/concerns?as_of=2015-01-01&state=closed").get_json()["concerns"]
    assert len(closed) == 25
    assert {c["state"] for c in closed} == {"superseded"}
    assert {c["closed_by"]["event_id"][:8] for c in closed} == {INSPECTION_2014}
    assert {c["closed_on"] for c in closed} == {"2014-09-01"}


def test_judgement_history_follows_one_normalised_line_across_frameworks(client):
    rows = client.get("/api/authorities/manchester/judgements?area=overall").get_json()["judgements"]
    assert [(r["framework"], r["grade"]) for r in rows] == [
        ("slac-2009", 3), ("sif-2013", 4), ("sif-2013", 3), ("ilacs-2018", 2), ("ilacs-2023", 1)]
    assert rows[0]["derived"] is True and "worse of" in rows[0]["note"]
    care = client.get("/api/authorities/manchester/judgements?area=care_leavers").get_json()["judgements"]
    assert [(r["framework"], r["label"]) for r in care] == [
        ("sif-2013", "Requires improvement"), ("sif-2013", "Requires improvement"), ("ilacs-2023", "Outstanding")]


def test_authority_list_and_one_authority(client):
    listed = client.get("/api/authorities").get_json()
    assert len(listed) == 153
    manchester = next(a for a in listed if a["slug"] == "manchester")
    assert manchester["status"]["overall"]["grade"] == 1 and manchester["la_code"] == "352"
    assert [a["slug"] for a in client.get("/api/authorities?grade=1").get_json()] == ["manchester"]
    assert client.get("/api/authorities?region=North%20West&regime=monitoring").get_json() == []
    one = client.get("/api/authorities/manchester").get_json()
    assert one["ons_code"] == "E08000003" and one["status"]["overall"]["label"] == "Outstanding"
    bcp = client.get("/api/authorities/bournemouth-christchurch-and-poole").get_json()
    assert set(bcp["predecessors"]) == {"bournemouth", "poole"}


def test_national_status_on_a_date(client):
    body = client.get("/api/status?as_of=2015-01-01").get_json()
    assert body["counts_by_grade"] == {"4": 1, "none": 152}
    assert len(body["authorities"]) == 153
