"""Single inspection framework (SIF) reports, 2013-18, and their re-inspections.

Layouts read (all from the text layer, page by page):

- Page 1: the authority's name, then the title "Inspection of services for children
  in need of help and protection, children looked after and care leavers" (standard;
  "and Review of the effectiveness of the Local Safeguarding Children Board" when the
  LSCB was reviewed too) or "Re-inspection of services for …" (type re-inspection),
  "Inspection date(s): …", "Report published: …" (not printed on the first reports of
  2013-14), the headline ("The overall judgement is …" until 2015, "Children's services
  in X are …" after), the table of key judgements "1. Children who need help and
  protection", "2. Children looked after and achieving permanence", "2.1 Adoption
  performance", "2.2 Experiences and progress of care leavers", "3. Leadership,
  management and governance", each followed by its grade, and on the 2013-14 reports
  the LSCB judgement.
- The body repeats judgements ("The graded judgement for adoption performance is that
  it is good", key-judgement headings, "The Local Safeguarding Children Board is good"):
  they are cross-checked, and a disagreement leaves the judgement missing.
- Recommendations: numbered paragraphs under "What does the local authority need to
  improve?" (2013-15, grouped under "Priority and immediate action" and "Areas for
  improvement" with printed sub-headings) or "Recommendations" (2015-18), and the LSCB's
  own list in its section. Paragraph numbers run through the whole report, so a list
  ends at a known section heading (or one listed in the contents), never at a number.
- The lead inspector is named in "Information about this inspection" near the end.

The helpers below (authority names, dates, publication, grade words, printed lists) are
shared with the 2009-13 formats in ``slac2009`` and ``lac2012``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from events.importer.document import Document, Found, squash
from events.importer.draft import Draft, UnrecognisedDocument, match_authority
from events.importer.textdates import RANGE, SINGLE, to_date
from events.registry import Registry

NAME = "sif"
LOOKS_FOR = ("an Ofsted single inspection framework report, 2013-18 (title 'Inspection of services for children in "
             "need of help and protection, children looked after and care leavers' or 'Re-inspection of services "
             "for …' at the top of page 1, 'Inspection date(s):' and the key judgements '1. Children who need help "
             "and protection' … '3. Leadership, management and governance')")

APOS = "['’`]"
FRAMEWORK = "sif-2013"

# --- shared helpers ----------------------------------------------------------------------------------------------


def clean(text: str) -> str:
    """PDFium marks a hyphen printed at a line break as U+FFFE: it is a hyphen."""
    return text.replace("\ufffe", "-").replace("\u00ad", "-")


def cleaned(document: Document) -> Document:
    """The document with every page cleaned (evidence quotes the cleaned text)."""
    return replace(document, pages=tuple(clean(page) for page in document.pages))


# Grade words as printed in judgement tables and as verbs in sentences ("require improvement to be good").
NEW_GRADE = r"(?:Outstanding|Good|Inadequate|Requires?\s+improvement(?:\s+to\s+be\s+good)?)"
OLD_GRADE = r"(?:Outstanding|Good|Adequate|Inadequate)"
_GRADE_VALUES = {"outstanding": 1, "good": 2, "adequate": 3, "inadequate": 4,
                 "requires improvement": 3, "requires improvement to be good": 3,
                 "require improvement": 3, "require improvement to be good": 3}


def grade_of(label: str) -> int:
    """The grade (1-4) of a printed grade word or phrase."""
    return _GRADE_VALUES[squash(label).casefold().rstrip(".")]


def label_from_statement(text: str) -> str:
    """A grade worded in a sentence ("are inadequate", "require improvement to be good") as a table label."""
    folded = squash(text).casefold().rstrip(".")
    if folded.startswith("require"):
        return "Requires improvement to be good" if folded.endswith("to be good") else "Requires improvement"
    return folded.capitalize()





_NUMERIC = r"(?P<{0}d>\d{{1,2}})/(?P<{0}m>\d{{1,2}})/(?P<{0}y>\d{{4}})"
NUMERIC_RANGE = re.compile(_NUMERIC.format("a") + r"\s*(?:to|–|—|-)\s*" + _NUMERIC.format("b"))
NUMERIC_SINGLE = re.compile(_NUMERIC.format("a"))


def date_range(text: str) -> tuple[date, date] | None:
    """The first printed range of dates ("8 to 19 November 2010", "12/09/2016 to 06/10/2016"); None if
    there is none or it is impossible (an end before its start)."""
    try:
        numeric = NUMERIC_RANGE.search(text)
        match = RANGE.search(text)
        if numeric and (not match or numeric.start() < match.start()):
            start = date(int(numeric["ay"]), int(numeric["am"]), int(numeric["ad"]))
            end = date(int(numeric["by"]), int(numeric["bm"]), int(numeric["bd"]))
        elif match:
            end = to_date(match["d2"], match["m2"], match["y2"])
            start = to_date(match["d1"], match["m1"] or match["m2"], match["y1"] or match["y2"])
            if start > end and not match["y1"]:  # "28 December to 8 January 2016" crosses a year
                start = start.replace(year=start.year - 1)
        else:
            return None
    except ValueError:
        return None
    return (start, end) if start <= end else None


def single_date(text: str) -> date | None:
    """The first printed date ("17 December 2010", "25/11/2016")."""
    try:
        numeric = NUMERIC_SINGLE.search(text)
        match = SINGLE.search(text)
        if numeric and (not match or numeric.start() < match.start()):
            return date(int(numeric["ay"]), int(numeric["am"]), int(numeric["ad"]))
        return to_date(match["d"], match["m"], match["y"]) if match else None
    except ValueError:
        return None


def set_fieldwork(draft: Draft, found: Found | None, looked_for: str) -> date | None:
    """occurred from the printed fieldwork dates in a match's "text" group; the last day, or None."""
    period = date_range(found.match["text"]) if found else None
    if period is None:
        what = looked_for + (f"; found {found.quote!r}" if found else "")
        draft.lack("occurred.start", what)
        draft.lack("occurred.end", what)
        return None
    draft.set("occurred.start", period[0].isoformat(), found)
    draft.set("occurred.end", period[1].isoformat(), found)
    return period[1]


def set_publication(draft: Draft, printed: Found | None, context, ended: date | None, looked_for: str) -> None:
    """effective_on: the printed publication date (an outside one that differs is noted, not used); else the
    outside date with its source; else missing. Never before the fieldwork ended."""
    published = getattr(context, "published", None)
    on = single_date(printed.match["text"]) if printed else None
    if on is not None:
        if ended is not None and on < ended:
            draft.lack("effective_on", f"a publication date on or after the fieldwork ended ({ended.isoformat()}); "
                       f"the report prints {printed.quote!r}")
            return
        note = None
        if published is not None and published.on != on:
            note = (f"the printed publication date is used; {published.source} gives {published.on.isoformat()} "
                    "instead")
        draft.set("effective_on", on.isoformat(), printed, note=note)
        if note:
            draft.set("source.note", note, printed, note="where effective_on came from")
        return
    if published is None:
        draft.lack("effective_on", looked_for + ", or a publication date given from outside (a --published option "
                   "or a sidecar index)")
        return
    if ended is not None and published.on < ended:
        draft.lack("effective_on", f"a publication date on or after the fieldwork ended ({ended.isoformat()}); "
                   f"{published.source} gives {published.on.isoformat()}")
        return
    note = (f"publication date from {published.source}: "
            + (f"the printed {printed.quote!r} is not a date" if printed else "the report does not print one"))
    draft.set("effective_on", published.on.isoformat(), None, note=note)
    draft.set("source.note", note, None, note="where effective_on came from")


_INSPECTOR_TITLES = re.compile(r"(?:,?\s*\(?\s*(?:Senior\s+)?(?:HMI|H[ie]r\s+Majesty{0}s\s+Inspector|Ofsted\s+"
                               r"Inspector|OI|Additional\s+Inspector)\s*\)?)+\s*[.,]?\s*$".format(APOS), re.IGNORECASE)


def inspector_name(text: str) -> str:
    """A printed inspector's name without titles ("Peter McEntee HMI", "Karen Wareing (HMI)")."""
    return _INSPECTOR_TITLES.sub("", squash(text)).strip(" ,.")


# --- printed lists of recommendations ----------------------------------------------------------------------------

_ITEM = re.compile(r"^(?P<n>\d{1,3})\.\s+(?P<text>\S.*)$")
BULLETS = "\uf0b7\uf0a7\uf06e\uf0d8\uf02d\uf0be•▪■●◼"  # private-use glyphs of symbol fonts, and bullets
_BULLET = re.compile(rf"^[{BULLETS}]\s*(?P<text>\S.*)$")
_FOOTNOTE = re.compile(r"^\d{1,2}\s+[A-Z][a-z]")
# A statement that there is nothing to list ("The inspection did not find any areas for priority and immediate
# action", "No areas were identified for immediate improvement"), printed where an item would be.
_NONE = re.compile(r"(?:The\s+inspection\s+|Inspectors\s+)?(?:did\s+not\s+(?:find|identify)\s+any\b|(?:there\s+(?:are|"
                   r"were)\s+)?no\s+(?:areas?|priority|recommendations?|actions?|immediate)\b)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?][\"'’”)]*$")


def _heading_like(line: str) -> bool:
    return (len(line) <= 70 and len(line.split()) <= 10 and line[:1].isupper()
            and not re.search(r"[.,;:!?]\W*$|[.?!]\s+[A-Z]", line))


@dataclass
class Item:
    """One printed item of a list: its number (None for a bullet), lines, page, group and sub-heading."""

    number: int | None
    parts: list[str]
    page: int | None
    group: str | None
    sub: str | None

    @property
    def text(self) -> str:
        """The item's lines as one text; sub-bullets joined with '; ' unless the text before is punctuated."""
        out = ""
        for part in self.parts:
            bullet = _BULLET.match(part) if out else None
            if bullet:
                part = bullet["text"]
                if not re.search(r"[;:,.]\s*$|\b(?:and|or)\s*$", out):
                    out = out.rstrip() + ";"
            out = f"{out} {part}" if out else part
        return squash(out)

    @property
    def printed(self) -> str:
        return f"{self.number}. {self.text}" if self.number is not None else self.text


@dataclass
class PrintedList:
    items: list[Item]
    nones: list[tuple[int | None, str]]  # "did not find any areas for priority action" statements
    ended_at: tuple[int, int] | None  # (page index, offset in page) of the line that ended it, if any
    end_quote: str | None
    stopped: bool = False  # ended at a known section heading (a list that ends otherwise is not trusted)


def page_lines(document: Document, index: int, offset: int, pages: int, running_head: re.Pattern | None = None
               ) -> list[tuple[int, int, int | None, str]]:
    """(page index, offset, page number, stripped line) from a position on a page onward, over a few pages,
    without page-number lines and running heads."""
    out = []
    for number in range(index, min(index + pages, len(document.pages))):
        text = document.pages[number]
        start = offset if number == index else 0
        first = number != index or start == 0
        position = start
        for raw in text[start:].split("\n"):
            line = raw.strip()
            here = position
            position += len(raw) + 1
            if not line:
                continue
            if first:
                first = False
                if re.fullmatch(r"\d{1,3}", line) or (running_head and running_head.fullmatch(line)):
                    continue
            if running_head and running_head.fullmatch(line):
                continue
            out.append((number, here, document.page_number(number), line))
    return out


def read_list(lines: list[tuple[int, int, int | None, str]], is_stop, group_heading: re.Pattern | None,
              subheadings: bool, bullets: bool = False, bullet_pattern: re.Pattern | None = None) -> PrintedList:
    """Numbered (or, with bullets, bulleted) items from the start of ``lines``: continuation lines join their
    item; group headings and (with subheadings) short printed sub-headings set each item's section; the list
    ends at a stop heading, a number out of sequence, or a line that neither continues an item nor heads one."""
    items: list[Item] = []
    nones: list[tuple[int | None, str]] = []
    group = sub = None
    expected: int | None = None
    skip_page: int | None = None
    closed = False  # a heading or statement came after the last item: it cannot continue
    i = 0
    while i < len(lines):
        index, offset, page, line = lines[i]
        if skip_page == index:
            i += 1
            continue
        numbered = _ITEM.match(line)
        bullet = (bullet_pattern or _BULLET).match(line) if bullets else None
        last_open = bool(items) and not closed and not _SENTENCE_END.search(items[-1].parts[-1])
        if numbered and not (bullets and items and items[-1].number is None):
            number = int(numbered["n"])
            if expected is not None and number != expected:
                if last_open and number > 31:  # "… in \n2014. …" would not be an item; a year is not expected
                    items[-1].parts.append(line)
                    i += 1
                    continue
                return PrintedList(items, nones, (index, offset), line)
            expected = number + 1
            if _NONE.match(numbered["text"]):
                nones.append((page, line))
                closed = True
            else:
                items.append(Item(number, [numbered["text"]], page, group, sub))
                closed = False
            i += 1
            continue
        if bullet and expected is None:
            if _NONE.match(bullet["text"]):
                nones.append((page, line))
                closed = True
            else:
                items.append(Item(None, [bullet["text"]], page, group, sub))
                closed = False
            i += 1
            continue
        if is_stop(line) and (not last_open or _heading_like(line)):
            return PrintedList(items, nones, (index, offset), line, stopped=True)
        heading = group_heading.fullmatch(line) if group_heading else None
        if heading:
            group, sub = squash(heading["group"]), None
            if last_open:  # the heading also printed at the end of the item before it (a layout artefact)
                last = items[-1].parts[-1]
                if squash(last).casefold().endswith(group.casefold()) and len(squash(last)) > len(group):
                    items[-1].parts[-1] = last[:len(last.rstrip()) - len(group)].rstrip()
            closed = True
            i += 1
            continue
        if _NONE.match(line) and (not last_open or not items) and len(line) < 120:
            nones.append((page, line))
            closed = True
            i += 1
            continue
        if last_open:
            items[-1].parts.append(line)
            i += 1
            continue
        if items and _FOOTNOTE.match(line):
            skip_page = index  # a footnote at the foot of the page
            i += 1
            continue
        if _heading_like(line) and subheadings and group is not None:
            run = _heading_run(lines, i, expected, is_stop)
            if run:
                sub = " ".join(lines[j][3] for j in range(i, i + run))
                closed = True
                i += run
                continue
        if items and not closed and _continues(lines, i, expected, is_stop,
                                               (bullet_pattern or _BULLET) if items[-1].number is None else None):
            items[-1].parts.append(line)
            i += 1
            continue
        return PrintedList(items, nones, (index, offset), line)
    return PrintedList(items, nones, None, None)


def _heading_run(lines, i: int, expected: int | None, is_stop) -> int:
    """How many heading-like lines from i lead straight to the next item (0 if they do not)."""
    run = 0
    while i + run < len(lines) and run < 3:
        line = lines[i + run][3]
        item = _ITEM.match(line)
        if item:
            return run if run and (expected is None or int(item["n"]) == expected) else 0
        if is_stop(line) or not _heading_like(line):
            return 0
        run += 1
    return 0


def _continues(lines, i: int, expected: int | None, is_stop, bulleted: re.Pattern | None = None) -> bool:
    """Whether the line at i (after an item that ended a sentence) continues that item: prose that runs on to
    the next item, or to the end of the list. A heading-like line directly before an item or the end is not."""
    heading = _heading_like(lines[i][3])
    for j in range(i + 1, min(i + 7, len(lines))):
        line = lines[j][3]
        item = bulleted.match(line) if bulleted else _ITEM.match(line)
        if item:
            return (j > i + 1 or not heading) and (
                bulleted is not None or (expected is not None and int(item["n"]) == expected))
        if is_stop(line):
            return not heading
        if _heading_like(line):
            return False
    return i + 1 >= len(lines) and not heading


# --- the SIF format ----------------------------------------------------------------------------------------------

_TITLE = re.compile(
    r"^[ \t]*(?P<re>Re-?\s*)?inspection\s+of\s+services\s+for\s+children\s+in\s+need\s+of\s+help\s+and\s+"
    r"protection,?\s+children\s+looked\s+after\s+and\s+care\s+leavers"
    r"(?P<lscb>\s+and\s+Review\s+of\s+the\s+effectiveness\s+of\s+the\s+(?:local\s+safeguarding\s+children\s+board"
    r"|LSCB))?", re.IGNORECASE | re.MULTILINE)
# Fieldwork dates; a range broken after its "to" or dash continues on the next line.
DATES = re.compile(r"Inspection\s+dates?\s*:?[ \t]*(?P<text>[^\n]*\d[^\n]*?(?:\bto|[–—-])[ \t]*\n[^\n]*\d[^\n]*"
                   r"|[^\n]*\d[^\n]*)", re.IGNORECASE)
_PUBLISHED = re.compile(r"Report\s+published\s*:?\s*(?P<text>[^\n]*\d[^\n]*)", re.IGNORECASE)
_HEADLINE = re.compile(
    rf"(?:The\s+overall\s+judgement\s+is(?:\s+that)?(?:\s+children{APOS}s\s+services?)?"
    rf"|Children{APOS}s\s+services?(?:\s+in\s+(?P<place>[^\n,.;:]{{1,80}}?(?:\n[^\n,.;:]{{1,60}}?)?))?)"
    rf"\s+(?:(?:is|are)\s+)?(?P<grade>{NEW_GRADE})(?=\W|$)", re.IGNORECASE)
_ROWS = (
    ("help_and_protection", r"1\.\s*Children\s+who\s+need\s+help\s+and\s+protection"),
    ("children_looked_after", r"2\.\s*Children\s+looked\s+after\s+and\s+achieving\s+permanence"),
    ("adoption_performance", r"2\.1\.?\s*Adoption\s+performance"),
    ("care_leavers", r"2\.2\.?\s*(?:The\s+)?Experiences?\s+and\s+progress\s+of\s+care\s+leavers"),
    ("leadership_management_and_governance", r"3\.\s*Leadership,?\s+management\s+and\s+governance"),
)
_ROW_RE = {area: re.compile(pattern, re.IGNORECASE) for area, pattern in _ROWS}
_ROW_GRADE = re.compile(rf"\s*(?:\d{{1,2}}\s+)?(?P<label>{NEW_GRADE})(?=[\s.]|$)", re.IGNORECASE)
_ROW_NAMES = {"help_and_protection": "1. Children who need help and protection",
              "children_looked_after": "2. Children looked after and achieving permanence",
              "adoption_performance": "2.1 Adoption performance",
              "care_leavers": "2.2 Experiences and progress of care leavers",
              "leadership_management_and_governance": "3. Leadership, management and governance"}

_G = rf"(?P<g>{NEW_GRADE})"
# Judgements repeated in the body (pages after the first), for a cross-check.
_BODY = {
    "help_and_protection": re.compile(
        rf"^[ \t]*The\s+experiences\s+and\s+progress\s+of\s+children\s+who\s+need\s+help\s+and\s+protection"
        rf"\s+(?:(?:is|are)\s+)?{_G}\s*\.?[ \t]*$", re.IGNORECASE | re.MULTILINE),
    "children_looked_after": re.compile(
        rf"^[ \t]*The\s+experiences\s+and\s+progress\s+of\s+children\s+looked\s+after\s+and\s+achieving\s+"
        rf"permanence\s+(?:(?:is|are)\s+)?{_G}\s*\.?[ \t]*$", re.IGNORECASE | re.MULTILINE),
    "leadership_management_and_governance": re.compile(
        rf"^[ \t]*Leadership,\s+management\s+and\s+governance\s+(?:(?:is|are)\s+)?{_G}\s*\.?[ \t]*$",
        re.IGNORECASE | re.MULTILINE),
    "adoption_performance": re.compile(
        rf"The\s+graded\s+judgement\s+(?:for|about)\s+(?:the\s+)?adoption\s+performance\s+is\s+"
        rf"(?:that\s+it\s+is\s+)?{_G}(?=\W|$)", re.IGNORECASE),
    "care_leavers": re.compile(
        rf"The\s+graded\s+judgement\s+(?:for|about)\s+the\s+experiences?\s+and\s+progress\s+of\s+care\s+leavers"
        rf"\s+is\s+(?:that\s+it\s+is\s+)?{_G}(?=\W|$)", re.IGNORECASE),
}
# Words each body statement contains (without their first letter, whose case varies): a page without them
# is not searched.
_BODY_KEYWORDS = {"help_and_protection": "xperiences", "children_looked_after": "xperiences",
                  "leadership_management_and_governance": "overnance", "adoption_performance": "raded",
                  "care_leavers": "raded"}
_LSCB = re.compile(
    r"^[ \t]*(?:(?:The\s+judgement\s+for\s+)?The\s+effectiveness\s+of\s+the\s+(?:Local\s+Safeguarding\s+Children\s+"
    r"Board|LSCB)|The\s+Local\s+Safeguarding\s+Children\s+Board)(?:\s*\(LSCB\))?\s+(?:is\s+)?"
    rf"{_G}(?=\W|$)", re.IGNORECASE | re.MULTILINE)
_LEAD = re.compile(r"^[ \t]*Lead\s+inspector\s*:\s*(?P<name>[^\n]+)", re.IGNORECASE | re.MULTILINE)

_LA_HEADING = re.compile(r"^[ \t]*(?:What\s+does\s+the\s+local\s+authority\s+need\s+to\s+improve\s*\?|"
                         r"Recommendations)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_LSCB_HEADING = re.compile(r"^[ \t]*(?:What\s+does\s+the\s+(?:LSCB|Board|Local\s+Safeguarding\s+Children\s+Board)\s+"
                           r"need\s+to\s+improve\s*\?|Recommendations|Priority\s+and\s+immediate\s+action|"
                           r"Areas\s+for\s+improvement\s*:?)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_LSCB_SECTION = re.compile(
    r"^[ \t]*(?:Section\s+2\s*:?\s+The\s+effectiveness\s+(?:of\s+)?(?:the\s+)?local\s+safeguarding|"
    r"The\s+Local\s+Safeguarding\s+Children\s+Board(?:\s*\(LSCB\))?[ \t]*$)", re.IGNORECASE | re.MULTILINE)
_GROUP = re.compile(r"(?P<group>Priority\s+and\s+immediate\s+action|Areas\s+for\s+improvement)\s*:?", re.IGNORECASE)
_STOP = re.compile(
    rf"(?:The\s+local\s+authority{APOS}s\s+strengths|The\s+LSCB{APOS}s\s+strengths|Key\s+strengths|"
    r"Summary\s+(?:of\s+(?:key\s+)?findings|for\s+children)|Information\s+about|Progress\s+since|"
    r"Inspection\s+(?:judgements?|findings)|What\s+the\s+inspection\s+judge?ments|Executive\s+summary|"
    r"The\s+Local\s+Safeguarding\s+Children\s+Board|Section\s+\d|The\s+local\s+authority\s+has\s+the\s+following|"
    r"What\s+does\s+the|Contents|The\s+local\s+authority\s*$|Other\s+information|"
    r"Local\s+leadership|Children\s+living\s+in\s+this\s+area)", re.IGNORECASE)
_NO_LSCB_RECOMMENDATIONS = re.compile(r"There\s+are\s+no\s+recommendations\s+for\s+the\s+[^\n.]{0,60}", re.IGNORECASE)


def recognise(document: Document) -> bool:
    """A SIF report or re-inspection: its title near the top of page 1 and its key judgement table."""
    if not document.pages:
        return False
    head = clean(document.pages[0])[:3000]
    title = _TITLE.search(head[:900])
    return bool(title and not re.search(r"monitoring\s+visit", head[:title.start()], re.I)
                and DATES.search(head) and _ROW_RE["help_and_protection"].search(head))


def parse(document: Document, context) -> Draft:
    """Draft the inspection event, with evidence for every field and what could not be found."""
    if not recognise(document):
        raise UnrecognisedDocument(f"{document.name} is not a SIF report: it looked for {LOOKS_FOR}.")
    draft = Draft(document, NAME)
    document = cleaned(document)
    draft.set("kind", "inspection", note="a SIF report is a graded inspection")
    draft.set("schema_version", 2, note="inspection payload v2 (recommendations with sections and timescales)")
    draft.set("date_precision", "day", note="fieldwork and publication dates are printed to the day")
    page1 = document.pages[0]
    first = document.page_number(0)
    title = _TITLE.search(page1[:900])
    lscb_reviewed = bool(title and title["lscb"])
    _title(draft, page1, first, title, context.registry)
    dates = DATES.search(page1)
    ended = set_fieldwork(draft, Found(first, squash(dates.group(0)), dates) if dates else None,
                          "the fieldwork dates after 'Inspection date(s):' on page 1")
    published = _PUBLISHED.search(page1)
    set_publication(draft, Found(first, squash(published.group(0)), published) if published else None, context,
                    ended, "'Report published: <date>' on page 1 (the 2013-14 reports do not print it)")
    draft.set("payload.framework", FRAMEWORK, Found(first, squash(title.group(0)), title),
              note="the single inspection framework's title")
    kind = "re-inspection" if title["re"] else "standard"
    draft.set("payload.type", kind, Found(first, squash(title.group(0)), title),
              note="the title says 'Re-inspection'" if title["re"] else "the title says 'Inspection', not "
                                                                        "'Re-inspection'")
    _judgements(draft, document, page1, first)
    _lscb(draft, document, lscb_reviewed)
    _lead_inspector(draft, document)
    _recommendations(draft, document, lscb_reviewed)
    return draft


def _title(draft: Draft, page1: str, page: int | None, title: re.Match, registry: Registry) -> None:
    before = re.sub(r"\A\s*\d{1,3}\s*\n", "", page1[:title.start()], count=1)
    name = squash(before)
    printed_title = squash(title.group(0))
    quote = squash(page1[title.start() - len(before):title.end()])
    found = Found(page, quote, title)
    draft.set("source.title", f"{name}: {printed_title}" if name else printed_title, found)
    if page is not None:
        draft.set("source.page", page, found, note="the page with the title, dates and judgements")
    if not name or len(name) > 120:
        draft.lack("authority", "the authority's name above the title on page 1")
        return
    match_authority(draft, registry, name, found)


def _judgements(draft: Draft, document: Document, page1: str, page: int | None) -> None:
    start = _ROW_RE["help_and_protection"].search(page1)
    body = _body_statements(document)
    judgements: list[dict] = []
    headline = _HEADLINE.search(page1, 0, start.start() if start else len(page1))
    if headline:
        label = label_from_statement(headline["grade"])
        value = grade_of(label)
        found = Found(page, squash(headline.group(0)), headline)
        summary = _summary_headline(document)
        if summary and grade_of(summary.match["grade"]) != value:
            draft.lack("payload.judgements.overall_effectiveness",
                       f"one overall judgement: page {page} reads {found.quote!r} but page {summary.page} reads "
                       f"{summary.quote!r}")
        else:
            note = "the headline judgement on page 1, worded as the table words grades"
            if summary:
                note += f"; page {summary.page} agrees: {summary.quote!r}"
            draft.cite(f"payload.judgements.{len(judgements)}", found, note=note)
            judgements.append({"area": "overall_effectiveness", "label": label, "grade": value})
    else:
        draft.lack("payload.judgements.overall_effectiveness",
                   "the headline 'The overall judgement is …' or 'Children's services in … are …' on page 1")
    position = start.start() if start else None
    for area, pattern in _ROW_RE.items():
        name = _ROW_NAMES[area]
        if position is None:
            draft.lack(f"payload.judgements.{area}", f"the row '{name}' and its grade in the table on page 1")
            continue
        gap = re.compile(r"\s*").match(page1, position).end()
        row = pattern.match(page1, gap)
        if row is None:
            following = pattern.search(page1, position, position + 400)
            draft.lack(f"payload.judgements.{area}", f"the row '{name}' next in the table on page 1"
                       + (f"; found {squash(page1[gap:gap + 60])!r}" if not following else
                          f"; found it after {squash(page1[gap:following.start()])!r}"))
            if following is None:
                continue
            row = following
        grade = _ROW_GRADE.match(page1, row.end())
        if grade is None:
            draft.lack(f"payload.judgements.{area}", f"a grade (Outstanding, Good, Requires improvement (to be good), "
                       f"Inadequate) right after '{name}' on page 1; found {squash(page1[row.end():row.end() + 60])!r}")
            position = row.end()
            continue
        position = grade.end()
        label = squash(grade["label"])
        value = grade_of(label)
        quote = Found(page, squash(page1[row.start():grade.end()]), row)
        checks = body.get(area, [])
        disagree = [f for f in checks if grade_of(f.match["g"]) != value]
        if disagree:
            draft.lack(f"payload.judgements.{area}",
                       f"one grade for '{name}': page {page} prints {label!r} but page {disagree[0].page} reads "
                       f"{disagree[0].quote!r}")
            continue
        note = f"page {checks[0].page} agrees: {checks[0].quote!r}" if checks else None
        draft.cite(f"payload.judgements.{len(judgements)}", quote, note=note)
        judgements.append({"area": area, "label": label, "grade": value})
    if judgements:
        table = Found(page, squash(page1[start.start():position]) if start and position else "", start)
        draft.set("payload.judgements", judgements, table if start else draft_found(draft, "payload.judgements.0"))
    else:
        draft.lack("payload.judgements", "the headline judgement and the key judgement table on page 1")


def draft_found(draft: Draft, path: str) -> Found:
    evidence = draft.evidence.get(path, {})
    return Found(evidence.get("page"), evidence.get("quote"), None)


def _summary_headline(document: Document) -> Found | None:
    """The headline repeated at the start of a sentence in the summary or executive summary (pages 2-4), for a
    cross-check ("Children's services in Manchester are inadequate because:")."""
    for index in range(1, min(4, len(document.pages))):
        text = document.pages[index]
        for match in _HEADLINE.finditer(text):
            before = text[max(0, match.start() - 2):match.start()]
            if match.group(0)[0].isupper() and (not before.strip() or before.endswith((". ", "\n"))):
                return Found(document.page_number(index), squash(match.group(0)), match)
    return None


def _body_statements(document: Document) -> dict[str, list[Found]]:
    out: dict[str, list[Found]] = {}
    for index in range(1, len(document.pages)):
        text = document.pages[index]
        for area, pattern in _BODY.items():
            if _BODY_KEYWORDS[area] not in text:
                continue
            for match in pattern.finditer(text):
                out.setdefault(area, []).append(Found(document.page_number(index), squash(match.group(0)), match))
    return out


def _lscb(draft: Draft, document: Document, reviewed: bool) -> None:
    statements = [Found(document.page_number(i), squash(m.group(0)), m)
                  for i, text in enumerate(document.pages) if "oard" in text or "OARD" in text or "LSCB" in text
                  for m in _LSCB.finditer(text)]
    if not reviewed:
        if statements:
            draft.lack("payload.lscb", f"an LSCB review in the title on page 1, yet page {statements[0].page} reads "
                       f"{statements[0].quote!r}")
        return
    if not statements:
        draft.lack("payload.lscb", "the LSCB judgement ('The effectiveness of the Local Safeguarding Children Board "
                   "(LSCB) is …' or 'The Local Safeguarding Children Board is …')")
        return
    grades = {grade_of(f.match["g"]) for f in statements}
    if len(grades) > 1:
        draft.lack("payload.lscb", "one LSCB judgement; the report reads "
                   + "; ".join(f"{f.quote!r} (page {f.page})" for f in statements))
        return
    first = statements[0]
    label = label_from_statement(first.match["g"])
    note = None
    if len(statements) > 1:
        note = "also " + "; ".join(f"{f.quote!r} (page {f.page})" for f in statements[1:])
    draft.set("payload.lscb", {"label": label, "grade": grade_of(label)}, first, note=note)


def _lead_inspector(draft: Draft, document: Document) -> None:
    for index in range(len(document.pages) - 1, 0, -1):
        match = _LEAD.search(document.pages[index])
        if match:
            name = inspector_name(match["name"])
            if re.search(r"[A-Za-z]{2}", name):
                draft.set("payload.lead_inspector", name,
                          Found(document.page_number(index), squash(match.group(0)), match))
                return
    draft.lack("payload.lead_inspector", "'Lead inspector: <name>' in 'Information about this inspection'")


def _contents(document: Document) -> set[str]:
    """Section titles listed in the contents (pages 1-4): a list ends at any of them."""
    titles: set[str] = set()
    for index in range(min(4, len(document.pages))):
        text = document.pages[index]
        heading = re.search(r"^[ \t]*Contents[ \t]*$", text, re.MULTILINE)
        if not heading:
            continue
        for line in text[heading.end():].split("\n"):
            line = re.sub(r"\s*\d{1,3}\s*$", "", line).strip()
            if line and not line.isdigit():
                titles.add(squash(line).casefold())
        break
    return titles


def _stopper(titles: set[str]):
    def is_stop(line: str) -> bool:
        if not line[:1].isupper():
            return False
        return bool(_STOP.match(line)) or (squash(line).casefold() in titles and not _GROUP.fullmatch(line))
    return is_stop


def _lists(document: Document, heading: re.Pattern, begin: tuple[int, int], end: tuple[int, int] | None, is_stop,
           ) -> tuple[PrintedList | None, Found | None, str | None]:
    """The first list under a heading between two positions that ends at a known section heading, with its
    heading; else (None, None, why the lists found were not trusted)."""
    problems: list[str] = []
    for index in range(begin[0], len(document.pages)):
        text = document.pages[index]
        for match in heading.finditer(text):
            if (index, match.start()) < begin or (end and (index, match.start()) >= end):
                continue
            group = _GROUP.fullmatch(match.group(0).strip())
            found = Found(document.page_number(index), squash(match.group(0)), match)
            attempts = [(read_list(page_lines(document, index, match.start() if group else match.end(), 5),
                                   is_stop, _GROUP, subheadings=True, bullets=True), None)]
            if not text[match.end():].strip() and index > begin[0]:
                # The heading is the last text of its page: the text layer may print it after its own items,
                # which then open the same page.
                top = read_list(page_lines(document, index, 0, 1), is_stop, _GROUP, subheadings=True, bullets=True)
                if top.items and top.ended_at and top.ended_at[1] < match.start():
                    attempts.append((top, "the text layer prints this heading at the foot of the page, after the "
                                          "items it heads, which open the page"))
            for printed, note in attempts:
                if (printed.items or printed.nones) and printed.stopped:
                    if note:
                        found = Found(found.page, f"{found.quote} ({note})", match)
                    return printed, found, None
                if printed.items:
                    problems.append(f"items under {found.quote!r} (page {found.page}) did not end at a section "
                                    f"heading but at {printed.end_quote or 'the end of the pages read'!r}")
    return None, None, "; ".join(problems) or None


def _section_start(document: Document) -> tuple[int, int] | None:
    """Where the LSCB's own section begins (after the contents): its heading, else its first judgement."""
    for pattern in (_LSCB_SECTION, _LSCB):
        for index in range(2, len(document.pages)):
            match = pattern.search(document.pages[index])
            if match:
                return index, match.start()
    return None


def _recommendations(draft: Draft, document: Document, lscb_reviewed: bool) -> None:
    is_stop = _stopper(_contents(document))
    lscb_start = _section_start(document) if lscb_reviewed else None
    recommendations: list[dict] = []
    notes: list[str] = []
    la_list, la_heading, why = _lists(document, _LA_HEADING, (1, 0), lscb_start, is_stop)
    if la_list is None:
        draft.lack("payload.recommendations", "numbered items under 'What does the local authority need to improve?' "
                   "or 'Recommendations', ending at the next section heading" + (f"; {why}" if why else ""))
        return
    _add_items(draft, recommendations, la_list, None)
    notes.append(f"{len(la_list.items)} local authority items under {la_heading.quote!r} (page {la_heading.page})")
    notes.extend(f"not an item: {line!r} (page {page})" for page, line in la_list.nones)
    if lscb_reviewed and lscb_start is None:
        draft.lack("payload.recommendations", "the LSCB's section ('The Local Safeguarding Children Board (LSCB)' or "
                   "'Section 2: The effectiveness of the Local Safeguarding Children Board'), where its items are")
        return
    if lscb_reviewed:
        begin = max(la_list.ended_at or (len(document.pages), 0), lscb_start)
        lscb_list, lscb_heading, why = _lists(document, _LSCB_HEADING, begin, None, is_stop)
        if lscb_list is None:
            none = document.search(_NO_LSCB_RECOMMENDATIONS)
            if none and not why:
                notes.append(f"no LSCB items: {none.quote!r} (page {none.page})")
            else:
                draft.lack("payload.recommendations", "the LSCB's numbered items ('What does the LSCB need to "
                           "improve?', 'Recommendations' or 'Areas for improvement' in its section), ending at the "
                           "next section heading" + (f"; {why}" if why else ""))
                return
        else:
            _add_items(draft, recommendations, lscb_list, "LSCB")
            notes.append(f"{len(lscb_list.items)} LSCB items under {lscb_heading.quote!r} (page {lscb_heading.page})")
            notes.extend(f"not an item: {line!r} (page {page})" for page, line in lscb_list.nones)
    notes.append("items under 'Priority and immediate action' have timescale 'immediately'; others have none")
    draft.set("payload.recommendations", recommendations, la_heading, note="; ".join(notes))


def _add_items(draft: Draft, out: list[dict], printed: PrintedList, prefix: str | None) -> None:
    for item in printed.items:
        group = item.group
        if prefix:
            group = f"{prefix} {group[0].lower()}{group[1:]}" if group else f"{prefix} recommendations"
        section = f"{group}: {item.sub}" if group and item.sub else group
        recommendation = {"text": item.printed}
        if section:
            recommendation["section"] = section
        if item.group and re.match(r"priority\s+and\s+immediate", item.group, re.IGNORECASE):
            recommendation["timescale"] = "immediately"
        draft.cite(f"payload.recommendations.{len(out)}", Found(item.page, item.printed, None),
                   note=f"section {section!r}" if section else None)
        out.append(recommendation)
