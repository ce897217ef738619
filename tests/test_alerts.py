"""The daily sweep: overdue concerns and missed monitoring visits, each alerted once, delivered as webhooks."""
from __future__ import annotations

from datetime import date, datetime, timezone

from webhook_receiver import Receiver

from events import alerts, webhooks
from events.deliveries import DeliverySettings
from service.delivery import deliver_due

SECRET = "whsec_alerts_0123456789"
NOW = datetime(2015, 1, 1, 6, 0, tzinfo=timezone.utc)
# On 1 January 2015 Manchester was under monitoring after the inadequate SIF report, its first
# monitoring visit overdue, with 12 concerns past their due dates (see the README's status example).
DAY = date(2015, 1, 1)


def test_the_sweep_raises_each_alert_once_and_delivers_it_to_matching_webhooks(seeded_store):
    with Receiver(SECRET) as receiver:
        visits = webhooks.create(seeded_store.db, {"url": receiver.url, "secret": SECRET,
                                                   "kinds": ["visit.expected_overdue"]}, "t", NOW)
        webhooks.create(seeded_store.db, {"url": receiver.url, "secret": SECRET, "authorities": ["leeds"]}, "t", NOW)
        first = alerts.sweep(seeded_store, DAY, NOW)
        assert first["raised"] == {"concern.overdue": 12, "visit.expected_overdue": 1}
        again = alerts.sweep(seeded_store, DAY, NOW)
        assert again["raised"] == {"concern.overdue": 0, "visit.expected_overdue": 0} and again["already_raised"] == 13
        assert seeded_store.db.execute("SELECT count(*) FROM alerts").fetchone()[0] == 13

        assert deliver_due(seeded_store.db, NOW, DeliverySettings(timeout=2))["delivered"] == 1
        [got] = receiver.received
        assert got["signed"] and got["headers"]["X-Timeline-Topic"] == "visit.expected_overdue"
        alert = got["json"]["data"]["alert"]
        assert alert["authority"] == "manchester" and alert["due_on"] == "2014-12-22"
        assert alert["detail"]["window"] == {"earliest": "2014-09-01", "latest": "2014-12-22"}
        assert seeded_store.db.execute("SELECT webhook_id FROM deliveries").fetchall() == [(visits["id"],)]


def test_a_visit_made_and_the_next_one_missed_raises_a_new_alert(seeded_store):
    alerts.sweep(seeded_store, DAY, NOW)
    before = {a["key"] for a in alerts.list_alerts(seeded_store, limit=1000)}
    later = alerts.sweep(seeded_store, date(2016, 7, 1), NOW)
    after = {a["key"] for a in alerts.list_alerts(seeded_store, limit=1000)}
    assert later["raised"] == {"concern.overdue": 0, "visit.expected_overdue": 1}
    [new] = after - before
    assert new.startswith("visit.expected_overdue:manchester:") and new not in before


def test_alerts_endpoint_filters_by_authority_topic_and_time(client, seeded_store):
    alerts.sweep(seeded_store, DAY, NOW)
    everything = client.get("/api/alerts?limit=1000").json["alerts"]
    assert len(everything) == 13
    visits = client.get("/api/alerts?topic=visit.expected_overdue&authority=manchester").json["alerts"]
    assert [a["topic"] for a in visits] == ["visit.expected_overdue"]
    assert client.get("/api/alerts?authority=leeds").json["alerts"] == []
    assert client.get("/api/alerts?since=2015-01-02").json["alerts"] == []
    assert len(client.get("/api/alerts?since=2015-01-01&limit=1000").json["alerts"]) == 13  # from the day's start
    assert client.get("/api/alerts?since=2015-01-01T06:00:01Z").json["alerts"] == []
    assert len(client.get("/api/alerts?since=2015-01-01T05:00:00Z&limit=1000").json["alerts"]) == 13
    assert client.get("/api/alerts?since=yesterday").status_code == 400
