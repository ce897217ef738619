"""The 2009-13 formats: safeguarding and looked after children (slac-2009), looked after children (lac-2012)
and child protection (cp-2012) inspections."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import date
from functools import lru_cache
from pathlib import Path

import pytest

from events.errors import UnrecognisedDocument
from events.importer import ilacs, lac2012, sif, slac2009
from events.importer.document import Document, read_bytes, read_path
from events.importer.draft import Published
from events.importer.drafting import Context, draft_document
from events.schemas import validate_new_event

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED = next((SHARED / "seeds").glob("000_*.txt"))
KENT = SHARED / "reports" / "ofsted" / "kent" / "2013-08-23.pdf"


@lru_cache(maxsize=None)
def seed() -> Document:
    return read_path(SEED)


@lru_cache(maxsize=None)
def kent() -> Document:
    return read_path(KENT)


def expected_2010() -> dict:
    return next(e for line in (REPO / "events" / "data" / "manchester.ndjson").read_text().splitlines()
                if (e := json.loads(line))["kind"] == "inspection" and e["payload"]["framework"] == "slac-2009")


def _altered(doc: Document, old: str, new: str, page: int = 0) -> Document:
    pages = list(doc.pages)
    assert old in pages[page], old
    pages[page] = pages[page].replace(old, new, 1)
    return replace(doc, pages=tuple(pages))


# --- slac-2009: the 2010 Manchester seed --------------------------------------------------------------------------

def test_seed_reads_every_field(registry):
    doc = seed()
    assert slac2009.recognise(doc)
    draft = slac2009.parse(doc, Context(registry))
    assert draft.complete, draft.missing
    event, payload = draft.event, draft.event["payload"]
    assert draft.authority == "manchester"
    assert payload["framework"] == "slac-2009" and payload["type"] == "standard"
    assert event["occurred"] == {"start": "2010-11-08", "end": "2010-11-19"}
    assert event["effective_on"] == "2010-12-17"
    assert payload["lead_inspector"] == "Gary Lamb"
    assert draft.evidence["payload.lead_inspector"]["quote"] == "Reporting inspector Gary Lamb HMI"
    assert event["source"]["title"] == ("Manchester City Council: Inspection of safeguarding and looked after children "
                                        "services")


def test_seed_judgements_are_both_tables_exactly(registry):
    payload = slac2009.parse(seed(), Context(registry)).event["payload"]
    judgements = payload["judgements"]
    assert len(judgements) == 33
    assert sum(j["area"].startswith("safeguarding_") for j in judgements) == 15
    assert sum(j["area"].startswith("lac_") for j in judgements) == 18
    assert judgements == expected_2010()["payload"]["judgements"]


def test_seed_areas_for_improvement_with_timescales_and_sections(registry):
    draft = slac2009.parse(seed(), Context(registry))
    recommendations = draft.event["payload"]["recommendations"]
    assert len(recommendations) == 25
    assert Counter(r["timescale"] for r in recommendations) == {"immediately": 13, "three_months": 12}
    assert Counter(r["section"] for r in recommendations) == {"safeguarding": 15, "looked after children": 10}
    assert recommendations == expected_2010()["payload"]["recommendations"]
    # The one item printed without a full stop keeps its text as printed.
    assert recommendations[13]["text"].endswith("substance misuse or mental health issues")
    assert "10 'Immediately', 5 'Within three months'" in draft.evidence["payload.recommendations"]["note"]


def test_seed_request_passes_the_append_validation(registry):
    draft = slac2009.parse(seed(), Context(registry))
    event = validate_new_event(draft.request())
    assert event["payload"]["framework"] == "slac-2009" and event["effective_on"] == "2010-12-17"


def test_body_headings_cross_check_the_record_of_main_findings(registry):
    draft = slac2009.parse(seed(), Context(registry))
    assert "Grade 2 (good)" in draft.evidence["payload.judgements.3"]["note"]  # children feel safe
    # A record of main findings that disagrees with the body's graded heading leaves the judgement missing.
    doc = _altered(seed(), "Overall effectiveness\tAdequate", "Overall effectiveness\tGood")
    draft = slac2009.parse(doc, Context(registry))
    areas = {j["area"] for j in draft.event["payload"]["judgements"]}
    assert "safeguarding_overall_effectiveness" not in areas and "lac_overall_effectiveness" in areas
    assert "Grade 3 (adequate)" in draft.missing["payload.judgements.safeguarding_overall_effectiveness"]


def test_an_unknown_row_is_reported_with_its_label_never_guessed(registry):
    doc = _altered(seed(), "User engagement\tAdequate", "Customer engagement\tAdequate")
    draft = slac2009.parse(doc, Context(registry))
    areas = {j["area"] for j in draft.event["payload"]["judgements"]}
    assert "safeguarding_user_engagement" not in areas and len(areas) == 32
    assert "'safeguarding: Customer engagement'" in draft.missing["payload.judgements.safeguarding_customer_engagement"]
    assert "payload.judgements.safeguarding_user_engagement" in draft.missing


def test_a_printed_publication_date_is_kept_over_an_outside_one(registry):
    context = Context(registry, Published(date(2010, 12, 20), "the --published option"))
    draft = slac2009.parse(seed(), context)
    assert draft.event["effective_on"] == "2010-12-17"
    assert "the --published option gives 2010-12-20" in draft.evidence["effective_on"]["note"]


def test_areas_for_improvement_that_run_on_are_not_trusted(registry):
    doc = _altered(seed(), "influence the shape of services.\n\nOutcomes for children and young people",
                   "influence the shape of services.\n\nSome further remarks")
    draft = slac2009.parse(doc, Context(registry))
    assert "recommendations" not in draft.event["payload"]
    assert "safeguarding part" in draft.missing["payload.recommendations"]


# --- lac-2012: Kent 2013 -----------------------------------------------------------------------------------------

def test_kent_2013_reads_every_field(registry):
    doc = kent()
    assert lac2012.recognise(doc) and not slac2009.recognise(doc)
    draft = lac2012.parse(doc, Context(registry))
    event, payload = draft.event, draft.event["payload"]
    assert draft.authority == "kent"
    assert payload["framework"] == "lac-2012" and payload["type"] == "standard"
    assert event["occurred"] == {"start": "2013-07-15", "end": "2013-07-19"}
    assert event["effective_on"] == "2013-08-23"
    assert payload["lead_inspector"] == "Helen Cawston"
    assert [(j["area"], j["label"], j["grade"]) for j in payload["judgements"]] == [
        ("overall_effectiveness", "Adequate", 3), ("capacity_for_improvement", "Good", 2),
        ("outcomes_for_looked_after_children", "Adequate", 3),
        ("quality_of_provision", "Adequate", 3), ("leadership_and_management", "Adequate", 3)]
    assert draft.complete, draft.missing
    for index in range(5):
        evidence = draft.evidence[f"payload.judgements.{index}"]
        assert evidence["page"] == 21 and "the body agrees" in evidence["note"]


def test_kent_2013_draft_passes_validation(registry):
    draft = lac2012.parse(kent(), Context(registry))
    event = validate_new_event(draft.request())
    assert event["payload"]["framework"] == "lac-2012"
    assert {j["area"] for j in event["payload"]["judgements"]} >= {"outcomes_for_looked_after_children"}


def test_kent_2013_areas_for_improvement_with_timescales(registry):
    draft = lac2012.parse(kent(), Context(registry))
    recommendations = draft.event["payload"]["recommendations"]
    assert [r["timescale"] for r in recommendations] == ["immediately"] * 3 + ["three_months"] * 6 + ["six_months"] * 3
    assert recommendations[0] == {"text": "improve the quality of supervision and management oversight in casework",
                                  "timescale": "immediately"}
    assert recommendations[-1]["text"] == ("review the arrangements for the independent reviewing services to ensure "
                                           "that the case loads of the independent reviewing officers (IROs) are "
                                           "manageable.")
    assert all("section" not in r for r in recommendations)
    assert draft.evidence["payload.recommendations.3"]["page"] == 9  # after the page's running head


# --- cp-2012: read from its known structure (no sample report was available) ----------------------------------

CP_REPORT = """Inspection of local authority arrangements for the protection of children
Somerset County Council
Inspection dates: 14 – 25 January 2013
Reporting inspector Jane Example HMI
Age group: All
Published: 1 March 2013
\f
Overall effectiveness
Grade 4 (Inadequate)
12. The overall effectiveness of arrangements to protect children in Somerset is inadequate.
Areas for improvement
13. In order to improve the help and protection provided to children, the local authority and its partners should
take the following action.
Immediately:
\uf0b7 ensure that all referrals are screened by a qualified social worker
Within three months:
\uf0b7 improve the quality of assessments.
Within six months:
\uf0b7 review the capacity of the independent reviewing service.
The effectiveness of the help and protection provided to children, young people, families and carers
Grade 3 (Adequate)
14. Help is adequate.
The quality of practice
Grade 3 (Adequate)
15. Practice is adequate.
Leadership and governance
Grade 4 (Inadequate)
16. Leadership is inadequate.
\f
Record of main findings
Overall effectiveness Inadequate
The effectiveness of the help and protection provided to children, young people, families and carers Adequate
The quality of practice Adequate
Leadership and governance Inadequate
"""


def cp_report(text: str = CP_REPORT) -> Document:
    return read_bytes(text.encode(), "cp-2012-synthetic.txt")


def test_cp_2012_is_read_from_its_known_structure(registry):
    """A synthetic report built from the cp-2012 structure (title, graded headings, record of main findings)."""
    doc = cp_report()
    assert lac2012.recognise(doc) and not slac2009.recognise(doc) and not sif.recognise(doc)
    draft = lac2012.parse(doc, Context(registry))
    assert draft.complete, draft.missing
    payload = draft.event["payload"]
    assert payload["framework"] == "cp-2012" and draft.format == "cp2012"
    assert [(j["area"], j["label"], j["grade"]) for j in payload["judgements"]] == [
        ("overall_effectiveness", "Inadequate", 4), ("effectiveness_of_help_and_protection", "Adequate", 3),
        ("quality_of_practice", "Adequate", 3), ("leadership_and_governance", "Inadequate", 4)]
    assert [r["timescale"] for r in payload["recommendations"]] == ["immediately", "three_months", "six_months"]
    validate_new_event(draft.request())


def test_cp_2012_unknown_rows_and_disagreements_are_missing(registry):
    doc = cp_report(CP_REPORT.replace("The quality of practice Adequate", "Quality of partnership working Adequate")
                    .replace("Leadership and governance Inadequate", "Leadership and governance Good"))
    draft = lac2012.parse(doc, Context(registry))
    areas = {j["area"] for j in draft.event["payload"]["judgements"]}
    assert areas == {"overall_effectiveness", "effectiveness_of_help_and_protection"}
    assert "not one of cp-2012's" in draft.missing["payload.judgements.quality_of_partnership_working"]
    assert "payload.judgements.quality_of_practice" in draft.missing
    assert "Grade 4 (Inadequate)" in draft.missing["payload.judgements.leadership_and_governance"]


def test_cp_2012_without_a_record_of_main_findings_uses_the_graded_headings(registry):
    doc = cp_report(CP_REPORT.split("\f\nRecord of main findings")[0])
    draft = lac2012.parse(doc, Context(registry))
    assert draft.complete, draft.missing
    assert [(j["area"], j["label"], j["grade"]) for j in draft.event["payload"]["judgements"]] == [
        ("overall_effectiveness", "Inadequate", 4), ("effectiveness_of_help_and_protection", "Adequate", 3),
        ("quality_of_practice", "Adequate", 3), ("leadership_and_governance", "Inadequate", 4)]
    assert "no record of main findings" in draft.evidence["payload.judgements.0"]["note"]


# --- recognition ------------------------------------------------------------------------------------------------

def test_each_format_claims_only_its_own_reports(registry):
    assert draft_document(seed(), Context(registry)).format == "slac2009"
    assert draft_document(kent(), Context(registry)).format == "lac2012"
    assert not lac2012.recognise(seed()) and not sif.recognise(seed()) and not ilacs.recognise(seed())
    assert not sif.recognise(kent()) and not ilacs.recognise(kent())
    others = [read_path(p) for p in sorted((SHARED / "seeds").glob("00[123]_*.txt"))]
    others += [read_path(SHARED / "reports" / "ofsted" / name) for name in (
        "manchester/2014-09-03.pdf", "manchester/2022-05-19.pdf", "kent/2026-02-02.pdf")]
    for doc in others:
        assert not slac2009.recognise(doc) and not lac2012.recognise(doc), doc.name
    with pytest.raises(UnrecognisedDocument):
        slac2009.parse(kent(), Context(registry))
    with pytest.raises(UnrecognisedDocument):
        lac2012.parse(seed(), Context(registry))
