"""The ILACS importer on real Ofsted reports of every layout, 2018 to 2026."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import lru_cache
from pathlib import Path

import pytest

from events.importer import ilacs
from events.importer.document import Document, read_path
from events.importer.draft import Published
from events.importer.drafting import Context
from events.schemas import validate_new_event

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REPORTS = SHARED / "reports" / "ofsted"

RI, RIG = "Requires improvement", "Requires improvement to be good"

# file: (authority, framework, type, start, end, lead inspector, judgements, recommendation count)
CASES = {
    # 2018-20 layout: name above "Inspection of children's social care services", "Requires improvement".
    "barking-and-dagenham/2019-04-01.pdf": (
        "barking-and-dagenham", "ilacs-2018", "standard", "2019-02-18", "2019-03-01", "Brenda McLaughlin",
        [("impact_of_leaders", RI, 3), ("help_and_protection", RI, 3),
         ("children_in_care_and_care_leavers", RI, 3), ("overall_effectiveness", RI, 3)], 6),
    # 2018-20 layout titled "Inspection of local authority children's services", grade wrapped over two lines.
    "oxfordshire/2018-05-22.pdf": (
        "oxfordshire", "ilacs-2018", "short", "2018-04-16", "2018-04-20", "Donna Marriott",
        [("impact_of_leaders", "Good", 2), ("help_and_protection", RIG, 3),
         ("children_in_care_and_care_leavers", "Good", 2), ("overall_effectiveness", "Good", 2)], 4),
    # A short inspection with a return visit: two fieldwork periods.
    "derbyshire/2019-09-19.pdf": (
        "derbyshire", "ilacs-2018", "short", "2019-07-08", "2019-08-08", "Julie Knight",
        [("impact_of_leaders", "Good", 2), ("help_and_protection", RIG, 3),
         ("children_in_care_and_care_leavers", RIG, 3), ("overall_effectiveness", RIG, 3)], 5),
    # 2020-23 layout, standard; an item with sub-bullets.
    "manchester/2022-05-19.pdf": (
        "manchester", "ilacs-2018", "standard", "2022-03-21", "2022-04-01", "Mandy Nightingale",
        [("impact_of_leaders", "Good", 2), ("help_and_protection", RIG, 3),
         ("children_in_care_and_care_leavers", "Good", 2), ("overall_effectiveness", "Good", 2)], 4),
    # 2020-23 layout, short; "City of Wolverhampton".
    "wolverhampton/2022-05-18.pdf": (
        "wolverhampton", "ilacs-2018", "short", "2022-03-28", "2022-04-01", "Andy Waugh",
        [("impact_of_leaders", "Outstanding", 1), ("help_and_protection", "Good", 2),
         ("children_in_care_and_care_leavers", "Good", 2), ("overall_effectiveness", "Good", 2)], 5),
    # 2023-26 standard; care leavers row printed "children care leavers" (sic); a national framework tag.
    "manchester/2025-11-11.pdf": (
        "manchester", "ilacs-2023", "standard", "2025-09-22", "2025-10-03", "Sophie Wales",
        [("impact_of_leaders", "Outstanding", 1), ("help_and_protection", "Good", 2),
         ("children_in_care", "Outstanding", 1), ("care_leavers", "Outstanding", 1),
         ("overall_effectiveness", "Outstanding", 1)], 1),
    # 2023-26 short, published in 2026 yet still judging overall effectiveness.
    "kent/2026-02-02.pdf": (
        "kent", "ilacs-2023", "short", "2025-11-03", "2025-11-07", "Steve Lowe",
        [("impact_of_leaders", "Good", 2), ("help_and_protection", "Good", 2),
         ("children_in_care", "Outstanding", 1), ("care_leavers", RIG, 3),
         ("overall_effectiveness", "Good", 2)], 3),
    # 2023-26 short.
    "dorset/2025-05-09.pdf": (
        "dorset", "ilacs-2023", "short", "2025-03-17", "2025-03-21", "Sarah Canto",
        [("impact_of_leaders", "Outstanding", 1), ("help_and_protection", "Outstanding", 1),
         ("children_in_care", "Outstanding", 1), ("care_leavers", "Good", 2),
         ("overall_effectiveness", "Outstanding", 1)], 1),
    # "East Riding" as the printed name.
    "east-riding-of-yorkshire/2023-03-24.pdf": (
        "east-riding-of-yorkshire", "ilacs-2023", "standard", "2023-01-30", "2023-02-10", "Louise Walker",
        [("impact_of_leaders", "Good", 2), ("help_and_protection", "Good", 2), ("children_in_care", "Good", 2),
         ("care_leavers", RIG, 3), ("overall_effectiveness", "Good", 2)], 4),
    # From April 2026: no overall effectiveness judgement, standard and short.
    "west-northamptonshire/2026-07-07.pdf": (
        "west-northamptonshire", "ilacs-2026", "standard", "2026-05-11", "2026-05-22", "Rebecca Dubbins",
        [("impact_of_leaders", "Outstanding", 1), ("help_and_protection", "Good", 2),
         ("children_in_care", "Good", 2), ("care_leavers", "Good", 2)], 2),
    "portsmouth/2026-08-18.pdf": (
        "portsmouth", "ilacs-2026", "short", "2026-07-06", "2026-07-10", "Steve Bailey",
        [("impact_of_leaders", "Outstanding", 1), ("help_and_protection", "Outstanding", 1),
         ("children_in_care", "Outstanding", 1), ("care_leavers", "Outstanding", 1)], 1),
}


@lru_cache(maxsize=None)
def document(name: str) -> Document:
    return read_path(REPORTS / name)


def published(on: str) -> Published:
    return Published(date.fromisoformat(on), "test publication date")


@pytest.mark.parametrize("name", sorted(CASES))
def test_reads_every_field_of_each_layout(name, registry):
    authority, framework, kind, start, end, lead, judgements, count = CASES[name]
    doc = document(name)
    assert ilacs.recognise(doc)
    draft = ilacs.parse(doc, Context(registry))
    event, payload = draft.event, draft.event["payload"]
    assert draft.authority == authority
    assert payload["framework"] == framework
    assert payload["type"] == kind
    assert event["occurred"] == {"start": start, "end": end}
    assert payload["lead_inspector"] == lead
    assert [(j["area"], j["label"], j["grade"]) for j in payload["judgements"]] == judgements
    assert len(payload["recommendations"]) == count
    assert event["kind"] == "inspection" and "Inspection of" in event["source"]["title"]
    # Every field set carries evidence; only the publication date is missing (it is not printed).
    assert set(draft.missing) == {"effective_on"}
    for path in ("authority", "occurred.start", "occurred.end", "payload.lead_inspector", "payload.framework",
                 "payload.type", "source.title", *(f"payload.judgements.{i}" for i in range(len(judgements))),
                 *(f"payload.recommendations.{i}" for i in range(count))):
        assert draft.evidence[path]["page"] is not None and draft.evidence[path]["quote"], path


def test_judgement_evidence_quotes_the_table_row_and_the_heading_that_agrees(registry):
    draft = ilacs.parse(document("kent/2026-02-02.pdf"), Context(registry))
    care_leavers = draft.evidence["payload.judgements.3"]
    assert care_leavers["page"] == 1
    assert care_leavers["quote"] == ("The experiences and progress of children care leavers "
                                     "Requires improvement to be good")
    assert "requires improvement to be good" in care_leavers["note"]


def test_2026_report_does_not_judge_overall_effectiveness(registry):
    draft = ilacs.parse(document("west-northamptonshire/2026-07-07.pdf"), Context(registry))
    assert "overall_effectiveness" not in {j["area"] for j in draft.event["payload"]["judgements"]}
    assert "no 'Overall effectiveness' row" in draft.evidence["payload.framework"]["note"]
    assert not any(path.startswith("payload.judgements") for path in draft.missing)


def test_recommendations_keep_the_text_and_national_framework_tags(registry):
    draft = ilacs.parse(document("manchester/2025-11-11.pdf"), Context(registry))
    recommendations = draft.event["payload"]["recommendations"]
    assert recommendations == [{"text": "The identification and response to neglect.",
                                "tags": ["outcome 3: national framework"]}]
    kent = ilacs.parse(document("kent/2026-02-02.pdf"), Context(registry)).event["payload"]["recommendations"]
    assert [r["tags"] for r in kent] == [["outcome 4, national framework"], ["outcome 4, national framework"],
                                         ["enabler 2, national framework"]]
    assert kent[0]["text"] == ("The quality, timeliness and consistency of support offered to care leavers. In "
                               "particular, care leavers who are vulnerable to exploitation and/or are in custody.")


def test_sub_bullets_stay_in_their_item(registry):
    first = ilacs.parse(document("manchester/2022-05-19.pdf"), Context(registry)).event["payload"]["recommendations"][0]
    assert first["text"].startswith("Practice around the care and protection of disabled children to demonstrate: "
                                    "an understanding of the impact")
    assert first["text"].endswith("the ambition for disabled children to achieve to their potential.")
    assert "tags" not in first


def test_two_fieldwork_periods_span_the_whole_inspection(registry):
    draft = ilacs.parse(document("devon/2025-05-13.pdf"), Context(registry))
    assert draft.event["occurred"] == {"start": "2024-09-30", "end": "2025-01-16"}
    assert draft.event["payload"]["type"] == "standard"  # the first period is two weeks on site
    assert "2 fieldwork periods" in draft.evidence["occurred.end"]["note"]
    # This report prints no lead inspector: reported missing, not guessed.
    assert "payload.lead_inspector" in draft.missing and "lead_inspector" not in draft.event["payload"]


def test_without_a_publication_date_effective_on_is_missing(registry):
    draft = ilacs.parse(document("dorset/2025-05-09.pdf"), Context(registry))
    assert "effective_on" not in draft.event
    assert "do not print" in draft.missing["effective_on"]
    assert not draft.complete


def test_with_a_publication_date_effective_on_is_set_with_its_source(registry):
    draft = ilacs.parse(document("dorset/2025-05-09.pdf"), Context(registry, published("2025-05-09")))
    assert draft.event["effective_on"] == "2025-05-09"
    assert "test publication date" in draft.evidence["effective_on"]["note"]
    assert "test publication date" in draft.request()["source"]["note"]
    assert draft.complete


def test_a_publication_date_before_the_fieldwork_ended_is_refused(registry):
    draft = ilacs.parse(document("dorset/2025-05-09.pdf"), Context(registry, published("2025-03-20")))
    assert "effective_on" not in draft.event and "2025-03-21" in draft.missing["effective_on"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_complete_drafts_pass_the_append_validation(name, registry):
    draft = ilacs.parse(document(name), Context(registry, published("2026-11-01")))
    assert draft.complete, draft.missing
    event = validate_new_event(draft.request())
    assert event["payload"]["framework"] == CASES[name][1]
    assert event["effective_on"] == "2026-11-01"


def _altered(name: str, old: str, new: str, page: int = 0) -> Document:
    doc = document(name)
    pages = list(doc.pages)
    assert old in pages[page]
    pages[page] = pages[page].replace(old, new, 1)
    return replace(doc, pages=tuple(pages))


def test_an_unreadable_grade_is_missing_never_guessed(registry):
    doc = _altered("kent/2026-02-02.pdf", "children care leavers\nRequires improvement to be good",
                   "children care leavers\nRequ1res impr0vement")
    draft = ilacs.parse(doc, Context(registry))
    areas = [j["area"] for j in draft.event["payload"]["judgements"]]
    assert areas == ["impact_of_leaders", "help_and_protection", "children_in_care", "overall_effectiveness"]
    assert "payload.judgements.care_leavers" in draft.missing
    assert draft.event["payload"]["framework"] == "ilacs-2023"


def test_a_table_grade_contradicted_by_its_section_heading_is_missing(registry):
    doc = _altered("dorset/2025-05-09.pdf", "protection: outstanding", "protection: inadequate", page=1)
    draft = ilacs.parse(doc, Context(registry))
    assert "help_and_protection" not in {j["area"] for j in draft.event["payload"]["judgements"]}
    assert "inadequate" in draft.missing["payload.judgements.help_and_protection"]


def test_no_overall_row_before_april_2026_leaves_the_framework_missing(registry):
    doc = _altered("kent/2026-02-02.pdf", "Overall effectiveness Good\n", "")
    draft = ilacs.parse(doc, Context(registry))
    assert "framework" not in draft.event["payload"]
    assert "payload.framework" in draft.missing and "payload.judgements.overall_effectiveness" in draft.missing


@pytest.mark.parametrize("dates", ["17 March to 2 April 2025", "19 March to 25 March 2025"])
def test_an_unusual_fieldwork_length_leaves_the_type_missing(dates, registry):
    doc = _altered("dorset/2025-05-09.pdf", "Inspection dates: 17 March to 21 March 2025", f"Inspection dates: {dates}")
    draft = ilacs.parse(doc, Context(registry))
    assert "type" not in draft.event["payload"] and "payload.type" in draft.missing


@pytest.mark.parametrize("name", ["manchester/2014-09-03.pdf", "knowsley/2017-06-13.pdf",
                                  "darlington/2018-05-21.pdf", "kent/2013-08-23.pdf"])
def test_does_not_claim_earlier_frameworks(name):
    assert not ilacs.recognise(document(name))


def test_does_not_claim_monitoring_or_focused_visit_letters():
    assert not ilacs.recognise(read_path(SHARED / "seeds" / "001_a33c30cd977bcbb2.txt"))
    letter = ("Ofsted\nPiccadilly Gate\n\n4 February 2020\n\nDear Director\n\n"
              "Focused visit to Manchester local authority children’s services\n\n"
              "This letter summarises the findings of the focused visit to Manchester local authority children’s "
              "services on 3 and 4 December 2019. The visit was carried out under the inspection of local "
              "authority children’s services (ILACS) framework. The lead inspector was Jane Doe, HMI.\n")
    assert not ilacs.recognise(Document("letter.txt", "0" * 64, (letter,), "text"))
    assert ilacs.LOOKS_FOR.startswith("an Ofsted ILACS report")
