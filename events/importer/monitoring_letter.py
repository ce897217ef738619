"""Ofsted monitoring-visit letters (and focused-visit letters): one letter, one event.

A monitoring letter is addressed to the director of children's services and reads

    6 July 2017
    ...
    Monitoring visit of Manchester City Council children's services
    This letter summarises the findings of the monitoring visit to Manchester City
    Council children's services on 6 and 7 June 2017. The visit was the fourth
    monitoring visit since ... The inspectors were Shabana Abasi Ofsted inspector,
    Shirley Bailey HMI and Andy Whippey HMI.
    Areas covered by the visit / Overview (or Headline findings) /
    Findings and evaluation of progress / Yours sincerely

It drafts a `monitoring_visit`: the letter date is `effective_on`, the visit dates
are `occurred`, the ordinal, the inspectors (names only), the authority named in the
title, the areas covered and the findings of the summary section. A focused-visit
letter ("Focused visit to ...") drafts a `focused_visit`: topic (what "Inspectors looked
at"), findings (same rule), and as `priority_actions` the items of "Areas for priority
action" and of "What needs to improve ...", each with its section as printed (both open
concerns, DESIGN §5).

Inspectors: the clause naming them ("The inspectors were ...", "Her Majesty's
Inspectors for this visit were ...", "His Majesty's Inspectors X and Y carried out
this visit") is taken as printed, role words (HMI, Her/His Majesty's Inspector(s),
Ofsted inspector, social care regulatory inspector, lead/team inspector) are removed,
and the rest is split on commas and "and". Every piece must look like a personal
name (two to five capitalised words); if any does not, the inspectors are reported
missing with the printed clause rather than guessed.

Findings and their direction (the rule, applied to each sentence alone):

  The findings are the sentences of the letter's summary: the paragraphs between the
  opening paragraph and "Areas covered by the visit", and the "Overview" / "Headline
  findings" section (when a letter has neither, the "Findings" section). Each sentence
  is kept verbatim. Its direction comes only from words in that sentence:

  1. ``no_progress`` when it says something has not got better: "not improved", "no /
     little / limited / insufficient / slow progress (or improvement)", "progress ... slow",
     "too slow", "deteriorated", "declined", "not (been) sustained", "not (yet) addressed";
     or when a weakness word (2) comes with a word of persistence: "remains", "still",
     "continues to", "persists", "yet to", "ongoing".
  2. ``new_concern`` when it names a weakness without saying it persists: "weakness",
     "a / significant / serious / areas of ... concern", "poor", "inadequate", "deficit",
     "weak", "(too) variable", "inconsistent", "insufficient", "lack of", "not compliant",
     "fail(ure)", "missed", "inappropriate", "unsafe", "delay", "drift", "too high / many /
     long / few / dependent ...", "not always / consistently / well / sufficiently /
     effectively / timely / up to date ...", "less effective", "ineffective", "gaps in".
     Phrases that use those words without naming a weakness do not count: "strengths and
     weaknesses", "without delay", "to avoid / reduce drift or delay", "judged inadequate",
     "concerns raised at the last visit", "no deterioration", and "safeguarding concerns"
     (a bare "concern(s)" is not a cue). A weakness said to be shrinking ("delays have
     reduced", "fewer", "lower") is neither: such a sentence is left out.
  3. ``progress`` when it says something got better and names no weakness:
     "improved / improvement / improving", "progress", "strengthened", "accelerated",
     "sustained", "better", "now", "more effective / timely / consistent ...".
     ("requires improvement", "areas for improvement", "improvement plan / board" are
     names, not change, and do not count.)
  4. A sentence with none of these (context, method, plain description such as "Children
     are seen regularly") is not a finding and is left out; the evidence note for the
     findings says how many were left out.

  The tests run in that order, so a sentence that both praises and criticises is a
  concern: a weakness word beats an improvement word, because a missed concern is worse
  than a missed compliment. Only ``new_concern`` findings open concerns (DESIGN §5), so
  the rule is deliberately narrow about what counts as one, and it never infers a
  direction from context (an earlier sentence, the heading, the letter's tone).
"""
from __future__ import annotations

import re
from datetime import date

from events.importer.document import Document, Found, squash
from events.importer.draft import Draft, match_authority
from events.importer.textdates import MONTH, MONTHS, SINGLE, to_date

NAME = "monitoring_letter"
LOOKS_FOR = ("an Ofsted letter headed 'Monitoring visit to/of <authority> children's services' or "
             "'Focused visit to/of <authority> children's services', or opening 'This letter summarises the "
             "findings of the monitoring (or focused) visit'")

_HEAD = 6000  # letters state what they are on their first page
_APOS = "['’]"
_TITLE = re.compile(
    rf"^[ \t#*_]*(?P<kind>Monitoring|Focused) visit (?:of|to) (?P<name>[^\n]{{2,160}}?)\s+"
    rf"(?:local authority\s+)?children{_APOS}s\s+services\b[ \t*_]*$", re.M | re.I)
_OPENING = re.compile(
    rf"This\s+letter\s+(?:summarises|sets\s+out|reports)\s+the\s+(?:main\s+)?findings\s+of\s+the\s+"
    rf"(?P<kind>monitoring|focused)\s+visit\s+(?:to|of)\s+(?P<name>.{{2,160}}?)\s+(?:local\s+authority\s+)?"
    rf"children{_APOS}s\s+services", re.I | re.S)
# A council committee report may quote or append a letter: its header fields come first.
_COMMITTEE_FIELD = re.compile(r"^[ \t*#]*(?:Report to|Meeting|Subject|Report of|Decision maker)[ \t*]*:", re.M | re.I)

_ORDINALS = {word: number for number, word in enumerate(
    ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
     "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
     "twentieth"], 1)}
_ORDINAL = rf"(?P<ord>{'|'.join(_ORDINALS)}|\d{{1,2}}(?:st|nd|rd|th))"
_ORDINAL_STATED = re.compile(
    rf"\b(?:visit|this)\s+(?:was|is)\s+the\s+{_ORDINAL}(?:\s+and\s+(?:final|last))?\s+monitoring\s+visit", re.I)
_ORDINAL_LOOSE = re.compile(rf"\b(?:the|this|our)\s+{_ORDINAL}(?:\s+and\s+(?:final|last))?\s+monitoring\s+visit\b"
                            rf"(?!\s+(?:in|on|of)\s+(?:\d|{MONTH}))", re.I)

_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE_PART = rf"{_DAY}(?:\s+(?:of\s+)?{MONTH})?(?:,?\s+\d{{4}})?"
_JOIN = r"\s*(?:,\s*(?:and\s+)?|\band\b|\bto\b|–|—|-|&)\s*"
_VISIT_DATES = re.compile(
    rf"\b(?:on|between|from)\s+(?:the\s+)?(?P<dates>{_DATE_PART}(?:{_JOIN}(?:the\s+)?{_DATE_PART})*)", re.I)
_DATE_TOKEN = re.compile(rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+(?:of\s+)?(?P<m>{MONTH}))?(?:,?\s+(?P<y>\d{{4}}))?",
                         re.I)
_DATE_LINE = re.compile(rf"^[ \t*_]*(?:\w+day,?\s+)?{_DAY}\s+{MONTH},?\s+\d{{4}}[ \t*_]*$", re.M | re.I)

_ROLE = re.compile(
    r"\b(?:(?:Her|His) Majesty[’']s (?:Senior |Lead )?Inspectors?|Senior HMIs?|HMIs?|Ofsted (?:Senior |Lead )?"
    r"[Ii]nspectors?|(?:Social care )?[Rr]egulatory [Ii]nspectors?|(?:[Ll]ead|[Tt]eam|[Ss]enior) [Ii]nspectors?"
    r"|[Ii]nspectors?)\b|\((?:\s*(?:HMIs?|lead inspector|OI)\s*)\)", re.I)
_INSPECTOR_CLAUSES = (
    re.compile(r"\bThe (?:inspectors|inspection team|lead inspector|inspector) (?:were|was|comprised)\s+"
               r"(?P<names>[^.]+?)\.(?:\s|$)"),
    re.compile(r"\b(?:Her|His) Majesty[’']s Inspectors? (?:\(HMIs?\) )?(?:for|on|during|who carried out) "
               r"(?:this|the) visit (?:were|was)\s+(?P<names>[^.]+?)\.(?:\s|$)"),
    re.compile(r"\b(?:The|This) visit was (?:carried out|conducted|undertaken|led) by\s+(?P<names>[^.]+?)\.(?:\s|$)"),
    re.compile(r"\b(?P<names>(?:Her|His) Majesty[’']s Inspectors? [A-Z][^.]{3,200}?)\s+(?:carried out|conducted|"
               r"undertook|completed) (?:this|the) (?:monitoring |focused )?visit"),
)
_NAME_WORD = r"(?:[A-Z][A-Za-z’'\-]*|(?:de|da|van|von|der|le|la|du|di|bin|al)(?=\s))"
_PERSON = re.compile(rf"^[A-Z][A-Za-z’'\-]+(?:\s+{_NAME_WORD}){{1,4}}$")

_KNOWN_HEADINGS = (
    r"Areas? covered (?:by|during|in) (?:the|this) visit", r"Overview", r"Headline findings",
    r"Summary(?: of findings)?", r"Main findings", r"Findings and evaluation of progress", r"Findings and progress",
    r"Evaluation of progress",
    r"Findings", r"Key findings",
    r"Areas? for priority action", r"Priority actions?", r"Areas? for (?:improvement|development)",
    r"What needs to improve[^\n]{0,80}", r"What is working well[^\n]{0,80}", r"Next steps", r"Introduction",
)
_HEADING_LINE = re.compile(
    rf"^[ \t]*(?:#+[ \t]*)?(?:\*\*|__)?[ \t]*(?:{'|'.join(_KNOWN_HEADINGS)})[ \t]*(?:\*\*|__)?[ \t]*:?[ \t]*$"
    rf"|^[ \t]*#+[ \t]+\S[^\n]*$|^[ \t]*(?:Yours sincerely|Yours faithfully|I am copying this letter)", re.M | re.I)
_PAGE_NUMBER = re.compile(r"^[ \t]*(?:Page\s+)?\d{1,3}(?:\s+of\s+\d{1,3})?[ \t]*$", re.M | re.I)
_BULLET = r"(?:[■•●▪◦\-*–]|\d{1,2}[.)])"
_SENTENCE_END = re.compile(
    rf"(?<=[.!?])[’'\"”)]?(?:[ \t]+|\s*\n\s*)(?=[A-Z‘'\"“(■•●▪])"  # a sentence ends
    rf"|\n[ \t]*(?={_BULLET}[ \t]+)"  # a bullet starts
    rf"|(?<=[.!?:;])[ \t]*\n(?:[ \t]*\n)+")  # a paragraph ends

# Direction cues (see the module docstring).
_NOT_CHANGE = re.compile(r"requires? improvement|areas? for (?:improvement|development)|improvement (?:plan|board|"
                         r"partner|adviser|advisor|notice|journey)|quality improvement", re.I)
# Phrases that use a weakness word without naming a weakness of the service.
_NOT_WEAKNESS = re.compile(
    r"strengths and (?:weaknesses|areas for (?:development|improvement))|without (?:undue |unnecessary |any )?delay|"
    r"(?:avoid|prevent|reduce|minimis|tackl|address)\w* (?:\w+ )?(?:drift|delay)\w*|judged\s+(?:to\s+be\s+|as\s+)?"
    r"inadequate|(?:concerns?|weaknesses|deficits|shortfalls) (?:that were |which were )?(?:raised|identified|found|"
    r"highlighted) (?:at|in|during|by) (?:the |this )?(?:last|previous|first|earlier|recent|\d{4})|"
    r"no (?:further )?deterioration", re.I)
_NO_IMPROVEMENT = re.compile(
    r"\bnot (?:yet )?(?:\w+ )?improved\b|\b(?:no|little|limited|insufficient|minimal|slow|inadequate) (?:\w+ )?"
    r"(?:progress|improvement)\b|\bprogress\b[^.;]{0,40}\b(?:slow|limited|insufficient|minimal|negligible)\b|"
    r"\btoo slow\b|\bdeteriorat\w*|\bdeclined\b|\bnot (?:been )?sustained\b|\bnot (?:yet )?(?:been )?(?:addressed|"
    r"resolved)\b|\bhas not (?:yet )?(?:made|led to) (?:\w+ )?(?:progress|improvement)", re.I)
_PERSISTS = re.compile(r"\bremain(?:s|ed|ing)?\b|\bstill\b|\bcontinues? to\b|\bcontinued to\b|\bpersist\w*|"
                       r"\byet to\b|\bongoing\b", re.I)
_WEAKNESS = re.compile(
    r"\bweakness\w*|\b(?:a|significant|serious|some|further|new|continuing|ongoing|particular|real|key|main|"
    r"areas? of|cause for|causes? of) concerns?\b|\bconcerns? (?:about|regarding|with|over) the (?:quality|"
    r"practice|management|oversight|timeliness|effectiveness|lack)\b|\bpoor(?:ly)?\b|\binadequate\b|\bdeficit\w*|"
    r"\bweak\b|\bvariable\b|\binconsistent\w*|\binsufficient\w*|\black(?:s|ing)? (?:of|in)\b|\bnot compliant\b|"
    r"\bnon-compliant\b|\bfail(?:s|ed|ing|ure|ures)?\b|\bmissed\b|\binappropriate\w*|\bunsafe\b|\bdelay\w*|"
    r"\bdrift\b|\btoo (?:high|many|long|few|late|often|little|much|slow|dependent|variable|narrow|low|great)\b|"
    r"\bnot (?:always|consistently|well|sufficiently|effectively|routinely|robust\w*|timely|good enough|"
    r"strong enough|clear|effective|consistent|adequate|up to date|updated)\b|\bless effective\b|\bineffective\w*|"
    r"\bgaps? in\b|\bshortfall\w*|\bunclear\b|\bnot (?:being )?(?:met|followed|recorded|reviewed|completed|"
    r"addressed)\b", re.I)
# A weakness said to be shrinking ("delays have reduced") is neither a new concern nor clearly progress.
_SHRINKING = re.compile(r"\b(?:reduc(?:ed|ing|tion)|decreas\w*|fall(?:en|ing)|fewer|lower)\b", re.I)
_BETTER = re.compile(
    r"\bimprov(?:ed|ement|ements|ing)\b|\bprogress\b|\bstrengthen\w*|\baccelerat\w*|\bsustained\b|\bbetter\b|"
    r"\bnow\b|\bmore (?:effective|timely|consistent|robust|stable|focused|child-focused|purposeful)\b|"
    r"\bincreasingly (?:effective|good|strong|well)\b", re.I)


class _Text:
    """A document's pages joined into one text (page numbers removed), with each page's start offset."""

    def __init__(self, document: Document):
        self.document = document
        parts, self.starts, offset = [], [], 0
        for page in document.pages:
            cleaned = _PAGE_NUMBER.sub("", page)
            self.starts.append(offset)
            parts.append(cleaned)
            offset += len(cleaned) + 1
        self.text = "\n".join(parts)

    def page_at(self, offset: int) -> int | None:
        index = 0
        for number, start in enumerate(self.starts):
            if start <= offset:
                index = number
        return self.document.page_number(index)

    def found(self, match: re.Match, group: int | str = 0) -> Found:
        return Found(self.page_at(match.start(group)), _clean(match.group(group)), match)

    def span(self, start: int, end: int, match: re.Match) -> Found:
        return Found(self.page_at(start), _clean(self.text[start:end]), match)


def _clean(text: str) -> str:
    """Markdown emphasis, heading marks and bullets removed; whitespace squashed."""
    text = re.sub(r"\*\*|__|^[ \t]*#+[ \t]*", "", text, flags=re.M)
    text = re.sub(rf"^[ \t]*{_BULLET}[ \t]+", "", text.strip())
    return squash(text)


def _head(document: Document) -> str:
    return document.text[:_HEAD]


def _letter_start(text: str) -> re.Match | None:
    """The letter's title line, or else its opening sentence."""
    return _TITLE.search(text) or _OPENING.search(text)



def recognise(document: Document) -> bool:
    """A letter headed or opening as a monitoring or focused visit letter, not preceded by committee fields."""
    head = _head(document)
    start = _letter_start(head)
    if start is None:
        return False
    committee = _COMMITTEE_FIELD.search(head)
    return committee is None or committee.start() > start.start()


def parse(document: Document, context) -> Draft:
    """Draft a monitoring_visit (or focused_visit) event from the letter."""
    text = _Text(document)
    start = _letter_start(text.text[:_HEAD])
    kind = "focused_visit" if start["kind"].lower() == "focused" else "monitoring_visit"
    draft = Draft(document, NAME)
    draft.set("kind", kind, text.found(start), note="from the letter's title" if start.re is _TITLE else
              "from the letter's opening sentence")
    draft.set("schema_version", 1, note="the payload schema this format drafts")

    _authority(draft, text, start, context)
    intro_start, intro_end = _intro(text, start)
    intro = text.text[intro_start:intro_end]
    _visit_dates(draft, text, intro_start, intro)
    _letter_date(draft, text, start, context)
    _inspectors(draft, text, intro_start, intro)
    if kind == "monitoring_visit":
        _ordinal(draft, text, intro_start, intro)
        _areas_covered(draft, text)
        _findings(draft, text, intro_start, intro)
    else:
        _topic(draft, text, intro_start, intro_end)
        _findings(draft, text, intro_start, intro)
        _priority_actions(draft, text)
    _source_title(draft, text, start)
    return draft


# --- envelope -----------------------------------------------------------------------------------

def _authority(draft: Draft, text: _Text, start: re.Match, context) -> None:
    name = squash(re.sub(r"\*\*|__", "", start["name"]))
    name = re.sub(rf"{_APOS}s$", "", name).strip(" ,")
    match_authority(draft, context.registry, name, text.found(start, "name") if start.re is _TITLE
                    else Found(text.page_at(start.start()), _clean(start.group(0)), start))


def _intro(text: _Text, start: re.Match) -> tuple[int, int]:
    """The letter's opening: from after its title (or from its opening sentence) to its first section heading."""
    begin = start.end() if start.re is _TITLE else start.start()
    heading = _HEADING_LINE.search(text.text, start.end())
    end = heading.start() if heading else min(len(text.text), begin + 4000)
    return begin, end


def _visit_dates(draft: Draft, text: _Text, offset: int, intro: str) -> None:
    """The visit's days, from the opening sentence ("... children's services on 6 and 7 June 2017")."""
    opening = _OPENING.search(intro)
    search_from = opening.end() if opening else 0
    for match in _VISIT_DATES.finditer(intro, search_from):
        days = _dates_in(match["dates"])
        if days:
            start_day, end_day = days
            found = Found(text.page_at(offset + match.start()), squash(match.group(0)), match)
            draft.set("occurred", {"start": start_day.isoformat(), "end": end_day.isoformat()}, found)
            return
        if opening:  # only the first dates after the opening sentence are the visit's
            break
    draft.lack("occurred", "the visit dates in the opening sentence, e.g. 'the monitoring visit to <authority> "
                           "children's services on 6 and 7 June 2017'")


def _dates_in(printed: str) -> tuple[date, date] | None:
    """First and last day of "6 and 7 June 2017", "30 September and 1 October 2026", "5, 6 and 7 May 2020"."""
    tokens = list(_DATE_TOKEN.finditer(printed))
    if not tokens or not tokens[-1]["m"] or not tokens[-1]["y"]:
        return None
    days: list[date] = []
    month, year = tokens[-1]["m"], int(tokens[-1]["y"])
    for token in reversed(tokens):  # a day borrows month and year from the next printed ones
        month = token["m"] or month
        year = int(token["y"]) if token["y"] else year
        try:
            day = date(year, MONTHS[month.lower()], int(token["d"]))
        except ValueError:
            return None
        if days and day > days[-1] and not token["y"]:  # "30 December and 2 January 2027"
            day = day.replace(year=day.year - 1)
            year -= 1
        days.append(day)
    days.reverse()
    if any(later < earlier for earlier, later in zip(days, days[1:])):
        return None
    return days[0], days[-1]


def _letter_date(draft: Draft, text: _Text, start: re.Match, context) -> None:
    """The letter's date: the date printed on a line of its own before the salutation (or title)."""
    head_end = start.start()
    salutation = re.search(r"^[ \t*]*Dear\b", text.text[:head_end + 1], re.M)
    head_end = salutation.start() if salutation else head_end
    match = _DATE_LINE.search(text.text, 0, head_end) or SINGLE.search(text.text, 0, head_end)
    if match:
        single = SINGLE.search(match.group(0))
        try:
            letter_date = to_date(single["d"], single["m"], single["y"])
        except ValueError:
            draft.lack("effective_on", f"a valid letter date; the date above 'Dear' reads {single.group(0)!r}")
            return
        ended = draft.event.get("occurred", {}).get("end")
        if ended and ended > letter_date.isoformat():
            draft.lack("effective_on", f"a letter date on or after the visit's last day ({ended}); the date above "
                                       f"'Dear' is {single.group(0)!r}")
            return
        draft.set("effective_on", letter_date.isoformat(), text.found(match),
                  note="the letter's date" if match.re is _DATE_LINE
                  else "the letter's date: the first date above 'Dear'")
        draft.set("date_precision", "day", text.found(match), note="the letter prints a full date")
        return
    if context.published is not None:
        draft.set("effective_on", context.published.on.isoformat(), None,
                  note=f"no letter date printed; publication date from {context.published.source}")
        draft.set("date_precision", "day")
        return
    draft.lack("effective_on", "the letter's date, printed on a line of its own above 'Dear ...'")


def _source_title(draft: Draft, text: _Text, start: re.Match) -> None:
    title = _clean(start.group(0)) if start.re is _TITLE else \
        f"{start['kind'].capitalize()} visit to {squash(start['name'])} children's services"
    dated = draft.evidence.get("effective_on", {}).get("quote") if draft.event.get("effective_on") else None
    draft.set("source.title", f"{title} (letter of {dated})" if dated else title, text.found(start))


# --- payload ------------------------------------------------------------------------------------

def _ordinal(draft: Draft, text: _Text, offset: int, intro: str) -> None:
    match = _ORDINAL_STATED.search(intro) or _ORDINAL_LOOSE.search(intro)
    if not match:
        draft.lack("payload.ordinal", "which monitoring visit this was, e.g. 'The visit was the fourth monitoring "
                                      "visit since ...' in the opening paragraph")
        return
    word = match["ord"].lower()
    ordinal = _ORDINALS.get(word) or int(re.match(r"\d+", word).group(0))
    draft.set("payload.ordinal", ordinal, Found(text.page_at(offset + match.start()), squash(match.group(0)), match))


def _inspectors(draft: Draft, text: _Text, offset: int, intro: str) -> None:
    body = _clean(intro)
    for pattern in _INSPECTOR_CLAUSES:
        match = pattern.search(body)
        if not match:
            continue
        printed = match["names"]
        names = split_names(printed)
        found = Found(text.page_at(offset), squash(match.group(0)), match)
        if names is None:
            draft.lack("payload.inspectors", f"inspectors' names: the clause {printed!r} does not read as a list "
                                             "of names with roles")
            return
        draft.set("payload.inspectors", names, found,
                  note="names as printed, roles (HMI, Ofsted inspector ...) dropped")
        return
    draft.lack("payload.inspectors", "the sentence naming the inspectors, e.g. 'The inspectors were ...' or "
                                     "'Her Majesty's Inspectors for this visit were ...'")


def split_names(printed: str) -> list[str] | None:
    """Names from "Shabana Abasi Ofsted inspector, Shirley Bailey HMI and Andy Whippey HMI"; None if unsure."""
    bare = _ROLE.sub(",", printed)
    bare = re.sub(r"\b(?:both|all|respectively)\b|\bthe\b", ",", bare)
    pieces = [squash(p).strip(" ,;:()") for p in re.split(r",|;|\band\b|&", bare)]
    names = [p for p in pieces if p]
    if not names or not all(_PERSON.match(n) for n in names):
        return None
    return names


def _heading(text: _Text, heading: str) -> re.Match | None:
    """The first line holding only this heading (Markdown marks and a colon allowed)."""
    return re.search(rf"^[ \t]*(?:#+[ \t]*)?(?:\*\*|__)?[ \t]*(?:{heading})[ \t]*(?:\*\*|__)?[ \t]*:?[ \t]*$",
                     text.text, re.M | re.I)


def _section(text: _Text, heading: str) -> tuple[int, int] | None:
    """Start and end offsets of the section under a heading (to the next heading or the sign-off)."""
    match = _heading(text, heading)
    if not match:
        return None
    following = _HEADING_LINE.search(text.text, match.end() + 1)
    return match.end(), following.start() if following else len(text.text)


def _pieces(text: _Text, start: int, end: int) -> list[tuple[int, str, bool]]:
    """Sentences and bullets of a stretch of text: (offset, clean text, is_bullet)."""
    out = []
    chunk = text.text[start:end]
    cursor = 0
    for boundary in list(_SENTENCE_END.finditer(chunk)) + [None]:
        stop = boundary.start() if boundary else len(chunk)
        raw = chunk[cursor:stop]
        if raw.strip():
            lead = len(raw) - len(raw.lstrip())
            is_bullet = bool(re.match(rf"[ \t]*{_BULLET}[ \t]+", raw.lstrip("\n")))
            cleaned = _clean(raw)
            if cleaned:
                out.append((start + cursor + lead, cleaned, is_bullet))
        cursor = boundary.end() if boundary else len(chunk)
    return out


def _areas_covered(draft: Draft, text: _Text) -> None:
    section = _section(text, _KNOWN_HEADINGS[0])
    if section is None:
        draft.lack("payload.areas_covered", "a section headed 'Areas covered by the visit'")
        return
    pieces = _pieces(text, *section)
    bullets = [p for p in pieces if p[2]]
    if bullets:
        chosen, note = bullets, "the bullets of 'Areas covered by the visit'"
    else:
        chosen = [p for p in pieces
                  if re.search(r"\b(?:reviewed|focused on|looked at|evaluated|examined|considered the|scrutinised|"
                               r"assessed the|tracked|sampled)\b", p[1], re.I)
                  and not re.search(r"range of evidence|evidence,? including|spoke (?:to|with)|met with|"
                                    r"case records|case files|performance (?:data|information)", p[1], re.I)]
        note = ("the sentences of 'Areas covered by the visit' saying what inspectors reviewed "
                "(method sentences left out)")
    if not chosen:
        draft.lack("payload.areas_covered", "what inspectors reviewed, in 'Areas covered by the visit'")
        return
    areas = [re.sub(r"[;,.]$|;? and$", "", p[1]).strip() for p in chosen]
    draft.set("payload.areas_covered", areas, Found(text.page_at(chosen[0][0]), chosen[0][1], None), note=note)
    for index, (offset, piece, _) in enumerate(chosen):
        draft.cite(f"payload.areas_covered.{index}", Found(text.page_at(offset), piece, None))


def direction(sentence: str) -> str | None:
    """A finding's direction from its own words, or None when it states none (the module docstring's rule)."""
    if _NO_IMPROVEMENT.search(sentence):
        return "no_progress"
    weakness = _WEAKNESS.search(_NOT_WEAKNESS.sub(" ", sentence))
    if weakness and _PERSISTS.search(sentence):
        return "no_progress"
    if weakness and _SHRINKING.search(sentence):
        return None
    if weakness:
        return "new_concern"
    if _BETTER.search(_NOT_CHANGE.sub(" ", sentence)):
        return "progress"
    return None


_SUMMARY_HEADINGS = r"Overview|Headline findings|Summary(?: of findings)?|Main findings|Key findings"
_FINDINGS_HEADINGS = r"Findings and evaluation of progress|Findings and progress|Evaluation of progress|Findings"


def _findings(draft: Draft, text: _Text, offset: int, intro: str) -> None:
    candidates: list[tuple[int, str, bool]] = []
    # The opening paragraph's own sentences (what, when, who) are not findings; what follows it is.
    for position, sentence, bullet in _pieces(text, offset, offset + len(intro)):
        candidates.append((position, sentence, bullet))
    candidates = [c for c in candidates if not _is_preamble(c[1])]
    where = "the letter's opening summary"
    section = _section(text, _SUMMARY_HEADINGS)
    if section is None:
        section = _section(text, _FINDINGS_HEADINGS)
        where += " and its findings section (no overview section)"
    else:
        where += " and its overview section"
    if section is not None:
        candidates += _pieces(text, *section)
    findings, cited, left_out = [], [], 0
    for position, sentence, _ in candidates:
        way = direction(sentence)
        if way is None:
            left_out += 1
            continue
        findings.append({"text": sentence, "direction": way})
        cited.append(Found(text.page_at(position), sentence, None))
    if not findings and section is None:
        draft.lack("payload.findings", "an 'Overview', 'Headline findings' or 'Findings' section")
        return
    note = (f"sentences of {where}, verbatim; direction by the rule in events.importer.monitoring_letter; "
            f"{left_out} sentence(s) stating no direction left out")
    draft.set("payload.findings", findings, cited[0] if cited else None, note=note)
    for index, found in enumerate(cited):
        draft.cite(f"payload.findings.{index}", found)


def _is_preamble(sentence: str) -> bool:
    """The opening paragraph's sentences saying what the letter is, when and who (never findings)."""
    return bool(re.search(r"This letter summarises|letter sets out|visit was the|monitoring visit since|"
                          r"inspectors (?:were|was)|Majesty[’']s Inspectors?|carried out (?:this|the) visit|"
                          r"^Dear\b|^(?:Monitoring|Focused) visit (?:of|to)\b|visit was (?:carried out|conducted)|"
                          r"in line with the|framework", sentence, re.I))


def _topic(draft: Draft, text: _Text, start: int, end: int) -> None:
    """A focused visit's topic: what 'Inspectors looked at' (or evaluated, focused on ...)."""
    match = re.compile(
        r"\b(?:Inspectors|The visit|This visit|The inspectors)\s+(?:looked at|evaluated|focused on|considered|"
        r"reviewed|examined)\s+(?P<topic>[^.]{5,480})\.", re.I).search(text.text, start, end + 3000)
    if not match:
        draft.lack("payload.topic", "what the focused visit looked at, e.g. 'Inspectors looked at the local "
                                    "authority's arrangements for ...'")
        return
    draft.set("payload.topic", squash(match["topic"]), text.found(match))


def _priority_actions(draft: Draft, text: _Text) -> None:
    """'Areas for priority action' and 'What needs to improve' items, each with its section as printed.

    Both open concerns (DESIGN §5), and priority_actions is the focused-visit list that does;
    `section` tells them apart. Bullets are items; a section without bullets is one item.
    """
    actions: list[dict] = []
    cited: list[Found] = []
    for heading in (r"Areas? for priority action|Priority actions?", r"What needs to improve[^\n]{0,80}"):
        section = _section(text, heading)
        if section is None:
            continue
        printed = _clean(_heading(text, heading).group(0)).rstrip(": ")
        pieces = _pieces(text, *section)
        bullets = [p for p in pieces if p[2]]
        if bullets:
            items = [(p[0], p[1]) for p in bullets]
        elif pieces:
            items = [(pieces[0][0], _clean(text.text[section[0]:section[1]]))]
        else:
            continue
        for offset, item in items:
            actions.append({"text": item, "section": printed})
            cited.append(Found(text.page_at(offset), item, None))
    if not actions:
        draft.set("payload.priority_actions", [], None,
                  note="the letter has no 'Areas for priority action' or 'What needs to improve' section")
        return
    draft.set("payload.priority_actions", actions, cited[0],
              note="items of 'Areas for priority action' and 'What needs to improve', section as printed")
    for index, found in enumerate(cited):
        draft.cite(f"payload.priority_actions.{index}", found)
