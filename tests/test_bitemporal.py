"""Appends change answers for dates after them only; known_at reproduces past answers."""
from __future__ import annotations

from datetime import datetime, timedelta

from conftest import monitoring_visit

INSPECTION_2014 = "e1f51ae0-2841-5c6e-8b00-7e7ba7087eba"
REINSPECTION_2017 = "2a69fabc"


def post(client, auth, body, slug="manchester", **headers):
    return client.post(f"/api/authorities/{slug}/events", json=body, headers={**auth, **headers})


def get(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def status(client, as_of, known_at=None, slug="manchester"):
    query = f"as_of={as_of}" + (f"&known_at={known_at}" if known_at else "")
    return get(client, f"/api/authorities/{slug}/status?{query}")


def full_id(client, prefix):
    events = get(client, "/api/authorities/manchester/timeline")["events"]
    return next(e["event_id"] for e in events if e["event_id"].startswith(prefix))


def test_the_issue_example_appends_and_changes_only_later_answers(client, auth):
    before = status(client, "2026-10-14")
    body = monitoring_visit(expected_version=17)
    body["payload"]["findings"].append({"text": "Drift in pre-proceedings work.", "direction": "new_concern"})
    response = post(client, auth, body, **{"Idempotency-Key": "6f1c0000-example"})
    assert response.status_code == 201, response.get_json()
    stored = response.get_json()
    assert stored["version"] == 18 and stored["recorded_by"] == "tester"
    assert response.headers["Location"] == f"/api/events/{stored['event_id']}"
    timeline = get(client, "/api/authorities/manchester/timeline")["events"]
    assert timeline[-1]["event_id"] == stored["event_id"]
    assert status(client, "2026-10-14") == before
    after = status(client, "2026-10-15")
    assert after["last_event"]["event_id"] == stored["event_id"]
    assert after["open_concerns"] == before["open_concerns"] + 1


def test_known_at_before_an_append_gives_the_old_answer(client, auth):
    old = status(client, "2026-11-01")
    stored = post(client, auth, monitoring_visit()).get_json()
    assert status(client, "2026-11-01")["last_event"]["event_id"] == stored["event_id"]
    earlier = status(client, "2026-11-01", known_at=_minus_one_second(stored["recorded_at"]))
    assert earlier["last_event"] == old["last_event"] and earlier["known_at"] < stored["recorded_at"]


def _minus_one_second(stamp: str) -> str:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")) - timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_correction_changes_answers_from_when_it_was_recorded(client, auth, clock):
    assert status(client, "2014-09-02")["overall"]["grade"] == 4
    response = post(client, auth, {
        "kind": "correction", "effective_on": "2026-11-20",
        "payload": {"target_event_id": INSPECTION_2014, "changes": {"effective_on": "2014-09-03"},
                    "reason": "publication date taken from Ofsted's listing"},
        "source": {"title": "Ofsted report listing"}})
    assert response.status_code == 201, response.get_json()
    recorded = response.get_json()["recorded_at"]
    corrected = status(client, "2014-09-02")
    assert corrected["overall"]["framework"] == "slac-2009"  # the 2014 report no longer in force on 2 September
    assert status(client, "2014-09-03")["overall"]["grade"] == 4
    # As known before the correction: the original answer, reproducible.
    assert status(client, "2014-09-02", known_at=_minus_one_second(recorded))["overall"]["grade"] == 4
    event = get(client, f"/api/events/{INSPECTION_2014}")
    assert event["effective_on"] == "2014-09-03" and event["as_recorded"]["effective_on"] == "2014-09-01"
    assert event["corrections"][0]["fields"] == ["effective_on"]


def test_correction_that_would_make_the_event_invalid_is_refused(client, auth):
    response = post(client, auth, {
        "kind": "correction", "effective_on": "2026-11-20",
        "payload": {"target_event_id": INSPECTION_2014,
                    "changes": {"payload": {"judgements": [{"area": "overall_effectiveness", "label": "Good", "grade": 3}]}},
                    "reason": "typo"},
        "source": {"title": "x"}})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "payload.changes.payload.judgements.0.label"


def test_correction_moving_publication_before_fieldwork_is_refused(client, auth):
    response = post(client, auth, {
        "kind": "correction", "effective_on": "2026-11-20",
        "payload": {"target_event_id": INSPECTION_2014, "changes": {"effective_on": "2014-07-01"}, "reason": "typo"},
        "source": {"title": "x"}})
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["payload.changes.effective_on"]


def test_retraction_then_reappend_restores_the_answer(client, auth):
    target = full_id(client, REINSPECTION_2017)
    original = get(client, f"/api/events/{target}")
    assert status(client, "2019-01-01")["overall"]["grade"] == 3
    retraction = post(client, auth, {"kind": "retraction", "effective_on": "2026-11-20",
                                     "payload": {"target_event_id": target, "reason": "entered against the wrong authority"},
                                     "source": {"title": "data team"}})
    assert retraction.status_code == 201
    retracted = status(client, "2019-01-01")
    assert retracted["overall"]["grade"] == 4 and retracted["regime"]["summary"] == "monitoring"
    assert status(client, "2019-01-01", known_at=_minus_one_second(retraction.get_json()["recorded_at"]))["overall"]["grade"] == 3
    again = {k: original[k] for k in ("kind", "effective_on", "occurred", "payload", "source")}
    assert post(client, auth, again).status_code == 201
    restored = status(client, "2019-01-01")
    assert (restored["overall"]["grade"], restored["regime"]["summary"]) == (3, "none")


def test_backfilled_event_changes_later_answers_but_not_what_was_known(client, auth):
    before_2012 = status(client, "2012-01-01")
    stored = post(client, auth, {
        "kind": "focused_visit", "effective_on": "2011-05-20", "occurred": {"start": "2011-05-03", "end": "2011-05-04"},
        "payload": {"topic": "children in need", "priority_actions": [
            {"text": "Ensure every child in need has a plan.", "timescale": "three_months"}]},
        "source": {"title": "Focused visit letter"}}).get_json()
    now_2012 = status(client, "2012-01-01")
    assert now_2012["open_concerns"] == before_2012["open_concerns"] + 1
    assert now_2012["overdue_concerns"] == before_2012["overdue_concerns"] + 1  # due 2011-08-20
    assert status(client, "2011-05-19")["open_concerns"] == status(client, "2011-05-19", known_at=_minus_one_second(stored["recorded_at"]))["open_concerns"]
    as_known = status(client, "2012-01-01", known_at=_minus_one_second(stored["recorded_at"]))
    assert {k: v for k, v in as_known.items() if k != "known_at"} == {k: v for k, v in before_2012.items() if k != "known_at"}


def test_month_precision_is_kept_and_flagged(client, auth):
    stored = post(client, auth, monitoring_visit(effective_on="2018-06", occurred={"start": "2018-06", "end": "2018-06"})).get_json()
    assert (stored["effective_on"], stored["date_precision"]) == ("2018-06", "month")
    flagged = status(client, "2018-06-15")["imprecise_dates"]
    assert [f["event_id"] for f in flagged] == [stored["event_id"]]
    assert status(client, "2018-07-01")["imprecise_dates"] == []


def test_old_schema_version_is_read_through_the_upcaster(client, auth):
    stored = post(client, auth, {
        "kind": "inspection", "schema_version": 1, "effective_on": "2012-03-01",
        "occurred": {"start": "2012-01-09", "end": "2012-01-20"},
        "payload": {"framework": "cp-2012", "type": "standard",
                    "judgements": [{"area": "overall_effectiveness", "label": "Adequate", "grade": 3}],
                    "areas_for_improvement": ["Improve the timeliness of assessments."]},
        "source": {"title": "Inspection of arrangements for the protection of children"}}).get_json()
    assert stored["schema_version"] == 1 and "areas_for_improvement" in stored["payload"]
    read = get(client, f"/api/events/{stored['event_id']}")
    assert read["payload"]["recommendations"] == [{"text": "Improve the timeliness of assessments."}]
    concerns = get(client, "/api/authorities/manchester/concerns?as_of=2012-04-01")["concerns"]
    assert [(c["text"], c["due_on"]) for c in concerns] == [("Improve the timeliness of assessments.", None)]


def test_concern_update_resolves_a_concern(client, auth):
    concern = get(client, "/api/authorities/manchester/concerns?as_of=2026-11-01")["concerns"][0]
    response = post(client, auth, {"kind": "concern_update", "effective_on": "2026-11-02",
                                   "payload": {"concern_id": concern["concern_id"], "state": "resolved",
                                               "evidence": "Neglect strategy audited."},
                                   "source": {"title": "Improvement board minutes"}})
    assert response.status_code == 201, response.get_json()
    closed = get(client, "/api/authorities/manchester/concerns?as_of=2026-11-03&state=closed")["concerns"]
    assert [(c["concern_id"], c["state"], c["closed_on"]) for c in closed][-1] == (concern["concern_id"], "resolved", "2026-11-02")
    assert get(client, "/api/authorities/manchester/concerns?as_of=2026-11-01&state=open")["concerns"][0]["concern_id"] == concern["concern_id"]


def test_intervention_in_force_until_lifted(client, auth):
    def intervention(action, on):
        return {"kind": "intervention", "effective_on": on,
                "payload": {"measure": "statutory_direction", "action": action, "summary": f"direction {action}"},
                "source": {"title": "DfE letter"}}
    assert post(client, auth, intervention("issued", "2015-03-01")).status_code == 201
    assert post(client, auth, intervention("lifted", "2018-03-01")).status_code == 201
    assert status(client, "2016-01-01")["regime"]["summary"] == "monitoring and intervention"
    assert status(client, "2018-01-01")["regime"]["summary"] == "intervention"
    assert status(client, "2018-03-01")["regime"]["summary"] == "none"


def test_ilacs_2026_has_no_overall_judgement(client, auth):
    judgements = [{"area": a, "label": "Good", "grade": 2}
                  for a in ("impact_of_leaders", "help_and_protection", "children_in_care", "care_leavers")]
    response = post(client, auth, {
        "kind": "inspection", "effective_on": "2026-07-07", "occurred": {"start": "2026-05-11", "end": "2026-05-22"},
        "payload": {"framework": "ilacs-2026", "type": "standard", "judgements": judgements},
        "source": {"title": "Inspection of local authority children's services"}}, slug="west-northamptonshire")
    assert response.status_code == 201, response.get_json()
    overall = status(client, "2026-08-01", slug="west-northamptonshire")["overall"]
    assert (overall["judged"], overall["label"], overall["grade"]) == (False, "not judged", None)


def test_successor_timeline_shows_predecessor_history_marked(client, auth):
    response = post(client, auth, monitoring_visit(effective_on="2018-05-01", occurred={"start": "2018-04-10", "end": "2018-04-11"}),
                    slug="northamptonshire")
    assert response.status_code == 201
    events = get(client, "/api/authorities/west-northamptonshire/timeline")["events"]
    assert [(e["authority"], e["from_predecessor"]) for e in events] == [("northamptonshire", "northamptonshire")]
    assert get(client, "/api/authorities/west-northamptonshire/timeline?include_predecessors=false")["events"] == []
