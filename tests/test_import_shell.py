"""The importer's shell: POST /api/drafts and `timeline import`, on real documents."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import SHARED

TIMELINE = str(Path(sys.executable).parent / "timeline")
MANCHESTER_2022 = SHARED / "reports/ofsted/manchester/2022-05-19.pdf"
LETTER_2017 = SHARED / "seeds/001_a33c30cd977bcbb2.txt"
REPORT_2010 = SHARED / "seeds/000_eb7606ae86893fe1.txt"


def upload(client, path, **form):
    with open(path, "rb") as handle:
        return client.post("/api/drafts", data={"file": (handle, path.name), **form}, content_type="multipart/form-data")


def test_pdf_upload_drafts_an_inspection_with_evidence(client):
    response = upload(client, MANCHESTER_2022, published="2022-05-19")
    assert response.status_code == 200, response.get_json()
    draft = response.get_json()
    event = draft["event"]
    assert (draft["authority"], event["kind"], event["effective_on"]) == ("manchester", "inspection", "2022-05-19")
    assert event["payload"]["framework"] == "ilacs-2018"
    assert event["source"]["sha256"] == draft["document"]["sha256"]
    assert "published parameter" in draft["evidence"]["effective_on"]["note"]
    assert draft["evidence"]["occurred.start"]["page"] == 1


def test_without_a_publication_date_an_ilacs_draft_says_it_is_missing(client):
    draft = upload(client, MANCHESTER_2022).get_json()
    assert "effective_on" in draft["missing"] and "effective_on" not in draft["event"]


def test_text_body_upload_drafts_a_monitoring_visit(client):
    response = client.post("/api/drafts", data=LETTER_2017.read_bytes(), content_type="text/plain")
    assert response.status_code == 200
    event = response.get_json()["event"]
    assert (event["kind"], event["payload"]["ordinal"], event["effective_on"]) == ("monitoring_visit", 4, "2017-07-06")


def test_reviewed_draft_posts_once_however_often_it_is_imported(client, auth):
    event = upload(client, MANCHESTER_2022, published="2022-05-19").get_json()["event"]
    first = client.post("/api/authorities/manchester/events", json=event, headers=auth)
    again = client.post("/api/authorities/manchester/events",
                        json=upload(client, MANCHESTER_2022, published="2022-05-19").get_json()["event"], headers=auth)
    assert first.status_code == 201 and again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["event_id"] == first.get_json()["event_id"]


def test_upload_errors_are_problems(client):
    assert client.post("/api/drafts", json={"a": 1}).status_code == 415
    garbage = client.post("/api/drafts", data=b"%PDF-1.7 this is not really a pdf", content_type="application/pdf")
    assert garbage.status_code == 422 and garbage.get_json()["type"].endswith("/unreadable-document")
    unknown = client.post("/api/drafts", data=b"Minutes of the allotments sub-committee", content_type="text/plain")
    assert unknown.status_code == 422 and "looked for" in unknown.get_json()["detail"]
    no_file = client.post("/api/drafts", data={"published": "2022-05-19"}, content_type="multipart/form-data")
    assert no_file.status_code == 400 and no_file.get_json()["errors"][0]["field"] == "file"
    bad_date = upload(client, MANCHESTER_2022, published="19/05/2022")
    assert bad_date.status_code == 400 and bad_date.get_json()["errors"][0]["field"] == "published"
    huge = client.post("/api/drafts", data=b"%PDF-" + b"0" * (21 * 1024 * 1024), content_type="application/pdf")
    assert huge.status_code == 413


def run(env, *args, **kwargs):
    return subprocess.run([TIMELINE, *args], env=env, capture_output=True, text=True, **kwargs)


def test_cli_import_prints_the_draft_and_appends_once(tmp_path):
    env = dict(os.environ, TIMELINE_DATABASE=str(tmp_path / "import.db"))
    run(env, "db", "upgrade", check=True)
    printed = run(env, "import", str(REPORT_2010))
    draft = json.loads(printed.stdout)
    assert draft["event"]["payload"]["framework"] == "slac-2009" and draft["missing"] == {}
    assert "drafted" in printed.stderr
    assert "appended" in run(env, "import", str(REPORT_2010), "--append").stderr
    assert "already present" in run(env, "import", str(REPORT_2010), "--append").stderr


def test_cli_imports_a_folder_with_its_sidecar_index_and_a_summary(tmp_path):
    env = dict(os.environ, TIMELINE_DATABASE=str(tmp_path / "folder.db"))
    run(env, "db", "upgrade", check=True)
    result = run(env, "import", str(SHARED / "reports/ofsted/manchester"), "--append",
                 "--index", str(SHARED / "reports/ofsted/index.csv"))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "total: 4 appended"
    assert sum("manchester" in line for line in lines) == 4
    again = run(env, "import", str(SHARED / "reports/ofsted/manchester"), "--append",
                "--index", str(SHARED / "reports/ofsted/index.csv"))
    assert again.stdout.splitlines()[-1] == "total: 4 already present"


def test_reports_already_in_the_bundled_history_are_not_appended_again(tmp_path):
    env = dict(os.environ, TIMELINE_DATABASE=str(tmp_path / "seeded.db"))
    run(env, "db", "upgrade", check=True)
    run(env, "seed", check=True)
    result = run(env, "import", str(SHARED / "reports/ofsted/manchester"), "--append",
                 "--index", str(SHARED / "reports/ofsted/index.csv"))
    lines = result.stdout.splitlines()
    assert lines[-1] == "total: 4 already present", result.stdout + result.stderr
    assert any("2022-05-19.pdf" in line and "same inspection with the same dates (2022-03-21 to 2022-04-01)" in line
               for line in lines)
    letter = run(env, "import", str(LETTER_2017), "--append")
    assert "already present" in letter.stderr and "same monitoring_visit" in letter.stderr


def test_a_different_publication_date_does_not_make_a_second_event(tmp_path):
    env = dict(os.environ, TIMELINE_DATABASE=str(tmp_path / "twice.db"))
    run(env, "db", "upgrade", check=True)
    assert "appended" in run(env, "import", str(MANCHESTER_2022), "--append", "--published", "2022-05-19").stderr
    again = run(env, "import", str(MANCHESTER_2022), "--append", "--published", "2022-05-20")
    assert again.returncode == 0 and "already present" in again.stderr and "this document is event" in again.stderr


COMMITTEE_2022 = SHARED / "seeds/003_99b81858136c566d.txt"
ILACS_2022_EVENT = "bd026936-e62b-5816-9974-b10945c3ee3d"  # the bundled 2022 ILACS inspection


def test_a_committee_report_is_linked_to_the_inspection_whose_table_it_quotes(client):
    # the app fixture holds Manchester's bundled history
    response = client.post("/api/drafts", data=COMMITTEE_2022.read_bytes(), content_type="text/plain")
    draft = response.get_json()
    assert draft["event"]["payload"]["responds_to"] == [ILACS_2022_EVENT]
    assert "payload.responds_to" not in draft["missing"]
    assert "quoted judgement table matches" in draft["evidence"]["payload.responds_to"]["note"]


def test_without_a_matching_inspection_responds_to_stays_missing(tmp_path):
    env = dict(os.environ, TIMELINE_DATABASE=str(tmp_path / "empty.db"))
    run(env, "db", "upgrade", check=True)
    draft = json.loads(run(env, "import", str(COMMITTEE_2022)).stdout)
    assert draft["event"]["payload"]["responds_to"] == [] and "payload.responds_to" in draft["missing"]


def test_drafting_needs_no_database_but_appending_asks_for_an_upgrade(tmp_path):
    env = dict(os.environ, TIMELINE_DATABASE=str(tmp_path / "absent.db"))
    assert json.loads(run(env, "import", str(REPORT_2010)).stdout)["format"] == "slac2009"
    refused = run(env, "import", str(REPORT_2010), "--append")
    assert refused.returncode != 0 and "run `timeline db upgrade` first" in refused.stderr
    assert not (tmp_path / "absent.db").exists()
