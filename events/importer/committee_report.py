"""Council committee reports (modern.gov and similar committee systems): one report, one event.

Such a report opens with the council's name and a block of header fields:

    Manchester City Council
    Report for Information
    Report to: Executive – 1 June 2022            (or "Meeting: Cabinet" + "Date: 1 June 2022")
    Subject: Ofsted Inspection of Children's Services.   (or "Title:", "Report title:")
    Report of: Deputy Strategic Director Children's Services   (or "Report by:", "Report from:")

It drafts a `committee_response`: body and meeting date (`effective_on` and `occurred`,
one day), title, report_of, the authority (the council named at the top), any Ofsted
judgement table it quotes (area keys of the framework whose area names it prints:
ILACS 2018 or 2023, or the 2013-18 single inspection framework), and action-plan items
when the report itemises them in a table with an action column and an owner or date
column. `responds_to` needs the ids of events the document cannot know: it is left
empty and reported missing, with what the report names; `events.importer.linking`
fills it from the authority's stream when the quoted table identifies an inspection.
"""
from __future__ import annotations

import re
from datetime import date

from events.importer.document import Document, Found, squash
from events.importer.draft import Draft, match_authority
from events.importer.textdates import MONTH, MONTH_YEAR, SINGLE, to_date

NAME = "committee_report"
LOOKS_FOR = ("a council committee report whose first pages carry the header fields 'Report to:' (or 'Meeting:', "
             "'Committee:', 'Decision maker:') and 'Subject:' (or 'Title:', 'Report title:')")

_HEAD = 6000
_FIELD_END = r"[ \t*_]*:[ \t*_]*"
_BODY_LABELS = r"Report to|Meeting|Committee|Decision maker|Decision taker"
_SUBJECT_LABELS = r"Subject|Report title|Title of report|Subject of report|Report subject"
_TITLE_LABELS = rf"{_SUBJECT_LABELS}|Title"
_BY_LABELS = r"Report of|Report by|Report from|Submitted by"
_DATE_LABELS = r"Date of meeting|Meeting date|Date of decision|Date"
_LABEL_LINE = re.compile(rf"^[ \t*#_|]*(?:{_BODY_LABELS}|{_TITLE_LABELS}|{_BY_LABELS}|{_DATE_LABELS}|Wards? affected|"
                         rf"Key decision|Summary|Purpose|Recommendations?|Contact officers?|Report author|Author|"
                         rf"Portfolio|Lead member|Classification|Status|Appendices|Background papers?|"
                         rf"Exempt|Report status|Ward)\b[^\n:]{{0,30}}:", re.I)
_STOP_LINE = re.compile(r"^[ \t*#_]*(?:Summary|Purpose(?: of (?:the )?report)?|Recommendations?|Wards? Affected|"
                        r"Executive summary|\d+(?:\.\d+)*\.?\s+\S)", re.I)
_NUMERIC_DATE = re.compile(r"\b(?P<d>\d{1,2})[/.](?P<m>\d{1,2})[/.](?P<y>\d{4})\b")
_LABELS = {"outstanding": 1, "good": 2, "requires improvement to be good": 3, "requires improvement": 3,
           "adequate": 3, "inadequate": 4}
_LABEL = r"Outstanding|Good|Requires\s+[Ii]mprovement(?:\s+[Tt]o\s+[Bb]e\s+[Gg]ood)?|Adequate|Inadequate"
_LABEL_CELL = re.compile(rf"(?:{_LABEL})[ \t|*_.]*(?=\n|$)")
_CELL = r"[ \t|*_:]"

# Judgement areas as Ofsted prints them, with the area keys of events.frameworks.
_ILACS = "ILACS"
_SIF = "single inspection framework (2013-18)"
_AREAS = (
    (_ILACS, "impact_of_leaders", "the impact of leaders on social work practice with children and families",
     "with children and families"),
    (_ILACS, "help_and_protection", "the experiences and progress of children who need help and protection", None),
    (_ILACS, "children_in_care_and_care_leavers", "the experiences and progress of children in care and care leavers",
     None),
    (_ILACS, "children_in_care", "the experiences and progress of children in care", None),
    (_ILACS, "care_leavers", "the experiences and progress of care leavers", None),
    (_ILACS, "overall_effectiveness", "overall effectiveness", None),
    (_SIF, "help_and_protection", "children who need help and protection", None),
    (_SIF, "children_looked_after", "children looked after and achieving permanence", None),
    (_SIF, "adoption_performance", "adoption performance", None),
    (_SIF, "care_leavers", "experiences and progress of care leavers", None),
    (_SIF, "leadership_management_and_governance", "leadership, management and governance", None),
    (_SIF, "overall_effectiveness", "overall effectiveness", None),
)
_SIF_MARKERS = re.compile(r"looked after and achieving\s+permanence|leadership,\s+management\s+and\s+governance|"
                          r"adoption\s+performance", re.I)
_EVENT_WORDS = (r"(?:(?:Local Government Association|LGA)['’]?s?\s+)?(?:Care Practice Diagnostic|[Pp]eer [Rr]eview|"
                r"[Dd]iagnostic)|Ofsted|OFSTED|ILACS|[Mm]onitoring visit|[Ff]ocused visit|"
                r"Joint Targeted Area Inspection|JTAI|local area (?:SEND )?inspection|SEND inspection|"
                r"[Ii]mprovement [Nn]otice|[Ss]tatutory [Dd]irection")
_DAY_DATE = rf"(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH},?\s+\d{{4}}"
_ANY_DATE = rf"(?:{_DAY_DATE}|{MONTH}\s+\d{{4}}|in\s+(?:19|20)\d\d\b)"
_EVENT = re.compile(rf"(?:(?:inspected|visited|reviewed|judged|assessed)\s+by\s+)?(?:{_EVENT_WORDS})")
_DATED = re.compile(rf"{_ANY_DATE}(?:\s*(?:to|–|-|and)\s*{_DAY_DATE})?", re.I)
_ACTION_PLAN = re.compile(r"\baction plan\b", re.I)
_ACTION_WORD = re.compile(r"\bActions?\b")
_OTHER_COLUMN = re.compile(r"\b(?:Lead|Owner|Responsib\w*|By whom|Who|Timescales?|Due|By when|Target date|Deadline|"
                           r"Completion date)\b", re.I)


def _field(document: Document, *label_groups: str) -> tuple[str, Found] | None:
    """A header field's value: the rest of its line, or the next line when the label stands alone.

    Label groups are tried in order ("Subject:" before a bare "Title:", which may be a contact's).
    A value wraps onto the next line only when that line starts in lower case, the value ends
    with a joining word or mark ("and", "of", "–", ","), or the next line ends the value with a
    date ("Report to: Children and Young People Scrutiny / Committee – 19 July 2016").
    """
    for labels in label_groups:
        pattern = re.compile(rf"^[ \t*#_|]*(?:{labels}){_FIELD_END}(?P<value>[^\n]*)", re.M | re.I)
        found = document.search(pattern, pages=range(0, 2))
        if found is not None:
            break
    else:
        return None
    page_text = found.match.string
    value = found.match["value"]
    cursor = found.match.end()
    if not squash(value.replace("|", " ").replace("*", "")):
        following = re.compile(r"\n[ \t]*\n?[ \t]*(?P<value>[^\n]+)").match(page_text, cursor)
        if not following or _LABEL_LINE.match(following["value"]):
            return None
        value, cursor = following["value"], following.end()
    while True:
        more = re.compile(r"\n(?P<line>[^\n]+)").match(page_text, cursor)
        if not more or _LABEL_LINE.match(more["line"]) or _STOP_LINE.match(more["line"]):
            break
        line = squash(more["line"])
        if not (re.match(r"[a-z(&–-]", line) or re.search(r"(?:\b(?:and|of|for|the|to|in|on|with)|[,&–-])$",
                                                          squash(value))
                or (not SINGLE.search(value) and re.search(rf"\b{MONTH},?\s+\d{{4}}\W*$", line, re.I))):
            break
        value, cursor = f"{value} {line}", more.end()
    quote = squash(page_text[found.match.start():cursor].replace("*", ""))
    return _tidy(value), Found(found.page, quote, found.match)


def _tidy(value: str) -> str:
    return squash(re.sub(r"\*\*|__|\|", " ", value)).strip(" .;:–-")


def _parse_day(text: str) -> date | None:
    single = SINGLE.search(re.sub(r"\b(\d{1,2}(?:st|nd|rd|th)?)\s+of\s+", r"\1 ", text))
    if single:
        try:
            return to_date(single["d"], single["m"], single["y"])
        except ValueError:
            return None
    numeric = _NUMERIC_DATE.search(text)
    if numeric:
        try:
            return date(int(numeric["y"]), int(numeric["m"]), int(numeric["d"]))
        except ValueError:
            return None
    return None



def recognise(document: Document) -> bool:
    """Header fields naming the meeting and the subject in the first pages."""
    head = document.text[:_HEAD]
    return bool(re.search(rf"^[ \t*#_|]*(?:{_BODY_LABELS}){_FIELD_END}", head, re.M | re.I)
                and re.search(rf"^[ \t*#_|]*(?:{_TITLE_LABELS}){_FIELD_END}", head, re.M | re.I))


def parse(document: Document, context) -> Draft:
    """Draft a committee_response event from the report."""
    draft = Draft(document, NAME)
    draft.set("kind", "committee_response",
              note="a council committee report (header fields 'Report to:' and 'Subject:')")
    draft.set("schema_version", 1, note="the payload schema this format drafts")
    council = _authority(draft, document, context)
    body = _body_and_date(draft, document, context)
    title = _title(draft, document)
    _report_of(draft, document)
    draft.set("payload.responds_to", [], note="event ids cannot come from a document: link on review")
    _responds_to(draft, document, title)
    _quoted_judgements(draft, document)
    _action_items(draft, document)
    if body and title:
        meeting = draft.event.get("effective_on")
        if meeting:
            meeting = date.fromisoformat(meeting).strftime("%-d %B %Y")
        parts = [council or "", f"report to {body}" + (f" – {meeting}" if meeting else "")]
        draft.set("source.title", f"{', '.join(p for p in parts if p)}: {title}",
                  None, note="made from the council, body, meeting date and subject")
    return draft


# --- envelope -----------------------------------------------------------------------------------

_COUNCIL = re.compile(
    r"(?P<name>(?:(?:London|Royal) Borough of|City of|Borough of|County of|Council of the)\s+"
    r"(?:[A-Z][\w'’.-]*|upon|on|and|of|the|in|le|by|with|&|,)(?:[ \t]+(?:[A-Z][\w'’.-]*,?|upon|on|and|of|the|in|le|"
    r"by|with|&))*"
    r"|(?:[A-Z][\w'’.-]*,?)(?:[ \t]+(?:[A-Z][\w'’.-]*,?|upon|on|and|of|the|in|le|by|with|&))*?"
    r"[ \t]+(?i:council))\b")


def _authority(draft: Draft, document: Document, context) -> str | None:
    """The council named at the top of the report (before its header fields)."""
    first = document.pages[0] if document.pages else ""
    fields = re.search(rf"^[ \t*#_|]*(?:{_BODY_LABELS}|{_TITLE_LABELS}){_FIELD_END}", first, re.M | re.I)
    top = first[:fields.start() if fields else 1500]
    for match in _COUNCIL.finditer(top.replace("*", " ")):
        words = match["name"].split()
        for start in range(len(words) - 1):  # "Report for Information Manchester City Council": drop leading words
            name = " ".join(words[start:]).strip(" ,")
            authority = context.registry.find(name)
            if authority is not None:
                found = Found(document.page_number(0), name, match)
                match_authority(draft, context.registry, name, found)
                return name
    printed = squash(top.replace("*", " "))[:200]
    draft.lack("authority", f"the council's name at the top of the report (e.g. 'Manchester City Council'); the top "
                            f"reads {printed!r}")
    return None


def _body_and_date(draft: Draft, document: Document, context) -> str | None:
    """'Report to: Children and Young People Scrutiny Committee – 19 July 2016', or 'Meeting:' and 'Date:'."""
    field = _field(document, _BODY_LABELS)
    body = meeting = printed = None
    if field is not None:
        value, found = field
        split = re.match(rf"(?P<body>.+?)\s*(?:[–—-]|,|\bon\b|\bheld on\b|\(|:)\s*(?:\w+day,?\s+)?"
                         rf"(?P<date>(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH},?\s+\d{{4}}|"
                         rf"\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{4}})\)?$", value, re.I)
        if split:
            body, meeting = split["body"].strip(" ,–-"), _parse_day(split["date"])
            printed = squash(split["date"])
            date_found = found
        else:
            body = value
        if body:
            draft.set("payload.body", body, found)
    if body is None:
        draft.lack("payload.body", "the committee or meeting, in a 'Report to:' or 'Meeting:' field")
    if meeting is None:
        dated = _field(document, _DATE_LABELS)
        if dated is not None:
            meeting, date_found, printed = _parse_day(dated[0]), dated[1], dated[0]
    if meeting is None:
        draft.lack("effective_on", "the meeting date, in 'Report to: <body> – <date>' or a 'Date:' / "
                                   "'Date of meeting:' field")
        return body
    draft.set("effective_on", meeting.isoformat(), date_found, note=f"the meeting date, printed {printed!r}")
    draft.set("date_precision", "day", date_found, note="the meeting date is printed in full")
    draft.set("occurred", {"start": meeting.isoformat(), "end": meeting.isoformat()}, date_found,
              note="a committee report's activity is its meeting")
    return body


def _title(draft: Draft, document: Document) -> str | None:
    field = _field(document, _SUBJECT_LABELS, "Title")
    if field is None or not field[0]:
        draft.lack("payload.title", "the report's subject, in a 'Subject:' or 'Title:' field")
        return None
    draft.set("payload.title", field[0], field[1])
    return field[0]


def _report_of(draft: Draft, document: Document) -> None:
    field = _field(document, _BY_LABELS)
    if field is None or not field[0]:
        draft.lack("payload.report_of", "who the report is of, in a 'Report of:' or 'Report by:' field")
        return
    draft.set("payload.report_of", field[0], field[1])


# --- what the report refers to ------------------------------------------------------------------

def _responds_to(draft: Draft, document: Document, title: str | None) -> None:
    """responds_to cannot be drafted: report what the report names, for a person to link."""
    named: list[str] = []
    if title:
        named.append(f"{title} (its subject)")
    for index, page in enumerate(document.pages):
        for event in _EVENT.finditer(page):
            stop = min(len(page), event.end() + 150)
            for boundary in (page.find(".", event.end(), stop), page.find("\n\n", event.end(), stop)):
                stop = boundary if boundary != -1 else stop
            dated = _DATED.search(page, event.end(), stop)
            if dated is None or _EVENT.search(page, event.end(), dated.start()):
                continue
            quote = squash(page[event.start():dated.end()])
            if quote not in named:
                named.append(quote)
            if len(named) >= 7:
                break
        if len(named) >= 7:
            break
    listed = "; ".join(repr(n) for n in named) if named else "no dated inspection, visit or review"
    draft.lack("payload.responds_to", f"the events this report discusses (it names: {listed}); link them on review")


# --- a quoted judgement table -------------------------------------------------------------------

def _phrase(words: str, prefix: str = "inner") -> str:
    """An area name as a regex whose words may be split by a cell break carrying the grade label
    ("The impact of leaders on social work<TAB>Good<NL>practice with children and families")."""
    tokens = words.split()
    optional_the = tokens[0] == "the"
    if optional_the:
        tokens = tokens[1:]
    out = ("(?:the\\s+)?" if optional_the else "") + re.escape(tokens[0])
    for index, token in enumerate(tokens[1:], 1):
        out += rf"(?:{_CELL}+(?P<{prefix}{index}>{_LABEL})[ \t|*_]*\n)?\s*[|*_]*\s*" + re.escape(token)
    return out


def _area(words: str, optional_tail: str | None) -> str:
    """The area's regex; with an optional tail, the full name or its head alone."""
    if not optional_tail:
        return _phrase(words)
    return rf"(?:{_phrase(words)}|{_phrase(words[: -len(optional_tail)].strip(), 'head')})"


def _judgement_patterns() -> list[tuple[str, str, re.Pattern]]:
    patterns = []
    for framework, key, words, tail in _AREAS:
        phrase = _area(words, tail)
        start = r"(?:^|(?<=[\t|]))[ \t*_]*" if framework == _SIF else r"(?<![\w])"
        pattern = re.compile(
            rf"{start}(?P<area>{phrase})(?!\s+and\s+care\s+leavers)"
            rf"(?:\.?{_CELL}*\n?{_CELL}*(?P<label>{_LABEL})[ \t|*_.]*(?=\n|$))?", re.I | re.M)
        patterns.append((framework, key, pattern))
    return patterns


_PATTERNS = _judgement_patterns()


def _label_of(match: re.Match) -> str | None:
    for name, value in match.groupdict().items():
        if value and (name == "label" or name.startswith(("inner", "head"))):
            if re.fullmatch(_LABEL, value):
                return value
    return None


def _quoted_judgements(draft: Draft, document: Document) -> None:
    """Judgements quoted in a table: each area's name with its printed label in the next cell.

    Only a table counts: two or more areas within a few lines of each other, each with a
    capitalised label alone at the end of its cell (labels may wrap: "Requires improvement
    / to be good"). Prose ("judged ... as good") is never read as a grade, and an area
    given two different labels in one table is refused rather than guessed.
    """
    for index, page in enumerate(document.pages):
        for start, end in _label_windows(page):
            rows = _table_rows(page, start, end)
            if rows is None:
                continue
            judgements = [{"area": key, "label": label, "grade": _LABELS[label.lower()]}
                          for _, key, label, _, _ in rows]
            keys = {row[1] for row in rows}
            framework = ("sif-2013" if rows[0][4] == _SIF else "ilacs-2018"
                         if "children_in_care_and_care_leavers" in keys else "ilacs-2023 or later"
                         if keys & {"children_in_care", "care_leavers"} else "ILACS")
            page_number = document.page_number(index)
            table = squash(page[rows[0][0]:rows[-1][3].end()])
            draft.set("payload.quoted_judgements", judgements, Found(page_number, table, rows[0][3]),
                      note=f"a judgement table quoted from an Ofsted report; area keys as in {framework}; "
                           "labels as printed")
            for number, (_, _, _, match, _) in enumerate(rows):
                draft.cite(f"payload.quoted_judgements.{number}", Found(page_number, squash(match.group(0)), match))
            return
    draft.set("payload.quoted_judgements", [], note="no judgement table quoted (an area name with its grade label "
                                                   "in the next cell, two or more rows)")


def _label_windows(page: str) -> list[tuple[int, int]]:
    """Stretches of a page holding two or more label cells close together (cheap, before the area regexes)."""
    cells = [m.start() for m in _LABEL_CELL.finditer(page)]
    windows: list[list[int]] = []
    for position in cells:
        if windows and position - windows[-1][-1] <= 400:
            windows[-1].append(position)
        else:
            windows.append([position])
    return [(max(0, w[0] - 400), w[-1] + 200) for w in windows if len(w) >= 2]


def _table_rows(page: str, start: int, end: int) -> list[tuple] | None:
    """The table's rows (offset, area key, label, match, framework), or None if this is no table."""
    window = page[start:end]
    sif = bool(_SIF_MARKERS.search(window))
    found: dict[str, tuple] = {}
    claimed: list[tuple[int, int]] = []
    for framework, key, pattern in _PATTERNS:
        if (framework == _SIF) != sif:
            continue
        for match in pattern.finditer(page, start, end):
            label = _label_of(match)
            if label is None or not label[0].isupper():
                continue
            if any(s <= match.start() < e for s, e in claimed):
                continue
            label = squash(label)
            if key in found and found[key][2] != label:
                return None  # one area, two grades: refuse rather than guess
            if key not in found:
                found[key] = (match.start(), key, label, match, framework)
                claimed.append((match.start(), match.end()))
    rows = sorted(found.values(), key=lambda row: row[0])
    return rows if len(rows) >= 2 else None


# --- an itemised action plan --------------------------------------------------------------------

def _cells(line: str) -> list[str]:
    return [squash(c) for c in re.split(r"\t+|\s*\|\s*|\s{2,}", line.strip().strip("|")) if squash(c)]


def _action_header(page: str) -> re.Match | None:
    """A table header line with an action column and an owner or date column, cells split by tabs, bars or gaps."""
    for word in _ACTION_WORD.finditer(page):
        line_start = page.rfind("\n", 0, word.start()) + 1
        line_end = page.find("\n", word.end())
        line_end = len(page) if line_end == -1 else line_end
        line = page[line_start:line_end]
        if len(_cells(line)) >= 2 and _OTHER_COLUMN.search(line) and len(line) < 200:
            return re.compile(r"[^\n]+").match(page, line_start)
    return None


def _action_items(draft: Draft, document: Document) -> None:
    """Rows of an action-plan table (Action | Lead/Owner | Timescale/Due): text, owner, due."""
    for index, page in enumerate(document.pages):
        header = _action_header(page)
        if not header:
            continue
        columns = [c.lower() for c in _cells(header.group(0))]
        action_col = next((i for i, c in enumerate(columns) if re.search(r"\baction", c)), None)
        owner_col = next((i for i, c in enumerate(columns)
                          if re.search(r"\b(?:lead|owner|responsib|by whom|who)\b", c)), None)
        due_col = next((i for i, c in enumerate(columns)
                        if re.search(r"\b(?:timescale|due|by when|target date|deadline|completion)", c)), None)
        if action_col is None:
            continue
        items, cites, misses = [], [], 0
        for row in re.finditer(r"^[^\n]*$", page[header.end() + 1:], re.M):
            line = row.group(0)
            if re.fullmatch(r"[-|: \t]+", line):  # a Markdown rule
                continue
            cells = _cells(line)
            if len(cells) != len(columns) and (not line.strip() or _STOP_LINE.match(line)):
                if items:
                    break
                continue
            if len(cells) != len(columns):  # a wrapped cell or other text: not an item row
                misses += 1
                if misses > 5:
                    break
                continue
            misses = 0
            item = {"text": cells[action_col]}
            if owner_col is not None and cells[owner_col]:
                item["owner"] = cells[owner_col]
            if due_col is not None:
                due = _partial_date(cells[due_col])
                if due:
                    item["due"] = due
            items.append(item)
            cites.append(Found(document.page_number(index), squash(line), row))
        if items:
            draft.set("payload.action_items", items,
                      Found(document.page_number(index), squash(header.group(0)), header),
                      note="rows of the action-plan table; a due date only where the row prints one")
            for number, found in enumerate(cites):
                draft.cite(f"payload.action_items.{number}", found)
            return
    mention = document.search(_ACTION_PLAN)
    draft.set("payload.action_items", [], None, note="no itemised action plan in the text")
    if mention:
        page = mention.match.string
        begin = max(page.rfind(".", 0, mention.match.start()), page.rfind("\n\n", 0, mention.match.start())) + 1
        stop = page.find(".", mention.match.end())
        if mention.match.start() - begin > 200:
            begin = page.find(" ", mention.match.start() - 200) + 1
        quote = squash(page[begin:stop if stop != -1 else mention.match.end() + 100])
        draft.lack("payload.action_items", f"an itemised action plan: the report mentions one ({quote!r}) "
                                           "but its items are not in the text")


def _partial_date(text: str) -> str | None:
    day = _parse_day(text)
    if day:
        return day.isoformat()
    month = MONTH_YEAR.search(text)
    if month:
        return f"{month['y']}-{to_date('1', month['m'], month['y']).month:02d}"
    return None
