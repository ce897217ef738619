"""The add-a-monitoring-visit form: its fields, the append request it makes, and its errors by field.

The form builds exactly the body a client would POST to the API and appends it
through `events.appending.append_event`, so the same rules apply and the same
errors come back; each error's dotted field name is also the name of the form
input it belongs to, so it is shown next to that input.

No CSRF token: nothing here is authorised by a cookie or session. The credential
is the token typed into the form itself, which a third-party page cannot know, so
a forged cross-site POST carries no authority and is refused like any bad token.
A hidden `event_id`, made when the form is first shown, makes a double submit
idempotent: the second POST returns the event the first one stored.
"""
from __future__ import annotations

import re
import uuid

from werkzeug.datastructures import MultiDict

FINDING_SLOTS = 3
DIRECTIONS = (("progress", "Progress"), ("no_progress", "No progress"), ("new_concern", "New concern"))
TEXT_FIELDS = ("event_id", "effective_on", "occurred.start", "occurred.end", "payload.ordinal",
               "payload.areas_covered", "payload.inspectors", "source.title", "source.url", "source.page",
               "source.quote")
FORM_LEVEL = "_form"
LABELS = {"effective_on": "Date of the letter", "occurred.start": "First day of the visit",
          "occurred.end": "Last day of the visit", "payload.ordinal": "Which visit this is",
          "payload.areas_covered": "Areas covered", "payload.inspectors": "Inspectors", "payload.findings": "Findings",
          "source.title": "Document title", "source.url": "Address of the letter", "source.page": "Page",
          "source.quote": "Quote", "token": "Token"}


def label_of(field: str) -> str:
    """The words a person sees for a form field, for the error summary."""
    match = re.fullmatch(r"payload\.findings\.(\d+)\.(text|direction)", field)
    if match:
        return f"Finding {int(match[1]) + 1}" + (" shows" if match[2] == "direction" else "")
    return LABELS.get(field, field)


def finding_fields(index: int) -> tuple[str, str]:
    """The input names of one finding's text and direction."""
    return f"payload.findings.{index}.text", f"payload.findings.{index}.direction"


def blank() -> dict[str, str]:
    """Values for a new, empty form (with a fresh event id for idempotent resubmission)."""
    values = {name: "" for name in TEXT_FIELDS}
    values["event_id"] = str(uuid.uuid4())
    for index in range(FINDING_SLOTS):
        text, direction = finding_fields(index)
        values[text], values[direction] = "", "progress"
    return values


def read(form: MultiDict) -> dict[str, str]:
    """The submitted values (trimmed), to build the request from and to show again."""
    values = blank()
    for name in values:
        values[name] = (form.get(name) or "").strip()
    return values


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _number(text: str) -> int | str:
    """An integer if the text is one; otherwise the text, so validation names the field and says why."""
    return int(text) if re.fullmatch(r"-?\d{1,9}", text) else text


def append_request(values: dict[str, str]) -> dict:
    """The API append request body the form's values describe; blank fields are left out."""
    payload: dict = {}
    if values["payload.ordinal"]:
        payload["ordinal"] = _number(values["payload.ordinal"])
    if _lines(values["payload.areas_covered"]):
        payload["areas_covered"] = _lines(values["payload.areas_covered"])
    payload["findings"] = [
        {"text": values[text], "direction": values[direction]}
        for text, direction in map(finding_fields, range(FINDING_SLOTS)) if values[text]
    ]
    payload["inspectors"] = _lines(values["payload.inspectors"])
    source = {key: values[f"source.{key}"] for key in ("title", "url", "quote") if values[f"source.{key}"]}
    if values["source.page"]:
        source["page"] = _number(values["source.page"])
    body: dict = {"kind": "monitoring_visit", "payload": payload, "source": source}
    if values["event_id"]:
        body["event_id"] = values["event_id"]
    if values["effective_on"]:
        body["effective_on"] = values["effective_on"]
    start, end = values["occurred.start"], values["occurred.end"]
    if start or end:
        body["occurred"] = {key: value for key, value in (("start", start), ("end", end)) if value}
    return body


def errors_by_field(errors: list[dict], values: dict[str, str]) -> dict[str, list[str]]:
    """Domain errors keyed by the form input they belong to; the rest under FORM_LEVEL.

    `payload.areas_covered.2` belongs to the areas textarea; `occurred` (both dates
    missing) to the start date; `payload.findings` to the findings fieldset.
    """
    known = (set(values) - {"event_id"}) | {"payload.findings", "token"}  # a hidden field shows no error
    out: dict[str, list[str]] = {}
    for error in errors:
        field = error.get("field") or ""
        if field == "occurred":
            field = "occurred.start"
        while field and field not in known:
            field = field.rpartition(".")[0]
        out.setdefault(field or FORM_LEVEL, []).append(error["reason"])
    return out
