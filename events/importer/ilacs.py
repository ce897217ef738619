"""ILACS reports: Ofsted's inspections of local authority children's services, 2018 onwards.

Layouts read (all from the text layer, page by page):

- 2018-20: the authority's name, then "Inspection of children's social care
  services" (or "Inspection of local authority children's services"), a page
  number line on every page, grade printed after the row label on the same line.
- 2020-23: "Inspection of <LA> (local authority) children's services", four
  judgements, the third being children in care *and care leavers* (ilacs-2018).
- 2023-26: care leavers judged on a row of their own (ilacs-2023).
- from April 2026: the same rows without "Overall effectiveness" (ilacs-2026).

The framework is decided from the rows the table prints, never from the date
alone. The type (standard or short) is not printed: it follows from the printed
fieldwork dates, since a short ILACS inspection is one working week on site and a
standard one two; any other length leaves the type missing. ILACS reports print
no publication date: effective_on comes only from ``context.published``.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

from events.importer.document import Document, Found, squash
from events.importer.draft import Draft, match_authority
from events.importer.textdates import RANGE, to_date
from events.registry import Registry

NAME = "ilacs"
LOOKS_FOR = ("an Ofsted ILACS report, 2018 onwards (title 'Inspection of … children's services' or "
             "'Inspection of children's social care services', 'Inspection dates:', and a 'Judgement Grade' "
             "table with 'The impact of leaders on social work practice with children and families' and, "
             "until 2026, 'Overall effectiveness')")

_APOS = "['’`]"
_TITLE = re.compile(rf"^[ \t]*Inspection\s+of\s+(?P<rest>(?:(?!Inspection\s+of)[^\n]{{0,160}}\n?){{1,3}}?)"
                    rf"(?P<tail>children{_APOS}s\s+(?:social\s+care\s+)?services)\b", re.MULTILINE)
_SIF = re.compile(r"in\s+need\s+of\s+help\s+and\s+protection,\s+children\s+looked\s+after", re.IGNORECASE)
_DATES = re.compile(r"Inspection\s+dates?\s*:\s*(?P<text>.{4,200}?)\s*(?=Lead\s+inspector|Judgement\s+Grade|$)",
                    re.IGNORECASE | re.DOTALL)
_LEAD = re.compile(r"Lead\s+inspector\s*:\s*(?P<name>[^,\n]+?)\s*(?:,|\bHMI\b|\bH[ie]r\s+Majesty|\n|$)",
                   re.IGNORECASE)
_TABLE_HEAD = re.compile(r"\bJudgement\s+Grade\b")
_SPACE = re.compile(r"\s*")
_LEADERS_ROW = re.compile(r"impact\s+of\s+leaders\s+on\s+social\s+work\s+practice", re.IGNORECASE)


def _words(text: str) -> str:
    """A phrase as a regex allowing any whitespace (line breaks) between its words."""
    return r"\s+".join(re.escape(word) for word in text.split())


# Judgement table rows: area key -> regex for the row label as printed (case as printed).
_ROWS = {
    "impact_of_leaders": _words("The impact of leaders on social work practice with children and families") + r"\.?",
    "help_and_protection": _words("The experiences and progress of children who need help and protection"),
    "children_in_care_and_care_leavers": _words("The experiences and progress of children in care and care leavers"),
    "children_in_care": _words("The experiences and progress of children in care") + r"(?!\s+and\s+care\s+leavers)",
    # One report prints the care leavers row as "... of children care leavers" (sic).
    "care_leavers": _words("The experiences and progress of") + r"\s+(?:children\s+)?" + _words("care leavers"),
    "overall_effectiveness": _words("Overall effectiveness"),
}
_ROW = re.compile("|".join(f"(?P<{area}>{pattern})" for area, pattern in _ROWS.items()))
_GRADE = re.compile(r"(?P<label>Outstanding|Good|Requires\s+improvement(?:\s+to\s+be\s+good)?|Inadequate)"
                    r"\s*\.?(?=\s|$)", re.IGNORECASE)
_GRADES = {"outstanding": 1, "good": 2, "requires improvement": 3, "requires improvement to be good": 3,
           "inadequate": 4}
# Section headings in the body repeat the judgements but overall ("...help and protection: good",
# "...care leavers are good"): a cross-check.
_HEADING = re.compile(rf"^(?:{_ROW.pattern})\s*(?::|\b(?:is|are)\b\s*:?)?\s*{_GRADE.pattern}",
                      re.MULTILINE | re.IGNORECASE)

_WNTI = re.compile(r"^\s*What\s+needs\s+to\s+improve\s*[?:]?\s*(?:\d\s*)?$", re.MULTILINE | re.IGNORECASE)
_SECTION_END = re.compile(r"^\s*(?:The\s+experiences\s+and\s+progress\s+of|The\s+impact\s+of\s+leaders\s+on|"
                          r"Overall\s+effectiveness|\d{1,2}\.\s)", re.IGNORECASE)
_FOOTNOTE_MARK = re.compile(r"^\s*\d\s*$")
_BULLETS = "◼■▪•●\uf06e\uf0a7\uf0b7\uf0d8"
_SUB_BULLETS = "-−–—̶o"
_BULLET_LINE = re.compile(rf"^\s*[{_BULLETS}]\s*(?P<text>.*)$")
_SUB_LINE = re.compile(rf"^\s*[{_SUB_BULLETS}]\s+(?P<text>.*)$")
_TAG = re.compile(r"\s*\((?P<tag>(?:outcome|enabler|principle)\b[^()]{0,120})\)\s*(?P<stop>\.?)\s*$", re.IGNORECASE)
_PAGE_NUMBER = re.compile(r"\A\s*\d{1,3}\s*\n")
_RUNNING_HEAD = re.compile(rf"\A\s*Inspection\s+of\s+[^\n]*children{_APOS}s\s+services\s*\n[^\n]{{0,120}}\d\s*\n",
                           re.IGNORECASE)
_FOOTNOTE = re.compile(r"^\s*\d{1,2}\s+The\s+areas\s+for\s+improvement\s+have\s+been\s+cross-referenced.*\Z",
                       re.MULTILINE | re.DOTALL | re.IGNORECASE)
_SELF_TYPE = re.compile(r"\bthis\s+(?P<type>short|standard)\s+(?:ILACS\s+)?inspection\b", re.IGNORECASE)

NO_OVERALL_FROM = date(2026, 4, 1)  # ILACS stopped judging overall effectiveness from April 2026


def _clean(text: str) -> str:
    """PDFium marks a hyphen printed at a line break as U+FFFE: it is a hyphen."""
    return text.replace("\ufffe", "-")


def recognise(document: Document) -> bool:
    """An ILACS report: its title and fieldwork dates at the top of page 1 and the ILACS judgement table."""
    if not document.pages:
        return False
    head = document.pages[0][:2500]
    title = _TITLE.search(head[:700])
    return bool(title and not _SIF.search(head[:700]) and re.search(r"Inspection\s+dates?\s*:", head, re.I)
                and (_TABLE_HEAD.search(head) or _LEADERS_ROW.search(head)))


def parse(document: Document, context) -> Draft:
    """Draft the inspection event, with evidence for every field and what could not be found."""
    draft = Draft(document, NAME)
    draft.set("kind", "inspection", note="an ILACS report is a graded inspection")
    draft.set("schema_version", 2, note="inspection payload v2 (recommendations with tags)")
    draft.set("date_precision", "day", note="fieldwork dates are printed to the day; publication dates are days")
    page1 = _clean(document.pages[0]) if document.pages else ""
    first = document.page_number(0)
    _title_and_authority(draft, page1, first, context.registry)
    periods = _fieldwork(draft, page1, first)
    _lead_inspector(draft, page1, first)
    _judgements(draft, document, page1, first, periods)
    _inspection_type(draft, document, periods)
    _recommendations(draft, document)
    _publication(draft, context, periods)
    return draft


# --- title and authority -------------------------------------------------------------------------------------

def _title_and_authority(draft: Draft, page1: str, page: int | None, registry: Registry) -> None:
    match = _TITLE.search(page1[:700])
    if not match:
        draft.lack("source.title", "the title line 'Inspection of … children's services' at the top of page 1")
        draft.lack("authority", "the authority's name in the title on page 1")
        return
    before = _PAGE_NUMBER.sub("", page1[:match.start()], count=1)
    printed_before = squash(before)
    title = squash(match.group(0))
    rest = squash(match["rest"])
    name = re.sub(r"\s*\blocal\s+authority\s*$", "", rest, flags=re.I).strip(" ,:")
    if not name:  # 2018-20: "<LA name>" on its own line(s), then "Inspection of children's social care services"
        name = printed_before
        title = f"{printed_before}: {title}" if printed_before else title
        quote = squash(page1[match.start() - len(before):match.end()])
    else:
        quote = title
    found = Found(page, quote, match)
    draft.set("source.title", title, found)
    if page is not None:
        draft.set("source.page", page, found, note="the page with the title, dates and judgements")
    if not name:
        draft.lack("authority", "the authority's name above or in the title on page 1")
        return
    match_authority(draft, registry, name, found)



# --- fieldwork dates, lead inspector ---------------------------------------------------------------------------

def _fieldwork(draft: Draft, page1: str, page: int | None) -> list[tuple[date, date]]:
    """Every printed fieldwork period; occurred spans them all."""
    match = _DATES.search(page1[:1500])
    periods: list[tuple[date, date]] = []
    if match:
        for found in RANGE.finditer(match["text"]):
            try:
                end = to_date(found["d2"], found["m2"], found["y2"])
                start = to_date(found["d1"], found["m1"] or found["m2"], found["y1"] or found["y2"])
            except ValueError:
                continue
            if start > end and not found["y1"]:
                start = start.replace(year=start.year - 1)
            periods.append((start, end))
    if not periods or any(s > e for s, e in periods):
        what = "the fieldwork dates after 'Inspection dates:' on page 1"
        draft.lack("occurred.start", what)
        draft.lack("occurred.end", what)
        return []
    quote = Found(page, squash(match.group(0)), match)
    start, end = min(s for s, _ in periods), max(e for _, e in periods)
    note = None
    if len(periods) > 1:
        note = (f"{len(periods)} fieldwork periods printed; occurred runs from the first day of the first "
                "to the last day of the last")
    draft.set("occurred.start", start.isoformat(), quote, note=note)
    draft.set("occurred.end", end.isoformat(), quote, note=note)
    return periods


def _lead_inspector(draft: Draft, page1: str, page: int | None) -> None:
    match = _LEAD.search(page1[:1500])
    name = squash(match["name"]) if match else ""
    if not name or not re.search(r"[A-Za-z]{2}", name):
        draft.lack("payload.lead_inspector", "'Lead inspector: <name>' under the inspection dates on page 1")
        return
    draft.set("payload.lead_inspector", name, Found(page, squash(match.group(0)), match))


# --- judgements and framework ----------------------------------------------------------------------------------

def _read_table(text: str, start: int) -> tuple[list[tuple[str, re.Match, re.Match | None]], int]:
    """Rows directly after the 'Judgement Grade' header: (area, row match, grade match or None), and where it ends."""
    rows = []
    position = start
    while True:
        gap = _SPACE.match(text, position).end()
        row = _ROW.match(text, gap)
        if not row:
            return rows, gap
        area = row.lastgroup
        after = _SPACE.match(text, row.end()).end()
        grade = _GRADE.match(text, after)
        rows.append((area, row, grade))
        if grade:
            position = grade.end()
            continue
        # An unreadable grade: skip to the next row label close by, if there is one.
        following = _ROW.search(text, row.end(), row.end() + 120)
        if not following:
            return rows, row.end()
        position = following.start()


def _judgements(draft: Draft, document: Document, page1: str, page: int | None,
                periods: list[tuple[date, date]]) -> None:
    head = _TABLE_HEAD.search(page1)
    if not head:
        draft.lack("payload.judgements", "the 'Judgement Grade' table on page 1")
        draft.lack("payload.framework", "the judgement table's rows, which tell the ILACS framework apart")
        return
    rows, table_end = _read_table(page1, head.end())
    areas = [area for area, _, _ in rows]
    if not rows or len(set(areas)) != len(areas):
        draft.lack("payload.judgements", "one row per judgement after 'Judgement Grade' on page 1"
                   + (f"; found rows {areas}" if rows else "; found none"))
        draft.lack("payload.framework", "the judgement table's rows, which tell the ILACS framework apart")
        return
    framework, framework_note, expected = _framework(areas, periods)
    table_found = Found(page, squash(page1[head.start():table_end]), head)
    if framework:
        draft.set("payload.framework", framework, table_found, note=framework_note)
    else:
        draft.lack("payload.framework", framework_note)
    headings = _section_headings(document)
    judgements = []
    for area, row, grade in rows:
        label_text = squash(row.group(0))
        if grade is None:
            draft.lack(f"payload.judgements.{area}",
                       f"a grade (Outstanding, Good, Requires improvement (to be good), Inadequate) after "
                       f"'{label_text}' in the table on page {page}; found "
                       f"{squash(page1[row.end():row.end() + 60])!r}")
            continue
        label = squash(grade["label"])
        value = _GRADES[label.casefold()]
        heading = headings.get(area)
        if heading and heading[0] != value:
            draft.lack(f"payload.judgements.{area}",
                       f"one grade for '{label_text}': the table on page {page} prints {label!r} but the "
                       f"section heading on page {heading[1].page} reads {heading[1].quote!r}")
            continue
        note = f"section heading on page {heading[1].page} agrees: {heading[1].quote!r}" if heading else None
        draft.cite(f"payload.judgements.{len(judgements)}",
                   Found(page, squash(page1[row.start():grade.end()]), row), note=note)
        judgements.append({"area": area, "label": label, "grade": value})
    for area in expected:
        if area not in areas:
            draft.lack(f"payload.judgements.{area}", f"the {area.replace('_', ' ')} row in the judgement table "
                       f"on page {page}, which {framework or 'ILACS'} prints")
    if judgements:
        draft.set("payload.judgements", judgements, table_found)
    else:
        draft.lack("payload.judgements", f"a readable grade on any row of the judgement table on page {page}")


def _framework(areas: list[str], periods: list[tuple[date, date]]) -> tuple[str | None, str, tuple[str, ...]]:
    """The framework the printed rows belong to, why, and the rows that framework prints."""
    combined = "children_in_care_and_care_leavers" in areas
    separate = "children_in_care" in areas or "care_leavers" in areas
    overall = "overall_effectiveness" in areas
    common = ("impact_of_leaders", "help_and_protection")
    if combined and not separate:
        return ("ilacs-2018", "children in care and care leavers are judged on one row",
                common + ("children_in_care_and_care_leavers", "overall_effectiveness"))
    if separate and not combined and overall:
        return ("ilacs-2023", "care leavers are judged on a row of their own, with overall effectiveness",
                common + ("children_in_care", "care_leavers", "overall_effectiveness"))
    if separate and not combined:
        ended = max((e for _, e in periods), default=None)
        if ended is not None and ended < NO_OVERALL_FROM:
            return (None, "an 'Overall effectiveness' row: the table prints none, yet the fieldwork ended "
                          f"{ended.isoformat()}, before ILACS stopped judging it (April 2026)",
                    common + ("children_in_care", "care_leavers", "overall_effectiveness"))
        return ("ilacs-2026", "care leavers judged separately and no 'Overall effectiveness' row: overall "
                              "effectiveness is not judged (ILACS from April 2026)",
                common + ("children_in_care", "care_leavers"))
    return (None, "rows that tell ILACS frameworks apart (children in care and care leavers on one row, or on "
                  f"two); found {areas}", common)


def _section_headings(document: Document) -> dict[str, tuple[int, Found]]:
    """Grades repeated in section headings after page 1 ("...who need help and protection: good")."""
    out: dict[str, tuple[int, Found]] = {}
    for index in range(1, len(document.pages)):
        for match in _HEADING.finditer(document.pages[index]):
            area = next(a for a in _ROWS if match.group(a))
            label = squash(match["label"]).casefold()
            if area not in out:
                out[area] = (_GRADES[label], Found(document.page_number(index), squash(match.group(0)), match))
    return out


# --- type ------------------------------------------------------------------------------------------------------

def _inspection_type(draft: Draft, document: Document, periods: list[tuple[date, date]]) -> None:
    stated = document.search(_SELF_TYPE)
    by_length, why = _type_from_length(periods)
    if stated:
        value = stated.match["type"].lower()
        if by_length and by_length != value:
            draft.lack("payload.type", f"one type: the report says {stated.quote!r} (page {stated.page}) but {why}")
            return
        draft.set("payload.type", value, stated)
        return
    if by_length:
        evidence = draft.evidence.get("occurred.start", {})
        draft.set("payload.type", by_length, Found(evidence.get("page"), evidence.get("quote"), None), note=why)
        return
    draft.lack("payload.type", "'this short/standard inspection' in the text, or fieldwork of one working week "
               f"(short) or two (standard) after 'Inspection dates:'; {why}")


def _type_from_length(periods: list[tuple[date, date]]) -> tuple[str | None, str]:
    """Short ILACS inspections are one working week on site, standard ones two (ILACS framework)."""
    if not periods:
        return None, "no fieldwork dates were read"
    start, end = periods[0]
    weekdays = sum(1 for n in range((end - start).days + 1) if (start + timedelta(n)).weekday() < 5)
    weeks = ((end - start).days + start.weekday()) // 7 + 1  # calendar weeks (Monday to Sunday) touched
    first = "the first fieldwork period" if len(periods) > 1 else "the fieldwork"
    span = f"{first} ({start.isoformat()} to {end.isoformat()}) has {weekdays} working days in {weeks} week(s)"
    if weeks == 1 and 3 <= weekdays <= 5:
        return "short", f"{span}: one week on site, as an ILACS short inspection (standard ones are two)"
    if weeks == 2 and 8 <= weekdays <= 10:
        return "standard", f"{span}: two weeks on site, as an ILACS standard inspection (short ones are one)"
    return None, f"{span}, neither one week (short) nor two (standard)"


# --- what needs to improve -------------------------------------------------------------------------------------

def _body_lines(document: Document, index: int, start: int) -> list[tuple[int | None, str]]:
    """Lines from a position on a page onward (up to three pages), without running heads and footnotes."""
    lines: list[tuple[int | None, str]] = []
    for number in range(index, min(index + 3, len(document.pages))):
        text = _clean(document.pages[number])
        if number == index:
            text = text[start:]
        else:
            text = _RUNNING_HEAD.sub("", _PAGE_NUMBER.sub("", text, count=1), count=1)
        text = _FOOTNOTE.sub("", text)
        lines.extend((document.page_number(number), line) for line in text.split("\n"))
    return lines


def _recommendations(draft: Draft, document: Document) -> None:
    index, heading = next(((i, m) for i, text in enumerate(document.pages) if (m := _WNTI.search(text))),
                          (None, None))
    if heading is None:
        draft.lack("payload.recommendations", "the 'What needs to improve' list")
        return
    heading = Found(document.page_number(index), squash(heading.group(0)), heading)
    lines = _body_lines(document, index, heading.match.end())
    items: list[dict] = []  # each {"parts": [printed lines], "page": page of its bullet}
    ended = False
    for page, line in lines:
        if not line.strip():
            continue
        if _SECTION_END.match(line):
            ended = True
            break
        bullet = _BULLET_LINE.match(line)
        sub = _SUB_LINE.match(line)
        if bullet:
            items.append({"parts": [bullet["text"].strip()], "page": page})
        elif sub and items:
            items[-1]["parts"].append("\0" + sub["text"].strip())
        elif items:
            items[-1]["parts"].append(line.strip())
        elif _FOOTNOTE_MARK.match(line):
            continue  # the footnote mark printed under the heading
        else:
            draft.lack("payload.recommendations",
                       f"bulleted items under 'What needs to improve' (page {heading.page}); found {squash(line)!r}")
            return
    if not items or not ended:
        draft.lack("payload.recommendations",
                   f"bulleted items under 'What needs to improve' (page {heading.page}) ending at the next section "
                   "heading" + ("" if items else "; found none"))
        return
    recommendations = []
    for number, item in enumerate(items):
        printed = _join(item["parts"])
        text, tags = printed, []
        tag = _TAG.search(printed)
        if tag:
            text = (printed[:tag.start()].rstrip() + tag["stop"]).strip()
            tags = [squash(tag["tag"])]
        recommendation = {"text": text, **({"tags": tags} if tags else {})}
        recommendations.append(recommendation)
        draft.cite(f"payload.recommendations.{number}", Found(item["page"], printed, None),
                   note=f"national framework tag {tags[0]!r} printed after the item" if tags else None)
    draft.set("payload.recommendations", recommendations, heading,
              note=f"{len(recommendations)} items under 'What needs to improve'; ILACS prints no timescales")


def _join(parts: list[str]) -> str:
    """An item's lines as one text; sub-bullets (marked with NUL) joined with '; ' unless punctuated."""
    out = ""
    for part in parts:
        if part.startswith("\0"):
            part = part[1:]
            if out and not re.search(r"[;:,.]\s*$|\b(?:and|or)\s*$", out):
                out = out.rstrip() + ";"
        out = f"{out} {part}" if out else part
    return squash(out)


# --- publication -----------------------------------------------------------------------------------------------

def _publication(draft: Draft, context, periods: list[tuple[date, date]]) -> None:
    published = getattr(context, "published", None)
    if published is None:
        draft.lack("effective_on", "a publication date: ILACS reports do not print one, so it must be given "
                   "from outside (a --published option or a sidecar index)")
        return
    ended = max((e for _, e in periods), default=None)
    if ended is not None and published.on < ended:
        draft.lack("effective_on", f"a publication date on or after the fieldwork ended ({ended.isoformat()}); "
                   f"{published.source} gives {published.on.isoformat()}")
        return
    note = f"publication date from {published.source}: ILACS reports do not print one"
    draft.set("effective_on", published.on.isoformat(), None, note=note)
    draft.set("source.note", note, None, note="where effective_on came from")
