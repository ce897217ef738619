"""Inspections of safeguarding and looked after children services (SLAC), 2009-12.

The layout, shared by the 2012-13 looked after children and child protection reports
(``lac2012``), which reuse the engine below with their own rows:

- The first page: the title, the council's name, "Inspection dates …", "Reporting
  inspector …", "Age group: All", "Published: …".
- The body, in two parts ("The inspection outcomes: safeguarding services" and "… services
  for looked after children"), each with "Overall effectiveness", "Capacity for
  improvement", "Areas for improvement" and headings carrying "Grade 3 (adequate)".
- "Areas for improvement": an introductory numbered paragraph, then bullets under
  "Immediately:", "Within three months:" and "Within six months:".
- "Record of main findings", at the end: one table per part, a row per judgement with its
  grade ("Overall effectiveness Adequate"); group rows ("Outcomes for children and young
  people") carry no grade.

Judgements come from the record of main findings; each "Grade N (label)" heading in the
body must agree with it (a disagreement leaves that judgement missing). Printed rows
without an area key in ``events.frameworks`` are reported missing with their label, never
recorded under a guessed key.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from events.importer.document import Document, Found, squash
from events.importer.draft import Draft, UnrecognisedDocument, match_authority
from events.importer.sif import (BULLETS, DATES, OLD_GRADE, cleaned, grade_of, inspector_name,
                                 page_lines, read_list, set_fieldwork, set_publication)

NAME = "slac2009"
LOOKS_FOR = ("an Ofsted inspection of safeguarding and looked after children services, 2009-12 (title 'Inspection "
             "of safeguarding and looked after children services' at the top of page 1, 'Inspection dates', "
             "'Reporting inspector', 'Published:' and a 'Record of main findings')")


@dataclass(frozen=True)
class Row:
    """A judgement row: its area key (None: the framework has none) and a regex its printed label fully matches."""

    area: str | None
    pattern: str
    name: str  # how the row is named in messages
    optional: bool = False  # not printed by every report of the format: not reported missing when absent


@dataclass(frozen=True)
class Part:
    """One part of a report: its rows, the table heading that opens it, the body heading that opens it."""

    prefix: str  # area key prefix ("safeguarding_", "lac_" or "")
    table_heading: str  # regex of the table's section heading ("Safeguarding services")
    body_heading: str | None  # regex of the body part's heading; None: the whole body
    section: str | None  # recommendations' section
    rows: tuple[Row, ...]
    groups: tuple[str, ...] = ()  # ungraded group rows (regexes)


@dataclass(frozen=True)
class Spec:
    """One format of the 2009-13 family."""

    name: str
    framework: str
    printed_title: str  # for messages
    title: re.Pattern
    parts: tuple[Part, ...]
    running_head: re.Pattern
    compiled: dict = field(default_factory=dict, compare=False)

    def row_regex(self, part: Part, row: Row) -> re.Pattern:
        key = (part.prefix, row.name)
        if key not in self.compiled:
            self.compiled[key] = re.compile(row.pattern, re.IGNORECASE)
        return self.compiled[key]


_COMMON_HEAD = (
    Row("overall_effectiveness", r"Overall\s+effectiveness(?:\s+of\s+.*)?", "Overall effectiveness"),
    Row("capacity_for_improvement", r"Capacity\s+(?:for\s+improvement|to\s+improve)(?:\s+.*)?",
        "Capacity for improvement"),
)
_PROVISION_AND_LEADERSHIP = (
    Row("quality_of_provision", r"(?:The\s+)?quality\s+of\s+provision(?:\s+.*)?", "Quality of provision"),
    Row("service_responsiveness", r"Service\s+responsiveness(?:,?\s+including\s+complaints)?",
        "Service responsiveness"),
    Row("assessment_and_direct_work", r"Assessment\s+and\s+direct\s+work\s+with\s+children(?:\s+and\s+families)?",
        "Assessment and direct work with children and families"),
    Row("case_planning_review_and_recording", r"Case\s+planning,?\s+reviews?\s+and\s+recording",
        "Case planning, review and recording"),
    Row("leadership_and_management", r"(?:The\s+)?leadership\s+and\s+management(?:\s+of\s+.*)?",
        "Leadership and management"),
    Row("ambition_and_prioritisation", r"Ambition\s+and\s+prioriti[sz]ation", "Ambition and prioritisation"),
    Row("evaluation", r"Evaluation(?:,?\s+including\s+performance\s+management.*)?", "Evaluation"),
    Row("user_engagement", r"(?:Service\s+)?user\s+engagement", "User engagement"),
    Row("partnerships", r"Partnerships?(?:\s+working)?", "Partnerships"),
    Row("equality_and_diversity", r"Equality\s+and\s+diversity", "Equality and diversity"),
    Row("value_for_money", r"Value\s+for\s+money", "Value for money"),
)
_SAFE = (
    Row("children_are_safe", r"Children\s+and\s+young\s+people\s+are\s+safe\b.*|(?:The\s+)?effectiveness\s+of\s+"
        r"services\s+in\s+taking\s+reasonable\s+steps\s+to\s+ensure\s+(?:that\s+)?children\s+and\s+young\s+people\s+"
        r"are\s+safe", "Children and young people are safe"),
    Row("children_feel_safe", r"Children\s+and\s+young\s+people\s+feel\s+safe\b.*|(?:The\s+)?effectiveness\s+of\s+"
        r"services\s+in\s+(?:taking\s+reasonable\s+steps\s+to|helping\s+to)\s+ensure\s+(?:that\s+)?children\s+and\s+"
        r"young\s+people\s+feel\s+safe", "Children and young people feel safe"),
)
ECM_OUTCOMES = (
    Row("being_healthy", r"Being\s+healthy", "Being healthy"),
    Row("staying_safe", r"Staying\s+safe", "Staying safe"),
    Row("enjoying_and_achieving", r"Enjoying\s+and\s+achieving", "Enjoying and achieving"),
    Row("making_a_positive_contribution", r"Making\s+a\s+positive\s+contribution", "Making a positive contribution"),
    Row("economic_wellbeing", r"(?:Achieving\s+)?economic\s+well-?\s*being", "Economic well-being"),
)
TITLE = re.compile(r"\A\s*(?:\d{1,3}\s*\n\s*)?(?P<title>Inspection\s+of\s+safeguarding\s+and\s+looked\s+after\s+"
                   r"children\s+services)\b", re.IGNORECASE)
SPEC = Spec(
    NAME, "slac-2009", "Inspection of safeguarding and looked after children services", TITLE,
    (
        Part("safeguarding_", r"Safeguarding\s+services",
             r"The\s+inspection\s+outcomes\s*:\s*safeguarding\s+services", "safeguarding",
             _COMMON_HEAD + _SAFE + _PROVISION_AND_LEADERSHIP,
             groups=(r"Outcomes\s+for\s+children\s+and\s+young\s+people",)),
        Part("lac_", r"Services\s+for\s+looked\s+after\s+children",
             r"The\s+inspection\s+outcomes\s*:\s*services\s+for\s+looked\s+after\s+children", "looked after children",
             _COMMON_HEAD + ECM_OUTCOMES + _PROVISION_AND_LEADERSHIP,
             groups=(r"Outcomes\s+for\s+looked\s+after\s+children(?:\s+and\s+(?:care\s+leavers|young\s+people))?",)),
    ),
    re.compile(r".{0,80}Inspection\s+of\s+safeguarding\s+and\s+looked\s+after\s+children\s+services\s+\d{1,3}",
               re.IGNORECASE),
)

_PUBLISHED = re.compile(r"^[ \t]*Published\s*:?\s*(?P<text>[^\n]*\d[^\n]*)", re.IGNORECASE | re.MULTILINE)
_INSPECTOR = re.compile(r"(?:Reporting|Lead)\s+inspector\s*:?[ \t]*(?P<name>[^\n]+)", re.IGNORECASE)
_RECORD = re.compile(r"^[ \t]*Record\s+of\s+main\s+findings\b[^\n]*$", re.IGNORECASE | re.MULTILINE)
_GRADE_CELL = re.compile(rf"(?<![A-Za-z])(?P<label>{OLD_GRADE})[ \t]*(?=\t|\n|$)")
_GRADE_HEADING = re.compile(r"Grade\s+(?P<n>[1-4])\s*\(\s*(?P<label>[A-Za-z]+)\s*\)", re.IGNORECASE)
_AFI = re.compile(r"^[ \t]*Areas\s+for\s+improvement[ \t]*:?[ \t]*$", re.IGNORECASE | re.MULTILINE)
_TIMESCALE = re.compile(r"(?P<group>Immediately|Within\s+(?:three|six|3|6)\s+months)\s*:?", re.IGNORECASE)
_TIMESCALES = {"immediately": "immediately", "within three months": "three_months", "within 3 months": "three_months",
               "within six months": "six_months", "within 6 months": "six_months"}
_LIST_BULLET = re.compile(rf"^(?:[{BULLETS}]|[-–—](?=\s))\s*(?P<text>\S.*)$")
_LIST_STOP = re.compile(
    r"(?:Outcomes\s+for|(?:The\s+)?quality\s+of\s+provision|(?:The\s+)?leadership\s+and\s+management"
    r"|Capacity\s+(?:for|to)|Overall\s+effectiveness|The\s+inspection\s+outcomes|Record\s+of\s+main\s+findings"
    r"|Grade\s+[1-4]|Being\s+healthy|Staying\s+safe|Service\s+information|About\s+this\s+inspection"
    r"|The\s+effectiveness\s+of|The\s+inspection\s+judgements)", re.IGNORECASE)
_CONTENTS_LINE = re.compile(r"\d\s*$")


def recognise(document: Document) -> bool:
    """A 2009-12 SLAC report: its title at the top of the first page, with its dates and reporting inspector."""
    return recognise_spec(SPEC, document)


def parse(document: Document, context) -> Draft:
    """Draft the inspection event, with evidence for every field and what could not be found."""
    return parse_spec(SPEC, document, context)


# --- the engine, shared with lac2012 ----------------------------------------------------------------------------

def recognise_spec(spec: Spec, document: Document) -> bool:
    if not document.pages:
        return False
    head = document.pages[0][:1500]
    return bool(spec.title.search(head) and DATES.search(head)
                and (_INSPECTOR.search(head) or _PUBLISHED.search(head)))


def parse_spec(spec: Spec, document: Document, context) -> Draft:
    if not recognise_spec(spec, document):
        raise UnrecognisedDocument(f"{document.name} is not a {spec.framework} report: it looked for the title "
                                   f"'{spec.printed_title}' at the top of the first page, with the inspection dates.")
    draft = Draft(document, spec.name)
    document = cleaned(document)
    draft.set("kind", "inspection", note="a graded inspection")
    draft.set("schema_version", 2, note="inspection payload v2 (recommendations with sections and timescales)")
    draft.set("date_precision", "day", note="fieldwork and publication dates are printed to the day")
    page1 = document.pages[0]
    first = document.page_number(0)
    title = spec.title.search(page1[:1500])
    header_end = title.end() + 1000  # the dates, inspector and publication follow the title
    dates = DATES.search(page1, title.end(), header_end)
    title_found = Found(first, squash(title["title"]), title)
    draft.set("payload.framework", spec.framework, title_found, note="the report's title names the framework")
    draft.set("payload.type", "standard", title_found, note="these frameworks had one type of inspection")
    _header(draft, page1, first, title, dates, context.registry)
    ended = set_fieldwork(draft, Found(first, squash(dates.group(0)), dates) if dates else None,
                          "the fieldwork dates after 'Inspection dates' on the first page")
    published = _PUBLISHED.search(page1, title.end(), header_end)
    set_publication(draft, Found(first, squash(published.group(0)), published) if published else None, context,
                    ended, "'Published: <date>' on the first page")
    inspector = _INSPECTOR.search(page1, title.end(), header_end)
    name = inspector_name(inspector["name"]) if inspector else ""
    if name and re.search(r"[A-Za-z]{2}", name):
        draft.set("payload.lead_inspector", name, Found(first, squash(inspector.group(0)), inspector),
                  note="the reporting inspector led the inspection")
    else:
        draft.lack("payload.lead_inspector", "'Reporting inspector <name>' on the first page")
    record = _record_position(document)
    bounds = _part_bounds(spec, document, record)
    _judgements(spec, draft, document, bounds, record)
    _areas_for_improvement(spec, draft, document, bounds)
    return draft


def _header(draft: Draft, page1: str, page: int | None, title: re.Match, dates: re.Match | None, registry) -> None:
    end = dates.start() if dates else title.end()
    name = squash(page1[title.end():end])
    quote = squash(page1[title.start("title"):end])
    found = Found(page, quote, title)
    draft.set("source.title", f"{name}: {squash(title['title'])}" if name else squash(title["title"]), found)
    if page is not None:
        draft.set("source.page", page, found, note="the page with the title, dates and inspector")
    if not name or len(name) > 120:
        draft.lack("authority", "the council's name between the title and 'Inspection dates' on the first page")
        return
    match_authority(draft, registry, name, found)


def _part_bounds(spec: Spec, document: Document, record: tuple[int, int] | None
                 ) -> list[tuple[Part, tuple[int, int] | None, tuple[int, int] | None]]:
    """Each part's span in the body ((page index, offset) from, to), the record of main findings excluded;
    (part, None, None) for a part whose opening heading was not found."""
    end = record or (len(document.pages), 0)
    starts: list[tuple[tuple[int, int], Part]] = []
    missing: list[Part] = []
    for part in spec.parts:
        if part.body_heading is None:
            starts.append(((0, 0), part))
            continue
        pattern = re.compile(rf"^[ \t]*{part.body_heading}[^\n]*$", re.IGNORECASE | re.MULTILINE)
        for index, text in enumerate(document.pages):
            match = next((m for m in pattern.finditer(text) if not _CONTENTS_LINE.search(m.group(0))), None)
            if match:
                starts.append(((index, match.start()), part))
                break
        else:
            missing.append(part)
    starts.sort(key=lambda item: item[0])
    return ([(part, start, starts[n + 1][0] if n + 1 < len(starts) else end) for n, (start, part) in enumerate(starts)]
            + [(part, None, None) for part in missing])


def _record_position(document: Document) -> tuple[int, int] | None:
    """The record of main findings: the last heading of that name that is not a contents line."""
    for index in range(len(document.pages) - 1, -1, -1):
        if "indings" not in document.pages[index] and "INDINGS" not in document.pages[index]:
            continue
        found = [m for m in _RECORD.finditer(document.pages[index]) if not _CONTENTS_LINE.search(m.group(0))]
        if found:
            return index, found[-1].start()
    return None


# --- judgements ------------------------------------------------------------------------------------------------

def _row_for(spec: Spec, part: Part, label: str) -> Row | None:
    return next((row for row in part.rows if spec.row_regex(part, row).fullmatch(label)), None)


def _table(spec: Spec, document: Document, record: tuple[int, int] | None) -> tuple[list[tuple[Part, str, re.Match, int | None, str]], list[str],
                                                       Found | None]:
    """Rows of the record of main findings: (part, printed label, grade match, page, quote); unreadable segments."""
    if record is None:
        return [], [], None
    index, offset = record
    lines = page_lines(document, index, offset, 3, spec.running_head)
    # Rebuild the table's text line by line (running heads and page numbers dropped), keeping each line's page.
    text, pages = "", []
    for _, _, page, line in lines:
        pages.append((len(text), page))
        text += line + "\n"
    heading = _RECORD.match(text)
    start = heading.end() if heading else 0
    rows, problems = [], []
    part = spec.parts[0] if len(spec.parts) == 1 else None
    position = start
    heads = [(p, re.compile(rf"\s*{p.table_heading}\b", re.IGNORECASE)) for p in spec.parts]
    for grade in _GRADE_CELL.finditer(text, start):
        segment = squash(text[position:grade.start()])
        page = next(number for begins, number in reversed(pages) if begins <= grade.start())
        position = grade.end()
        if len(segment) > 300:  # prose after the table, not a row
            break
        # Section and group headings print as rows of their own, without a grade: strip them from the front.
        changed = True
        while changed and segment:
            changed = False
            for candidate, head in heads:
                match = head.match(segment)
                if match and segment[match.end():].strip():
                    part, segment, changed = candidate, segment[match.end():].strip(), True
            for group in part.groups if part is not None else ():
                match = re.match(rf"{group}\b", segment, re.IGNORECASE)
                if match and segment[match.end():].strip() and not _row_for(spec, part, segment):
                    segment, changed = segment[match.end():].strip(), True
        if not segment:
            problems.append(f"a grade {grade['label']!r} without a row label{at(page)}")
            continue
        if part is None:
            problems.append(f"{segment!r} {grade['label']} before any section heading{at(page)}")
            continue
        rows.append((part, segment, grade, page, f"{segment} {grade['label']}"))
    return rows, problems, Found(document.page_number(index), squash(heading.group(0)) if heading else
                                 "Record of main findings", heading)


def _headings(spec: Spec, document: Document, bounds) -> dict[str, tuple[int, str, Found]]:
    """Grades printed as 'Grade N (label)' under headings in the body: area -> (grade, label, where)."""
    out: dict[str, tuple[int, str, Found]] = {}
    for part, start, end in bounds:
        if start is None:
            continue
        for index in range(start[0], min(end[0] + 1, len(document.pages))):
            text = document.pages[index]
            low = start[1] if index == start[0] else 0
            high = end[1] if index == end[0] else len(text)
            for match in _GRADE_HEADING.finditer(text, low, high):
                before = text[max(0, match.start() - 300):match.start()]
                lines = [line.strip() for line in before.split("\n") if line.strip()]
                same_line = before.rsplit("\n", 1)[-1].strip()
                candidates = [same_line] if same_line else []
                candidates += [" ".join(lines[-2:]), lines[-1]] if lines else []
                for candidate in candidates:
                    label = squash(candidate).rstrip(".")
                    label = re.sub(r"^\d+\.\s*", "", label)
                    row = _row_for(spec, part, label)
                    if row and row.area:
                        key = part.prefix + row.area
                        value = grade_of(match["label"]) if match["label"].casefold() in (
                            "outstanding", "good", "adequate", "inadequate") else None
                        found = Found(document.page_number(index), squash(f"{label} {match.group(0)}"), match)
                        if value is None or value != int(match["n"]):
                            out[key] = (-1, match.group(0), found)
                        elif key not in out:
                            out[key] = (value, match["label"], found)
                        break
    return out


def _judgements(spec: Spec, draft: Draft, document: Document, bounds, record: tuple[int, int] | None) -> None:
    rows, problems, table = _table(spec, document, record)
    headings = _headings(spec, document, bounds)
    accepted: list[tuple[dict, Found, str | None]] = []
    printed: dict[str, int] = {}
    for part, label, grade, page, quote in rows:
        row = _row_for(spec, part, label)
        name = f"{part.section + ': ' if part.section and len(spec.parts) > 1 else ''}{label}"
        if row is None:
            draft.lack(f"payload.judgements.{_slug(part.prefix + label)}",
                       f"a known row of the record of main findings: {name!r} ({grade['label']}){at(page)} is "
                       f"not one of {spec.framework}'s")
            continue
        if row.area is None:
            draft.lack(f"payload.judgements.{_slug(part.prefix + label)}",
                       f"an area key of {spec.framework} for the printed judgement {name!r} ({grade['label']})"
                       f"{at(page)}: events/frameworks.py has none, so it is not recorded")
            continue
        key = part.prefix + row.area
        printed[key] = printed.get(key, 0) + 1
        value = grade_of(grade["label"])
        heading = headings.get(key)
        if heading and heading[0] != value:
            draft.lack(f"payload.judgements.{key}", f"one grade for {name!r}: the record of main findings prints "
                       f"{grade['label']!r}{at(page)} but the body reads {heading[2].quote!r}{at(heading[2].page)}")
            continue
        note = f"the body agrees: {heading[2].quote!r}{at(heading[2].page)}" if heading else None
        accepted.append(({"area": key, "label": squash(grade["label"]), "grade": value}, Found(page, quote, grade),
                         note))
    for key, count in printed.items():
        if count > 1:
            draft.lack(f"payload.judgements.{key}", f"one row for {key!r}; the record of main findings prints "
                       f"{count}")
    accepted = [item for item in accepted if printed[item[0]["area"]] == 1]
    if problems:
        draft.lack("payload.judgements", "every grade of the record of main findings on a row of its own; found "
                   + "; ".join(problems))
    if not rows:
        # No readable record of main findings: the body's graded headings are the only judgements printed.
        for key, (value, label, found) in headings.items():
            if value < 1:
                draft.lack(f"payload.judgements.{key}", f"a grade whose number and label agree; found {found.quote!r}")
                continue
            accepted.append(({"area": key, "label": label, "grade": value}, found,
                             "from the body's graded heading: no record of main findings was read"))
    judged = {judgement["area"] for judgement, _, _ in accepted}
    for part in spec.parts:
        for row in part.rows:
            key = part.prefix + row.area if row.area else None
            if key and not row.optional and key not in judged and f"payload.judgements.{key}" not in draft.missing:
                where = f"{part.section} " if part.section and len(spec.parts) > 1 else ""
                draft.lack(f"payload.judgements.{key}",
                           f"the row {row.name!r} with its grade in the {where}record of main findings")
    for index, (_, found, note) in enumerate(accepted):
        draft.cite(f"payload.judgements.{index}", found, note=note)
    if accepted:
        draft.set("payload.judgements", [judgement for judgement, _, _ in accepted], table or accepted[0][1],
                  note=f"{len(accepted)} judgements from the record of main findings" if rows else
                  "from the body's graded headings")
    else:
        draft.lack("payload.judgements", "the 'Record of main findings' table, or 'Grade N (label)' headings")


def at(page: int | None) -> str:
    """' (page N)' for a message, or nothing for plain text (which has no pages)."""
    return f" (page {page})" if page is not None else ""


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.casefold()).strip("_")[:80]


# --- areas for improvement -------------------------------------------------------------------------------------

def _areas_for_improvement(spec: Spec, draft: Draft, document: Document, bounds) -> None:
    recommendations: list[dict] = []
    notes: list[str] = []
    first: Found | None = None

    def is_stop(line: str) -> bool:
        return bool(line[:1].isupper() and _LIST_STOP.match(line))

    for part, start, end in bounds:
        if start is None:
            draft.lack("payload.recommendations", f"the heading that opens the {part.section} part of the report "
                       "(its areas for improvement follow it)")
            return
        heading = None
        for index in range(start[0], min(end[0] + 1, len(document.pages))):
            text = document.pages[index]
            low = start[1] if index == start[0] else 0
            high = end[1] if index == end[0] else len(text)
            heading = _AFI.search(text, low, high)
            if heading:
                break
        where = f" in the {part.section} part" if part.section and len(spec.parts) > 1 else ""
        if heading is None:
            draft.lack("payload.recommendations", f"'Areas for improvement'{where}")
            return
        found = Found(document.page_number(index), squash(heading.group(0)), heading)
        first = first or found
        lines = page_lines(document, index, heading.end(), 3, spec.running_head)
        # Skip the introduction ("22. In order to improve … should take the following action:").
        begin = next((n for n, line in enumerate(lines[:8]) if _TIMESCALE.fullmatch(line[3])), None)
        if begin is None:
            draft.lack("payload.recommendations", f"'Immediately:', 'Within three months:' or 'Within six months:' "
                       f"under 'Areas for improvement'{where}{at(found.page)}")
            return
        printed = read_list(lines[begin:], is_stop, _TIMESCALE, subheadings=False, bullets=True,
                            bullet_pattern=_LIST_BULLET)
        if not printed.items or not printed.stopped:
            draft.lack("payload.recommendations", f"bulleted items under 'Areas for improvement'{where}"
                       f"{at(found.page)} ending at the next heading; "
                       + (f"they ended at {printed.end_quote!r}" if printed.items else "found none"))
            return
        counts: dict[str, int] = {}
        for item in printed.items:
            timescale = _TIMESCALES.get(squash(item.group or "").casefold())
            recommendation = {"text": item.text}
            if part.section and len(spec.parts) > 1:
                recommendation["section"] = part.section
            if timescale:
                recommendation["timescale"] = timescale
            counts[item.group or "no timescale"] = counts.get(item.group or "no timescale", 0) + 1
            draft.cite(f"payload.recommendations.{len(recommendations)}", Found(item.page, item.text, None),
                       note=f"under {item.group!r}" if item.group else "printed before any timescale")
            recommendations.append(recommendation)
        notes.append(f"{len(printed.items)} items{where}{at(found.page)}: "
                     + ", ".join(f"{n} {g!r}" for g, n in counts.items()))
    draft.set("payload.recommendations", recommendations, first, note="; ".join(notes))
