#!/usr/bin/env python3
"""Compare the importer's drafts of every PDF in DIR with a scraper's INDEX.csv, and time it.

    .venv/bin/python bench/importer_accuracy.py ../shared/reports/ofsted ../shared/reports/ofsted/index.csv

Prints, per field, how often our draft and the scraper agree, where only one
found a value, and every disagreement with our evidence (page and quoted text)
so a person can settle it; then bare text extraction time beside drafting
time for the same files, measured in this run.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pypdfium2 as pdfium  # noqa: E402

from events.errors import DomainError  # noqa: E402
from events.importer.document import read_path  # noqa: E402
from events.importer.drafting import Context, draft_document  # noqa: E402
from events.registry import Registry  # noqa: E402

GRADES = {"outstanding": 1, "good": 2, "requires improvement": 3, "requires improvement to be good": 3, "inadequate": 4}
COLUMN_AREAS = {
    "overall_effectiveness_grade": ("overall_effectiveness",),
    "impact_of_leaders_grade": ("impact_of_leaders", "leadership_management_and_governance"),
    "help_and_protection_grade": ("help_and_protection",),
    "in_care_grade": ("children_in_care", "children_in_care_and_care_leavers", "children_looked_after"),
    "care_leavers_grade": ("care_leavers",),
}
SCRAPER_FAILURES = ("", "data_unreadable")


def bare_extraction(files: list[Path]) -> float:
    """Seconds to pull the text layer of every page with pypdfium2 and nothing else."""
    start = time.perf_counter()
    for file in files:
        pdf = pdfium.PdfDocument(str(file))
        for index in range(len(pdf)):
            pdf[index].get_textpage().get_text_range()
        pdf.close()
    return time.perf_counter() - start


def draft_all(files: list[Path], registry: Registry) -> tuple[float, dict]:
    """Seconds to read and draft every file (no outside publication dates), and the drafts."""
    drafts = {}
    start = time.perf_counter()
    for file in files:
        try:
            drafts[file] = draft_document(read_path(file), Context(registry))
        except DomainError as exc:
            drafts[file] = exc
    return time.perf_counter() - start, drafts


def scraper_value(column: str, text: str):
    """The index's cell as comparable data; None for its failures (blank, data_unreadable)."""
    text = (text or "").strip()
    if text in SCRAPER_FAILURES:
        return None
    if column.endswith("_grade"):
        return GRADES.get(text.lower(), text)
    if column in ("publication_date",):
        return datetime.strptime(text, "%d/%m/%y").date().isoformat()
    if column in ("inspection_start_date", "inspection_end_date"):
        return datetime.strptime(text, "%d/%m/%Y").date().isoformat()
    return re.sub(r"\s+", " ", text).strip().casefold()


def our_values(draft) -> dict[str, tuple]:
    """Our draft's value for each index column, with the evidence path that backs it."""
    event, payload = draft.event, draft.event.get("payload", {})
    out = {
        "publication_date": (event.get("effective_on"), "effective_on"),
        "inspection_framework": (payload.get("type"), "payload.type"),
        "inspector_name": ((payload.get("lead_inspector") or "").casefold() or None, "payload.lead_inspector"),
        "inspection_start_date": ((event.get("occurred") or {}).get("start"), "occurred.start"),
        "inspection_end_date": ((event.get("occurred") or {}).get("end"), "occurred.end"),
    }
    judged = {j["area"]: (i, j) for i, j in enumerate(payload.get("judgements", []))}
    for column, areas in COLUMN_AREAS.items():
        found = next(((judged[a][1]["grade"], f"payload.judgements.{judged[a][0]}") for a in areas if a in judged), None)
        if found is None and column == "overall_effectiveness_grade" and payload.get("framework") == "ilacs-2026":
            found = ("not_reported_post_reform", "payload.framework")
        if found is None and column == "care_leavers_grade" and "children_in_care_and_care_leavers" in judged:
            found = ("inspection_pre_dates_judgement", "payload.framework")
        out[column] = found or (None, None)
    return out


def compare(rows: list[dict], drafts: dict, root: Path) -> None:
    """Print agreement per field and every disagreement with our evidence."""
    tally: dict[str, Counter] = defaultdict(Counter)
    disagreements = []
    for row in rows:
        draft = drafts.get(root / row["file"])
        if draft is None or isinstance(draft, Exception):
            tally["document"]["not drafted"] += 1
            disagreements.append((row["file"], "document", "-", str(draft)))
            continue
        tally["document"]["drafted"] += 1
        ours = our_values(draft)
        for column in ["publication_date", "inspection_framework", "inspector_name", "inspection_start_date",
                       "inspection_end_date", *COLUMN_AREAS]:
            theirs = scraper_value(column, row.get(column, ""))
            mine, path = ours[column]
            if column == "publication_date" and mine is None and "effective_on" in draft.missing:
                tally[column]["not printed in the report"] += 1
                continue
            if theirs is None and mine is None:
                tally[column]["neither"] += 1
            elif theirs is None:
                tally[column]["only ours (scraper failed)"] += 1
            elif mine is None:
                tally[column]["only scraper's"] += 1
                disagreements.append((row["file"], column, theirs, f"ours missing: {draft.missing.get(path or column, '')}"))
            elif str(mine) == str(theirs) or (column == "inspection_framework" and mine == "re-inspection" and not theirs):
                tally[column]["agree"] += 1
            else:
                tally[column]["disagree"] += 1
                evidence = draft.evidence.get(path, {}) if path else {}
                disagreements.append((row["file"], column, theirs,
                                      f"ours {mine!r} from page {evidence.get('page')}: \"{evidence.get('quote')}\""))
    print("\nAgreement with the scraper's index, per field")
    for column, counts in tally.items():
        print(f"  {column:28} " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    print(f"\nDisagreements and misses ({len(disagreements)}): the scraper's value, then ours with its page text")
    for file, column, theirs, ours in disagreements:
        print(f"  {file:40} {column:28} scraper {theirs!r}; {ours}")


def print_missing(drafts: dict, root: Path, indexed: set[str]) -> None:
    """How many drafts lack nothing; the publication dates only an index can give; every other miss."""
    formats = Counter(d.format if not isinstance(d, Exception) else type(d).__name__ for d in drafts.values())
    complete = sum(1 for d in drafts.values() if not isinstance(d, Exception) and not d.missing)
    print(f"{len(drafts)} PDFs: formats {dict(formats)}; {complete} drafted with nothing missing")
    unprinted = [f for f, d in drafts.items() if not isinstance(d, Exception) and "effective_on" in d.missing]
    covered = sum(1 for f in unprinted if str(f.relative_to(root)) in indexed)
    print(f"  {len(unprinted)} do not print a publication date (ILACS never does); the index gives it for "
          f"{covered} of them, as `timeline import` takes it (--published or a sidecar index.csv)")
    for file, draft in drafts.items():
        others = [] if isinstance(draft, Exception) else [p for p in draft.missing if p != "effective_on"]
        if others:
            print(f"  {str(file.relative_to(root)):40} missing {', '.join(others)}")


def main() -> int:
    """Run the comparison and the timing; exit 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("index", type=Path)
    args = parser.parse_args()
    files = sorted(args.dir.rglob("*.pdf"))
    with open(args.index, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    registry = Registry.load()
    bare_extraction(files[:3])  # warm the library and the file cache for both passes
    bare = bare_extraction(files)
    drafting, drafts = draft_all(files, registry)
    print_missing(drafts, args.dir, {row["file"] for row in rows if row.get("publication_date")})
    compare(rows, drafts, args.dir)
    print(f"\nTiming ({len(files)} PDFs, same run):")
    print(f"  bare text extraction (pypdfium2): {bare:.2f} s, {len(files) / bare:.1f} documents/s")
    print(f"  drafting (extraction included):  {drafting:.2f} s, {len(files) / drafting:.1f} documents/s")
    print(f"  ratio drafting / extraction:      {drafting / bare:.2f} (target at most 2.00)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
