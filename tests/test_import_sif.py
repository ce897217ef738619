"""The SIF importer (2013-18 single inspection framework reports and re-inspections) on real Ofsted PDFs."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from functools import lru_cache
from pathlib import Path

import pytest

from events.errors import UnrecognisedDocument
from events.importer import ilacs, lac2012, sif, slac2009
from events.importer.document import Document, read_path
from events.importer.draft import Published
from events.importer.drafting import Context, draft_document
from events.schemas import validate_new_event

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REPORTS = SHARED / "reports" / "ofsted"

RI, RIG, G, O, I = "Requires improvement", "Requires improvement to be good", "Good", "Outstanding", "Inadequate"
AREAS = ("overall_effectiveness", "help_and_protection", "children_looked_after", "adoption_performance",
         "care_leavers", "leadership_management_and_governance")


def judged(*labels: str) -> list[tuple[str, str, int]]:
    grades = {O: 1, G: 2, RI: 3, RIG: 3, "Requires Improvement": 3, I: 4}
    return [(area, label, grades[label]) for area, label in zip(AREAS, labels, strict=True)]


# file: (authority, type, start, end, printed publication date or None, lead inspector, judgements,
#        LSCB (label, grade) or None, local authority recommendations, LSCB recommendations)
CASES = {
    # 2013-14 layout: no printed publication date; LSCB judged on page 1; "The overall judgement is …".
    "bolton/2014-03-21.pdf": (
        "bolton", "standard", "2014-01-14", "2014-02-05", None, "Robert Hackeson",
        judged(RI, RI, G, G, G, RI), (RI, 3), 12, 6),
    # 2013-14: recommendations printed as bullets, not numbered.
    "hillingdon/2014-02-11.pdf": (
        "hillingdon", "standard", "2013-11-25", "2013-12-18", None, "Ian Young",
        judged(RI, RI, RI, G, RI, RI), (RI, 3), 11, 7),
    # "26. The inspection did not find any areas for priority and immediate action." is not an item.
    "bexley/2014-05-23.pdf": (
        "bexley", "standard", "2014-03-11", "2014-04-02", "2014-05-23", "Pietro Battista",
        judged(RI, RI, RI, RI, RI, RI), (I, 4), 34, 10),
    # 2015: grades printed "Requires\nImprovement" (kept as printed); priority actions with sub-headings.
    "devon/2015-05-12.pdf": (
        "devon", "standard", "2015-02-24", "2015-03-18", "2015-05-12", "Jansy Kelly",
        judged(RI, "Requires Improvement", "Requires Improvement", G, I, "Requires Improvement"), (I, 4), 25, 15),
    # "Cheshire East Unitary Authority" matched without its council words.
    "cheshire-east/2015-09-15.pdf": (
        "cheshire-east", "standard", "2015-07-06", "2015-07-30", "2015-09-15", "Sarah Urding",
        judged(RIG, RI, RI, G, RI, RI), (RI, 3), 17, 8),
    "westminster/2016-03-29.pdf": (
        "westminster", "standard", "2016-01-11", "2016-02-04", "2016-03-29", "Brenda McLaughlin",
        judged(O, G, O, O, G, O), (G, 2), 4, 5),
    # Dates printed as 12/09/2016; the LSCB's "Recommendations" heading sits at the foot of the page in the text.
    "redbridge/2016-11-25.pdf": (
        "redbridge", "standard", "2016-09-12", "2016-10-06", "2016-11-25", "Louise Hocking",
        judged(G, G, G, G, RI, G), (G, 2), 9, 3),
    # Re-inspections: no LSCB review.
    "birmingham/2016-11-25.pdf": (
        "birmingham", "re-inspection", "2016-09-12", "2016-10-06", "2016-11-25", "Peter McEntee",
        judged(I, I, RI, RI, RI, I), None, 17, 0),
    "knowsley/2017-06-13.pdf": (
        "knowsley", "re-inspection", "2017-03-13", "2017-03-24", "2017-06-13", "Shirley Bailey",
        judged(RIG, RI, RI, G, G, G), None, 8, 0),
    # An outstanding LSCB: "There are no recommendations for the MSCB."
    "merton/2017-08-25.pdf": (
        "merton", "standard", "2017-06-12", "2017-07-06", "2017-08-25", "Louise Hocking",
        judged(G, G, G, O, G, O), (O, 1), 4, 0),
    # 2018 standard inspection without an LSCB review; grades wrapped over three lines.
    "darlington/2018-05-21.pdf": (
        "darlington", "standard", "2018-02-27", "2018-03-22", "2018-05-21", "Graham Reiter",
        judged(RIG, RIG, RIG, G, G, RIG), None, 14, 0),
    # Manchester: the hand-made events in events/data/manchester.ndjson are compared in full below.
    "manchester/2014-09-03.pdf": (
        "manchester", "standard", "2014-06-25", "2014-07-16", "2014-09-01", "Peter McEntee",
        judged(I, I, RI, I, RI, I), (I, 4), 24, 10),
    "manchester/2017-12-21.pdf": (
        "manchester", "re-inspection", "2017-10-09", "2017-11-02", "2017-12-21", "Brenda McLaughlin",
        judged(RIG, RI, RI, G, RI, G), None, 12, 0),
}


@lru_cache(maxsize=None)
def document(name: str) -> Document:
    return read_path(REPORTS / name)


def published(on: str, source: str = "test publication date") -> Published:
    return Published(date.fromisoformat(on), source)


def _altered(name: str, old: str, new: str, page: int = 0) -> Document:
    doc = document(name)
    pages = list(doc.pages)
    assert old in pages[page], old
    pages[page] = pages[page].replace(old, new, 1)
    return replace(doc, pages=tuple(pages))


def _lscb_count(recommendations: list[dict]) -> int:
    return sum(1 for r in recommendations if r.get("section", "").startswith("LSCB"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_reads_every_field(name, registry):
    authority, kind, start, end, printed, lead, judgements, lscb, la_count, lscb_count = CASES[name]
    doc = document(name)
    assert sif.recognise(doc)
    draft = sif.parse(doc, Context(registry))
    event, payload = draft.event, draft.event["payload"]
    assert draft.authority == authority
    assert payload["framework"] == "sif-2013"
    assert payload["type"] == kind
    assert event["occurred"] == {"start": start, "end": end}
    assert event.get("effective_on") == printed
    assert payload["lead_inspector"] == lead
    assert [(j["area"], j["label"], j["grade"]) for j in payload["judgements"]] == judgements
    assert ((payload["lscb"]["label"], payload["lscb"]["grade"]) if "lscb" in payload else None) == lscb
    recommendations = payload["recommendations"]
    assert (len(recommendations) - _lscb_count(recommendations), _lscb_count(recommendations)) == (la_count,
                                                                                                   lscb_count)
    # Only a publication date the report does not print may be missing.
    assert set(draft.missing) == (set() if printed else {"effective_on"})
    for path in ("authority", "occurred.start", "occurred.end", "payload.lead_inspector", "payload.framework",
                 "payload.type", "source.title", *(f"payload.judgements.{i}" for i in range(len(judgements))),
                 *(f"payload.recommendations.{i}" for i in range(len(recommendations))),
                 *(("payload.lscb",) if lscb else ()), *(("effective_on",) if printed else ())):
        assert draft.evidence[path]["page"] is not None and draft.evidence[path]["quote"], path


@pytest.mark.parametrize("name", sorted(CASES))
def test_complete_drafts_pass_the_append_validation(name, registry):
    printed = CASES[name][4]
    draft = sif.parse(document(name), Context(registry, published(printed or "2014-03-21")))
    assert draft.complete, draft.missing
    event = validate_new_event(draft.request())
    assert event["payload"]["framework"] == "sif-2013"
    assert event["effective_on"] == (printed or "2014-03-21")


@pytest.mark.parametrize("name, year", [("manchester/2014-09-03.pdf", "2014"), ("manchester/2017-12-21.pdf", "2017")])
def test_manchester_drafts_equal_the_hand_made_events(name, year, registry):
    expected = next(e for line in (REPO / "events" / "data" / "manchester.ndjson").read_text().splitlines()
                    if (e := json.loads(line))["kind"] == "inspection" and e["effective_on"].startswith(year))
    draft = sif.parse(document(name), Context(registry))
    assert draft.complete, draft.missing
    request = draft.request()
    for field in ("kind", "schema_version", "effective_on", "date_precision", "occurred"):
        assert request[field] == expected[field], field
    assert request["payload"] == expected["payload"]


def test_judgement_evidence_quotes_the_table_row_and_the_body_that_agrees(registry):
    draft = sif.parse(document("kent/2017-06-13.pdf"), Context(registry))
    adoption = draft.evidence["payload.judgements.3"]
    assert adoption["page"] == 1 and adoption["quote"] == "2.1 Adoption performance Good"
    assert "The graded judgement for adoption performance is that it is good" in adoption["note"]
    overall = draft.evidence["payload.judgements.0"]
    assert overall["quote"] == "Children’s services in Kent are good"
    assert draft.evidence["payload.lscb"]["quote"] == "The Local Safeguarding Children Board requires improvement"


def test_headline_verbs_are_recorded_as_table_labels(registry):
    draft = sif.parse(document("darlington/2018-05-21.pdf"), Context(registry))
    assert draft.event["payload"]["judgements"][0] == {"area": "overall_effectiveness",
                                                       "label": "Requires improvement to be good", "grade": 3}
    assert draft.evidence["payload.judgements.0"]["quote"] == ("Children's services in Darlington require "
                                                               "improvement to be good")


def test_priority_actions_are_immediate_with_their_printed_sections(registry):
    recommendations = sif.parse(document("devon/2015-05-12.pdf"), Context(registry)).event["payload"][
        "recommendations"]
    first, tenth = recommendations[0], recommendations[9]
    assert first["text"].startswith("1. Review all those care leavers about whom the local authority does not have "
                                    "up-to-date information")  # the hyphen PDFium marks at a line break
    assert first["section"] == "Priority and immediate action: Quality of work with children and young people"
    assert first["timescale"] == "immediately"
    assert tenth["section"] == "Areas for improvement: Quality of work with children and young people"
    assert "timescale" not in tenth
    # Item 6's second sentence starts on a line of its own and stays in the item.
    assert recommendations[5]["text"].endswith("the Corporate Parenting Board (CPB) to coordinate, share and align "
                                               "plans and objectives.")
    lscb = [r for r in recommendations if r["section"].startswith("LSCB")]
    assert lscb[0]["section"] == "LSCB priority and immediate action: Development of key functions"
    assert lscb[-1]["text"].startswith("169. ")


def test_a_none_statement_is_not_a_recommendation(registry):
    draft = sif.parse(document("bexley/2014-05-23.pdf"), Context(registry))
    recommendations = draft.event["payload"]["recommendations"]
    assert recommendations[0]["text"].startswith("27. Ensure that the thresholds")
    assert all("did not find" not in r["text"] for r in recommendations)
    assert "The inspection did not find any areas for priority and immediate action" in (
        draft.evidence["payload.recommendations"]["note"])


def test_sub_bullets_stay_in_their_item(registry):
    first = sif.parse(document("cornwall/2016-06-27.pdf"), Context(registry)).event["payload"]["recommendations"][0]
    assert first["text"].startswith("1. Improve the arrangements to reduce the risk to children of sexual "
                                    "exploitation and episodes of missing from home and care by: improving "
                                    "information sharing")
    assert "are reduced; ensuring risk assessments" in first["text"]
    assert first["text"].endswith("to inform partnership prevention and disruption activity.")


def test_no_areas_identified_is_not_an_item(registry):
    draft = sif.parse(document("portsmouth/2014-09-01.pdf"), Context(registry))
    lscb = [r["text"][:4] for r in draft.event["payload"]["recommendations"] if r["section"].startswith("LSCB")]
    assert lscb == ["137.", "138.", "139.", "140."]
    assert "'136. No areas were identified for immediate improvement.'" in (
        draft.evidence["payload.recommendations"]["note"])


def test_a_heading_printed_after_its_items_is_read_with_them(registry):
    recommendations = sif.parse(document("redbridge/2016-11-25.pdf"), Context(registry)).event["payload"][
        "recommendations"]
    assert [r["text"][:4] for r in recommendations if r.get("section") == "LSCB recommendations"] == [
        "123.", "124.", "125."]


def test_printed_publication_date_wins_and_the_other_is_noted(registry):
    context = Context(registry, published("2014-09-03", "index.csv row manchester/2014-09-03.pdf"))
    draft = sif.parse(document("manchester/2014-09-03.pdf"), context)
    assert draft.event["effective_on"] == "2014-09-01"
    assert draft.evidence["effective_on"]["quote"] == "Report published: 01 September 2014"
    assert "index.csv row manchester/2014-09-03.pdf gives 2014-09-03" in draft.evidence["effective_on"]["note"]
    assert "2014-09-03" in draft.request()["source"]["note"]


def test_unprinted_publication_date_comes_from_outside_or_is_missing(registry):
    draft = sif.parse(document("bolton/2014-03-21.pdf"), Context(registry, published("2014-03-21")))
    assert draft.event["effective_on"] == "2014-03-21" and draft.complete
    assert "test publication date" in draft.evidence["effective_on"]["note"]
    early = sif.parse(document("bolton/2014-03-21.pdf"), Context(registry, published("2014-01-31")))
    assert "effective_on" not in early.event and "2014-02-05" in early.missing["effective_on"]


def test_an_unreadable_grade_is_missing_never_guessed(registry):
    doc = _altered("kent/2017-06-13.pdf", "2.1 Adoption performance Good", "2.1 Adoption performance G00d")
    draft = sif.parse(doc, Context(registry))
    assert "adoption_performance" not in {j["area"] for j in draft.event["payload"]["judgements"]}
    assert "G00d" in draft.missing["payload.judgements.adoption_performance"]
    assert len(draft.event["payload"]["judgements"]) == 5


def test_a_body_that_disagrees_with_the_table_leaves_the_grade_missing(registry):
    doc = _altered("kent/2017-06-13.pdf", "The graded judgement for adoption performance is that it is good",
                   "The graded judgement for adoption performance is that it is inadequate", page=18)
    draft = sif.parse(doc, Context(registry))
    assert "adoption_performance" not in {j["area"] for j in draft.event["payload"]["judgements"]}
    assert "is that it is inadequate" in draft.missing["payload.judgements.adoption_performance"]


def test_lscb_statements_that_disagree_leave_the_lscb_missing(registry):
    doc = _altered("bolton/2014-03-21.pdf", "The effectiveness of the LSCB requires improvement",
                   "The effectiveness of the LSCB is good", page=28)
    draft = sif.parse(doc, Context(registry))
    assert "lscb" not in draft.event["payload"] and "one LSCB judgement" in draft.missing["payload.lscb"]


def test_a_list_that_does_not_end_at_a_section_heading_is_not_trusted(registry):
    doc = _altered("manchester/2017-12-21.pdf", "Summary for children and young people", "", page=8)
    draft = sif.parse(doc, Context(registry))
    assert "recommendations" not in draft.event["payload"]
    assert "did not end at a section heading" in draft.missing["payload.recommendations"]


def test_recognises_sif_reports_only(registry):
    for name in CASES:
        assert draft_document(document(name), Context(registry)).format == "sif"
    # ILACS reports that quote the SIF's title in their text, the 2012-13 format, and a monitoring letter.
    for name in ("hillingdon/2018-05-30.pdf", "manchester/2022-05-19.pdf", "kent/2013-08-23.pdf"):
        assert not sif.recognise(document(name))
    letter = read_path(next((SHARED / "seeds").glob("001_*.txt")))
    assert not sif.recognise(letter)
    assert not ilacs.recognise(document("manchester/2014-09-03.pdf"))
    assert not lac2012.recognise(document("manchester/2014-09-03.pdf"))
    assert not slac2009.recognise(document("manchester/2014-09-03.pdf"))
    with pytest.raises(UnrecognisedDocument):
        sif.parse(document("kent/2013-08-23.pdf"), Context(registry))
