"""Write a synthetic national history for benchmarks: `generate.py N_AUTHORITIES EVENTS_EACH`.

Writes NDJSON append requests (one per line, with `authority`, as `timeline load`
reads) and, beside it, a registry CSV of the synthetic authorities: serve or load
with `TIMELINE_REGISTRY=<that csv>`, so production validation (appends to unknown
authorities are refused) stays as it is. The mix follows the real record: graded
inspections across the frameworks of their day, monitoring visits while
inadequate, focused visits, diagnostics, committee responses, interventions,
concern updates closing recommendations, corrections, retractions and
back-filled events (effective years before they are recorded). Deterministic by
--seed: the same arguments write the same bytes.

    python bench/generate.py 10000 100 --out bench/.data/10000x100.ndjson
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

REGISTRY_COLUMNS = ("slug", "name", "ofsted_urn", "la_code", "ons_code", "region", "predecessors", "successors",
                    "active", "abolished_on", "created_on")
REGIONS = ("North West", "North East", "Yorkshire and the Humber", "East Midlands", "West Midlands",
           "East of England", "London", "South East", "South West")
START, END = date(2009, 3, 1), date(2026, 10, 31)
# (first day in force, framework, areas judged): the frameworks of their day.
FRAMEWORK_ERAS = (
    (date(2009, 1, 1), "slac-2009", ("safeguarding_overall_effectiveness", "safeguarding_capacity_for_improvement",
                                     "lac_overall_effectiveness", "lac_capacity_for_improvement",
                                     "safeguarding_leadership_and_management", "lac_staying_safe")),
    (date(2012, 6, 1), "cp-2012", ("overall_effectiveness", "effectiveness_of_help_and_protection",
                                   "quality_of_practice", "leadership_and_governance")),
    (date(2013, 11, 1), "sif-2013", ("overall_effectiveness", "help_and_protection", "children_looked_after",
                                     "adoption_performance", "care_leavers", "leadership_management_and_governance")),
    (date(2018, 1, 1), "ilacs-2018", ("overall_effectiveness", "impact_of_leaders", "help_and_protection",
                                      "children_in_care_and_care_leavers")),
    (date(2023, 1, 1), "ilacs-2023", ("overall_effectiveness", "impact_of_leaders", "help_and_protection",
                                      "children_in_care", "care_leavers")),
    (date(2026, 4, 1), "ilacs-2026", ("impact_of_leaders", "help_and_protection", "children_in_care", "care_leavers")),
)
OLD_GRADE_3 = frozenset({"slac-2009", "cp-2012"})
GRADE_LABELS = {1: "Outstanding", 2: "Good", 4: "Inadequate"}
# Kinds drawn for each step (weights), before the state decides what fits.
MIX = (("inspection", 10), ("visit", 18), ("focused_visit", 6), ("ungraded_inspection", 8), ("diagnostic", 3),
       ("committee_response", 6), ("intervention", 3), ("concern_update", 30), ("correction", 5),
       ("retraction", 1), ("backfill", 5))
TIMESCALES = ("immediately", "three_months", "six_months", None)
SECTIONS = ("Help and protection", "Children in care", "Care leavers", "Leadership", "Front door", "Court work")
PHRASES = (
    "Strengthen the quality and timeliness of assessments so that children's needs are understood",
    "Ensure that management oversight of casework is recorded and makes a difference to children",
    "Improve the consistency of supervision so that social workers reflect on children's experiences",
    "Make sure that plans for children in care are specific, measurable and reviewed in good time",
    "Improve the sufficiency of local placements so that children live near their families and schools",
    "Ensure that care leavers have their pathway plans updated with them and know their entitlements",
    "Strengthen the response to children at risk of exploitation, including return home interviews",
    "Reduce the caseloads of social workers so that they can build relationships with children",
)


def uid(rng: random.Random) -> str:
    """A random (seeded) UUID4 string."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class Stream:
    """What the generator remembers about one authority to keep its events consistent."""

    slug: str
    rng: random.Random
    cursor: date
    step_days: float
    targets: list[str] = field(default_factory=list)  # events a correction or retraction may name
    retractable: list[str] = field(default_factory=list)
    concerns: list[str] = field(default_factory=list)
    concerns_of: dict[str, list[str]] = field(default_factory=dict)
    inspections: list[str] = field(default_factory=list)
    monitoring: bool = False
    visits: int = 0
    notice: bool = False
    number: int = 0


def framework_on(day: date) -> tuple[str, tuple[str, ...]]:
    """The framework in force on a day and the areas it judges."""
    found = FRAMEWORK_ERAS[0]
    for era in FRAMEWORK_ERAS:
        if era[0] <= day:
            found = era
    return found[1], found[2]


def label(framework: str, grade: int) -> str:
    """The label the framework prints for a grade."""
    if grade == 3:
        return "Adequate" if framework in OLD_GRADE_3 else "Requires improvement to be good"
    return GRADE_LABELS[grade]


def recommendations(rng: random.Random, low: int, high: int) -> list[dict]:
    """Areas for improvement or recommendations, some with timescales."""
    out = []
    for _ in range(rng.randint(low, high)):
        item = {"text": rng.choice(PHRASES) + ".", "section": rng.choice(SECTIONS)}
        timescale = rng.choice(TIMESCALES)
        if timescale:
            item["timescale"] = timescale
        out.append(item)
    return out


def source(s: Stream, title: str) -> dict:
    """A source citing a (synthetic) document."""
    return {"title": f"{title}: {s.slug.replace('-', ' ').title()}",
            "url": f"https://example.org/bench/{s.slug}/{s.number}.pdf",
            "quote": s.rng.choice(PHRASES)}


def envelope(s: Stream, kind: str, effective: date, payload: dict, title: str, *, start: date | None = None,
             end: date | None = None, precision: str = "day") -> dict:
    """One append request line."""
    event_id = uid(s.rng)
    iso = effective.isoformat() if precision == "day" else effective.isoformat()[:7]
    occurred = {"start": (start or effective).isoformat(), "end": (end or effective).isoformat()}
    if precision != "day":
        occurred = {"start": iso, "end": iso}
    return {"event_id": event_id, "authority": s.slug, "kind": kind, "effective_on": iso, "date_precision": precision,
            "occurred": occurred, "payload": payload, "source": source(s, title)}


def _remember(s: Stream, line: dict, concern_indexes: list[int], retractable: bool = False) -> dict:
    s.targets.append(line["event_id"])
    if retractable:
        s.retractable.append(line["event_id"])
    ids = [f"{line['event_id']}:{i}" for i in concern_indexes]
    s.concerns.extend(ids)
    s.concerns_of[line["event_id"]] = ids
    return line


def inspection(s: Stream, day: date) -> dict:
    """A graded inspection under the framework of its day."""
    rng = s.rng
    framework, areas = framework_on(day)
    overall = rng.choices((1, 2, 3, 4), (5, 40, 35, 20))[0]
    judgements = [{"area": area, "grade": (g := min(4, max(1, overall + rng.choice((-1, 0, 0, 1))))),
                   "label": label(framework, g)} for area in areas]
    if framework != "ilacs-2026":
        judgements[0] = {"area": areas[0], "grade": overall, "label": label(framework, overall)}
    kind_type = "re-inspection" if framework == "sif-2013" and s.monitoring else "standard"
    recs = recommendations(rng, 2, 8)
    payload = {"framework": framework, "type": kind_type, "judgements": judgements, "recommendations": recs,
               "lead_inspector": f"Inspector {rng.randint(1, 400)} HMI"}
    line = envelope(s, "inspection", day, payload, "Inspection of children's services",
                    start=day - timedelta(days=rng.randint(35, 60)), end=day - timedelta(days=rng.randint(20, 34)))
    s.inspections.append(line["event_id"])
    s.monitoring, s.visits = any(j["grade"] == 4 for j in judgements), 0
    return _remember(s, line, list(range(1, len(recs) + 1)))


def visit(s: Stream, day: date) -> dict:
    """A monitoring visit while under monitoring, else an ungraded inspection."""
    if not s.monitoring:
        return ungraded(s, day)
    rng = s.rng
    s.visits += 1
    findings = [{"text": rng.choice(PHRASES) + ".", "direction": rng.choice(("progress", "progress", "no_progress",
                                                                              "new_concern"))}
                for _ in range(rng.randint(2, 4))]
    payload = {"ordinal": min(s.visits, 100), "areas_covered": [rng.choice(SECTIONS).lower()], "findings": findings,
               "inspectors": [f"Inspector {rng.randint(1, 400)} HMI"]}
    line = envelope(s, "monitoring_visit", day, payload, "Monitoring visit letter",
                    start=day - timedelta(days=30), end=day - timedelta(days=29))
    return _remember(s, line, [i for i, f in enumerate(findings, 1) if f["direction"] == "new_concern"])


def ungraded(s: Stream, day: date, precision: str = "day") -> dict:
    """An ungraded inspection (JTAI, SEND, service inspection) with areas for improvement."""
    rng = s.rng
    aims = recommendations(rng, 0, 4)
    payload = {"inspection_type": rng.choice(("jtai", "send_local_area", "contact_referral_assessment", "other")),
               "title": "Joint targeted area inspection", "outcome": rng.choice(PHRASES) + ".",
               "strengths": [rng.choice(PHRASES)], "areas_for_improvement": aims, "inspectors": []}
    line = envelope(s, "ungraded_inspection", day, payload, "Joint targeted area inspection letter",
                    start=day - timedelta(days=40), end=day - timedelta(days=36), precision=precision)
    return _remember(s, line, list(range(1, len(aims) + 1)), retractable=True)


def focused_visit(s: Stream, day: date) -> dict:
    """A focused visit with findings and priority actions."""
    rng = s.rng
    actions = recommendations(rng, 0, 2)
    payload = {"topic": rng.choice(SECTIONS), "findings": [{"text": rng.choice(PHRASES) + ".", "direction": "progress"}],
               "priority_actions": actions, "inspectors": [f"Inspector {rng.randint(1, 400)} HMI"]}
    line = envelope(s, "focused_visit", day, payload, "Focused visit letter",
                    start=day - timedelta(days=30), end=day - timedelta(days=29))
    return _remember(s, line, list(range(1, len(actions) + 1)), retractable=True)


def diagnostic(s: Stream, day: date) -> dict:
    """A peer diagnostic with areas for development."""
    areas = recommendations(s.rng, 1, 3)
    payload = {"provider": "Local Government Association", "title": "Children's services peer diagnostic",
               "questions": ["How effective is the front door?"], "strengths": [s.rng.choice(PHRASES)],
               "areas_for_development": areas}
    return _remember(s, envelope(s, "diagnostic", day, payload, "Peer diagnostic report"),
                     list(range(1, len(areas) + 1)), retractable=True)


def committee_response(s: Stream, day: date) -> dict:
    """A council committee's response to the latest inspection."""
    if not s.inspections:
        return ungraded(s, day)
    items = [{"text": s.rng.choice(PHRASES) + ".", "owner": "Director of Children's Services",
              "addresses": s.concerns[-1:]}]
    payload = {"body": "Children's Scrutiny Committee", "title": "Response to the Ofsted inspection",
               "report_of": "Strategic Director", "responds_to": [s.inspections[-1]], "action_items": items}
    return _remember(s, envelope(s, "committee_response", day, payload, "Committee report"), [])


def intervention(s: Stream, day: date) -> dict:
    """An improvement notice issued while inadequate, lifted once not."""
    if s.monitoring and not s.notice:
        s.notice, action = True, "issued"
    elif s.notice and not s.monitoring:
        s.notice, action = False, "lifted"
    else:
        return concern_update(s, day)
    payload = {"measure": "improvement_notice", "action": action, "summary": "Improvement notice " + action + "."}
    return _remember(s, envelope(s, "intervention", day, payload, "Improvement notice"), [])


def concern_update(s: Stream, day: date) -> dict:
    """Progress on, or resolution of, an open concern."""
    if not s.concerns:
        return diagnostic(s, day)
    concern = s.concerns.pop(s.rng.randrange(len(s.concerns))) if s.rng.random() < 0.7 else s.rng.choice(s.concerns)
    payload = {"concern_id": concern, "state": "resolved" if concern not in s.concerns else "progress",
               "evidence": s.rng.choice(PHRASES) + " has been achieved."}
    return _remember(s, envelope(s, "concern_update", day, payload, "Improvement board minutes"), [])


def correction(s: Stream, day: date) -> dict:
    """A correction of an earlier event's source (a better citation)."""
    if not s.targets:
        return diagnostic(s, day)
    target = s.rng.choice(s.targets)
    payload = {"target_event_id": target, "reason": "The first citation named the wrong paragraph.",
               "changes": {"source": source(s, "Corrected citation")}}
    return envelope(s, "correction", day, payload, "Correction notice")


def retraction(s: Stream, day: date) -> dict:
    """A retraction of an event recorded against the wrong authority."""
    if not s.retractable:
        return correction(s, day)
    target = s.retractable.pop(s.rng.randrange(len(s.retractable)))
    s.targets.remove(target)
    gone = set(s.concerns_of.get(target, ()))
    s.concerns = [c for c in s.concerns if c not in gone]
    payload = {"target_event_id": target, "reason": "Recorded against the wrong authority."}
    return envelope(s, "retraction", day, payload, "Retraction notice")


def backfill(s: Stream, day: date) -> dict:
    """An event found late: effective years before it is recorded, sometimes known only to the month."""
    earlier = START + timedelta(days=s.rng.randrange(max(1, (day - START).days - 365)))
    return ungraded(s, earlier, precision="month" if s.rng.random() < 0.3 else "day")


MAKERS = {"inspection": inspection, "visit": visit, "focused_visit": focused_visit, "ungraded_inspection": ungraded,
          "diagnostic": diagnostic, "committee_response": committee_response, "intervention": intervention,
          "concern_update": concern_update, "correction": correction, "retraction": retraction, "backfill": backfill}
KINDS, WEIGHTS = zip(*MIX)


def stream_lines(slug: str, events_each: int, seed: int) -> list[dict]:
    """One authority's history: a graded inspection first, then the mix, in recording order."""
    rng = random.Random(f"{seed}:{slug}")
    s = Stream(slug, rng, START + timedelta(days=rng.randrange(300)), (END - START).days / max(events_each, 1))
    out = []
    for n in range(events_each):
        s.number = n
        s.cursor += timedelta(days=max(1, int(rng.uniform(0.5, 1.5) * s.step_days)))
        s.cursor = min(s.cursor, END)
        kind = "inspection" if n == 0 else rng.choices(KINDS, WEIGHTS)[0]
        out.append(MAKERS[kind](s, s.cursor))
    return out


def registry_rows(n: int) -> list[dict]:
    """The synthetic authorities, as registry CSV rows."""
    return [{"slug": f"bench-{i:05d}", "name": f"Benchford {i}", "ofsted_urn": str(900000 + i),
             "la_code": f"9{i:05d}", "ons_code": f"E99{i:06d}", "region": REGIONS[i % len(REGIONS)],
             "predecessors": "", "successors": "", "active": "true", "abolished_on": "", "created_on": ""}
            for i in range(1, n + 1)]


def registry_path_for(out: Path) -> Path:
    """Where the registry CSV for an NDJSON file is written."""
    return out.with_suffix(".authorities.csv")


def write(out: Path, authorities: int, events_each: int, seed: int = 1) -> Path:
    """Write the NDJSON history and its registry CSV; return the registry's path.

    Streams are interleaved in recording order (round-robin by step), as a national
    feed would record them, rather than one authority after another.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = registry_rows(authorities)
    registry = registry_path_for(out)
    with registry.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, REGISTRY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    block = 100  # interleave within blocks of authorities, to bound memory at national scale
    with out.open("w", encoding="utf-8") as handle:
        for first in range(0, len(rows), block):
            streams = [stream_lines(r["slug"], events_each, seed) for r in rows[first:first + block]]
            for step in range(events_each):
                handle.writelines(json.dumps(s[step], separators=(",", ":")) + "\n" for s in streams)
    return registry


def main() -> None:
    """Command line: N_AUTHORITIES EVENTS_EACH [--seed S] [--out FILE]."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("authorities", type=int)
    parser.add_argument("events_each", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or Path(__file__).parent / ".data" / f"{args.authorities}x{args.events_each}-s{args.seed}.ndjson"
    registry = write(out, args.authorities, args.events_each, args.seed)
    print(json.dumps({"events": str(out), "registry": str(registry),
                      "count": args.authorities * args.events_each}))


if __name__ == "__main__":
    main()
