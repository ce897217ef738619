"""Rows for the pages' tables, made from the domain's status, concern and event documents."""
from __future__ import annotations

from events.frameworks import NORMALISED_AREAS

# (key, heading, numeric): the home table's sortable columns, in order.
COLUMNS = (
    ("name", "Authority", False),
    ("region", "Region", False),
    *((f"grade_{area}", heading, True) for area, heading in zip(
        NORMALISED_AREAS, ("Overall", "Leadership", "Help and protection", "Children in care", "Care leavers"))),
    ("regime", "Regime", False),
    ("open_concerns", "Open concerns", True),
    ("overdue_concerns", "Overdue concerns", True),
    ("last_inspection", "Last inspection", False),
    ("last_event", "Last event", False),
)
SORT_KEYS = {key for key, _, _ in COLUMNS}
REGIMES = ("none", "monitoring", "intervention")


def authority_row(status: dict) -> dict:
    """One authority's line in the home table, from its status document (as /api/status gives it)."""
    by_area = {j["normalised_area"]: j for j in status["judgements"] if j["normalised_area"]}
    overall = status["overall"]
    if overall:
        by_area["overall"] = overall  # the framework's overall, including "not judged" and the 2009-12 worse-of
    inspection, last = status["inspection"], status["last_event"]
    row = {
        "slug": status["authority"], "name": status["name"], "region": status["region"] or "",
        "regime": status["regime"]["summary"], "open_concerns": status["open_concerns"],
        "overdue_concerns": status["overdue_concerns"],
        "last_inspection": inspection["effective_on"] if inspection else "",
        "last_event": last["effective_on"] if last else "", "last_event_kind": last["kind"] if last else "",
    }
    for area in NORMALISED_AREAS:
        judgement = by_area.get(area)
        row[f"grade_{area}"] = judgement and {"grade": judgement.get("grade"), "label": judgement.get("label")}
    return row


def filters_from(args) -> dict:
    """The home table's filters from a query string: text, region, overall grade, regime."""
    grade = args.get("grade") or ""
    return {"q": (args.get("q") or "").strip(), "region": args.get("region") or "",
            "grade": grade if grade in ("1", "2", "3", "4", "none") else "",
            "regime": args.get("regime") if args.get("regime") in REGIMES else ""}


def filter_rows(rows: list[dict], filters: dict) -> list[dict]:
    """Rows matching every filter given."""
    def keep(row: dict) -> bool:
        overall = row["grade_overall"] or {}
        grade = str(overall.get("grade") or "none")
        return ((not filters["q"] or filters["q"].casefold() in row["name"].casefold())
                and (not filters["region"] or row["region"] == filters["region"])
                and (not filters["grade"] or grade == filters["grade"])
                and (not filters["regime"] or filters["regime"] in row["regime"].split(" and ")))
    return [row for row in rows if keep(row)]


def sort_value(row: dict, key: str):
    """What a column sorts by: grades by number (none last), dates as ISO text, names case-folded."""
    value = row[key]
    if key.startswith("grade_"):
        return (value or {}).get("grade") or 9
    return value.casefold() if isinstance(value, str) else value


def sort_rows(rows: list[dict], key: str | None, direction: str | None) -> list[dict]:
    """Rows sorted by a column (unknown columns: by name)."""
    key = key if key in SORT_KEYS else "name"
    return sorted(rows, key=lambda row: (sort_value(row, key), row["name"]), reverse=direction == "desc")


def concern_groups(concerns: list[dict]) -> list[tuple[str, str, list[dict]]]:
    """Concerns in groups (key, heading, rows): overdue, open, resolved, superseded."""
    groups = {"overdue": [], "open": [], "resolved": [], "superseded": []}
    for concern in concerns:
        if concern["state"] == "open":
            groups["overdue" if concern["overdue"] else "open"].append(concern)
        else:
            groups.setdefault(concern["state"], []).append(concern)
    headings = {"overdue": "Overdue", "open": "Open, not overdue", "resolved": "Resolved", "superseded": "Superseded"}
    return [(key, headings.get(key, key.capitalize()), rows) for key, rows in groups.items()]


def event_title(event: dict) -> str:
    """A heading for an event: what it is about, in words."""
    payload = event["payload"]
    for key in ("title", "topic", "summary"):
        if isinstance(payload.get(key), str):
            return payload[key]
    if event["kind"] == "monitoring_visit":
        return f"Monitoring visit {payload.get('ordinal')}"
    return (event.get("source") or {}).get("title") or event["kind"]
