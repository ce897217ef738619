"""Drafting monitoring-visit letters, focused-visit letters and council committee reports.

The seeds (the 2017 monitoring letter, the 2016 scrutiny and 2022 executive reports)
are checked field by field against the hand-made reference events in
events/data/manchester.ndjson; made-up variants check the formats, not the files.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SHARED
from events.errors import InvalidEvent
from events.importer import committee_report, monitoring_letter
from events.importer.document import read_bytes, read_path
from events.importer.drafting import Context, draft_document
from events.schemas import validate_new_event

SEEDS = SHARED / "seeds"
LETTER_2017 = SEEDS / "001_a33c30cd977bcbb2.txt"
SCRUTINY_2016 = SEEDS / "002_d46909537eab0e5c.txt"
EXECUTIVE_2022 = SEEDS / "003_99b81858136c566d.txt"
REPORT_2010 = SEEDS / "000_eb7606ae86893fe1.txt"
MANCHESTER = Path(__file__).resolve().parents[1] / "events/data/manchester.ndjson"


def _reference_events() -> dict[str, dict]:
    """The hand-made events drafted from each seed file (day-dated letters and reports), by file name."""
    events = [json.loads(line) for line in MANCHESTER.read_text().splitlines() if line.strip()]
    return {e["source"]["file"].split("/")[-1]: e for e in events
            if e["kind"] in ("monitoring_visit", "committee_response") and e["date_precision"] == "day"}


REFERENCE = _reference_events()


@pytest.fixture(scope="module")
def context(registry):
    return Context(registry)


def draft_of(path_or_text, context, name="made-up.txt"):
    document = read_path(path_or_text) if isinstance(path_or_text, Path) else read_bytes(path_or_text.encode(), name)
    return draft_document(document, context)


def assert_valid(draft):
    """Nothing required missing, so the append request must pass the API's validation."""
    required_missing = {k for k in draft.missing if k not in ("payload.responds_to", "payload.action_items")}
    assert not required_missing, draft.missing
    try:
        return validate_new_event(draft.request())
    except InvalidEvent as exc:
        pytest.fail(f"{exc.detail} {exc.errors}")


# --- the 2017 monitoring letter -----------------------------------------------------------------

def test_seed_letter_drafts_the_fourth_monitoring_visit(context):
    draft = draft_of(LETTER_2017, context)
    reference = REFERENCE[LETTER_2017.name]
    event = assert_valid(draft)
    assert draft.format == "monitoring_letter" and draft.authority == reference["authority"] == "manchester"
    assert draft.missing == {}
    assert event["kind"] == "monitoring_visit"
    assert (event["effective_on"], event["occurred"]) == (reference["effective_on"], reference["occurred"])
    assert event["occurred"] == {"start": "2017-06-06", "end": "2017-06-07"}
    payload = event["payload"]
    assert payload["ordinal"] == reference["payload"]["ordinal"] == 4
    assert payload["inspectors"] == reference["payload"]["inspectors"] == [
        "Shabana Abasi", "Shirley Bailey", "Andy Whippey"]
    assert [a.split(",")[0] for a in payload["areas_covered"]] == [
        "Inspectors reviewed the progress made in help and protection",
        "The inspectors focused on contact",
        "Inspectors also reviewed the progress made in the care leaver service"]
    assert [(f["direction"], f["text"]) for f in payload["findings"]] == [
        ("no_progress", "The pace of change since the inspection in June 2014 has been too slow."),
        ("progress", "In the past 12 months, the pace of improvement has accelerated."),
        ("progress", "Compliance in achieving timescales has improved."),
        ("no_progress", "However, the quality of practice has not improved enough to make a positive difference to "
                        "outcomes for those children whose cases were reviewed at this monitoring visit."),
        ("progress", "The multi-agency safeguarding hub (MASH) has sustained the progress made and seen in previous "
                     "monitoring visits."),
        ("new_concern", "The quality of social work practice seen in CiN cases is too variable, and some inappropriate "
                        "application of thresholds is leading to delay for children."),
        ("new_concern", "The care leaver service has some weaknesses which are impinging on the capacity to produce "
                        "good outcomes for care leavers."),
    ]
    # The paragraph split by the PDF's page break is one sentence again.
    assert "is leading to delay for children." in payload["findings"][5]["text"]


def test_seed_letter_cites_where_each_field_came_from(context):
    draft = draft_of(LETTER_2017, context)
    evidence = draft.evidence
    assert evidence["effective_on"]["quote"] == "6 July 2017"
    assert evidence["occurred"]["quote"] == "on 6 and 7 June 2017"
    assert evidence["payload.ordinal"]["quote"] == "visit was the fourth monitoring visit"
    assert evidence["payload.inspectors"]["quote"] == (
        "The inspectors were Shabana Abasi Ofsted inspector, Shirley Bailey HMI and Andy Whippey HMI.")
    assert evidence["authority"]["quote"] == "Manchester City Council"
    assert evidence["payload.findings.6"]["quote"].startswith("The care leaver service has some weaknesses")
    assert evidence["payload.findings"]["page"] is None  # plain text is one unnumbered page
    assert draft.request()["source"]["title"] == (
        "Monitoring visit of Manchester City Council children's services (letter of 6 July 2017)")


# --- made-up letters: the format, not the file ------------------------------------------------------

LETTER_2026 = """Ofsted
Agora
6 Cumberland Place
Nottingham NG1 6HJ
www.gov.uk/ofsted

22 October 2026

Jane Example
Director of Children's Services
Town Hall

Dear Ms Example

Monitoring visit to Bournemouth, Christchurch and Poole
children’s services

This letter summarises the findings of the monitoring visit to Bournemouth,
Christchurch and Poole children’s services on 30 September and 1 October 2026.
This visit was the 2nd monitoring visit since the local authority was judged
inadequate in March 2026. His Majesty’s Inspectors for this visit were Alex
Smith-Jones and Priya O’Neill.

Areas covered by the visit
Inspectors reviewed the progress made in the following areas of concern
identified at the last inspection:
■ the quality and timeliness of assessments for children in need
■ management oversight of child protection plans.
This visit was carried out under the inspection of local authority children’s
services (ILACS) framework.
1
\fHeadline findings
Leaders have made steady progress in improving the timeliness of assessments.
Management oversight of child protection plans remains inconsistent.
Children are visited regularly by their social workers.
The quality of written plans is poor.
Findings and evaluation of progress
Assessments are now completed within timescales for most children.
2
\fYours sincerely

Alex Smith-Jones
His Majesty’s Inspector
"""


def test_made_up_letter_with_numeral_ordinal_dates_across_months_and_pages(context):
    draft = draft_of(LETTER_2026, context)
    event = assert_valid(draft)
    assert draft.missing == {} and draft.authority == "bournemouth-christchurch-and-poole"
    assert event["occurred"] == {"start": "2026-09-30", "end": "2026-10-01"}
    assert event["effective_on"] == "2026-10-22" and event["date_precision"] == "day"
    payload = event["payload"]
    assert payload["ordinal"] == 2
    assert payload["inspectors"] == ["Alex Smith-Jones", "Priya O’Neill"]
    assert payload["areas_covered"] == ["the quality and timeliness of assessments for children in need",
                                        "management oversight of child protection plans"]
    assert payload["findings"] == [
        {"text": "Leaders have made steady progress in improving the timeliness of assessments.",
         "direction": "progress"},
        {"text": "Management oversight of child protection plans remains inconsistent.", "direction": "no_progress"},
        {"text": "The quality of written plans is poor.", "direction": "new_concern"},
    ]
    # Form feeds make pages: the title is cited on page 1, the headline findings on page 2.
    assert draft.evidence["payload.ordinal"]["page"] == 1
    assert draft.evidence["payload.findings.0"]["page"] == 2
    assert "1 sentence(s) stating no direction left out" in draft.evidence["payload.findings"]["note"]


def test_letter_variants_of_ordinal_inspectors_and_dates(context):
    variant = (LETTER_2026.replace("the 2nd monitoring visit", "the eleventh monitoring visit")
               .replace("on 30 September and 1 October 2026", "on 30 December 2026 and 2 January 2027")
               .replace("22 October 2026", "20 January 2027")
               .replace("His Majesty’s Inspectors for this visit were Alex\nSmith-Jones and Priya O’Neill.",
                        "The inspectors were Alex Smith-Jones, HMI, Priya O’Neill, Ofsted Inspector, and Jo\nBloggs, "
                        "Social Care Regulatory Inspector."))
    event = assert_valid(draft_of(variant, context))
    assert event["payload"]["ordinal"] == 11
    assert event["occurred"] == {"start": "2026-12-30", "end": "2027-01-02"}
    assert event["payload"]["inspectors"] == ["Alex Smith-Jones", "Priya O’Neill", "Jo Bloggs"]


@pytest.mark.parametrize("printed, first, last", [
    ("6 and 7 June 2017", "2017-06-06", "2017-06-07"),
    ("30 September and 1 October 2026", "2026-09-30", "2026-10-01"),
    ("5, 6 and 7 May 2020", "2020-05-05", "2020-05-07"),
    ("30 December and 2 January 2027", "2026-12-30", "2027-01-02"),
    ("12 March 2019", "2019-03-12", "2019-03-12"),
    ("14th to 16th of March 2022", "2022-03-14", "2022-03-16"),
])
def test_visit_date_forms(printed, first, last):
    start, end = monitoring_letter._dates_in(printed)
    assert (start.isoformat(), end.isoformat()) == (first, last)


def test_a_letter_says_what_it_could_not_find(context):
    bare = (LETTER_2026.replace("This visit was the 2nd monitoring visit since", "Since")
            .replace("His Majesty’s Inspectors for this visit were Alex\nSmith-Jones and Priya O’Neill.",
                     "The inspectors were the local team.")
            .replace("22 October 2026\n", ""))
    draft = draft_of(bare, context)
    assert set(draft.missing) == {"payload.ordinal", "payload.inspectors", "effective_on"}
    assert "local team" in draft.missing["payload.inspectors"]
    assert "ordinal" not in draft.event["payload"] and "inspectors" not in draft.event["payload"]


def test_an_outside_publication_date_stands_in_for_a_missing_letter_date(registry):
    from datetime import date

    from events.importer.draft import Published
    draft = draft_document(read_bytes(LETTER_2026.replace("22 October 2026\n", "").encode(), "x.txt"),
                           Context(registry, Published(date(2026, 10, 23), "the --published option")))
    assert draft.event["effective_on"] == "2026-10-23" and "--published" in draft.evidence["effective_on"]["note"]


FOCUSED_2019 = """14 June 2019

Dear Mr Doe

Focused visit to Leeds City Council children’s services

This letter summarises the findings of the focused visit to Leeds City Council children’s services on 15 and 16 May
2019. Her Majesty’s Inspectors for this visit were Jane Roe and Sam Poe.

Inspectors looked at the local authority’s arrangements for children in need and children subject to a child
protection plan.

Overview

Leaders have strengthened the front door since the last inspection. The quality of child protection plans is too
variable. Children are seen regularly.

Areas for priority action

The local authority should take urgent action to ensure that strategy meetings are held promptly when children are
at risk of significant harm.

What needs to improve in this area of social work practice

■ The quality of assessments for children in need.
■ Management oversight of plans.

Findings

Thresholds are applied appropriately.

Yours sincerely

Jane Roe
Her Majesty’s Inspector
"""


def test_focused_visit_letter(context):
    draft = draft_of(FOCUSED_2019, context)
    event = assert_valid(draft)
    assert draft.missing == {} and draft.authority == "leeds" and event["kind"] == "focused_visit"
    assert event["occurred"] == {"start": "2019-05-15", "end": "2019-05-16"} and event["effective_on"] == "2019-06-14"
    payload = event["payload"]
    assert payload["topic"] == ("the local authority’s arrangements for children in need and children subject to a "
                                "child protection plan")
    assert payload["inspectors"] == ["Jane Roe", "Sam Poe"]
    assert [f["direction"] for f in payload["findings"]] == ["progress", "new_concern"]
    assert [(a["section"], a["text"][:30]) for a in payload["priority_actions"]] == [
        ("Areas for priority action", "The local authority should tak"),
        ("What needs to improve in this area of social work practice", "The quality of assessments for"),
        ("What needs to improve in this area of social work practice", "Management oversight of plans."),
    ]


@pytest.mark.parametrize("sentence, expected", [
    ("Compliance in achieving timescales has improved.", "progress"),
    ("The quality of practice has not improved enough.", "no_progress"),
    ("Progress has been too slow.", "no_progress"),
    ("Progress in this area has been slow.", "no_progress"),
    ("Social work practice remains variable.", "no_progress"),
    ("The lack of a shared understanding of thresholds remains a concern.", "no_progress"),
    ("The care leaver service has some weaknesses.", "new_concern"),
    ("Five of the seven strategy meetings were not compliant with statutory guidance.", "new_concern"),
    ("Plans are not always reviewed when circumstances change.", "new_concern"),
    ("Leaders know the strengths and weaknesses of the service well.", None),
    ("Referrals where there are safeguarding concerns are dealt with without delay.", None),
    ("Delays in initial health assessments have reduced.", None),
    ("Children are visited regularly by their social workers.", None),
    ("The local authority was judged inadequate in 2014.", None),
    ("The local authority has an improvement plan.", None),
])
def test_direction_rule(sentence, expected):
    assert monitoring_letter.direction(sentence) == expected


# --- committee reports ----------------------------------------------------------------------------

def test_scrutiny_report_2016(context):
    draft = draft_of(SCRUTINY_2016, context)
    reference = REFERENCE[SCRUTINY_2016.name]
    event = assert_valid(draft)
    assert draft.format == "committee_report" and draft.authority == "manchester"
    assert event["kind"] == "committee_response"
    assert (event["effective_on"], event["occurred"]) == (reference["effective_on"], reference["occurred"])
    assert event["occurred"] == {"start": "2016-07-19", "end": "2016-07-19"} and event["date_precision"] == "day"
    for field in ("body", "title", "report_of"):
        assert event["payload"][field] == reference["payload"][field], field
    assert event["payload"]["body"] == "Children and Young People Scrutiny Committee"
    assert event["payload"]["title"] == "Local Government Association (LGA) Care Practice Diagnostic"
    assert event["payload"]["responds_to"] == [] and event["payload"]["quoted_judgements"] == []
    refers = draft.missing["payload.responds_to"]
    assert "Care Practice Diagnostic that was undertaken in March 2016" in refers and "link them on review" in refers
    assert draft.evidence["payload.body"]["quote"] == ("Report to: Children and Young People Scrutiny Committee – "
                                                       "19 July 2016")


def test_executive_report_2022_quotes_the_ilacs_judgements(context):
    draft = draft_of(EXECUTIVE_2022, context)
    reference = REFERENCE[EXECUTIVE_2022.name]
    event = assert_valid(draft)
    assert draft.authority == "manchester"
    assert event["effective_on"] == reference["effective_on"] == "2022-06-01"
    for field in ("body", "title", "report_of", "quoted_judgements"):
        assert event["payload"][field] == reference["payload"][field], field
    assert event["payload"]["quoted_judgements"] == [
        {"area": "impact_of_leaders", "label": "Good", "grade": 2},
        {"area": "help_and_protection", "label": "Requires improvement to be good", "grade": 3},
        {"area": "children_in_care_and_care_leavers", "label": "Good", "grade": 2},
        {"area": "overall_effectiveness", "label": "Good", "grade": 2},
    ]
    assert "ilacs-2018" in draft.evidence["payload.quoted_judgements"]["note"]
    assert draft.evidence["payload.quoted_judgements.1"]["quote"] == (
        "The experiences and progress of children Requires improvement to be good who need help and protection")
    refers = draft.missing["payload.responds_to"]
    assert "inspected by Ofsted from the 14th of March 2022 to the 1st of April 2022" in refers
    # The action plan is an appendix that is not in the text: no items, and the draft says so.
    assert event["payload"]["action_items"] == [] and "action plan" in draft.missing["payload.action_items"]


CABINET_2025 = """London Borough of Barking and Dagenham

Meeting: Cabinet
Date: Tuesday, 18 March 2025
Report title: Ofsted monitoring visit and
improvement plan update
Report by: Director of Children's Care and Support
Wards affected: All

1. Summary

The single inspection found the following:

| Judgement | Grade |
| --- | --- |
| Children who need help and protection | Inadequate |
| Children looked after and achieving permanence | Requires improvement |
| Adoption performance | Good |
| Leadership, management and governance | Inadequate |
| Overall effectiveness | Inadequate |

Ofsted judged adoption performance as good. The monitoring visit on 4 and 5 February 2025 found progress.

2. Action plan

Action\tLead\tTimescale
Recruit permanent team managers\tHead of Service\tJune 2025
Review all child protection plans over 18 months\tService Manager\t30 April 2025
"""


def test_made_up_cabinet_report_with_meeting_and_date_fields(context):
    draft = draft_of(CABINET_2025, context)
    event = assert_valid(draft)
    assert draft.authority == "barking-and-dagenham"
    assert set(draft.missing) == {"payload.responds_to"}
    payload = event["payload"]
    assert (payload["body"], event["effective_on"]) == ("Cabinet", "2025-03-18")
    assert payload["title"] == "Ofsted monitoring visit and improvement plan update"
    assert payload["report_of"] == "Director of Children's Care and Support"
    assert payload["quoted_judgements"] == [
        {"area": "help_and_protection", "label": "Inadequate", "grade": 4},
        {"area": "children_looked_after", "label": "Requires improvement", "grade": 3},
        {"area": "adoption_performance", "label": "Good", "grade": 2},
        {"area": "leadership_management_and_governance", "label": "Inadequate", "grade": 4},
        {"area": "overall_effectiveness", "label": "Inadequate", "grade": 4},
    ]
    assert payload["action_items"] == [
        {"text": "Recruit permanent team managers", "owner": "Head of Service", "due": "2025-06", "addresses": []},
        {"text": "Review all child protection plans over 18 months", "owner": "Service Manager", "due": "2025-04-30",
         "addresses": []},
    ]
    assert "monitoring visit on 4 and 5 February 2025" in draft.missing["payload.responds_to"]


def test_numbered_action_plan_and_windows_line_ends(context):
    text = ("Royal Borough of Kingston upon Thames\n\nReport to: Children's Committee – 3rd of February 2026\n"
            "Report title: Ofsted ILACS inspection: action plan\nReport of: Corporate Director\n\n"
            "| No. | Action | Owner | By when |\n| --- | --- | --- | --- |\n"
            "| 1 | Improve supervision | Head of Practice | 31/03/2026 |\n"
            "| 2 | Refresh the threshold document | Partnership Board | Q2 2026 |\n\n3. Next steps\n")
    draft = draft_of(text.replace("\n", "\r\n"), context)
    event = assert_valid(draft)
    assert draft.authority == "kingston-upon-thames" and event["effective_on"] == "2026-02-03"
    assert event["payload"]["action_items"] == [
        {"text": "Improve supervision", "owner": "Head of Practice", "due": "2026-03-31", "addresses": []},
        {"text": "Refresh the threshold document", "owner": "Partnership Board", "addresses": []},
    ]
    letter = draft_of(LETTER_2017.read_text().replace("\n", "\r\n"), context)
    assert letter.missing == {} and letter.request()["payload"] == draft_of(LETTER_2017, context).request()["payload"]


def test_judgements_in_prose_are_never_read_as_a_table(context):
    prose = ("Manchester City Council\n\nReport to: Executive – 1 June 2022\n\nSubject: Ofsted\n\n"
             "Report of: Director\n\n"
             "Ofsted judged the impact of leaders on social work practice with children and families as good, and "
             "overall effectiveness as \"Good\". The experiences and progress of children in care and care leavers "
             "were judged good.\n")
    draft = draft_of(prose, context)
    assert draft.event["payload"]["quoted_judgements"] == []


def test_a_report_without_a_council_or_date_says_so(context):
    text = "Report to: Children's Scrutiny Panel\n\nSubject: Fostering update\n\nSummary\n\nText.\n"
    draft = draft_of(text, context)
    assert {"authority", "effective_on", "payload.report_of"} <= set(draft.missing)
    assert draft.authority is None and draft.event["payload"]["body"] == "Children's Scrutiny Panel"


# --- recognition ----------------------------------------------------------------------------------

def test_each_format_claims_only_its_own_documents():
    letter, scrutiny, executive, inspection = (read_path(p) for p in (LETTER_2017, SCRUTINY_2016, EXECUTIVE_2022,
                                                                       REPORT_2010))
    assert monitoring_letter.recognise(letter) and not committee_report.recognise(letter)
    for report in (scrutiny, executive):
        assert committee_report.recognise(report) and not monitoring_letter.recognise(report)
    assert not monitoring_letter.recognise(inspection) and not committee_report.recognise(inspection)
    # A committee report that appends the letter is still a committee report.
    appended = read_bytes(SCRUTINY_2016.read_bytes() + b"\n\nAppendix 1\n\n" + LETTER_2017.read_bytes(), "with.txt")
    assert committee_report.recognise(appended) and not monitoring_letter.recognise(appended)


@pytest.mark.parametrize("report", ["manchester/2022-05-19.pdf", "dorset/2025-05-09.pdf", "dorset/2021-11-19.pdf"])
def test_ofsted_inspection_reports_are_not_claimed(report):
    path = SHARED / "reports/ofsted" / report
    if not path.exists():
        pytest.skip(f"{path} not available")
    document = read_path(path)
    assert not monitoring_letter.recognise(document) and not committee_report.recognise(document)
