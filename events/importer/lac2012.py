"""The 2012-13 inspections of looked after children services (lac-2012) and of local authority
arrangements for the protection of children (cp-2012).

Both keep the 2009-12 layout (see ``slac2009``, whose engine reads them): the title, the
council, "Inspection dates: …", "Reporting inspector …", "Published: …" on the first page;
body sections with "Grade N (label)" headings; "Areas for improvement" with bullets under
"Immediately:", "Within three months:", "Within six months:"; and a "Record of main
findings" table at the end. Grade 3 is "Adequate".

lac-2012 (read from a real report, Kent 2013) prints overall effectiveness, capacity to
improve, outcomes for looked after children and young people, quality of provision, and
leadership and management. ``events.frameworks`` has no lac-2012 area for "Outcomes for
looked after children and young people": that judgement is reported missing with its
printed label, not recorded under another key.

cp-2012 is read from its known structure only (no sample report was available): the title
"Inspection of local authority arrangements for the protection of children" and the four
cp-2012 judgements (overall effectiveness; the effectiveness of the help and protection
provided to children, young people, families and carers; the quality of practice;
leadership and governance), from the record of main findings or, failing it, the body's
graded headings. Any row it does not know, or any disagreement, leaves the field missing.
"""
from __future__ import annotations

import re
from dataclasses import replace

from events.importer.document import Document
from events.importer.draft import Draft
from events.importer.slac2009 import ECM_OUTCOMES, Part, Row, Spec, parse_spec, recognise_spec

NAME = "lac2012"
LOOKS_FOR = ("an Ofsted inspection of looked after children services, 2012-13 (title 'Inspection of looked after "
             "children services' at the top of page 1, 'Inspection dates', 'Reporting inspector', 'Published:' and "
             "a 'Record of main findings'), or of local authority arrangements for the protection of children, "
             "2012-13 (title 'Inspection of local authority arrangements for the protection of children')")

LAC = Spec(
    "lac2012", "lac-2012", "Inspection of looked after children services",
    re.compile(r"\A\s*(?:\d{1,3}\s*\n\s*)?(?P<title>Inspection\s+of\s+(?:looked\s+after\s+children(?:['’]s)?\s+"
               r"services|local\s+authority\s+arrangements\s+for\s+(?:the\s+)?looked\s+after\s+children))\b",
               re.IGNORECASE),
    (
        Part("", r"Services\s+for\s+looked\s+after\s+children(?:\s+and\s+(?:young\s+people|care\s+leavers))?", None,
             None,
             (
                 Row("overall_effectiveness", r"Overall\s+effectiveness(?:\s+of\s+.*)?", "Overall effectiveness"),
                 Row("capacity_for_improvement", r"Capacity\s+(?:for\s+improvement|to\s+improve)(?:\s+.*)?",
                     "Capacity to improve"),
                 Row("outcomes_for_looked_after_children", r"Outcomes\s+for\s+looked\s+after\s+children(?:\s+and\s+(?:young\s+people|care\s+"
                     r"leavers))?", "Outcomes for looked after children and young people"),
                 *(replace(row, optional=True) for row in ECM_OUTCOMES),  # graded only if printed
                 Row("quality_of_provision", r"(?:The\s+)?quality\s+of\s+provision(?:\s+.*)?", "Quality of provision"),
                 Row("leadership_and_management", r"(?:The\s+)?leadership\s+and\s+management(?:\s+of\s+.*)?",
                     "Leadership and management"),
             ),
             groups=(r"Outcomes\s+for\s+looked\s+after\s+children(?:\s+and\s+(?:young\s+people|care\s+leavers))?",)),
    ),
    re.compile(r".{0,80}Inspection\s+of\s+looked\s+after\s+children\s+services\s+\d{1,3}", re.IGNORECASE),
)

CP = Spec(
    "cp2012", "cp-2012", "Inspection of local authority arrangements for the protection of children",
    re.compile(r"\A\s*(?:\d{1,3}\s*\n\s*)?(?P<title>Inspection\s+of\s+local\s+authority\s+arrangements\s+for\s+the\s+"
               r"protection\s+of\s+children)\b", re.IGNORECASE),
    (
        Part("", r"(?:Arrangements\s+for\s+the\s+protection\s+of\s+children|The\s+protection\s+of\s+children)", None,
             None,
             (
                 Row("overall_effectiveness", r"Overall\s+effectiveness(?:\s+of\s+(?:the\s+)?arrangements.*)?",
                     "Overall effectiveness"),
                 Row("effectiveness_of_help_and_protection", r"(?:The\s+)?effectiveness\s+of\s+(?:the\s+)?help\s+and\s+"
                     r"protection(?:\s+provided\s+to\s+children.*)?", "The effectiveness of the help and protection "
                     "provided to children, young people, families and carers"),
                 Row("quality_of_practice", r"(?:The\s+)?quality\s+of\s+practice", "The quality of practice"),
                 Row("leadership_and_governance", r"(?:The\s+)?leadership\s+and\s+governance",
                     "Leadership and governance"),
             )),
    ),
    re.compile(r".{0,80}Inspection\s+of\s+local\s+authority\s+arrangements\s+for\s+the\s+protection\s+of\s+children\s+"
               r"\d{1,3}", re.IGNORECASE),
)


def recognise(document: Document) -> bool:
    """A 2012-13 looked after children or child protection report: its title at the top of the first page,
    with its dates and reporting inspector or publication date."""
    return recognise_spec(LAC, document) or recognise_spec(CP, document)


def parse(document: Document, context) -> Draft:
    """Draft the inspection event, with evidence for every field and what could not be found."""
    return parse_spec(LAC if recognise_spec(LAC, document) else CP, document, context)
