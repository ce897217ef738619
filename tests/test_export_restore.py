"""`timeline export` then `timeline load --restore` into an empty database gives the same answers, known_at included."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from events.exporting import RestoreError, export_lines, restore_lines
from events.projections.incremental import StreamProjector
from events.sqlite_store import SQLiteStore
from migrations.migrations import upgrade
from service.app import create_app
from tests.conftest import TODAY, monitoring_visit

TIMELINE = str(Path(sys.executable).with_name("timeline"))
INSPECTION_2014 = "e1f51ae0-2841-5c6e-8b00-7e7ba7087eba"


def at(month: int) -> datetime:
    return datetime(2026, month, 1, tzinfo=timezone.utc)


@pytest.fixture
def history(client, auth, clock, seeded_store):
    """The bundled data, then a correction, a retraction and a new visit, each recorded months apart."""
    clock.jump(at(3))
    correction = client.post("/api/authorities/manchester/events", headers=auth, json={
        "kind": "correction", "effective_on": "2026-02-20",
        "payload": {"target_event_id": INSPECTION_2014, "changes": {"effective_on": "2014-09-03"},
                    "reason": "publication date taken from Ofsted's listing"},
        "source": {"title": "Ofsted report listing"}})
    assert correction.status_code == 201, correction.get_json()
    clock.jump(at(5))
    timeline = client.get("/api/authorities/manchester/timeline").get_json()["events"]
    target = next(e for e in timeline if e["kind"] == "monitoring_visit")["event_id"]
    retraction = client.post("/api/authorities/manchester/events", headers=auth, json={
        "kind": "retraction", "effective_on": "2026-04-20",
        "payload": {"target_event_id": target, "reason": "entered twice"}, "source": {"title": "data team"}})
    assert retraction.status_code == 201
    clock.jump(at(9))
    assert client.post("/api/authorities/manchester/events", headers=auth, json=monitoring_visit()).status_code == 201
    return seeded_store


def fresh_store(tmp_path, name: str) -> SQLiteStore:
    path = str(tmp_path / name)
    upgrade(path)
    store = SQLiteStore(path)
    store.projector_for = lambda authority: StreamProjector(authority, TODAY)
    return store


QUESTIONS = [
    f"/api/authorities/manchester/{what}?as_of={as_of}" + (f"&known_at={known}" if known else "")
    for what in ("status", "concerns", "judgements")
    for as_of in ("2012-01-01", "2014-09-02", "2015-01-01", "2019-01-01", "2026-11-01")
    for known in (None, "2026-02-15", "2026-04-15", "2026-08-15")
] + [
    "/api/authorities/manchester/concerns?state=all&as_of=2015-01-01&known_at=2026-04-15",
    "/api/authorities/manchester/timeline", "/api/authorities/manchester/timeline?known_at=2026-04-15",
    "/api/authorities/manchester/timeline?format=csv", "/api/events?limit=1000", "/api/authorities",
    f"/api/events/{INSPECTION_2014}?known_at=2026-02-15",
]


def test_export_restore_round_trip_is_byte_identical_and_answers_the_same(history, registry, tmp_path, client):
    exported = "".join(export_lines(history))
    assert len(exported.splitlines()) == history.last_position() == 20
    restored = fresh_store(tmp_path, "restored.db")
    assert restore_lines(restored, registry, exported.splitlines(), today=lambda: TODAY) == 20
    assert "".join(export_lines(restored)) == exported
    assert restored.read_projections() == history.read_projections()
    other = create_app({"TIMELINE_DATABASE": restored.path, "TESTING": True, "TODAY": lambda: TODAY}).test_client()
    differing = []
    for question in QUESTIONS:
        mine, theirs = client.get(question), other.get(question)
        assert mine.status_code == 200, question
        if (mine.data, mine.headers["ETag"]) != (theirs.data, theirs.headers["ETag"]):
            differing.append(question)
    assert differing == []
    # The questions can tell histories apart: before the correction was recorded, the old answer.
    before = other.get("/api/authorities/manchester/status?as_of=2014-09-02&known_at=2026-02-15").get_json()
    after = other.get("/api/authorities/manchester/status?as_of=2014-09-02").get_json()
    assert before["overall"]["framework"] == "sif-2013" and after["overall"]["framework"] == "slac-2009"


def test_restore_refuses_a_database_that_has_events(history, registry):
    lines = list(export_lines(history))
    with pytest.raises(RestoreError, match="empty database"):
        restore_lines(history, registry, lines, today=lambda: TODAY)


@pytest.mark.parametrize(("change", "line", "words"), [
    (lambda records: records.__delitem__(3), 4, "version"),  # a gap in Manchester's stream
    (lambda records: records[5].update(recorded_at="2020-01-01T00:00:00.000000Z"), 6, "recorded_at"),
    (lambda records: records[2].update(payload={"framework": "nope"}), 3, "payload"),
    (lambda records: records[0].pop("request_hash"), 1, "request_hash"),
    (lambda records: records[1].update(authority="atlantis"), 2, "authority"),
])
def test_restore_refuses_a_broken_history_and_writes_nothing(history, registry, tmp_path, change, line, words):
    records = [json.loads(text) for text in export_lines(history)]
    change(records)
    restored = fresh_store(tmp_path, "broken.db")
    with pytest.raises(RestoreError) as refused:
        restore_lines(restored, registry, [json.dumps(r) for r in records], today=lambda: TODAY)
    assert refused.value.line == line and words in str(refused.value)
    assert restored.last_position() == 0 and restored.read_projections() == []


def test_cli_export_and_restore(tmp_path):
    def run(db: str, *args, **kwargs):
        env = dict(os.environ, TIMELINE_DATABASE=str(tmp_path / db))
        return subprocess.run([TIMELINE, *args], env=env, capture_output=True, text=True, **kwargs)

    run("a.db", "db", "upgrade", check=True)
    run("a.db", "seed", check=True)
    exported = run("a.db", "export", "-", check=True)
    assert "exported 17 events" in exported.stderr
    run("a.db", "export", str(tmp_path / "a.ndjson"), check=True)
    assert (tmp_path / "a.ndjson").read_text() == exported.stdout
    run("b.db", "db", "upgrade", check=True)
    restored = run("b.db", "load", "--restore", str(tmp_path / "a.ndjson"))
    assert restored.returncode == 0 and "restored 17 events" in restored.stdout, restored.stderr
    assert run("b.db", "export", "-", check=True).stdout == exported.stdout
    again = run("b.db", "load", "--restore", "-", input=exported.stdout)
    assert again.returncode == 1 and "empty database" in again.stderr
    assert "0 appended, 17 already present" in run("b.db", "seed", check=True).stdout  # the seed still recognises them
    count = sqlite3.connect(tmp_path / "b.db").execute("select count(*) from events").fetchone()[0]
    assert count == 17
